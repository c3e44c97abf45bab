import Logging
import MusterService
import ServiceLifecycle
import TestSupport
import Testing

/// `ConcurrentServices`: a service's consumers see the graceful shutdown
/// together instead of one after the other (issue 11, docs/consumers.md).
@Suite("ConcurrentServices")
struct ConcurrentServicesTests {
    /// On graceful shutdown, notes it, then holds its own shutdown until its
    /// sibling has noted it too (bounded), and records whether it saw that.
    struct WaitsForSibling: Service {
        let name: String
        let sibling: String
        let shutdownSeen: Locked<Set<String>>
        let sawSibling: Locked<[String: Bool]>

        func run() async throws {
            try? await gracefulShutdown()
            shutdownSeen.withLock { _ = $0.insert(name) }
            // Its own bound, not TestEnvironment.patience: the control below waits in vain, to the end of it.
            let seen = await eventually(timeout: .seconds(5)) { shutdownSeen.value.contains(sibling) }
            sawSibling.withLock { $0[name] = seen }
        }
    }

    struct Returns: Service {
        func run() async throws {}
    }

    struct SleepsUntilCancelled: Service {
        let cancelled: Locked<Bool>
        func run() async throws {
            try? await Task.sleep(for: .seconds(3600))
            cancelled.withLock { $0 = Task.isCancelled }
        }
    }

    @Test("every member sees the graceful shutdown while its siblings are still stopping")
    func shutdownReachesAllAtOnce() async throws {
        let seen = Locked<Set<String>>([]), saw = Locked<[String: Bool]>([:])
        let members = [("a", "b"), ("b", "a")].map {
            WaitsForSibling(name: $0.0, sibling: $0.1, shutdownSeen: seen, sawSibling: saw)
        }
        let run = ServiceGroupRun([ConcurrentServices(members)], name: "together", logger: Logger(label: "together"))
        await run.stop()
        try await run.task.value
        #expect(saw.value == ["a": true, "b": true], "each saw the other's shutdown before it ended")
    }

    @Test("as a control: listed one by one in a ServiceGroup, the later-stopped member never sees the other's")
    func aServiceGroupStopsOneAfterTheOther() async throws {
        let seen = Locked<Set<String>>([]), saw = Locked<[String: Bool]>([:])
        let run = ServiceGroupRun(
            [WaitsForSibling(name: "a", sibling: "b", shutdownSeen: seen, sawSibling: saw),
             WaitsForSibling(name: "b", sibling: "a", shutdownSeen: seen, sawSibling: saw)],
            name: "sequential", logger: Logger(label: "sequential"))
        await run.stop()
        try await run.task.value
        #expect(saw.value == ["a": true, "b": false], "b (stopped first) waited in vain; a then saw b's")
    }

    @Test("ShutdownStart: the whole budget before the signal; after it, less of it, never below the floor")
    func shutdownStartCountsFromTheSignal() async throws {
        let start = ShutdownStart()
        #expect(start.remaining(of: .seconds(3600), atLeast: .milliseconds(100)) == .seconds(3600))
        let run = ServiceGroupRun([start.marker], name: "marker", logger: Logger(label: "marker"))
        await run.stop()
        try await run.task.value
        #expect(start.remaining(of: .seconds(3600), atLeast: .zero) < .seconds(3600), "counted from the shutdown")
        #expect(start.remaining(of: .zero, atLeast: .milliseconds(100)) == .milliseconds(100), "the floor")
    }

    @Test("a member that ends by itself ends the others")
    func anEarlyEndEndsAll() async throws {
        let cancelled = Locked(false)
        try await ConcurrentServices([SleepsUntilCancelled(cancelled: cancelled), Returns()]).run()
        #expect(cancelled.value, "the sleeping member was cancelled, not left running")
    }
}
