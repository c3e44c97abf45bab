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
/// broker. The one way a test harness starts a service.
public final class ServiceUnderTest<Definition: ServiceDefinition>: Sendable {
    /// The booted parts (pool, producer, relay) the service runs on.
    public let context: ServiceContext
    /// The service's settings.
    public let configuration: Definition.Configuration
    /// What `makeServices` returned, in start order.
    public let parts: [any Service]
    /// `http://127.0.0.1:<port>` of the service's HTTP server (API and ops endpoints).
    public let baseURL: String
    /// The running group.
    public let run: ServiceGroupRun

    /// The service's consumer loops (for replaying what they parked).
    public var consumers: [EventConsumer] { parts.compactMap { $0 as? EventConsumer } }

    private init(context: ServiceContext, configuration: Definition.Configuration, parts: [any Service],
                 baseURL: String, run: ServiceGroupRun) {
        self.context = context
        self.configuration = configuration
        self.parts = parts
        self.baseURL = baseURL
        self.run = run
    }

    /// Migrates `schema` (messaging tables and `migrations`, by default the descriptor's), creates
    /// `topics`, boots a context (its own pool of `poolSize`, producer and relay, consumer groups
    /// under a unique prefix, HTTP on a free port of 127.0.0.1) and starts the service with
    /// `configuration`. `onOutcome` observes every record its consumers finish.
    public static func start(
        _ definition: Definition.Type, schema: String, configuration: Definition.Configuration,
        migrations: [Migration]? = nil, topics: [String] = [], poolSize: Int = 6,
        eventConsumer: EventConsumer.Configuration = .init(), logger: Logger = TestEnvironment.logger,
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
                                                  timeout: .seconds(10))
            }
            let service = try ServiceConfiguration(
                serviceName: descriptor.name, defaultPort: 0,
                reader: EnvironmentSettings(environment: ["MUSTER_HTTP_HOST": "127.0.0.1", "MUSTER_HEAP_TRIM_INTERVAL": "0s"]))
            var infrastructure = try InfrastructureConfiguration(reader: EnvironmentSettings(environment: [
                "MUSTER_DATABASE_URL": try TestEnvironment.databaseURL, "MUSTER_KAFKA_BROKERS": try TestEnvironment.kafkaBrokers,
                "MUSTER_KAFKA_GROUP_PREFIX": TestEnvironment.uniqueName("test"),
            ]))
            infrastructure.kafka = kafka
            infrastructure.kafkaDefaults = descriptor.kafkaDefaults
            let producer = try KafkaProducer(configuration: infrastructure.producerKafka, logger: logger)
            let context = ServiceContext(
                descriptor: descriptor, service: service, infrastructure: infrastructure, logger: logger, pool: pool,
                producer: producer, relay: OutboxRelay(schema: schema, pool: pool, producer: producer, logger: logger),
                registry: PrometheusCollectorRegistry(), eventConsumer: eventConsumer, onOutcome: onOutcome)
            let router = ServiceRouter()
            let parts = try Definition.makeServices(context, configuration: configuration, router: router)
            let port = Locked<Int?>(nil)
            let run = ServiceGroupRun(
                context.services(parts, router: router, onListening: { bound in port.withLock { $0 = bound } }),
                name: descriptor.name, logger: logger)
            guard await eventually(timeout: .seconds(30), { port.value != nil }), let bound = port.value else {
                await run.stop()
                throw ServiceDidNotListen(service: descriptor.name)
            }
            return ServiceUnderTest(context: context, configuration: configuration, parts: parts,
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
}

/// The service's HTTP server never reported its port.
public struct ServiceDidNotListen: Error, CustomStringConvertible {
    /// The service's name.
    public var service: String
    /// What happened.
    public var description: String { "\(service): the HTTP server did not report a port within 30 s" }
}
