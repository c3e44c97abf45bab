import Foundation
import Logging
import Metrics
import MetricsTestKit
import MusterMessaging
import MusterPostgres
import Synchronization

/// What every consumer's poison-record test checks (issue 11, DESIGN §12),
/// in one place: the record is parked in the service's `dead_letters`,
/// counted in `muster_events_parked_total{consumer, reason}`, reported by
/// the consumer's error log line, and — checked by the test itself through
/// the service's own outputs — the consumer goes on with the next record on
/// the same partition.
///
/// Make the probe before the poison record is sent; give the consumer
/// `probe.logger` (or any logger from a ``LogCapture`` the probe reads).
public struct ParkingProbe: Sendable {
    public let pool: PostgresPool
    public let schema: String
    public let consumer: String
    public let log: LogCapture
    private let countedBefore: Int64

    /// A probe of consumer `consumer` whose dead letters live in `schema`.
    public init(pool: PostgresPool, schema: String, consumer: String, log: LogCapture = LogCapture()) {
        self.pool = pool
        self.schema = schema
        self.consumer = consumer
        self.log = log
        countedBefore = Self.parkedTotal(consumer: consumer)
    }

    /// A logger that goes to the test log and into ``log``.
    public var logger: Logger { log.logger }

    /// The consumer's parked (not replayed) records, newest first.
    public func letters() async throws -> [DeadLetter] {
        let schema = self.schema, consumer = self.consumer
        return try await pool.withConnection { try await DeadLetters(schema: schema).list(consumer: consumer, on: $0) }
    }

    /// Polls until at least `count` records of the consumer are parked (bounded); returns them.
    public func waitForParked(_ count: Int, timeout: Duration = TestEnvironment.patience) async throws -> [DeadLetter] {
        _ = try await eventually(timeout: timeout) { try await letters().count >= count }
        return try await letters()
    }

    /// Parks of this consumer counted by `muster_events_parked_total` since
    /// the probe was made (other tests running at the same time with the same
    /// consumer name can only add to it).
    public var counted: Int64 { Self.parkedTotal(consumer: consumer) - countedBefore }

    /// Whether the consumer logged the park of event `id` at error level.
    public func reported(_ letter: DeadLetter) -> Bool {
        log.entries.contains { entry in
            entry.level == .error && entry.message.hasPrefix("parked a record")
                && entry.metadata["consumer"] == consumer
                && entry.metadata["offset"] == "\(letter.offset)" && entry.metadata["partition"] == "\(letter.partition)"
        }
    }

    /// The process-wide test metrics backend (bootstrapped on first use; no
    /// test bootstraps another one).
    public static let metrics: TestMetrics = {
        let metrics = TestMetrics()
        MetricsSystem.bootstrap(metrics)
        return metrics
    }()

    static func parkedTotal(consumer: String) -> Int64 {
        metrics.counters(label: "muster_events_parked_total", dimensions: [("consumer", consumer)])
            .map(\.totalValue).reduce(0, +)
    }
}

/// Keeps what a logger was told, for tests that check a line was (or a
/// secret never was) written; lines also go to standard error at
/// ``TestEnvironment/logger``'s level.
public final class LogCapture: Sendable {
    public struct Entry: Sendable {
        public var level: Logger.Level
        public var message: String
        public var metadata: [String: String]
        public var error: String?

        /// One line: level, message, error and sorted metadata.
        public var line: String {
            "\(level) \(message)\(error.map { " error=\($0)" } ?? "") "
                + metadata.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        }
    }

    private let stored = Mutex<[Entry]>([])
    private let level: Logger.Level

    /// Keeps lines at `level` and above.
    public init(level: Logger.Level = .info) { self.level = level }

    /// Everything logged so far.
    public var entries: [Entry] { stored.withLock { $0 } }

    /// Everything logged so far, one line each.
    public var text: String { entries.map(\.line).joined(separator: "\n") }

    /// A logger writing here and to standard error.
    public var logger: Logger {
        let echo = TestEnvironment.logger.logLevel, level = self.level
        return Logger(label: "test") { label in
            var stream = StreamLogHandler.standardError(label: label)
            stream.logLevel = echo
            return MultiplexLogHandler([CaptureHandler(capture: self, logLevel: level), stream])
        }
    }

    fileprivate func append(_ entry: Entry) { stored.withLock { $0.append(entry) } }

    private struct CaptureHandler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level
        var metadata: Logger.Metadata = [:]

        init(capture: LogCapture, logLevel: Logger.Level) {
            self.capture = capture
            self.logLevel = logLevel
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata.mapValues { "\($0)" }
            for (key, value) in event.metadata ?? [:] { all[key] = "\(value)" }
            capture.append(Entry(level: event.level, message: "\(event.message)", metadata: all,
                                 error: event.error.map { "\($0)" }))
        }
    }
}

extension Array where Element == ConsumeOutcome {
    /// The outcomes without `.duplicate`: one per record, however often the
    /// broker delivered it. A loaded machine (CI) can rebalance a group
    /// mid-test, and the record in flight is then delivered again; the inbox
    /// (or the dead letter's key) makes that copy a `.duplicate`, which a test
    /// that counts records must not count.
    public var firstDeliveries: [ConsumeOutcome] { filter { $0 != .duplicate } }
}
