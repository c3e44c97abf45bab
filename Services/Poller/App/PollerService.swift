import Logging
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import MusterService
import ServiceLifecycle

/// The poller service (DESIGN §2, §6): when each live DRS job is looked at,
/// and timeouts. It consumes `job.status.v1` and produces `job.poll.v1` and
/// `job.timed-out` through its outbox.
public enum PollerService: ServiceDefinition {
    /// How the poller is booted.
    public static let descriptor = ServiceDescriptor(
        name: "poller", defaultPort: 8082, schema: "poller", migrations: migrations,
        topics: [.jobStatus, .jobPoll])

    /// The poller's own schema migrations (versions from 100).
    public static let migrations: [Migration] = PollerSchema.migrations

    /// Reads `MUSTER_POLLER_*`.
    public static func configuration(from settings: EnvironmentSettings) throws -> PollerConfiguration {
        var configuration = try PollerConfiguration(reader: settings)
        configuration.schema = descriptor.schema
        return configuration
    }

    /// The poller's long-running services besides the shared ones: the
    /// status consumer and the scheduler; it has no API routes.
    public static func makeServices(
        _ context: ServiceContext, configuration: PollerConfiguration, router: ServiceRouter
    ) throws -> [any Service] {
        let consumer = try context.makeConsumer(purpose: "status", topics: [configuration.topics.jobStatus])
        let relay = context.relay
        return components(
            configuration: configuration, pool: context.pool, consumer: consumer, logger: context.logger,
            consumerConfiguration: context.eventConsumer, wakeRelay: { relay.wake() },
            onOutcome: context.onOutcome ?? { _, _ in })
    }

    /// The consumer and scheduler over explicit parts, so tests and the
    /// benchmark can run isolated instances (own schema, topics, producer).
    public static func components(
        configuration: PollerConfiguration, pool: PostgresPool, consumer: KafkaConsumer, logger: Logger,
        consumerConfiguration: EventConsumer.Configuration = .init(),
        wakeRelay: @escaping @Sendable () -> Void,
        onOutcome: @escaping @Sendable (ConsumeOutcome, CloudEvent?) -> Void = { _, _ in }
    ) -> [any Service] {
        let tracker = JobTracker(configuration: configuration)
        let scheduler = PollScheduler(tracker: tracker, pool: pool, logger: logger, onCommit: wakeRelay)
        let status = StatusConsumer.make(
            consumer: consumer, pool: pool, tracker: tracker, logger: logger, configuration: consumerConfiguration
        ) { outcome, event in
            // A snapshot may have enqueued job.timed-out: publish it now, not at the relay's next idle check.
            if outcome == .handled && event?.type == EventType.jobObserved { wakeRelay() }
            // A new live job: the scheduler, asleep for its idle interval when nothing was live, plans its first look.
            if outcome == .handled && event?.type == EventType.jobCreated { scheduler.wake() }
            onOutcome(outcome, event)
        }
        return [status, scheduler]
    }
}
