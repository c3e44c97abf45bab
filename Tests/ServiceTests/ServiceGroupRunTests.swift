import Logging
import ServiceLifecycle
import TestSupport
import Testing

/// The harness every service's tests run in (`ServiceGroupRun`) catches a
/// service that stops by itself — the failure a bare `Task` per service hid.
@Suite("Test harness: services inside a real ServiceGroup")
struct ServiceGroupRunTests {
    struct Returns: Service {
        func run() async throws {}
    }

    struct RunsUntilShutdown: Service {
        func run() async throws { try? await gracefulShutdown() }
    }

    struct Crashes: Service {
        struct Crash: Error {}
        func run() async throws { throw Crash() }
    }

    @Test("a service that returns early is recorded as a test failure")
    func earlyReturnFails() async throws {
        await withKnownIssue {
            let run = ServiceGroupRun([RunsUntilShutdown(), Returns()], name: "probe", logger: Logger(label: "probe"))
            await #expect(throws: ServiceGroupError.self) { try await run.task.value }
        }
    }

    @Test("a service that throws is recorded unless the test provoked that error")
    func crashes() async throws {
        await withKnownIssue {
            let run = ServiceGroupRun([RunsUntilShutdown(), Crashes()], name: "probe", logger: Logger(label: "probe"))
            await #expect(throws: Crashes.Crash.self) { try await run.task.value }
        }
        let expected = ServiceGroupRun([RunsUntilShutdown(), Crashes()], name: "probe", logger: Logger(label: "probe"),
                                       expected: { $0 is Crashes.Crash })
        await #expect(throws: Crashes.Crash.self) { try await expected.task.value }
    }

    @Test("a graceful stop ends every service and records nothing")
    func stopIsClean() async throws {
        let run = ServiceGroupRun([RunsUntilShutdown(), RunsUntilShutdown()], name: "probe", logger: Logger(label: "probe"))
        await run.stop()
        try await run.task.value  // throws if a service failed; an issue would have been recorded if one ended early
    }
}
