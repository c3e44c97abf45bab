import Logging
import MusterDomain
import MusterPostgres
import ServiceLifecycle

/// Keeps a service's messaging tables bounded: deletes published `outbox`
/// rows and `inbox` entries older than their retention, in small batches
/// (short transactions, no long locks), on an interval. Pending outbox rows
/// and parked `dead_letters` are never touched.
///
/// The inbox retention must exceed the longest time a record can be
/// redelivered (the topics' retention, or how long a consumer may be down):
/// after it, a redelivered event would be handled again.
public final class RetentionPruner: Service, Sendable {
    /// Retention windows and pacing.
    public struct Configuration: Sendable, Equatable {
        /// Published outbox rows older than this are deleted (default 1 day).
        public var outboxRetention: Duration = .seconds(86_400)
        /// Inbox entries older than this are deleted (default 7 days).
        public var inboxRetention: Duration = .seconds(7 * 86_400)
        /// Rows deleted per statement.
        public var batchSize = 1000
        /// Time between passes.
        public var interval: Duration = .seconds(600)
        /// Creates the defaults.
        public init() {}
    }

    private let schema: String
    private let pool: PostgresPool
    private let logger: Logger
    private let configuration: Configuration

    /// A pruner of `schema`'s outbox and inbox.
    public init(schema: String, pool: PostgresPool, logger: Logger, configuration: Configuration = .init()) {
        self.schema = MessagingSchema.checked(schema)
        self.pool = pool
        self.logger = logger
        self.configuration = configuration
    }

    /// Prunes until no old row is left (at most 1000 batches per table); returns the rows deleted.
    @discardableResult
    public func pruneOnce() async throws -> (outbox: Int, inbox: Int) {
        let outbox = try await prune(
            """
            DELETE FROM \(schema).outbox WHERE seq IN (
                SELECT seq FROM \(schema).outbox
                WHERE published_at IS NOT NULL AND published_at < now() - make_interval(secs => $1)
                LIMIT $2)
            """, retention: configuration.outboxRetention)
        let inbox = try await prune(
            """
            DELETE FROM \(schema).inbox WHERE (consumer, event_id) IN (
                SELECT consumer, event_id FROM \(schema).inbox
                WHERE handled_at < now() - make_interval(secs => $1)
                LIMIT $2)
            """, retention: configuration.inboxRetention)
        return (outbox, inbox)
    }

    private func prune(_ sql: String, retention: Duration) async throws -> Int {
        let seconds = retention.seconds
        var total = 0
        for _ in 0..<1000 {
            let deleted = try await pool.query(sql, [seconds, configuration.batchSize]).affectedRows
            total += deleted
            if deleted < configuration.batchSize { break }
        }
        return total
    }

    /// Prunes every `interval` until graceful shutdown, which ends the wait at once;
    /// a failed pass is tried again after a back-off of at most `interval`.
    public func run() async throws {
        let interval = configuration.interval
        let loop = WorkLoop(
            name: "retention pruner",
            timing: LoopTiming(idle: interval, retry: Backoff(base: min(.seconds(1), interval), cap: interval)),
            logger: logger)
        try await loop.run {
            let (outbox, inbox) = try await pruneOnce()
            if outbox + inbox > 0 {
                logger.info("pruned messaging tables", metadata: [
                    "schema": "\(schema)", "outbox": "\(outbox)", "inbox": "\(inbox)",
                ])
            }
            return .idle
        }
    }
}
