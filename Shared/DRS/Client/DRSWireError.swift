import Foundation
import MusterHTTP

/// Turns a non-2xx DRS answer into a ``DRSError``. The error type comes from
/// the `x-amzn-ErrorType` header (`Type:namespace…`), else the body's `__type`
/// (`namespace#Type`); the message from `message` or `Message`.
enum DRSWireError {
    static func error(status: Int, headers: [HTTPHeader], body: [UInt8]) -> DRSError {
        let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        let message = (json["message"] ?? json["Message"]) as? String
        guard let type = errorType(header: headers.first(named: "x-amzn-ErrorType"), bodyType: json["__type"] as? String)
        else {
            return .unknown(type: "HTTP\(status)", status: status, message: message)
        }
        let retryAfter = headers.first(named: "Retry-After")
        switch type {
        case ConflictException.errorType:
            return .conflict(withMessage(decode(body) ?? ConflictException(), message))
        case ThrottlingException.errorType:
            var shape = decode(body) ?? ThrottlingException(message: message ?? "")
            shape.retryAfterSeconds = retryAfter
            return .throttling(shape)
        case ServiceQuotaExceededException.errorType:
            return .serviceQuotaExceeded(withMessage(decode(body) ?? ServiceQuotaExceededException(), message))
        case ValidationException.errorType:
            return .validation(withMessage(decode(body) ?? ValidationException(), message))
        case UninitializedAccountException.errorType:
            return .uninitializedAccount(withMessage(decode(body) ?? UninitializedAccountException(), message))
        case AccessDeniedException.errorType:
            return .accessDenied(withMessage(decode(body) ?? AccessDeniedException(), message))
        case ResourceNotFoundException.errorType:
            return .resourceNotFound(withMessage(decode(body) ?? ResourceNotFoundException(), message))
        case InternalServerException.errorType:
            var shape = decode(body) ?? InternalServerException(message: message ?? "")
            shape.retryAfterSeconds = retryAfter.flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            return .internalServer(shape)
        default:
            return .unknown(type: type, status: status, message: message)
        }
    }

    /// `ConflictException:http://internal.amazon.com/coral/…` → `ConflictException`;
    /// `com.amazonaws.drs#ConflictException` → `ConflictException`.
    static func errorType(header: String?, bodyType: String?) -> String? {
        if let header, let name = header.split(separator: ":", maxSplits: 1).first, !name.isEmpty {
            return String(name).trimmingCharacters(in: .whitespaces)
        }
        if let bodyType, let name = bodyType.split(separator: "#").last, !name.isEmpty {
            return String(name).split(separator: ":", maxSplits: 1).first.map(String.init)
        }
        return nil
    }

    /// Shapes spell the member `message`; some services send `Message`.
    private static func withMessage<Shape: HasOptionalMessage>(_ shape: Shape, _ message: String?) -> Shape {
        var shape = shape
        if shape.message == nil { shape.message = message }
        return shape
    }

    private static func decode<Shape: Decodable>(_ body: [UInt8]) -> Shape? {
        try? JSONDecoder().decode(Shape.self, from: Data(body))
    }
}

/// A `DecodingError` described by kind and coding path only, never by the
/// values it saw (a response may carry tags, which the model marks sensitive).
enum DecodingSummary {
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        func path(_ context: DecodingError.Context) -> String {
            let rendered = context.codingPath.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            return rendered.isEmpty ? "the top level" : String(rendered.drop { $0 == "." })
        }
        switch error {
        case .typeMismatch(let type, let context): return "expected \(type) at \(path(context))"
        case .valueNotFound(let type, let context): return "missing \(type) value at \(path(context))"
        case .keyNotFound(let key, let context): return "missing key '\(key.stringValue)' at \(path(context))"
        case .dataCorrupted(let context): return "malformed data at \(path(context))"
        @unknown default: return "undecodable JSON"
        }
    }
}

/// The model's error shapes whose `message` is optional.
protocol HasOptionalMessage {
    var message: String? { get set }
}

extension ConflictException: HasOptionalMessage {}
extension ServiceQuotaExceededException: HasOptionalMessage {}
extension ValidationException: HasOptionalMessage {}
extension UninitializedAccountException: HasOptionalMessage {}
extension AccessDeniedException: HasOptionalMessage {}
extension ResourceNotFoundException: HasOptionalMessage {}
