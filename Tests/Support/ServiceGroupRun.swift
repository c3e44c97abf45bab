import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// A test app's services running as the process runs them: inside one real
/// `ServiceGroup` (DESIGN §10). A service that returns or throws while the
/// test still runs ends the group, as it would end the process, and is
/// recorded as a test failure — so a service that stops early cannot pass
/// unnoticed (issue 10: a launcher with inventory disabled once stopped at
/// start-up and no in-process test saw it).
public final class ServiceGroupRun: Sendable {
    /// The task running the group; its value rethrows the first service error.
    public let task: Task<Void, any Error>
    private let group: ServiceGroup
    private let stopping: Flag

    private final class Flag: Sendable {
        let value = Atomic(false)
        var isSet: Bool { value.load(ordering: .acquiring) }
        func set() { value.store(true, ordering: .releasing) }
    }

    /// Starts `services` in order (so they stop in reverse, as `ServiceRunner`
    /// runs them). A service that throws cancels the group rather than
    /// shutting it down gracefully, as a crashed process ends; `expected`
    /// names the errors a test provokes on purpose (a hook that crashes the
    /// service), which are not recorded as issues.
    public init(_ services: [any Service], name: String, logger: Logger,
                expected: @escaping @Sendable (any Error) -> Bool = { _ in false }) {
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services.map {
                var entry = ServiceGroupConfiguration.ServiceConfiguration(service: $0)
                entry.failureTerminationBehavior = .cancelGroup
                return entry
            },
            gracefulShutdownSignals: [], logger: logger))
        let stopping = Flag()
        self.group = group
        self.stopping = stopping
        task = Task {
            do {
                try await group.run()
                if !stopping.isSet && !Task.isCancelled {
                    Issue.record("\(name): the service group ended by itself while the test ran")
                }
            } catch {
                if !stopping.isSet && !Task.isCancelled && !expected(error) {
                    Issue.record("\(name): a service ended the group while the test ran: \(error)")
                }
                throw error
            }
        }
    }

    /// Graceful shutdown, as on SIGTERM; waits for every service to finish.
    public func stop() async {
        stopping.set()
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    /// Ends the group abruptly, as a killed process ends (no graceful shutdown).
    public func kill() async {
        stopping.set()
        task.cancel()
        _ = try? await task.value
    }
}
