import Logging
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres

/// The poller's reader of `job.status.v1` (its own consumer group): starts
/// tracking on `job.created` (and the extra jobs of `job.duplicate-detected`), applies `job.observed` snapshots, ignores the
/// rest (`job.queued`, `job.launch-failed`, its own `job.timed-out`). Each
/// event is handled in the inbox transaction, so a redelivery changes nothing
/// and a `job.timed-out` it owes commits with the state change.
public enum StatusConsumer {
    /// An `EventConsumer` over `consumer`. `onOutcome` sees each finished
    /// record after its transaction committed (the relay is woken there).
    public static func make(
        consumer: KafkaConsumer, pool: PostgresPool, tracker: JobTracker, logger: Logger,
        configuration: EventConsumer.Configuration = .init(),
        onOutcome: @escaping @Sendable (ConsumeOutcome, CloudEvent?) -> Void = { _, _ in }
    ) -> EventConsumer {
        let metrics = PollerMetrics()
        return EventConsumer(
            name: tracker.configuration.consumerName, schema: tracker.configuration.schema, consumer: consumer,
            pool: pool, logger: logger, configuration: configuration, onOutcome: onOutcome
        ) { event, _, transaction in
            switch event.type {
            case EventType.jobCreated:
                let created = try event.decode(JobCreated.self)
                let fresh = try await tracker.track(created, announcedAt: event.time, on: transaction)
                if !fresh { logger.debug("job already tracked", metadata: ["job": "\(created.jobID)"]) }
            case EventType.jobDuplicateDetected:
                let duplicate = try event.decode(JobDuplicateDetected.self)
                let tracked = try await tracker.trackDuplicates(duplicate, on: transaction)
                logger.warning("tracking duplicate DRS jobs", metadata: [
                    "job": "\(duplicate.jobID)", "duplicates": "\(duplicate.duplicateJobIDs)", "tracked": "\(tracked)"])
            case EventType.jobObserved:
                let observed = try event.decode(JobObserved.self)
                let outcome = try await tracker.observe(observed, on: transaction)
                metrics.observation(outcome.rawValue)
                if outcome == .timedOut {
                    logger.notice("job timed out", metadata: ["job": "\(observed.jobID)", "status": "\(observed.status)"])
                }
            default:
                return
            }
        }
    }
}
