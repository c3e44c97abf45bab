import Foundation
import Hummingbird

/// Reads and decodes a JSON request body, turning every way it can be bad
/// into a 4xx naming the field and the rule.
enum RequestBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(status: .contentTooLarge, code: "too_large", field: "", rule: "maxBytes",
                           message: "the request body is larger than \(limit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw APIError.badRequest(field: "", rule: "utf8", "the body is not valid UTF-8; send UTF-8 JSON")
        }
        guard !bytes.isEmpty else {
            throw APIError.badRequest(field: "", rule: "json", "the body is empty; send a JSON object")
        }
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let error as DecodingError {
            throw map(error)
        }
    }

    /// Maps a `DecodingError` to a 400 (syntax) or 422 (shape) naming the
    /// field. Values are never echoed: the body may hold a secret.
    static func map(_ error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return .validation(field: field, rule: "required", "\(field) is required")
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return .validation(field: field, rule: "required", "\(field) must not be null")
        case .typeMismatch(_, let context):
            let field = path(context.codingPath)
            return .validation(field: field, rule: "type", "\(field.isEmpty ? "the body" : field) has the wrong JSON type")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .badRequest(field: "", rule: "json", "the body is not valid JSON; send a JSON object")
            }
            let field = path(context.codingPath)
            return .validation(field: field, rule: "format", "\(field) is not in the expected format")
        @unknown default:
            return .badRequest(field: "", rule: "json", "the body could not be read as JSON")
        }
    }

    /// `eventTypes[2]` from a coding path.
    static func path(_ keys: [any CodingKey]) -> String {
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
}
