import Hummingbird

/// Every error a Muster REST API answers, rendered as
/// `{"error": {"code", "field", "rule", "message"}}` so a client can point at
/// the field, name the broken rule and show the fix.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    /// The HTTP status answered.
    public var status: HTTPResponse.Status
    /// A stable machine-readable code: `validation_failed`, `bad_request`,
    /// `not_found`, `conflict`, `unauthenticated`, `forbidden`, `too_large`, `internal`.
    public var code: String
    /// The offending field's JSON path in the request ("" for the whole body), if any.
    public var field: String?
    /// The rule broken (`required`, `type`, `format`, `unique`, …), if any.
    public var rule: String?
    /// A sentence saying what is wrong and what to do.
    public var message: String

    /// An error with every part given.
    public init(status: HTTPResponse.Status, code: String, field: String? = nil, rule: String? = nil, message: String) {
        self.status = status
        self.code = code
        self.field = field
        self.rule = rule
        self.message = message
    }

    /// `status code: message`, for logs.
    public var description: String { "\(status.code) \(code): \(message)" }

    private struct Body: Encodable {
        struct Detail: Encodable { var code: String; var field: String?; var rule: String?; var message: String }
        var error: Detail
    }

    /// The JSON error body with `status`.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try JSONResponse.make(status, Body(error: .init(code: code, field: field, rule: rule, message: message)))
        // After an oversized body the connection is not worth keeping: ask the client to close it.
        if status == .contentTooLarge { response.headers[.connection] = "close" }
        return response
    }

    /// 422: the body is well-formed but `field` breaks `rule`.
    public static func validation(field: String, rule: String, _ message: String) -> APIError {
        APIError(status: .unprocessableContent, code: "validation_failed", field: field, rule: rule, message: message)
    }

    /// 400: the request cannot be read (syntax, encoding, a malformed query parameter).
    public static func badRequest(field: String, rule: String, _ message: String) -> APIError {
        APIError(status: .badRequest, code: "bad_request", field: field, rule: rule, message: message)
    }

    /// 404 for `what` ("plan", "subscription"); another team's resources answer this too.
    public static func notFound(_ what: String) -> APIError {
        APIError(status: .notFound, code: "not_found", message: "\(what) not found in your team")
    }

    /// 409: the request clashes with the current state.
    public static func conflict(field: String? = nil, rule: String? = nil, _ message: String) -> APIError {
        APIError(status: .conflict, code: "conflict", field: field, rule: rule, message: message)
    }

    /// 401 for a request without a bearer token; `hint` says where to get one.
    public static func missingToken(hint: String) -> APIError {
        APIError(status: .unauthorized, code: "unauthenticated",
                 message: "send a bearer token: Authorization: Bearer <token> (\(hint))")
    }

    /// 401 for a token that is malformed, unknown or revoked; `hint`, if
    /// given, is appended (e.g. why a brand-new token may not work yet).
    public static func unknownToken(hint: String? = nil) -> APIError {
        APIError(status: .unauthorized, code: "unauthenticated",
                 message: "the token is unknown or revoked; ask your team admin for a new one"
                     + (hint.map { " (\($0))" } ?? ""))
    }

    /// 403: authenticated, but not allowed to do this.
    public static func forbidden(_ message: String) -> APIError {
        APIError(status: .forbidden, code: "forbidden", message: message)
    }
}
