import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a process's services as one `ServiceGroup` (DESIGN §10): started in
/// order, stopped in reverse on SIGTERM or SIGINT, each finishing its work in
/// hand. Put resources (producer, pool) first so they stop last.
public enum ServiceRunner {
    /// Runs `services` until a signal or until one of them ends.
    public static func run(_ services: [any Service], logger: Logger) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
        try await group.run()
        logger.info("stopped")
    }

    /// The HTTP server (ops endpoints plus whatever else is on `router`),
    /// bound as configured. `onListening` receives the bound port.
    public static func httpServer<Context: RequestContext>(
        router: Router<Context>, configuration: ServiceConfiguration, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> some Service where Context.Source == ApplicationRequestContextSource {
        Application(
            responder: TracedResponder(next: router.buildResponder()),
            configuration: .init(
                address: .hostname(configuration.httpHost, port: configuration.httpPort),
                serverName: configuration.serviceName),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? configuration.httpPort
                logger.info("listening", metadata: ["host": "\(configuration.httpHost)", "port": "\(port)"])
                await onListening(port)
            },
            logger: logger)
    }

    /// Logs a start-up failure so it names the setting or library at fault,
    /// and exits with status 1.
    public static func exitOnStartupFailure(_ error: any Error, logger: Logger?) -> Never {
        let message = "start-up failed: \(error)"
        if let logger {
            logger.critical("\(message)")
        } else {
            FileHandle.standardError.write(Data((message + "\n").utf8))
        }
        exit(1)
    }
}

/// Services that are shut down together. A `ServiceGroup` stops its services
/// one after the other, each only once the one after it has ended; consumers
/// that each wait out their close timeout when the broker does not answer
/// would add up. These all see the graceful shutdown (or the cancellation) at
/// once, and it ends when all of them have. One that ends by itself (returns
/// or throws) before any shutdown ends the others and, as in a `ServiceGroup`,
/// its error or its early return ends the group around it.
public struct ConcurrentServices: Service {
    private let services: [any Service]

    /// Runs `services` side by side.
    public init(_ services: [any Service]) {
        self.services = services
    }

    /// Runs every service until each has ended.
    public func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Each child task inherits the group's graceful-shutdown task local, so the
            // shutdown handlers of all of them fire together.
            for service in services { group.addTask { try await service.run() } }
            while try await group.next() != nil {
                if !Task.isShuttingDownGracefully { group.cancelAll() }
            }
        }
    }
}

/// When a process's graceful shutdown began, so that a resource released last
/// (the producer's flush) waits only for what is left of a budget counted
/// from the signal, instead of adding its own wait to the consumers' before it.
public final class ShutdownStart: Sendable {
    private let started = Mutex<ContinuousClock.Instant?>(nil)

    /// Not started yet.
    public init() {}

    /// A service to list last (so stopped first): notes the moment the shutdown began.
    public var marker: any Service { Marker(start: self) }

    /// What is left of `budget` since the shutdown began (all of it before), never less than `floor`.
    public func remaining(of budget: Duration, atLeast floor: Duration) -> Duration {
        guard let started = started.withLock({ $0 }) else { return max(floor, budget) }
        return max(floor, budget - (ContinuousClock.now - started))
    }

    private struct Marker: Service {
        let start: ShutdownStart
        func run() async throws {
            try? await gracefulShutdown()  // or cancellation
            start.started.withLock { if $0 == nil { $0 = .now } }
        }
    }
}

/// A service that holds a resource open until graceful shutdown, then
/// releases it (flush a producer, close a pool). Because a ServiceGroup stops
/// services in reverse order, list these before the services that use them.
public struct ResourceService: Service {
    private let name: String
    private let release: @Sendable () async -> Void

    /// A service that runs `release` at graceful shutdown or cancellation.
    public init(name: String, release: @escaping @Sendable () async -> Void) {
        self.name = name
        self.release = release
    }

    /// Waits for shutdown, then releases.
    public func run() async throws {
        try? await gracefulShutdown()
        await release()
    }
}
