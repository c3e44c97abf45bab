#if canImport(Glibc)
import Glibc
#endif

/// A client that sends an oversized body the way Python's urllib does — all
/// of it before reading the answer, with `Connection: close` — over a real
/// socket (issue 11: a server that answers 413 must also close, or such a
/// client blocks on its write until its own timeout).
public enum OversizedBody {
    /// POSTs `bytes` of body (writing all of it before reading, like Python's
    /// urllib), then reads the answer to EOF; returns the status and whether
    /// the server closed the connection.
    public static func post(port: Int, path: String, bytes: Int, token: String) throws -> (status: Int, closed: Bool) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        precondition(connected == 0, "connect failed")
        let head = "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "Authorization: Bearer \(token)\r\nContent-Length: \(bytes)\r\nConnection: close\r\n\r\n"
        func sendAll(_ data: [UInt8]) -> Bool {
            var offset = 0
            while offset < data.count {
                let sent = data[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent <= 0 { return false }
                offset += sent
            }
            return true
        }
        _ = sendAll(Array(head.utf8))
        let chunk = [UInt8](repeating: 0x20, count: 64 << 10)
        var remaining = bytes
        while remaining > 0 {
            guard sendAll(Array(chunk.prefix(remaining))) else { break }  // a reset ends the write; the answer is still read
            remaining -= min(remaining, chunk.count)
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var closed = false
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 { closed = true; break }
            if count < 0 { break }
            answer += buffer[0..<count]
        }
        let text = String(decoding: answer, as: UTF8.self)
        let status = text.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return (status, closed)
    }
}
