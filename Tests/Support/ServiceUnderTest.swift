import Logging
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import MusterService
import Prometheus
import ServiceLifecycle

/// One Muster service built the way its process builds it — its
/// `ServiceDefinition.makeServices` inside `ServiceContext.services` (outbox
/// relay, retention pruner, heap trim, the HTTP server with the ops endpoints
/// and its API) in one real `ServiceGroup` — on the test's own schema, topics
/// (through `configuration`) and consumer groups, on the shared PostgreSQL and
/// broker. The one way a test harness starts a service: several instances of
/// one service (launchers sharing a schema and a consumer group) are several
/// of these, each ended gracefully (``stop()``) or abruptly (``kill()``) on
/// its own.
public final class ServiceUnderTest<Definition: ServiceDefinition>: Sendable {
    /// The booted parts (pool, producer, relay) the service runs on.
    public let context: ServiceContext
    /// The service's settings.
    public let configuration: Definition.Configuration
    /// What `makeServices` built, named (the planner's API, the launcher, …).
    public let parts: Definition.Parts
    /// The services of `parts` that run (all of them unless `running` left some out), in start order.
    public let running: [any Service]
    /// `http://127.0.0.1:<port>` of the service's HTTP server (API and ops endpoints).
    public let baseURL: String
    /// The running group.
    public let run: ServiceGroupRun

    /// The service's running consumer loops (for replaying what they parked).
    public var consumers: [EventConsumer] { running.compactMap { $0 as? EventConsumer } }

    private init(context: ServiceContext, configuration: Definition.Configuration, parts: Definition.Parts,
                 running: [any Service], baseURL: String, run: ServiceGroupRun) {
        self.context = context
        self.configuration = configuration
        self.parts = parts
        self.running = running
        self.baseURL = baseURL
        self.run = run
    }

    /// Migrates `schema` (messaging tables and `migrations`, by default the descriptor's), creates
    /// `topics`, boots a context (its own pool of `poolSize`, producer and relay with `relay`'s
    /// timing, consumer groups under `groupPrefix` — unique unless given, so that instances can share
    /// a group — HTTP on a free port of 127.0.0.1, `environment` as the settings it was booted from)
    /// and starts the service with `configuration`. `running` chooses which of the parts run (by
    /// default all): a test that drives a loop by hand leaves that loop out, and one that needs no
    /// consumers leaves them out (they are closed at once, never joining a group for long).
    /// `onOutcome` observes every record its consumers finish; `expected` names the errors a test
    /// provokes on purpose to crash the service (see ``ServiceGroupRun``).
    public static func start(
        _ definition: Definition.Type, schema: String, configuration: Definition.Configuration,
        migrations: [Migration]? = nil, topics: [String] = [], poolSize: Int = 6,
        relay relayConfiguration: OutboxRelay.Configuration = .init(), groupPrefix: String? = nil,
        environment: [String: String] = [:], eventConsumer: EventConsumer.Configuration = .init(),
        logger: Logger = TestEnvironment.logger,
        running: (Definition.Parts) -> [any Service] = { $0.services },
        expected: @escaping @Sendable (any Error) -> Bool = { _ in false },
        onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)? = nil
    ) async throws -> ServiceUnderTest {
        var descriptor = Definition.descriptor
        descriptor.schema = schema
        let pool = try TestEnvironment.pool(size: poolSize)
        do {
            try await Migrator.migrate(
                schema: schema,
                migrations: MessagingSchema.migrations(schema: schema) + (migrations ?? descriptor.migrations),
                pool: pool, logger: logger)
            let kafka = try TestEnvironment.kafka()
            if !topics.isEmpty {
                try await KafkaAdmin.createTopics(topics.map { (name: $0, partitions: 2) }, configuration: kafka,
                                                  timeout: TestEnvironment.topicCreationTimeout)
            }
            let settings = EnvironmentSettings(environment: environment.merging([
                "MUSTER_HTTP_HOST": "127.0.0.1", "MUSTER_HEAP_TRIM_INTERVAL": "0s",
                "MUSTER_DATABASE_URL": try TestEnvironment.databaseURL, "MUSTER_KAFKA_BROKERS": try TestEnvironment.kafkaBrokers,
                "MUSTER_KAFKA_GROUP_PREFIX": groupPrefix ?? TestEnvironment.uniqueName("test"),
            ]) { _, harness in harness })
            let service = try ServiceConfiguration(serviceName: descriptor.name, defaultPort: 0, reader: settings)
            var infrastructure = try InfrastructureConfiguration(reader: settings)
            infrastructure.kafka = kafka
            infrastructure.kafkaDefaults = descriptor.kafkaDefaults
            let producer = try KafkaProducer(configuration: infrastructure.producerKafka, logger: logger)
            let context = ServiceContext(
                descriptor: descriptor, service: service, infrastructure: infrastructure, logger: logger, pool: pool,
                producer: producer,
                relay: OutboxRelay(schema: schema, pool: pool, producer: producer, logger: logger,
                                   configuration: relayConfiguration),
                registry: PrometheusCollectorRegistry(), settings: settings, eventConsumer: eventConsumer,
                onOutcome: onOutcome)
            let router = ServiceRouter()
            let parts = try Definition.makeServices(context, configuration: configuration, router: router)
            let chosen = running(parts)
            await closeLeftOut(parts.services, running: chosen)
            let port = Locked<Int?>(nil)
            let run = ServiceGroupRun(
                context.services(chosen, router: router, onListening: { bound in port.withLock { $0 = bound } }),
                name: descriptor.name, logger: logger, expected: expected)
            guard await eventually({ port.value != nil }), let bound = port.value else {
                await run.stop()
                throw ServiceDidNotListen(service: descriptor.name)
            }
            return ServiceUnderTest(context: context, configuration: configuration, parts: parts, running: chosen,
                                    baseURL: "http://127.0.0.1:\(bound)", run: run)
        } catch {
            await pool.close()
            throw error
        }
    }

    /// Graceful shutdown, as on SIGTERM: every part stops in reverse order; the pool and producer last.
    public func stop() async {
        await run.stop()
    }

    /// Ends the service abruptly, as a killed process ends: its group is cancelled, no graceful shutdown.
    public func kill() async {
        await run.kill()
    }

    /// A consumer loop built but left out is run already cancelled, which closes its Kafka consumer at
    /// once; never read, that consumer never subscribed, so it never joined its group.
    private static func closeLeftOut(_ all: [any Service], running: [any Service]) async {
        let kept = Set(running.compactMap { $0 as? EventConsumer }.map(ObjectIdentifier.init))
        for consumer in all.compactMap({ $0 as? EventConsumer }) where !kept.contains(ObjectIdentifier(consumer)) {
            let closing = Task { try await consumer.run() }
            closing.cancel()
            _ = try? await closing.value
        }
    }
}

/// The service's HTTP server never reported its port.
public struct ServiceDidNotListen: Error, CustomStringConvertible {
    /// The service's name.
    public var service: String
    /// What happened.
    public var description: String { "\(service): the HTTP server did not report a port within 30 s" }
}
