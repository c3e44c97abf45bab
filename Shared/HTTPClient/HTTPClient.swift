import Foundation
import Logging
import Tracing

/// An HTTP/1.1 (and HTTP/2 over TLS, where the server offers it) client built
/// on libcurl's multi interface. One dedicated thread drives every transfer,
/// so waiting on the network never blocks Swift's cooperative pool; one multi
/// handle keeps connections alive and reuses them across requests.
///
/// Create one per process (or per concern), share it, and call
/// ``shutdown()`` before exit.
public final class HTTPClient: Sendable {
    private let loop: CurlMultiLoop
    private let logger: Logger

    /// Starts the client's thread.
    /// - Parameters:
    ///   - logger: receives debug events (failures, cancellations); URLs are logged without query.
    ///   - maxConnectionsPerHost: open connections allowed to one host; further
    ///     requests to it wait for a free connection (within their timeout).
    public init(logger: Logger, maxConnectionsPerHost: Int = 8) {
        self.logger = logger
        self.loop = CurlMultiLoop(maxConnectionsPerHost: maxConnectionsPerHost, logger: logger)
    }

    deinit {
        // A client dropped without shutdown() must not leak its thread.
        loop.requestShutdown()
    }

    /// Sends `request` and returns the server's response, whatever its status.
    ///
    /// Throws ``HTTPClientError`` for transport failures and timeouts, and
    /// `CancellationError` if the calling task is cancelled (the transfer is
    /// aborted and its connection closed).
    ///
    /// With a tracer installed, each call is a client span of the current
    /// trace (method, host, status, the AWS request id when the answer has
    /// one; never the path, query or headers) and carries its `traceparent`.
    public func execute(_ request: HTTPRequest) async throws -> HTTPResponse {
        guard request.traced else { return try await perform(request) }
        return try await withSpan("HTTP \(request.method)", ofKind: .client) { span in
            var request = request
            InstrumentationSystem.instrument.inject(span.context, into: &request.headers, using: TraceHeaderInjector())
            let host = URL(string: request.url)?.host ?? "unknown"
            span.updateAttributes { attributes in
                attributes.set("http.request.method", value: .string(request.method))
                attributes.set("server.address", value: .string(host))
            }
            let response = try await perform(request)
            span.updateAttributes { attributes in
                attributes.set("http.response.status_code", value: .int64(Int64(response.status)))
                if let id = response.headers.first(named: "x-amzn-requestid") ?? response.headers.first(named: "x-amz-request-id") {
                    attributes.set("aws.request_id", value: .string(String(id.prefix(128))))
                }
            }
            if response.status >= 500 { span.setStatus(SpanStatus(code: .error)) }
            return response
        }
    }

    private func perform(_ request: HTTPRequest) async throws -> HTTPResponse {
        try request.validate()
        try Task.checkCancellation()
        let loop = self.loop
        let id = loop.makeID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                loop.submit(Submission(id: id, request: request, continuation: continuation))
                // A cancellation that raced ahead of submit() found nothing to
                // cancel; repeat it now that the request is queued.
                if Task.isCancelled { loop.cancel(id) }
            }
        } onCancel: {
            loop.cancel(id)
        }
    }

    /// Fails in-flight and queued requests with ``HTTPClientError/shutDown``,
    /// closes all connections and stops the thread. Safe to call repeatedly
    /// and concurrently; later ``execute(_:)`` calls throw `.shutDown`.
    public func shutdown() async {
        await loop.shutdown()
    }
}

/// Writes trace context into a request's header list (replacing a `traceparent` already there).
struct TraceHeaderInjector: Injector {
    func inject(_ value: String, forKey key: String, into headers: inout [HTTPHeader]) {
        headers.removeAll { $0.name.lowercased() == key }
        headers.append(HTTPHeader(key, value))
    }
}
