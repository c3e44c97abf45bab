import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A small HTTP/1.1 server on 127.0.0.1 and a random port, over real sockets,
/// for testing HTTP clients (keep-alive, slow answers, aborted transfers).
/// One thread accepts; each connection gets its own thread, so a handler may
/// block. It counts accepted connections, so tests can prove connection reuse.
public final class TestHTTPServer: Sendable {
    /// One header field as received or to send.
    public struct Field: Sendable, Equatable {
        /// The name as spelled on the wire.
        public var name: String
        /// The value, trimmed.
        public var value: String
        /// Creates a field.
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    /// A parsed request.
    public struct Request: Sendable {
        /// The method, e.g. `POST`.
        public var method: String
        /// The request target's path, still percent-encoded.
        public var path: String
        /// The raw query string without `?` (empty if none).
        public var query: String
        /// Header fields in arrival order.
        public var headers: [Field]
        /// The body (Content-Length delimited).
        public var body: [UInt8]
        /// Which accepted connection (1, 2, …) carried this request.
        public var connection: Int

        /// The first value of header `name`, case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// What the handler answers.
    public struct Response: Sendable {
        /// The status code.
        public var status: Int
        /// Header fields; Content-Length is added.
        public var headers: [Field]
        /// The body.
        public var body: [UInt8]
        /// How long to wait before answering; the server notices (and counts)
        /// a client that hangs up meanwhile.
        public var delay: Duration

        /// Creates a response.
        public init(status: Int = 200, headers: [Field] = [], body: [UInt8] = [], delay: Duration = .zero) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }

        /// A response with a UTF-8 text body.
        public init(status: Int = 200, headers: [Field] = [], text: String, delay: Duration = .zero) {
            self.init(status: status, headers: headers, body: Array(text.utf8), delay: delay)
        }
    }

    private struct State {
        var stopped = false
        var acceptedConnections = 0
        var requests: [Request] = []
        var clientHangUps = 0
        var openClients: Set<Int32> = []
    }

    /// The port the server listens on (127.0.0.1).
    public let port: Int
    private let listener: Int32
    private let handler: @Sendable (Request) -> Response
    private let state = Mutex(State())

    /// `http://127.0.0.1:<port>`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Connections accepted so far.
    public var acceptedConnections: Int { state.withLock { $0.acceptedConnections } }
    /// Requests received so far, in order.
    public var requests: [Request] { state.withLock { $0.requests } }
    /// How often a client closed its connection while a response was delayed.
    public var clientHangUps: Int { state.withLock { $0.clientHangUps } }

    /// Starts listening and serving with `handler`.
    public init(handler: @escaping @Sendable (Request) -> Response) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            close(fd)
            throw SocketError(call: "bind/listen")
        }
        self.listener = fd
        self.port = Self.localPort(of: fd)
        self.handler = handler
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "test-http-accept"
        thread.start()
    }

    /// Stops accepting and closes every connection (within ~100 ms). Idempotent.
    /// The server's threads keep it alive until then, so tests must call this.
    public func stop() {
        state.withLock { state in
            guard !state.stopped else { return }
            state.stopped = true
            // Wake threads blocked on their sockets. Under the lock, so that no
            // descriptor here can have been closed (and reused) meanwhile:
            // each thread removes its own from the set before closing it.
            for client in state.openClients { shutdown(client, Int32(SHUT_RDWR)) }
        }
    }

    /// A port on 127.0.0.1 with nothing listening (bound, then released).
    public static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError(call: "socket") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw SocketError(call: "bind") }
        return localPort(of: fd)
    }

    // MARK: Accepting

    private var isStopped: Bool { state.withLock { $0.stopped } }

    private func acceptLoop() {
        defer { close(listener) }
        while !isStopped {
            guard waitReadable(listener, milliseconds: 100) else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let (number, admitted) = state.withLock { state -> (Int, Bool) in
                guard !state.stopped else { return (0, false) }
                state.acceptedConnections += 1
                state.openClients.insert(client)
                return (state.acceptedConnections, true)
            }
            guard admitted else {
                close(client)
                return
            }
            var one: Int32 = 1
            setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in serve(client, connection: number) }
            thread.name = "test-http-conn-\(number)"
            thread.start()
        }
    }

    // MARK: Serving one connection

    private func serve(_ fd: Int32, connection: Int) {
        defer {
            _ = state.withLock { $0.openClients.remove(fd) }
            close(fd)
        }
        var buffer: [UInt8] = []
        while let request = readRequest(fd, buffer: &buffer, connection: connection) {
            state.withLock { $0.requests.append(request) }
            let response = handler(request)
            guard waitOut(response.delay, fd: fd) else {
                state.withLock { $0.clientHangUps += 1 }
                return
            }
            guard writeAll(fd, Self.serialize(response)) else { return }
            if request.header("Connection")?.lowercased() == "close" { return }
        }
    }

    /// Reads one request; nil when the peer closed, the request is malformed,
    /// or the server stopped.
    private func readRequest(_ fd: Int32, buffer: inout [UInt8], connection: Int) -> Request? {
        let terminator: [UInt8] = Array("\r\n\r\n".utf8)
        var headEnd: Int?
        while headEnd == nil {
            headEnd = buffer.firstRange(of: terminator)?.upperBound
            if headEnd == nil, !readMore(fd, into: &buffer) { return nil }
        }
        guard let headEnd else { return nil }
        let head = String(decoding: buffer[..<(headEnd - 4)], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count == 3 else { return nil }
        let headers = lines.compactMap { line -> Field? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return Field(String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        while buffer.count < headEnd + length {
            if !readMore(fd, into: &buffer) { return nil }
        }
        let body = Array(buffer[headEnd..<(headEnd + length)])
        buffer.removeFirst(headEnd + length)
        let target = requestLine[1]
        let question = target.firstIndex(of: "?")
        return Request(
            method: String(requestLine[0]),
            path: String(target[..<(question ?? target.endIndex)]),
            query: question.map { String(target[target.index(after: $0)...]) } ?? "",
            headers: headers, body: body, connection: connection)
    }

    /// Appends whatever the socket has; false at end of stream or on stop.
    private func readMore(_ fd: Int32, into buffer: inout [UInt8]) -> Bool {
        while !isStopped {
            guard waitReadable(fd, milliseconds: 100) else { continue }
            var chunk = [UInt8](repeating: 0, count: 16 * 1024)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[..<count])
            return true
        }
        return false
    }

    /// Waits `delay`; false if the client hung up (or the server stopped) meanwhile.
    private func waitOut(_ delay: Duration, fd: Int32) -> Bool {
        let deadline = ContinuousClock.now + delay
        while ContinuousClock.now < deadline {
            if isStopped { return false }
            if waitReadable(fd, milliseconds: 20) {
                var byte: UInt8 = 0
                if recv(fd, &byte, 1, Int32(MSG_PEEK)) <= 0 { return false }
            }
        }
        return true
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    private static func serialize(_ response: Response) -> [UInt8] {
        var head = "HTTP/1.1 \(response.status) \(reason(response.status))\r\n"
        for field in response.headers { head += "\(field.name): \(field.value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\n\r\n"
        return Array(head.utf8) + response.body
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 202: "Accepted"
        case 204: "No Content"
        case 400: "Bad Request"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 409: "Conflict"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        default: "Status"
        }
    }

    // MARK: Socket helpers

    private func waitReadable(_ fd: Int32, milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private static func localPort(of fd: Int32) -> Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A socket call failed while starting ``TestHTTPServer``.
public struct SocketError: Error, CustomStringConvertible {
    /// The failing call.
    public var call: String
    /// The errno at the time.
    public var code: Int32 = errno
    /// Which call failed and why.
    public var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
}
