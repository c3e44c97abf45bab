import Hummingbird
import Logging

/// The request context of ``RouterClient``: Hummingbird's core context over a logger.
public struct LocalRequestContext: RequestContext {
    /// Where a local request comes from: only a logger.
    public struct Source: RequestContextSource {
        /// The request's logger.
        public var logger: Logger
    }

    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage

    /// A context for one local request.
    public init(source: Source) { coreContext = .init(source: source) }
}

/// Sends requests straight into a Hummingbird router's responder: routing,
/// middleware and handlers run as in the server, with no socket and no HTTP
/// parsing (what HummingbirdTesting's `.router` mode does, without its
/// AsyncHTTPClient dependency).
public struct RouterClient {
    let responder: RouterResponder<LocalRequestContext>

    /// A client of `router` (its routes must all be added).
    public init(_ router: Router<LocalRequestContext>) { responder = router.buildResponder() }

    /// The answer to `method path` with `body` (and `headers` besides the JSON content type): status,
    /// headers and the whole body.
    public func send(_ method: HTTPRequest.Method, _ path: String, body: String = "", headers: HTTPFields = [:])
        async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: [UInt8])
    {
        var fields: HTTPFields = [.contentType: "application/json"]
        fields.append(contentsOf: headers)
        let request = Request(
            head: HTTPRequest(method: method, scheme: "http", authority: "local", path: path, headerFields: fields),
            body: RequestBody(buffer: ByteBuffer(string: body)))
        let context = LocalRequestContext(source: .init(logger: Logger(label: "router-client")))
        let response: Response
        do {
            response = try await responder.respond(to: request, context: context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        let collector = Collector()
        try await response.body.write(collector)
        return (response.status, response.headers, collector.box.bytes)
    }

    final class Box { var bytes: [UInt8] = [] }

    struct Collector: ResponseBodyWriter {
        let box = Box()
        mutating func write(_ buffer: ByteBuffer) async throws { box.bytes += buffer.readableBytesView }
        consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
    }
}
