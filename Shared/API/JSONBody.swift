import Foundation
import Hummingbird
import MusterDomain

/// Reads and decodes a JSON request body, turning every way it can be bad
/// into a 4xx naming the field and the rule: too large, not UTF-8, not JSON,
/// a missing field, a wrong type, a malformed or unknown value, a control
/// character or a lone UTF-16 surrogate escape (`"\ud800"`) in any string
/// (``TextRule``, checked here once for every field of every body, object
/// keys included).
public enum JSONBody {
    /// How much a shape error says about the value that broke it.
    public enum Wording: Sendable {
        /// Names the expected type and quotes the decoder's explanation (the
        /// allowed values, the malformed UUID). Only for bodies without secrets:
        /// the explanation can quote the value.
        case explained
        /// Says only that the type or format is wrong, for bodies that may hold a secret.
        case withheld
    }

    /// The body of `request` (at most `limit` bytes) decoded as `type`.
    public static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int,
                                            wording: Wording = .withheld) async throws -> T {
        try decode(type, bytes: try await collect(request, limit: limit), wording: wording)
    }

    /// Like `decode`, but an empty (or all-whitespace) body decodes as `fallback`.
    public static func decodeOptional<T: Decodable>(_ type: T.Type, from request: Request, limit: Int, fallback: T,
                                                    wording: Wording = .withheld) async throws -> T {
        let bytes = try await collect(request, limit: limit)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return fallback }
        return try decode(type, bytes: bytes, wording: wording)
    }

    /// A 422 `unicode` naming the field when `bytes` (JSON) holds a lone
    /// UTF-16 surrogate escape. Checked before parsing: parsers either reject
    /// the whole body or store U+FFFD the client never sent.
    public static func refuseLoneSurrogates(_ bytes: [UInt8]) throws {
        if let field = TextRule.loneSurrogatePath(inJSON: bytes) {
            throw APIError.validation(
                field: field, rule: "unicode",
                "\(field.isEmpty ? "the body" : field) holds a lone UTF-16 surrogate escape (\\ud800–\\udfff without its pair); send valid Unicode")
        }
    }

    /// `bytes` decoded as `type`: UTF-8 and non-empty first, then JSON.
    public static func decode<T: Decodable>(_ type: T.Type, bytes: [UInt8], wording: Wording = .withheld) throws -> T {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw APIError.badRequest(field: "", rule: "utf8", "the body is not valid UTF-8; send UTF-8 JSON")
        }
        guard !bytes.isEmpty else {
            throw APIError.badRequest(field: "", rule: "json", "the body is empty; send a JSON object")
        }
        try refuseLoneSurrogates(bytes)
        let data = Data(bytes)
        if let tree = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]),
           let field = TextRule.controlCharacterPath(in: tree) {
            // The value is never echoed: it may be a secret.
            throw APIError.validation(
                field: field, rule: "controlCharacters",
                "\(field.isEmpty ? "the body" : field) must not contain control characters (U+0000–U+001F, U+007F–U+009F); remove them")
        }
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            throw map(error, wording: wording)
        }
    }

    /// Maps a `DecodingError` to a 400 (syntax) or 422 (shape) naming the field.
    public static func map(_ error: DecodingError, wording: Wording = .withheld) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .validation(field: field, rule: "required", "\(field) is required")
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return .validation(field: field, rule: "required", "\(field) must not be null")
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            let subject = field.isEmpty ? "the body" : field
            switch wording {
            case .explained: return .validation(field: field, rule: "type", "\(subject) must be \(describe(type))")
            case .withheld: return .validation(field: field, rule: "type", "\(subject) has the wrong JSON type")
            }
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .badRequest(field: "", rule: "json", "the body is not valid JSON; send a JSON object")
            }
            let field = path(context.codingPath)
            switch wording {
            case .explained:
                let detail = context.debugDescription
                return .validation(field: field, rule: detail.contains("UUID") ? "format" : "enum", "\(field): \(detail)")
            case .withheld:
                return .validation(field: field, rule: "format", "\(field) is not in the expected format")
            }
        @unknown default:
            return .badRequest(field: "", rule: "json", "the body could not be read as JSON")
        }
    }

    /// `waves[2].dependsOn[0]` from a coding path.
    public static func path(_ keys: [any CodingKey]) -> String {
        var result = ""
        for key in keys {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result
    }

    /// "a string", "an integer", … for a type the client should have sent.
    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is Bool.Type: "a boolean"
        case is UUID.Type: "a UUID string"
        default:
            "\(type)".hasPrefix("Array") ? "an array" : "\(type)".hasPrefix("Dictionary") ? "an object" : "a valid value"
        }
    }

    /// Most bytes of an oversized body read (and discarded) before answering 413.
    public static let discardLimit = 64 << 20

    /// The raw body, or 413 naming `limit`. The rest of an oversized body is
    /// read and discarded (up to `discardLimit`), so a client that sends the
    /// whole body before reading the answer is not left blocked on its write.
    private static func collect(_ request: Request, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        var total = 0
        for try await buffer in request.body {
            total += buffer.readableBytes
            if total <= limit {
                bytes.append(contentsOf: buffer.readableBytesView)
            } else {
                bytes = []
                if total > discardLimit { break }
            }
        }
        guard total <= limit else {
            throw APIError(status: .contentTooLarge, code: "too_large", field: "", rule: "maxBytes",
                           message: "the request body is larger than \(limit) bytes")
        }
        return bytes
    }
}
