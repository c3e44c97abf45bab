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
public enum NotifierService: ServiceDefinition {
    /// How the notifier is booted.
    public static let descriptor = ServiceDescriptor(
        name: "notifier", defaultPort: 8083, schema: "notifier", migrations: migrations,
        topics: [.executionEvents, .teams, .callouts, .calloutResults])

    /// The notifier's own schema migrations (versions from 100).
    public static let migrations: [Migration] = NotifierSchema.migrations

    /// The notifier's parts over explicit dependencies, so tests run isolated
    /// instances (own schema, topics, consumer groups).
    public struct Components: Sendable {
        /// In start order: the HTTP client (released last), the consumer
        /// loop, the delivery dispatcher.
        public var services: [any Service]
        /// The `/v1` API; add it to a router.
        public var api: NotifierAPI
    }

    /// Builds the parts. `makeConsumer(topics)` creates the one Kafka group member, subscribed
    /// to `execution.events`, `teams` and `callouts` (routes `notifier.executions`, `notifier.tokens`,
    /// `notifier.callouts`); `onOutcome` observes consumed records.
    public static func components(
        configuration: NotifierConfiguration, pool: PostgresPool, logger: Logger,
        eventConsumer: EventConsumer.Configuration = .init(),
        makeConsumer: (_ topics: [String]) throws -> KafkaConsumer,
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
        let routing = EventRouting(store: DeliveryStore(schema: configuration.schema))
        let tokens = TokenReplica(schema: configuration.schema)
        let metrics = NotifierMetrics()
        // A consumer that created deliveries wakes the dispatcher: they are due now.
        let wakeDispatcher: @Sendable (ConsumeOutcome, CloudEvent?) -> Void = { outcome, event in
            if outcome == .handled { dispatcher.wake() }
            onOutcome?(outcome, event)
        }
        let calloutRouting = CalloutRouting(
            schema: configuration.schema, topics: configuration.topics, rules: rules)
        let routes = [
            EventConsumer.Route(
                topic: configuration.topics.executionEvents, name: "notifier.executions", onOutcome: wakeDispatcher,
                handler: { event, _, connection in
                    metrics.deliveriesCreated(try await routing.handle(event, on: connection))
                }),
            EventConsumer.Route(
                topic: configuration.topics.teams, name: "notifier.tokens", onOutcome: onOutcome,
                handler: { event, record, connection in try await tokens.handle(event, record, on: connection) }),
            EventConsumer.Route(
                topic: configuration.topics.callouts, name: "notifier.callouts", onOutcome: wakeDispatcher,
                handler: { event, record, connection in try await calloutRouting.handle(event, record, on: connection) }),
        ]
        let consumer = EventConsumer(
            name: "notifier", schema: configuration.schema, consumer: try makeConsumer(routes.map(\.topic)),
            pool: pool, logger: logger, configuration: eventConsumer, routes: routes)
        return Components(
            services: [ResourceService(name: "http-client") { await client.shutdown() }, consumer, dispatcher],
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

    /// Reads `MUSTER_NOTIFIER_*`.
    public static func configuration(from settings: EnvironmentSettings) throws -> NotifierConfiguration {
        try NotifierConfiguration(reader: settings)
    }

    /// The notifier's own services (HTTP client, consumers, dispatcher); its `/v1` API goes on `router`.
    public static func makeServices(
        _ context: ServiceContext, configuration: NotifierConfiguration, router: ServiceRouter
    ) throws -> [any Service] {
        let relay = context.relay
        let components = try components(
            configuration: configuration, pool: context.pool, logger: context.logger,
            eventConsumer: context.eventConsumer,
            makeConsumer: { topics in try context.makeConsumer(topics: topics) },
            onOutcome: context.onOutcome, wakeRelay: { relay.wake() })
        components.api.addRoutes(to: router)
        return components.services
    }
}
