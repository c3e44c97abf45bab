import Hummingbird
import Logging
import MusterEvents
import MusterHTTP
import MusterKafka
import MusterMessaging
import MusterPostgres
import MusterService
import ServiceLifecycle

/// The notifier service (DESIGN §2, §8): webhook subscriptions and signed
/// deliveries. Consumes `execution.events.v1` (into delivery rows) and
/// `teams.v1` (into its token replica) and `callouts.v1` (HTTP callout steps,
/// sent as deliveries), serves the subscription API on its HTTP port, and
/// POSTs deliveries with retries. Produces `callout.results.v1` (each
/// callout's final outcome) through its outbox.
public enum NotifierService {
    /// How the notifier is booted.
    public static let descriptor = ServiceDescriptor(
        name: "notifier", defaultPort: 8083, schema: "notifier", migrations: migrations,
        topics: [.executionEvents, .teams, .callouts, .calloutResults])

    /// The notifier's own schema migrations (versions from 100).
    public static let migrations: [Migration] = NotifierSchema.migrations

    /// The notifier's parts over explicit dependencies, so tests run isolated
    /// instances (own schema, topics, consumer groups).
    public struct Components: Sendable {
        /// In start order: the HTTP client (released last), the two consumer
        /// loops, the delivery dispatcher.
        public var services: [any Service]
        /// The `/v1` API; add it to a router.
        public var api: NotifierAPI
    }

    /// Builds the parts. `makeConsumer(purpose, topic)` creates each Kafka
    /// group member (`executions`, `tokens`, `callouts`); `onOutcome` observes consumed records.
    public static func components(
        configuration: NotifierConfiguration, pool: PostgresPool, logger: Logger,
        eventConsumer: EventConsumer.Configuration = .init(),
        makeConsumer: (_ purpose: String, _ topic: String) throws -> KafkaConsumer,
        onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)? = nil,
        wakeRelay: @escaping @Sendable () -> Void = {}
    ) throws -> Components {
        let rules = SubscriptionRules(allowHTTP: configuration.allowHTTP)
        let client = HTTPClient(logger: logger, maxConnectionsPerHost: max(16, configuration.maxInFlightPerSubscription * 2))
        let dispatcher = DeliveryDispatcher(
            queue: DeliveryQueue(schema: configuration.schema, pool: pool, topics: configuration.topics),
            sender: WebhookSender(client: client, timeout: configuration.deliveryTimeout,
                                  connectTimeout: configuration.connectTimeout),
            configuration: configuration, logger: logger, reported: wakeRelay)
        let routing = EventRouting(schema: configuration.schema)
        let tokens = TokenReplica(schema: configuration.schema)
        let metrics = NotifierMetrics()
        // A consumer that created deliveries wakes the dispatcher: they are due now.
        let wakeDispatcher: @Sendable (ConsumeOutcome, CloudEvent?) -> Void = { outcome, event in
            if outcome == .handled { dispatcher.wake() }
            onOutcome?(outcome, event)
        }
        let executions = EventConsumer(
            name: "notifier.executions", schema: configuration.schema,
            consumer: try makeConsumer("executions", configuration.topics.executionEvents), pool: pool, logger: logger,
            configuration: eventConsumer,
            onOutcome: wakeDispatcher,
            handler: { event, _, connection in
                metrics.deliveriesCreated(try await routing.handle(event, on: connection))
            })
        let teams = EventConsumer(
            name: "notifier.tokens", schema: configuration.schema,
            consumer: try makeConsumer("tokens", configuration.topics.teams), pool: pool, logger: logger,
            configuration: eventConsumer, onOutcome: onOutcome,
            handler: { event, record, connection in try await tokens.handle(event, record, on: connection) })
        let calloutRouting = CalloutRouting(
            schema: configuration.schema, topics: configuration.topics, rules: rules)
        let callouts = EventConsumer(
            name: "notifier.callouts", schema: configuration.schema,
            consumer: try makeConsumer("callouts", configuration.topics.callouts), pool: pool, logger: logger,
            configuration: eventConsumer,
            onOutcome: wakeDispatcher,
            handler: { event, record, connection in try await calloutRouting.handle(event, record, on: connection) })
        return Components(
            services: [ResourceService(name: "http-client") { await client.shutdown() }, teams, executions, callouts,
                       dispatcher],
            api: NotifierAPI(configuration: configuration, pool: pool, wake: { dispatcher.wake() }))
    }

    /// An HTTP server with only the API routes, bound to `host:port` (0 = any
    /// free port, reported to `onListening`): for tests and tools.
    public static func apiServer(
        _ api: NotifierAPI, host: String, port: Int, logger: Logger,
        onListening: @escaping @Sendable (Int) async -> Void
    ) -> some Service {
        let router = Router()
        api.addRoutes(to: router)
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "notifier"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }

    /// Everything the notifier process runs, the API on the ops router included.
    public static func services(_ context: ServiceContext, configuration: NotifierConfiguration) throws -> [any Service] {
        let relay = context.relay
        let components = try components(
            configuration: configuration, pool: context.pool, logger: context.logger,
            makeConsumer: { purpose, topic in try context.makeConsumer(purpose: purpose, topics: [topic]) },
            wakeRelay: { relay.wake() })
        let router = Router()
        components.api.addRoutes(to: router)
        return context.services(components.services, router: router)
    }
}
