import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A built Muster executable run as a child process, for tests that treat a
/// service as a black box (its HTTP endpoints, signals, exit status).
public final class ServiceProcess: Sendable {
    /// The executable's name, e.g. `planner`.
    public let name: String
    /// The HTTP port it was told to bind.
    public let port: Int
    private let process: Process
    private let output = Locked(Data())

    /// The folder holding the built executables: `MUSTER_BIN_DIR`, else
    /// `.build/debug` of this package.
    public static var binDirectory: URL {
        if let dir = ProcessInfo.processInfo.environment["MUSTER_BIN_DIR"], !dir.isEmpty {
            return URL(fileURLWithPath: dir)
        }
        return URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug")
    }

    /// Starts `name` with the test environment plus `environment`, on a free port.
    public init(name: String, environment: [String: String] = [:]) throws {
        self.name = name
        port = try freePort()
        process = Process()
        process.executableURL = Self.binDirectory.appendingPathComponent(name)
        var env = ProcessInfo.processInfo.environment
        env["MUSTER_HTTP_PORT"] = "\(port)"
        env["MUSTER_HTTP_HOST"] = "127.0.0.1"
        env["MUSTER_KAFKA_PROPERTIES"] = TestEnvironment.fastGroupProperties.map { "\($0)=\($1)" }
            .joined(separator: ",")
        // Consumer groups of its own: on Tansu, a member stopped before its join completed leaves the group
        // waiting for a rebalance that never ends (docs/brokers.md), and would hold up the next test's process.
        env["MUSTER_KAFKA_GROUP_PREFIX"] = TestEnvironment.uniqueName("test")
        env.merge(environment) { _, new in new }
        process.environment = env
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let chunk = handle.availableData
            output.withLock { $0.append(chunk) }
        }
        try process.run()
    }

    /// Everything the process printed so far.
    public var log: String { output.withLock { String(decoding: $0, as: UTF8.self) } }

    /// Whether the process is still running.
    public var isRunning: Bool { process.isRunning }

    /// Its process id.
    public var pid: Int32 { process.processIdentifier }

    /// The environment its current program image was started with (`/proc/<pid>/environ`, Linux).
    public var startEnvironment: [String: String] {
        guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/environ") else { return [:] }
        var environment: [String: String] = [:]
        for entry in data.split(separator: 0) {
            let text = String(decoding: entry, as: UTF8.self)
            guard let equals = text.firstIndex(of: "=") else { continue }
            environment[String(text[..<equals])] = String(text[text.index(after: equals)...])
        }
        return environment
    }

    /// Sends `signal` and waits up to `timeout` for the exit; returns the
    /// exit status, or nil if it did not exit (it is then killed).
    public func stop(signal: Int32 = SIGTERM, timeout: Duration = .seconds(20)) async -> Int32? {
        kill(process.processIdentifier, signal)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return nil
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

/// A TCP port free on 127.0.0.1 right now.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw POSIXError(.EMFILE) }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
