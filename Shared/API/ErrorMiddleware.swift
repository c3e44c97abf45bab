import Hummingbird

/// Turns any error into the JSON error body of `APIError`: unmatched routes,
/// oversize bodies and unexpected failures included. Unexpected failures are
/// logged and answered 500 without their text, which may hold internals.
public struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The service named in the 500 message ("planner", "notifier").
    public let service: String

    /// A middleware for `service`.
    public init(service: String) {
        self.service = service
    }

    /// Runs `next`, rethrowing whatever it throws as an `APIError`.
    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
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
                           message: "the \(service) could not complete the request; retry, and report it if it persists")
        }
    }
}
