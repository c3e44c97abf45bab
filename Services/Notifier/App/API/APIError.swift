import Foundation
import Hummingbird
import MusterEvents

/// Every error the notifier API answers, as
/// `{"error": {"code", "field", "rule", "message"}}` (the planner's shape).
struct APIError: HTTPResponseError, CustomStringConvertible {
    var status: HTTPResponse.Status
    var code: String
    var field: String?
    var rule: String?
    var message: String

    var description: String { "\(status.code) \(code): \(message)" }

    private struct Body: Encodable {
        struct Detail: Encodable { var code: String; var field: String?; var rule: String?; var message: String }
        var error: Detail
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONResponse.make(status, Body(error: .init(code: code, field: field, rule: rule, message: message)))
    }

    static func validation(field: String, rule: String, _ message: String) -> APIError {
        APIError(status: .unprocessableContent, code: "validation_failed", field: field, rule: rule, message: message)
    }

    static func badRequest(field: String, rule: String, _ message: String) -> APIError {
        APIError(status: .badRequest, code: "bad_request", field: field, rule: rule, message: message)
    }

    static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: "\(what) not found in your team")
    }

    static func conflict(field: String? = nil, rule: String? = nil, _ message: String) -> APIError {
        APIError(status: .conflict, code: "conflict", field: field, rule: rule, message: message)
    }

    static let unauthenticated = APIError(
        status: .unauthorized, code: "unauthenticated",
        message: "send a bearer token: Authorization: Bearer <token> (the same token as for the planner API)")

    static func forbidden(_ message: String) -> APIError {
        APIError(status: .forbidden, code: "forbidden", message: message)
    }
}

/// JSON responses with the event conventions (sorted keys, millisecond dates).
enum JSONResponse {
    static func make<T: Encodable>(_ status: HTTPResponse.Status, _ body: T) throws -> Response {
        let data = try EventCoding.encoder.encode(body)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

/// Turns any error into the JSON error body; unexpected failures are logged
/// (never echoed) and answered 500.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : error.status == .contentTooLarge ? "too_large" : "http_error"
            throw APIError(status: error.status, code: code, message: error.body ?? error.status.reasonPhrase)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(status: .contentTooLarge, code: "too_large", field: "", rule: "maxBytes",
                           message: "the request body is larger than the documented limit")
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            throw APIError(status: .internalServerError, code: "internal",
                           message: "the notifier could not complete the request; retry, and report it if it persists")
        }
    }
}
