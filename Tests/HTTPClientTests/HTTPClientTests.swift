import MusterHTTP
import TestSupport
import Testing

@Suite("HTTPClient against a local server")
struct HTTPClientTests {
    @Test("GET returns status, headers and body")
    func get() async throws {
        try await withClientAndServer(handler: { request in
            .init(status: 200, headers: [.init("Content-Type", "text/plain"), .init("X-Served-Path", request.path)],
                  text: "hello \(request.query)")
        }) { client, server in
            let response = try await client.execute(HTTPRequest(url: server.baseURL + "/greeting?name=muster"))
            #expect(response.status == 200)
            #expect(String(decoding: response.body, as: UTF8.self) == "hello name=muster")
            #expect(response.header("content-type") == "text/plain")
            #expect(response.header("X-SERVED-PATH") == "/greeting")
            #expect(server.requests.first?.method == "GET")
        }
    }

    @Test("POST sends the body and custom headers; the server's headers come back")
    func postEcho() async throws {
        try await withClientAndServer(handler: echoHandler) { client, server in
            let payload = Array(#"{"servers":["s-1","s-2"]}"#.utf8)
            let response = try await client.execute(HTTPRequest(
                method: "POST", url: server.baseURL + "/StartRecovery",
                headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("X-Trace", "abc 123")],
                body: payload))
            #expect(response.status == 200)
            #expect(response.body == payload)
            #expect(response.header("x-echo-x-trace") == "abc 123")
            #expect(response.header("X-Echo-Content-Type") == "application/json")
            #expect(response.header("x-method") == "POST")
            let received = try #require(server.requests.first)
            #expect(received.header("content-length") == "\(payload.count)")
            #expect(received.header("expect") == nil, "libcurl's Expect: 100-continue must be suppressed")
        }
    }

    @Test("PUT, PATCH and DELETE reach the server with their method and body", arguments: ["PUT", "PATCH", "DELETE"])
    func otherMethods(method: String) async throws {
        try await withClientAndServer(handler: echoHandler) { client, server in
            let response = try await client.execute(HTTPRequest(
                method: method, url: server.baseURL + "/thing", body: Array("payload".utf8)))
            #expect(response.header("X-Method") == method)
            #expect(response.body == Array("payload".utf8))
        }
    }

    @Test("POST without a body sends Content-Length: 0 and no form Content-Type")
    func emptyPost() async throws {
        try await withClientAndServer(handler: echoHandler) { client, server in
            let response = try await client.execute(HTTPRequest(method: "POST", url: server.baseURL + "/"))
            #expect(response.status == 200)
            let received = try #require(server.requests.first)
            #expect(received.header("content-length") == "0")
            #expect(received.header("content-type") == nil)
        }
    }

    @Test("A 1 MiB body travels both ways intact")
    func largeBody() async throws {
        try await withClientAndServer(handler: echoHandler) { client, server in
            let payload = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            let response = try await client.execute(HTTPRequest(method: "POST", url: server.baseURL + "/", body: payload))
            #expect(response.body == payload)
        }
    }

    @Test("4xx and 5xx are responses, not errors", arguments: [404, 500, 429])
    func errorStatuses(status: Int) async throws {
        try await withClientAndServer(handler: { _ in .init(status: status, headers: [.init("Retry-After", "7")], text: "nope") }) {
            client, server in
            let response = try await client.execute(HTTPRequest(url: server.baseURL + "/missing"))
            #expect(response.status == status)
            #expect(response.header("retry-after") == "7")
            #expect(String(decoding: response.body, as: UTF8.self) == "nope")
        }
    }

    @Test("The total timeout fails a slow request with .timedOut")
    func totalTimeout() async throws {
        // The server answers after 10 s; a 300 ms timeout must end the request long before that
        // (the bound leaves room for a loaded machine, not for waiting on the server).
        try await withClientAndServer(handler: { _ in .init(text: "late", delay: .seconds(10)) }) { client, server in
            let started = ContinuousClock.now
            await #expect(throws: HTTPClientError.timedOut(url: server.baseURL + "/slow")) {
                try await client.execute(HTTPRequest(url: server.baseURL + "/slow?secret=hunter2", timeout: .milliseconds(300)))
            }
            #expect(ContinuousClock.now - started < .seconds(8))
        }
    }

    @Test("Connecting to a closed port fails with .connectFailed")
    func connectFailure() async throws {
        let port = try TestHTTPServer.closedPort()
        let client = HTTPClient(logger: quietLogger)
        let url = "http://127.0.0.1:\(port)/x?token=secret"
        do {
            _ = try await client.execute(HTTPRequest(url: url, connectTimeout: .seconds(2)))
            Issue.record("expected a connect failure")
        } catch let error as HTTPClientError {
            guard case .connectFailed(let reportedURL, let reason) = error else {
                Issue.record("expected .connectFailed, got \(error)")
                return
            }
            #expect(reportedURL == "http://127.0.0.1:\(port)/x")
            #expect(!reason.isEmpty)
            #expect(!error.description.contains("secret"))
        }
        await client.shutdown()
    }

    @Test("Many concurrent requests all succeed, on at most maxConnectionsPerHost connections")
    func concurrency() async throws {
        try await withClientAndServer(maxConnectionsPerHost: 4, handler: { request in
            .init(text: "n=\(request.query)", delay: .milliseconds(5))
        }) { client, server in
            let count = 200
            let bodies = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for index in 0..<count {
                    group.addTask {
                        let response = try await client.execute(HTTPRequest(url: server.baseURL + "/n?\(index)"))
                        return (index, String(decoding: response.body, as: UTF8.self))
                    }
                }
                return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
            }
            #expect(bodies.count == count)
            #expect((0..<count).allSatisfy { bodies[$0] == "n=\($0)" })
            #expect(server.requests.count == count)
            #expect(server.acceptedConnections <= 4)
            #expect(server.acceptedConnections >= 1)
        }
    }

    @Test("Sequential requests reuse one connection")
    func connectionReuse() async throws {
        try await withClientAndServer(handler: echoHandler) { client, server in
            for index in 0..<10 {
                let response = try await client.execute(HTTPRequest(
                    method: index.isMultiple(of: 2) ? "GET" : "POST", url: server.baseURL + "/\(index)",
                    body: index.isMultiple(of: 2) ? [] : [UInt8(index)]))
                #expect(response.status == 200)
            }
            #expect(server.requests.count == 10)
            #expect(server.acceptedConnections == 1)
            #expect(Set(server.requests.map(\.connection)) == [1])
        }
    }

    @Test("Cancelling the task aborts the transfer and closes its connection")
    func cancellation() async throws {
        try await withClientAndServer(handler: { request in
            .init(text: "done", delay: request.path == "/slow" ? .seconds(30) : .zero)
        }) { client, server in
            let task = Task { try await client.execute(HTTPRequest(url: server.baseURL + "/slow")) }
            #expect(await eventually(every: .milliseconds(10)) { server.requests.count == 1 })
            // Timed from the cancel, not the start: getting the request to the server took 5 s once on a loaded machine.
            let cancelled = ContinuousClock.now
            task.cancel()
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(ContinuousClock.now - cancelled < .seconds(10), "ended by the cancel, not the server's 30 s answer")
            #expect(await eventually(every: .milliseconds(10)) { server.clientHangUps == 1 }, "the server should see the client hang up")
            // The client keeps working afterwards.
            let response = try await client.execute(HTTPRequest(url: server.baseURL + "/fast"))
            #expect(response.status == 200)
        }
    }

    @Test("A task cancelled before execute() throws without sending anything")
    func cancelledBeforeStart() async throws {
        try await withClientAndServer(handler: echoHandler) { client, server in
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await client.execute(HTTPRequest(url: server.baseURL + "/"))
            }
            await #expect(throws: CancellationError.self) { try await task.value }
            #expect(server.requests.isEmpty)
        }
    }

    @Test("shutdown() fails in-flight requests with .shutDown, later ones too, and is idempotent")
    func shutdown() async throws {
        let server = try TestHTTPServer { _ in .init(text: "late", delay: .seconds(10)) }
        defer { server.stop() }
        let client = HTTPClient(logger: quietLogger)
        let inFlight = Task { try await client.execute(HTTPRequest(url: server.baseURL + "/slow")) }
        #expect(await eventually(every: .milliseconds(10)) { server.requests.count == 1 })
        async let first: Void = client.shutdown()
        async let second: Void = client.shutdown()
        _ = await (first, second)
        await #expect(throws: HTTPClientError.shutDown) { try await inFlight.value }
        await #expect(throws: HTTPClientError.shutDown) {
            try await client.execute(HTTPRequest(url: server.baseURL + "/again"))
        }
        await client.shutdown()
    }

    @Test("Invalid requests are rejected before anything is sent")
    func invalidRequests() async throws {
        let client = HTTPClient(logger: quietLogger)
        let bad: [HTTPRequest] = [
            HTTPRequest(url: "ftp://example.com/file"),
            HTTPRequest(url: "http://127.0.0.1/a b"),
            HTTPRequest(url: "http://127.0.0.1/", headers: [HTTPHeader("X-Evil", "a\r\nInjected: yes")]),
            HTTPRequest(url: "http://127.0.0.1/", headers: [HTTPHeader("Bad Name", "x")]),
            HTTPRequest(method: "GE T", url: "http://127.0.0.1/"),
        ]
        for request in bad {
            await #expect {
                try await client.execute(request)
            } throws: { error in
                guard case .invalidRequest = error as? HTTPClientError else { return false }
                return true
            }
        }
        await client.shutdown()
    }
}
