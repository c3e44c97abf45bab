import Foundation
import Logging
import Metrics
import MusterEvents
import MusterKafka
import MusterPostgres
import ServiceLifecycle
import Synchronization

/// Thrown by a handler when an event is well-formed CloudEvents but its
/// content can never be handled (unknown type, invalid payload): the record
/// is logged, counted and skipped instead of retried forever.
public struct UnprocessableEvent: Error, CustomStringConvertible {
    /// Why the event cannot be handled.
    public var reason: String
    /// Creates the error.
    public init(_ reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { reason }
}

/// What a consumer does with one event, inside the transaction that also
/// records the event in the inbox. Throwing rolls both back.
public typealias EventHandler = @Sendable (_ event: CloudEvent, _ record: KafkaRecord, _ transaction: PostgresConnection)
    async throws -> Void

/// How one record ended, for metrics and tests.
public enum ConsumeOutcome: String, Sendable {
    /// The handler ran and its transaction committed.
    case handled
    /// The inbox already held the event id: skipped.
    case duplicate
    /// Not a CloudEvent, or `UnprocessableEvent`: logged, counted, skipped.
    case malformed
}

/// The one consumer loop of every service: read a record, handle it in a
/// transaction that claims its `ce_id` in the inbox, commit the offset after
/// that transaction commits (at-least-once delivery, effectively-once effect).
///
/// A handler failure other than `UnprocessableEvent` (database down, …)
/// rolls back and retries the same record with backoff, never skipping it.
/// On graceful shutdown it stops reading, finishes the record in hand,
/// and closes the consumer.
public final class EventConsumer: Service, Sendable {
    /// Tuning knobs.
    public struct Configuration: Sendable {
        /// Backoff between attempts at a record whose handler failed.
        public var retry = Backoff(base: .milliseconds(200), cap: .seconds(30))
        /// Creates the defaults.
        public init() {}
    }

    /// The inbox consumer name (stable across restarts; one per purpose).
    public let name: String
    private let consumer: KafkaConsumer
    private let pool: PostgresPool
    private let inbox: Inbox
    private let handler: EventHandler
    private let configuration: Configuration
    private let logger: Logger
    private let onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)?

    /// A consumer loop named `name` (the inbox key) over `consumer`, storing
    /// its inbox in `schema`. `onOutcome` observes each finished record.
    public init(
        name: String, schema: String, consumer: KafkaConsumer, pool: PostgresPool, logger: Logger,
        configuration: Configuration = .init(),
        onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)? = nil,
        handler: @escaping EventHandler
    ) {
        self.name = name
        self.consumer = consumer
        self.pool = pool
        self.inbox = Inbox(schema: schema)
        self.handler = handler
        self.configuration = configuration
        self.logger = logger
        self.onOutcome = onOutcome
    }

    /// Consumes until graceful shutdown or cancellation, then closes the consumer.
    public func run() async throws {
        let stop = StopFlag()
        let inHand = Atomic<Bool>(false)
        // The reading task is cancelled only while idle in `next()`; a record
        // in hand is always finished (its handler and offset commit).
        let reader = Task {
            var iterator = consumer.records.makeAsyncIterator()
            while !stop.isSet, let record = try await iterator.next() {
                inHand.store(true, ordering: .sequentiallyConsistent)
                defer { inHand.store(false, ordering: .sequentiallyConsistent) }
                if stop.isSet { break }
                await process(record, stop: stop)
            }
        }
        await withTaskCancellationOrGracefulShutdownHandler {
            do {
                try await reader.value
            } catch is CancellationError {
            } catch {
                logger.error("consumer stopped on an error", metadata: ["consumer": "\(name)", "error": "\(error)"])
            }
        } onCancelOrGracefulShutdown: {
            stop.set()
            if !inHand.load(ordering: .sequentiallyConsistent) { reader.cancel() }
        }
        await consumer.close()
        logger.debug("consumer stopped", metadata: ["consumer": "\(name)"])
    }

    private func process(_ record: KafkaRecord, stop: StopFlag) async {
        let event: CloudEvent
        do {
            event = try CloudEvent(record: record)
        } catch {
            await skip(record, event: nil, reason: "\(error)")
            return
        }
        var attempt = 0
        while true {
            do {
                let outcome = try await handleOnce(event, record: record)
                await commit(record)
                finish(outcome, event)
                return
            } catch let error as UnprocessableEvent {
                await skip(record, event: event, reason: error.reason)
                return
            } catch let error as CloudEventError {
                await skip(record, event: event, reason: "\(error)")
                return
            } catch {
                Counter(label: "muster_events_handler_failures_total", dimensions: [("consumer", name)]).increment()
                let delay = configuration.retry.delay(attempt: attempt)
                attempt += 1
                logger.warning("event handling failed; will retry the same record", metadata: [
                    "consumer": "\(name)", "ce_id": "\(event.id)", "ce_type": "\(event.type)",
                    "partition": "\(record.partition)", "offset": "\(record.offset)",
                    "attempt": "\(attempt)", "error": "\(error)",
                ])
                // On shutdown, leave the record uncommitted: it is redelivered.
                if stop.isSet { return }
                try? await Task.sleep(for: delay)
                if stop.isSet { return }
            }
        }
    }

    private func handleOnce(_ event: CloudEvent, record: KafkaRecord) async throws -> ConsumeOutcome {
        let inbox = self.inbox, name = self.name, handler = self.handler
        return try await pool.transaction { transaction in
            let fresh = try await inbox.claim(
                consumer: name, eventID: event.id, topic: record.topic, partition: record.partition,
                offset: record.offset, on: transaction)
            guard fresh else { return .duplicate }
            try await handler(event, record, transaction)
            return .handled
        }
    }

    private func skip(_ record: KafkaRecord, event: CloudEvent?, reason: String) async {
        logger.error("skipping malformed event", metadata: [
            "consumer": "\(name)", "topic": "\(record.topic)", "partition": "\(record.partition)",
            "offset": "\(record.offset)", "reason": "\(reason)",
        ])
        await commit(record)
        finish(.malformed, event)
    }

    private func commit(_ record: KafkaRecord) async {
        // A failed commit only means a redelivery later, which the inbox absorbs.
        do {
            try await consumer.commit(record)
        } catch {
            logger.warning("offset commit failed; the record may be redelivered and deduplicated", metadata: [
                "consumer": "\(name)", "partition": "\(record.partition)", "offset": "\(record.offset)",
                "error": "\(error)",
            ])
        }
    }

    private func finish(_ outcome: ConsumeOutcome, _ event: CloudEvent?) {
        Counter(label: "muster_events_consumed_total", dimensions: [
            ("consumer", name), ("outcome", outcome.rawValue), ("type", event?.type ?? "unknown"),
        ]).increment()
        onOutcome?(outcome, event)
    }
}
