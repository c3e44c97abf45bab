import Logging
import MusterHTTP
import TestSupport

/// Runs `body` with a fresh client and server, then shuts both down.
func withClientAndServer<T>(
    maxConnectionsPerHost: Int = 8,
    handler: @escaping @Sendable (TestHTTPServer.Request) -> TestHTTPServer.Response,
    _ body: (HTTPClient, TestHTTPServer) async throws -> T
) async throws -> T {
    let server = try TestHTTPServer(handler: handler)
    let client = HTTPClient(logger: quietLogger, maxConnectionsPerHost: maxConnectionsPerHost)
    do {
        let result = try await body(client, server)
        await client.shutdown()
        server.stop()
        return result
    } catch {
        await client.shutdown()
        server.stop()
        throw error
    }
}

/// Echoes the request: body back, request headers as `x-echo-<name>` response headers.
@Sendable func echoHandler(_ request: TestHTTPServer.Request) -> TestHTTPServer.Response {
    var headers = request.headers.map { TestHTTPServer.Field("X-Echo-\($0.name)", $0.value) }
    headers.append(.init("X-Method", request.method))
    headers.append(.init("X-Path", request.path + (request.query.isEmpty ? "" : "?" + request.query)))
    return .init(status: 200, headers: headers, body: request.body)
}

var quietLogger: Logger {
    var logger = Logger(label: "http-client-tests")
    logger.logLevel = .warning
    return logger
}
