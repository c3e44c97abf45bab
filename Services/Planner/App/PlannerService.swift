import Foundation
import Hummingbird
import Logging
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import MusterService
import ServiceLifecycle

/// The planner service (DESIGN §2, §7): REST API, teams, accounts,
/// protection groups, plans, executions and the wave DAG. Consumes
/// `job.status.v1`, `inventory.v1` and `callout.results.v1`; produces `launch.requests.v1`,
/// `instances.terminate.v1`, `accounts.v1`, `teams.v1`, `callouts.v1` and `execution.events.v1`
/// through its outbox.
public enum PlannerService: ServiceDefinition {
    /// How the planner is booted.
    public static let descriptor = ServiceDescriptor(
        name: "planner", defaultPort: 8080, schema: "planner", migrations: migrations,
        topics: [.jobStatus, .inventory, .launchRequests, .instancesTerminate, .accounts, .executionEvents, .teams,
                 .hookRequests, .callouts, .calloutResults])

    /// The planner's own schema migrations (versions from 100).
    public static let migrations: [Migration] = PlannerSchema.migrations

    /// The consumer loop: one Kafka group member subscribed to `job.status`, `inventory` and
    /// `callout.results`, each topic handled by its own route and inbox name
    /// (`planner.job-status`, `planner.inventory`, `planner.callout-results`).
    /// `makeConsumer(topics)` creates the Kafka member.
    public static func consumers(
        configuration: PlannerConfiguration, pool: PostgresPool, logger: Logger,
        eventConsumer: EventConsumer.Configuration = .init(),
        makeConsumer: (_ topics: [String]) throws -> KafkaConsumer,
        onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)? = nil,
        wake: @escaping @Sendable () -> Void
    ) throws -> [EventConsumer] {
        let store = ExecutionStore(schema: configuration.schema, topics: configuration.topics,
                                         callbackBaseURL: configuration.callbackBaseURL)
        let jobs = JobStatusHandler(store: store, logger: logger)
        let inventory = InventoryHandler(configuration: configuration)
        let callouts = CalloutResultHandler(store: store, logger: logger)
        // A handled record may have enqueued events: the relay publishes them now.
        let wakeOnHandled: @Sendable (ConsumeOutcome, CloudEvent?) -> Void = { outcome, event in
            if outcome == .handled { wake() }
            onOutcome?(outcome, event)
        }
        let topics = configuration.topics
        let routes = [
            EventConsumer.Route(
                topic: topics.jobStatus, name: "planner.job-status", onOutcome: wakeOnHandled,
                handler: { event, record, connection in try await jobs.handle(event, record, on: connection) }),
            EventConsumer.Route(
                topic: topics.inventory, name: "planner.inventory",
                onOutcome: { outcome, event in
                    // A readiness answer may owe plan.readiness-changed.
                    if outcome == .handled, event?.type == EventType.readinessChecked { wake() }
                    onOutcome?(outcome, event)
                },
                handler: { event, record, connection in try await inventory.handle(event, record, on: connection) }),
            EventConsumer.Route(
                topic: topics.calloutResults, name: "planner.callout-results", onOutcome: wakeOnHandled,
                handler: { event, record, connection in try await callouts.handle(event, record, on: connection) }),
        ]
        return [
            EventConsumer(
                name: "planner", schema: configuration.schema, consumer: try makeConsumer(routes.map(\.topic)),
                pool: pool, logger: logger, configuration: eventConsumer, routes: routes),
        ]
    }

    /// An HTTP server with only the API and console routes, bound to `host:port` (0 = any
    /// free port, reported to `onListening`): for tests and tools that run a
    /// planner in-process without the ops endpoints.
    public static func apiServer(
        _ api: PlannerAPI, host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some Service {
        let router = Router()
        api.addRoutes(to: router)
        PlannerConsole(api: api).addRoutes(to: router)
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "planner"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Reads `MUSTER_PLANNER_*`, `MUSTER_CONSOLE_*` and `MUSTER_OIDC_*`.
    public static func configuration(from settings: EnvironmentSettings) throws -> PlannerConfiguration {
        try PlannerConfiguration(reader: settings)
    }

    /// What ``makeServices(_:configuration:router:)`` builds: the API behind the routes and the
    /// planner's own services. A test reaches the API through it (to drive a loop by hand) and
    /// chooses which of the services run.
    public struct Parts: ServiceParts {
        /// The API and console behind the routes; the loops work through it.
        public let api: PlannerAPI
        /// The consumer loop (`job.status`, `inventory`, `callout.results`).
        public let consumers: [EventConsumer]
        /// Fails SSM and callout steps past their deadline (`StepDeadlines`).
        public let stepDeadlines: any Service
        /// Starts scheduled drills and re-evaluates readiness (`SchedulerService`).
        public let scheduler: any Service

        /// Consumers, step deadlines, scheduler.
        public var services: [any Service] { consumers + [stepDeadlines, scheduler] }
    }

    /// The planner's own services (consumers, step deadlines, drill scheduler); its API and console
    /// routes go on `router`.
    public static func makeServices(
        _ context: ServiceContext, configuration: PlannerConfiguration, router: ServiceRouter
    ) throws -> Parts {
        let relay = context.relay
        // Every commit that enqueued events wakes the relay, and the step deadlines: a step that
        // started has a new deadline, which the loop, asleep until the earliest one, must read.
        let deadlineLoop = StepDeadlines.loop(interval: configuration.stepDeadlineInterval, logger: context.logger)
        let wake: @Sendable () -> Void = { relay.wake(); deadlineLoop.wake() }
        let api = PlannerAPI(configuration: configuration, pool: context.pool, wake: wake)
        api.addRoutes(to: router)
        PlannerConsole(api: api).addRoutes(to: router)
        let consumers = try consumers(
            configuration: configuration, pool: context.pool, logger: context.logger,
            eventConsumer: context.eventConsumer,
            makeConsumer: { topics in try context.makeConsumer(topics: topics) },
            onOutcome: context.onOutcome, wake: wake)
        let deadlines = StepDeadlines(api: api, loop: deadlineLoop, logger: context.logger, now: { Date() })
        let scheduler = SchedulerService(
            scheduler: DrillScheduler(api: api, logger: context.logger),
            monitor: ReadinessMonitor(api: api, logger: context.logger),
            interval: configuration.schedules.tickInterval, logger: context.logger)
        return Parts(api: api, consumers: consumers, stepDeadlines: deadlines, scheduler: scheduler)
    }
}
