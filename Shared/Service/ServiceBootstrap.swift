import Hummingbird
import Logging
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import MusterTracing
import Prometheus
import ServiceLifecycle

/// What a Muster service declares about itself to be booted.
public struct ServiceDescriptor: Sendable {
    /// The service name (`planner`, `launcher`, …).
    public var name: String
    /// The HTTP port when `MUSTER_HTTP_PORT` is unset.
    public var defaultPort: Int
    /// Its PostgreSQL schema (one per service).
    public var schema: String
    /// Its own migrations (versions ≥ 100); outbox and inbox come with it.
    public var migrations: [Migration]
    /// The topics it produces or consumes, created at start-up when missing.
    public var topics: [Topic]
    /// librdkafka properties of its consumers and producer under every `MUSTER_KAFKA_*PROPERTIES`
    /// (which win): the service's own sizing, e.g. the launcher's buffers (docs/launcher.md "Memory").
    public var kafkaDefaults: (consumer: [String: String], producer: [String: String])
    /// Its `MUSTER_MALLOC_THREAD_CACHE` default: chunks per size class in each thread's malloc
    /// cache (glibc's own 7 unless the service measured better, docs/launcher.md "Memory").
    public var mallocThreadCache: Int

    /// Creates a descriptor.
    public init(
        name: String, defaultPort: Int, schema: String, migrations: [Migration], topics: [Topic],
        kafkaDefaults: (consumer: [String: String], producer: [String: String]) = ([:], [:]),
        mallocThreadCache: Int = ServiceConfiguration.glibcThreadCache
    ) {
        self.name = name
        self.defaultPort = defaultPort
        self.schema = schema
        self.migrations = migrations
        self.topics = topics
        self.kafkaDefaults = kafkaDefaults
        self.mallocThreadCache = mallocThreadCache
    }
}

/// Everything a booted service works with: configuration, logger, the
/// database pool (migrated), the idempotent producer, the outbox relay and
/// the metrics registry.
public struct ServiceContext: Sendable {
    /// What was booted.
    public let descriptor: ServiceDescriptor
    /// Process settings.
    public let service: ServiceConfiguration
    /// PostgreSQL and Kafka settings.
    public let infrastructure: InfrastructureConfiguration
    /// The root logger.
    public let logger: Logger
    /// The database pool; the schema is migrated.
    public let pool: PostgresPool
    /// The idempotent producer used by the relay.
    public let producer: KafkaProducer
    /// Publishes this service's outbox.
    public let relay: OutboxRelay
    /// Rendered on `/metrics`.
    public let registry: PrometheusCollectorRegistry
    /// Sends spans to the OTLP endpoint; nil when tracing is off (the default).
    public let traceExporter: OTLPHTTPExporter?
    /// The settings the service was booted from (the process environment in a process, the test's
    /// own in a test): read for what no configuration carries, e.g. the launcher's key-pair variables.
    public let settings: EnvironmentSettings
    /// The retry and lane settings of the service's consumer loops (a test shortens the back-off).
    public var eventConsumer = EventConsumer.Configuration()
    /// Observes every record the service's consumer loops finish (tests; nil in a process).
    public var onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)?

    /// A context over parts booted elsewhere: ``ServiceBootstrap/boot(_:reader:)`` in a process, the
    /// test support's `ServiceUnderTest` in a test (own schema, topics and consumer groups).
    public init(
        descriptor: ServiceDescriptor, service: ServiceConfiguration, infrastructure: InfrastructureConfiguration,
        logger: Logger, pool: PostgresPool, producer: KafkaProducer, relay: OutboxRelay,
        registry: PrometheusCollectorRegistry, traceExporter: OTLPHTTPExporter? = nil,
        settings: EnvironmentSettings = EnvironmentSettings(), eventConsumer: EventConsumer.Configuration = .init(),
        onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)? = nil
    ) {
        self.descriptor = descriptor
        self.service = service
        self.infrastructure = infrastructure
        self.logger = logger
        self.pool = pool
        self.producer = producer
        self.relay = relay
        self.registry = registry
        self.traceExporter = traceExporter
        self.settings = settings
        self.eventConsumer = eventConsumer
        self.onOutcome = onOutcome
    }

    /// The service's outbox.
    public var outbox: Outbox { Outbox(schema: descriptor.schema) }

    /// A consumer-group member for `topics` in group `<prefix>.<service>.<purpose>`.
    public func makeConsumer(purpose: String, topics: [String]) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: infrastructure.consumerKafka,
            groupID: infrastructure.consumerGroup(service: descriptor.name, purpose: purpose),
            topics: topics, logger: logger)
    }

    /// The service's one consumer-group member, subscribed to all of `topics`, in group
    /// `<prefix>.<service>` (issue 18: one member per service, one fetch loop for all its topics).
    public func makeConsumer(topics: [String]) throws -> KafkaConsumer {
        try KafkaConsumer(
            configuration: infrastructure.consumerKafka,
            groupID: infrastructure.consumerGroup(service: descriptor.name), topics: topics, logger: logger)
    }

    /// A consumer-group member for Muster `topics`; see `makeConsumer(purpose:topics:)`.
    public func makeConsumer(purpose: String, topics: [Topic]) throws -> KafkaConsumer {
        try makeConsumer(purpose: purpose, topics: topics.map(\.name))
    }

    /// The readiness checks of a service: database and broker reachable.
    public var readinessChecks: [ReadinessCheck] {
        let pool = self.pool, kafka = infrastructure.kafka
        return [
            ReadinessCheck(name: "database") { await pool.isReachable(timeout: .seconds(2)) },
            ReadinessCheck(name: "kafka") { await KafkaAdmin.isReachable(configuration: kafka, timeout: .seconds(2)) },
        ]
    }

    /// The services to run, in order: producer and pool (stopped last), the
    /// relay, the outbox/inbox retention pruner, then `services` (consumers, schedulers; the consumers
    /// stopped together), then the HTTP server with the ops endpoints and whatever `router` already
    /// carries, and last the marker of the shutdown's start (stopped first).
    public func services<Context: RequestContext>(
        _ services: [any Service], router: Router<Context>,
        onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> [any Service] where Context.Source == ApplicationRequestContextSource {
        let consumers = services.compactMap { $0 as? EventConsumer }
        // A handler's outbox rows leave at once: the relay's idle interval is only a safety net.
        let relay = self.relay
        for consumer in consumers { consumer.onHandled { relay.wake() } }
        // Ready only once every consumer joined its group, not merely when PostgreSQL and Kafka answer.
        let joined = consumers.map { consumer in
            ReadinessCheck(name: "consumer \(consumer.name)") { consumer.hasJoinedGroup }
        }
        OpsRoutes.add(to: router, registry: registry, checks: readinessChecks + joined)
        // Every consumer loop of the service is reachable for replays of what it parked.
        DeadLetterRoutes.add(
            to: router, schema: descriptor.schema, pool: pool, consumers: consumers, adminToken: service.opsAdminToken)
        let producer = self.producer, pool = self.pool
        let shutdown = ShutdownStart()
        // First in, so stopped last: the spans of the shutdown itself are still sent.
        let tracing: [any Service] = traceExporter.map { [$0] } ?? []
        return tracing + [
            ResourceService(name: "postgres") { await pool.close() },
            // Only the outbox relay produces, and it marks a row published after the broker's
            // acknowledgement: what a short flush leaves unsent is published again by the next
            // relay, so shutdown does not wait out a broker that stopped answering. The flush gets
            // what is left of 1 s from the signal (at least 0.1 s): consumers that waited out their
            // close timeout on an unreachable broker leave it little, a healthy broker needs little.
            ResourceService(name: "kafka-producer") {
                await producer.shutdown(timeout: shutdown.remaining(of: .seconds(1), atLeast: .milliseconds(100)))
            },
            relay,
            RetentionPruner(
                schema: descriptor.schema, pool: pool, logger: logger, configuration: infrastructure.retention),
            HeapTrimmer(interval: service.heapTrimInterval, logger: logger),
        ] + Self.stoppingConsumersTogether(services) + [
            ServiceRunner.httpServer(router: router, configuration: service, logger: logger, onListening: onListening),
            shutdown.marker,
        ]
    }
}

extension ServiceContext {
    /// `services` with their `EventConsumer`s run as one ``ConcurrentServices`` in the place of
    /// the last of them: on shutdown they stop together (each waits at most its grace and its
    /// close timeout, not the sum over its siblings); everything else keeps its order.
    static func stoppingConsumersTogether(_ services: [any Service]) -> [any Service] {
        guard services.filter({ $0 is EventConsumer }).count > 1,
              let last = services.lastIndex(where: { $0 is EventConsumer })
        else { return services }
        let together = ConcurrentServices(services.filter { $0 is EventConsumer })
        return services[..<last].filter { !($0 is EventConsumer) } + [together] + services[(last + 1)...]
    }
}

/// Boots a service: configuration, logging, metrics, the librdkafka version
/// check, database migrations, topics and the producer. Any failure names the
/// setting or library at fault.
public enum ServiceBootstrap {
    /// Boots `descriptor` from the process environment.
    public static func boot(_ descriptor: ServiceDescriptor, reader: EnvironmentSettings = EnvironmentSettings()) async throws
        -> ServiceContext
    {
        let service = try ServiceConfiguration(
            serviceName: descriptor.name, defaultPort: descriptor.defaultPort, reader: reader,
            threadCacheDefault: descriptor.mallocThreadCache)
        // Before librdkafka, libcurl, libpq and NIO start their threads (each may take an arena).
        HeapDiscipline.limitArenas(service.mallocArenas)
        HeapDiscipline.fixMmapThreshold(service.mallocMmapThreshold)
        // Before the first log line: Muster's times are UTC, and a default zone of GMT keeps
        // Foundation's date formatting away from ICU's zone data (docs/launcher.md "Memory").
        HeapDiscipline.useGMTAsDefaultTimeZone()
        let logger = LoggingSetup.bootstrap(service: descriptor.name, level: service.logLevel, format: service.logFormat)
        // Off unless an OTLP endpoint is set (docs/observability.md, tracing).
        let traceExporter = try TracingConfiguration.exporter(environment: reader.environment, serviceName: descriptor.name)
            .map { TracingSetup.bootstrap($0, logger: logger) }
        if let traceExporter {
            logger.info("tracing on", metadata: ["otlp_endpoint": "\(traceExporter.configuration.redactedEndpoint)"])
        }
        var infrastructure = try InfrastructureConfiguration(reader: reader)
        infrastructure.kafkaDefaults = descriptor.kafkaDefaults
        let registry = MetricsSetup.bootstrap()
        try KafkaLibrary.checkVersion()
        logger.info("starting", metadata: ["librdkafka": "\(KafkaLibrary.versionString)"])

        let pool = PostgresPool(configuration: infrastructure.database, logger: logger)
        let applied = try await Migrator.migrate(
            schema: descriptor.schema,
            migrations: MessagingSchema.migrations(schema: descriptor.schema) + descriptor.migrations,
            pool: pool, logger: logger)
        if !applied.isEmpty { logger.info("migrated", metadata: ["schema": "\(descriptor.schema)", "versions": "\(applied)"]) }

        if infrastructure.createTopics && !descriptor.topics.isEmpty {
            try await KafkaAdmin.createTopics(
                descriptor.topics.map { (name: $0.name, partitions: $0.partitions) },
                configuration: infrastructure.kafka, timeout: .seconds(30))
        }
        let producer = try KafkaProducer(configuration: infrastructure.producerKafka, logger: logger)
        let relay = OutboxRelay(schema: descriptor.schema, pool: pool, producer: producer, logger: logger)
        return ServiceContext(
            descriptor: descriptor, service: service, infrastructure: infrastructure, logger: logger, pool: pool,
            producer: producer, relay: relay, registry: registry, traceExporter: traceExporter, settings: reader)
    }
}

extension ServiceContext {
    /// `services(_:router:)` with a router holding only the ops endpoints.
    public func services(
        _ services: [any Service], onListening: @escaping @Sendable (Int) async -> Void = { _ in }
    ) -> [any Service] {
        self.services(services, router: Router(), onListening: onListening)
    }
}
