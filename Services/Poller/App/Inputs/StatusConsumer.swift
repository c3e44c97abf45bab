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
        // job.status.v1 carries events the planner is for (job.queued, job.launch-failed, ssm.automation-status,
        // this poller's own job.timed-out): they are skipped, not parked.
        var handlers = EventHandlers(unregistered: .skip)
        handlers.register(JobCreated.self) { created, input in
            let fresh = try await tracker.track(created, announcedAt: input.event.time, on: input.transaction)
            if !fresh { logger.debug("job already tracked", metadata: ["job": "\(created.jobID)"]) }
        }
        handlers.register(JobDuplicateDetected.self) { duplicate, input in
            let tracked = try await tracker.trackDuplicates(duplicate, on: input.transaction)
            logger.warning("tracking duplicate DRS jobs", metadata: [
                "job": "\(duplicate.jobID)", "duplicates": "\(duplicate.duplicateJobIDs)", "tracked": "\(tracked)"])
        }
        handlers.register(JobObserved.self) { observed, input in
            let outcome = try await tracker.observe(observed, on: input.transaction)
            metrics.observation(outcome.rawValue)
            if outcome == .timedOut {
                logger.notice("job timed out", metadata: ["job": "\(observed.jobID)", "status": "\(observed.status)"])
            }
        }
        return EventConsumer(
            name: tracker.configuration.consumerName, schema: tracker.configuration.schema, consumer: consumer,
            pool: pool, logger: logger, configuration: configuration, onOutcome: onOutcome, handler: handlers.handler)
    }
}
