import Foundation
import Logging
import MusterDomain
import MusterEvents
import Metrics
import MusterKafka
import MusterPostgres
import ServiceLifecycle
import Synchronization
import Tracing

/// Publishes a schema's outbox rows to Kafka in `seq` order and marks them
/// published, a batch at a time, without holding a transaction open while
/// the broker acknowledges.
///
/// - Order per key: one relay at a time holds the schema's (session-level)
///   advisory lock for a batch, so several relays (one per service instance) are safe and never
///   interleave; rows are enqueued to the idempotent producer in `seq` order.
/// - Outages: a batch that cannot be published is not marked,
///   and the relay retries with backoff until the broker is back.
/// - A crash between publishing and marking republishes the batch; consumers'
///   inboxes drop the duplicates (at-least-once + dedupe = exactly-once effect).
public final class OutboxRelay: Service, Sendable {
    /// Tuning knobs with defaults suited to production.
    public struct Configuration: Sendable {
        /// Rows published per batch.
        public var batchSize: Int = 500
        /// How long to sleep when the outbox is empty and nobody called `wake()`:
        /// a safety net only (rows left by a crashed instance), since every
        /// commit in the process wakes the relay, and a pass that found rows
        /// while another relay held the lock looks again after `lockRetry`.
        /// An idle pass is one statement (is anything unpublished?).
        public var idleInterval: Duration = .seconds(5)
        /// How soon to look again when rows were waiting but another relay
        /// (another instance of the service) held the schema's lock.
        public var lockRetry: Duration = .milliseconds(250)
        /// Backoff after a failed batch (broker or database down).
        public var retry = Backoff(base: .milliseconds(100), cap: .seconds(10))
        /// Creates the defaults.
        public init() {}
    }

    private let pool: PostgresPool
    private let producer: KafkaProducer
    private let schema: String
    private let configuration: Configuration
    private let logger: Logger
    private let loop: WorkLoop
    private let published: Counter
    private let failures: Counter
    /// Test seam: runs after a batch was acknowledged by the broker and before
    /// it is marked; throwing there simulates a crash at that line.
    private let afterPublish: (@Sendable ([UUID]) async throws -> Void)?

    /// A relay for the outbox of `schema`.
    public init(
        schema: String, pool: PostgresPool, producer: KafkaProducer, logger: Logger,
        configuration: Configuration = .init(),
        afterPublish: (@Sendable ([UUID]) async throws -> Void)? = nil
    ) {
        self.schema = MessagingSchema.checked(schema)
        self.pool = pool
        self.producer = producer
        self.configuration = configuration
        self.logger = logger
        self.afterPublish = afterPublish
        loop = WorkLoop(
            name: "outbox relay", timing: LoopTiming(idle: configuration.idleInterval, retry: configuration.retry),
            logger: logger)
        published = Counter(label: "muster_outbox_published_total", dimensions: [("schema", schema)])
        failures = Counter(label: "muster_outbox_publish_failures_total", dimensions: [("schema", schema)])
    }

    /// Asks the relay to look at the outbox now (call after committing rows).
    public func wake() {
        loop.wake()
    }

    /// Publishes until graceful shutdown or cancellation (a `WorkLoop`). A
    /// pass in hand is interrupted at once (DESIGN §12, prompt shutdown): the
    /// wait for the broker's acknowledgements ends, its rows stay unmarked and
    /// are published again by the next relay (consumers' inboxes drop the
    /// duplicates), and the advisory lock is released. A failed batch is
    /// retried with back-off.
    public func run() async throws {
        let batchSize = configuration.batchSize
        let pass = CurrentPass()
        let loop = self.loop
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await loop.run {
                let current = Task { try await publishPass() }
                pass.task.withLock { $0 = current }
                if loop.isStopped { current.cancel() }  // a shutdown between the loop's check and the store
                do {
                    let outcome = try await current.value
                    if outcome.published >= batchSize { return .immediately }
                    return outcome.lockBusy ? .after(configuration.lockRetry) : .idle
                } catch is CancellationError where loop.isStopped {
                    logger.info("outbox pass interrupted by shutdown; its rows are published again later",
                                metadata: ["schema": "\(schema)"])
                    return .idle
                } catch {
                    failures.increment()
                    throw error
                }
            }
        } onCancelOrGracefulShutdown: {
            loop.stop()
            pass.task.withLock { $0?.cancel() }
        }
        logger.debug("outbox relay stopped", metadata: ["schema": "\(schema)"])
    }

    /// Publishes one batch; returns how many rows it published (0 when the
    /// outbox is empty or another relay holds the lock).
    @discardableResult
    public func publishBatch() async throws -> Int {
        try await publishPass().published
    }

    /// One pass: what it published, and whether rows were waiting while another relay held the lock.
    private func publishPass() async throws -> (published: Int, lockBusy: Bool) {
        let schema = self.schema
        let limit = configuration.batchSize
        let producer = self.producer
        let afterPublish = self.afterPublish
        // One relay at a time per schema holds a session-level advisory lock
        // for the batch; reads and the final mark are single statements, so
        // no transaction (nor its snapshot and row locks) stays open while
        // the broker acknowledges. A crash releases the lock with the session.
        let outcome = try await pool.withConnection { connection -> (published: Int, lockBusy: Bool) in
            // One statement: no row when nothing is unpublished (the idle pass: no lock taken, since
            // PostgreSQL evaluates the WHERE before the lock call), else whether the lock was taken.
            let key = "muster.outbox.\(schema)"
            let lock = try await connection.query(
                """
                SELECT pg_try_advisory_lock(hashtext($1)) AS locked
                WHERE EXISTS (SELECT 1 FROM \(schema).outbox WHERE published_at IS NULL)
                """, [key])
            guard !lock.rows.isEmpty else { return (0, false) }
            guard try lock.rows[0].decode(Bool.self, "locked") else { return (0, true) }
            do {
                let count = try await Self.publish(
                    schema: schema, limit: limit, producer: producer, afterPublish: afterPublish, on: connection)
                _ = try await connection.query("SELECT pg_advisory_unlock(hashtext($1))", [key])
                return (count, false)
            } catch {
                // Not cancelled with the pass: a connection going back to the pool must not keep the lock.
                await Task { _ = try? await connection.query("SELECT pg_advisory_unlock(hashtext($1))", [key]) }.value
                throw error
            }
        }
        if outcome.published > 0 { published.increment(by: outcome.published) }
        return outcome
    }

    private static func publish(
        schema: String, limit: Int, producer: KafkaProducer, afterPublish: (@Sendable ([UUID]) async throws -> Void)?,
        on connection: PostgresConnection
    ) async throws -> Int {
        let result = try await connection.query(
            """
            SELECT seq, event_id, topic, key, type, source, subject, event_time, data, traceparent, tracestate
            FROM \(schema).outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1
            """, [limit])
        guard !result.rows.isEmpty else { return 0 }
        var sequences: [Int64] = []
        var ids: [UUID] = []
        var records: [KafkaOutgoingRecord] = []
        var spans: [any Span] = []
        for row in result.rows {
            var (seq, message) = try decodeRow(row)
            sequences.append(seq)
            ids.append(message.event.id)
            if let span = publishSpan(for: message) {
                // The record carries the publish span's position: the consumer's span is its child.
                var carrier: [String: String] = [:]
                InstrumentationSystem.instrument.inject(span.context, into: &carrier, using: DictionaryTraceCarrier())
                message.event.traceparent = carrier["traceparent"] ?? message.event.traceparent
                message.event.tracestate = carrier["traceparent"] != nil ? carrier["tracestate"] : message.event.tracestate
                spans.append(span)
            }
            records.append(message.event.kafkaRecord(topic: message.topic, key: message.key))
        }
        defer { for span in spans { span.end() } }
        do {
            _ = try await producer.sendBatch(records)
        } catch {
            for span in spans { span.recordError(error) }
            throw error
        }
        try await afterPublish?(ids)
        try await connection.query(
            "UPDATE \(schema).outbox SET published_at = now() WHERE seq = ANY(string_to_array($1, ',')::bigint[])",
            [sequences.map(String.init).joined(separator: ",")])
        return records.count
    }
}

/// A producer span for a row written inside a trace (rows written outside any trace get none).
private func publishSpan(for message: OutboxMessage) -> (any Span)? {
    guard let traceparent = message.event.traceparent else { return nil }
    var parent = ServiceContext.topLevel
    var carrier = ["traceparent": traceparent]
    carrier["tracestate"] = message.event.tracestate
    InstrumentationSystem.instrument.extract(carrier, into: &parent, using: DictionaryTraceCarrier())
    let span = startSpan("publish \(message.topic)", context: parent, ofKind: .producer)
    span.updateAttributes { attributes in
        attributes.set("messaging.system", value: .string("kafka"))
        attributes.set("messaging.operation.type", value: .string("publish"))
        attributes.set("messaging.destination.name", value: .string(message.topic))
        attributes.set("messaging.message.id", value: .string(message.event.id.uuidString.lowercased()))
        attributes.set("cloudevents.event_type", value: .string(message.event.type))
    }
    return span
}

/// The publish pass in hand, so shutdown can cancel it.
private final class CurrentPass: Sendable {
    let task = Mutex<Task<(published: Int, lockBusy: Bool), any Error>?>(nil)
}

extension OutboxRelay {
    static func decodeRow(_ row: PostgresRow) throws -> (Int64, OutboxMessage) {
        let event = CloudEvent(
            id: try row.decode(UUID.self, "event_id"),
            source: try row.decode(String.self, "source"),
            type: try row.decode(String.self, "type"),
            time: try row.decode(Date.self, "event_time"),
            subject: try row.decode(String?.self, "subject"),
            data: try row.decode([UInt8].self, "data"),
            traceparent: try row.decode(String?.self, "traceparent"),
            tracestate: try row.decode(String?.self, "tracestate"))
        let message = OutboxMessage(
            topic: try row.decode(String.self, "topic"), key: try row.decode(String.self, "key"), event: event)
        return (try row.decode(Int64.self, "seq"), message)
    }
}
