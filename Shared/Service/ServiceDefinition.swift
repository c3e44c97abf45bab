import Hummingbird
import ServiceLifecycle

/// What a Muster service is, in one place (DESIGN §10): how it is booted
/// (``descriptor``), its own settings read from the environment
/// (``Configuration``, ``configuration(from:)``) and its long-running parts
/// over a booted ``ServiceContext`` (``makeServices(_:configuration:router:)``).
/// `ServiceRunner.main(_:)` runs any of them, so every `main.swift` is one
/// call, e.g. `await ServiceRunner.main(PollerService.self)`; the tests'
/// `ServiceUnderTest` builds them through the same call.
public protocol ServiceDefinition {
    /// The service's own settings (its `MUSTER_<SERVICE>_*` variables).
    associatedtype Configuration: Sendable
    /// What ``makeServices(_:configuration:router:)`` builds: its services in start order
    /// (``ServiceParts/services``) and, named, the parts a test drives or inspects (the planner's
    /// API, the launcher). A service with nothing to name returns `[any Service]`.
    associatedtype Parts: ServiceParts = [any Service]

    /// Name, default port, schema, migrations and topics.
    static var descriptor: ServiceDescriptor { get }

    /// Reads the service's settings; an error names the variable and its rule (`ConfigurationError`).
    static func configuration(from settings: EnvironmentSettings) throws -> Configuration

    /// The service's own parts, in start order (resources first: they stop last): consumers, loops,
    /// clients. Its API routes, if it has an API, go on `router`, which is served on the service's
    /// port beside the ops endpoints. The shared parts (pool, producer, outbox relay, retention
    /// pruner, heap trim, HTTP server) are added around them by `ServiceContext.services(_:router:)`.
    static func makeServices(
        _ context: ServiceContext, configuration: Configuration, router: ServiceRouter
    ) throws -> Parts
}

/// The parts a ``ServiceDefinition`` built: the services a process runs, in start order.
public protocol ServiceParts: Sendable {
    /// Everything to run, in start order (resources first: they stop last).
    var services: [any Service] { get }
}

extension Array: ServiceParts where Element == any Service {
    /// The list itself.
    public var services: [any Service] { self }
}

extension ServiceRunner {
    /// Runs `definition` as a process: reads its settings, boots it (logging, metrics, migrations,
    /// topics, producer), builds its services and runs them until SIGTERM or SIGINT. A start-up
    /// failure is logged naming the setting or library at fault, and the process exits with status 1.
    @MainActor
    public static func main<Definition: ServiceDefinition>(
        _ definition: Definition.Type, settings: EnvironmentSettings = EnvironmentSettings()
    ) async {
        // On the main thread, before the first await hops to the concurrency pool: the pool's
        // first thread to allocate would otherwise get a second malloc arena before the limit
        // is set (measured: a 24 MB arena beside the main one after the storm).
        // A thread-cache size other than glibc's starts the program again here, with it set.
        HeapDiscipline.configureFromEnvironment(settings, threadCacheDefault: Definition.descriptor.mallocThreadCache)
        do {
            let configuration = try Definition.configuration(from: settings)
            let context = try await ServiceBootstrap.boot(Definition.descriptor, reader: settings)
            let router = Router()
            let services = try Definition.makeServices(context, configuration: configuration, router: router).services
            try await run(context.services(services, router: router), logger: context.logger)
        } catch {
            exitOnStartupFailure(error, logger: nil)
        }
    }
}

/// The router a service's API routes go on (see ``ServiceDefinition``).
public typealias ServiceRouter = Router<BasicRequestContext>
