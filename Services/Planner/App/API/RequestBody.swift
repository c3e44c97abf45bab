import Foundation
import Hummingbird

/// Reads and decodes a JSON request body, turning every way it can be bad
/// into a 4xx naming the field and the rule: too large, not UTF-8, not JSON,
/// a missing field, a wrong type, an unknown enum value.
enum RequestBody {
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(status: .contentTooLarge, code: "too_large", field: "", rule: "maxBytes",
                           message: "the request body is larger than \(limit) bytes")
        }
        return try decode(type, bytes: Array(buffer.readableBytesView))
    }

    /// Like `decode`, but an empty body decodes as `fallback`.
    static func decodeOptional<T: Decodable>(_ type: T.Type, from request: Request, limit: Int, fallback: T)
        async throws -> T
    {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(status: .contentTooLarge, code: "too_large", field: "", rule: "maxBytes",
                           message: "the request body is larger than \(limit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return fallback }
        return try decode(type, bytes: bytes)
    }

    static func decode<T: Decodable>(_ type: T.Type, bytes: [UInt8]) throws -> T {
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

    /// Maps a `DecodingError` to a 400 (syntax) or 422 (shape) naming the field.
    static func map(_ error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath + [key])
            return APIError(status: .unprocessableContent, code: "validation_failed", field: field, rule: "required",
                            message: "\(field) is required")
        case .valueNotFound(_, let context):
            let field = path(context.codingPath)
            return APIError(status: .unprocessableContent, code: "validation_failed", field: field, rule: "required",
                            message: "\(field) must not be null")
        case .typeMismatch(let type, let context):
            let field = path(context.codingPath)
            return APIError(status: .unprocessableContent, code: "validation_failed", field: field, rule: "type",
                            message: "\(field.isEmpty ? "the body" : field) must be \(describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return APIError.badRequest(field: "", rule: "json", "the body is not valid JSON; send a JSON object")
            }
            let field = path(context.codingPath)
            let detail = context.debugDescription
            let rule = detail.contains("UUID") ? "format" : "enum"
            return APIError(status: .unprocessableContent, code: "validation_failed", field: field, rule: rule,
                            message: "\(field): \(detail)")
        @unknown default:
            return APIError.badRequest(field: "", rule: "json", "the body could not be read as JSON")
        }
    }

    /// `waves[2].dependsOn[0]` from a coding path.
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
}
