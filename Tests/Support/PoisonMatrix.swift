import Foundation
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import Testing

/// The three kinds of poison record every consumer is tried with (issue 11,
/// docs/consumers.md "The poison-record matrix").
public enum PoisonClass: String, Sendable, CaseIterable {
    case nul = "NUL in a string"
    case uniqueClash = "unique-key clash"
    case outOfRange = "value out of range"
}

/// What a consumer does with a cell's poison record.
public enum PoisonOutcome: Sendable {
    /// Parked with `reason`, its stored error containing `error`; then `replay`.
    case parked(ParkReason, error: String, replay: ReplayExpectation)
    /// Handled correctly, never parked (the class cannot make this consumer
    /// fail: the table in docs/consumers.md says why); its effect shows once.
    case handled

    public enum ReplayExpectation: Sendable {
        /// After the cell's `removeCause`, a replay handles it (its effect
        /// shows once) and a second replay is refused.
        case afterFix
        /// The cause is the record itself (no fix a test could deploy makes
        /// it valid): a replay fails again (`replay_failed`: still parked,
        /// attempts + 1) and a discard gives it up for good.
        case refused
    }
}

/// One record sent by a cell: a CloudEvent and its key. The matrix chooses
/// the partition.
public struct PoisonRecord: Sendable {
    public var event: CloudEvent
    public var key: String

    public init(_ event: CloudEvent, key: String) {
        self.event = event
        self.key = key
    }
}

/// One cell of the matrix: a consumer, a class, the poison record, the
/// valid records sent after it, how their handling and the poison's effect
/// are seen through the service's output, and how its cause is removed.
public struct PoisonCell<App: Sendable>: Sendable, CustomTestStringConvertible {
    public var consumer: String
    public var kind: PoisonClass
    public var outcome: PoisonOutcome
    /// The topic the consumer reads (two partitions or more).
    public var topic: @Sendable (App) -> String
    /// Whatever the poison needs first (e.g. the row it clashes with).
    public var prepare: @Sendable (App) async throws -> Void
    /// The poison record (sent on partition 0).
    public var poison: @Sendable (App) async throws -> PoisonRecord
    /// Two valid records sent after it: the first on the poison's partition, the second on another.
    public var later: @Sendable (App) async throws -> [PoisonRecord]
    /// Whether both later records were handled, seen through the service's output.
    public var laterHandled: @Sendable (App) async throws -> Bool
    /// Removes what made the poison fail (for `.parked(…, replay: .afterFix)`).
    public var removeCause: @Sendable (App) async throws -> Void
    /// How many times the poison's effect shows in the service's output.
    public var effects: @Sendable (App) async throws -> Int

    public init(
        _ consumer: String, _ kind: PoisonClass, _ outcome: PoisonOutcome, topic: @escaping @Sendable (App) -> String,
        prepare: @escaping @Sendable (App) async throws -> Void = { _ in },
        poison: @escaping @Sendable (App) async throws -> PoisonRecord,
        later: @escaping @Sendable (App) async throws -> [PoisonRecord],
        laterHandled: @escaping @Sendable (App) async throws -> Bool,
        removeCause: @escaping @Sendable (App) async throws -> Void = { _ in },
        effects: @escaping @Sendable (App) async throws -> Int
    ) {
        self.consumer = consumer
        self.kind = kind
        self.outcome = outcome
        self.topic = topic
        self.prepare = prepare
        self.poison = poison
        self.later = later
        self.laterHandled = laterHandled
        self.removeCause = removeCause
        self.effects = effects
    }

    public var testDescription: String { "\(consumer) × \(kind.rawValue)" }
}

/// Runs cells against one running service (shared by the cells of a suite):
/// sends each cell's poison on partition 0, a valid record after it on
/// partition 0 and another on partition 1, and checks the outcome with a
/// ``ParkingProbe`` (dead letter, metric, error log line) and the
/// consumer's own replay (what `POST /admin/dead-letters/{id}/replay` runs).
public struct PoisonMatrix<App: Sendable>: Sendable {
    public let app: App
    public let pool: PostgresPool
    public let schema: String
    public let log: LogCapture
    public let producer: KafkaProducer
    public let consumers: [EventConsumer]

    public init(app: App, pool: PostgresPool, schema: String, log: LogCapture, producer: KafkaProducer,
                consumers: [EventConsumer]) {
        self.app = app
        self.pool = pool
        self.schema = schema
        self.log = log
        self.producer = producer
        self.consumers = consumers
    }

    /// Checks one cell; every expectation names the cell.
    public func check(_ cell: PoisonCell<App>) async throws {
        let name = cell.testDescription
        let probe = ParkingProbe(pool: pool, schema: schema, consumer: cell.consumer, log: log)
        let topic = cell.topic(app)
        try await cell.prepare(app)
        let poison = try await cell.poison(app)
        let later = try await cell.later(app)
        try #require(later.count == 2, "\(name): one later record on the poison's partition, one on another")
        try await send(poison, topic: topic, partition: 0)
        try await send(later[0], topic: topic, partition: 0)
        try await send(later[1], topic: topic, partition: 1)
        #expect(try await eventually { try await cell.laterHandled(app) },
                "\(name): the later records on the same and on another partition were handled")

        switch cell.outcome {
        case .handled:
            // The poison came before the later record of its partition: handled by now, or parked.
            #expect(try await probe.letters().allSatisfy { $0.eventID != poison.event.id }, "\(name): not parked")
            #expect(try await eventually { try await cell.effects(app) == 1 }, "\(name): handled, its effect once")
        case .parked(let reason, let error, let replay):
            let letter = try #require(try await probe.waitForParked(event: poison.event.id), "\(name): parked")
            #expect(letter.reason == reason, "\(name): reason \(letter.reason)")
            // Deterministic failures never wait for the retry budget (10 attempts or 5 minutes).
            #expect(letter.attempts == 1, "\(name): parked at its first failure, not retried (\(letter.attempts) attempts)")
            #expect(letter.error.contains(error), "\(name): error \(letter.error)")
            #expect(letter.topic == topic && letter.value == poison.event.data, "\(name): the record as received")
            #expect(letter.partition == 0, "\(name): parked on the partition that went on")
            #expect(probe.counted >= 1, "\(name): counted in muster_events_parked_total")
            #expect(probe.reported(letter), "\(name): logged at error level")
            #expect(try await cell.effects(app) == 0, "\(name): nothing of the poison was applied")
            let consumer = try #require(consumers.first { $0.names.contains(cell.consumer) }, "\(name): consumer")
            switch replay {
            case .afterFix:
                try await cell.removeCause(app)
                #expect(try await consumer.replay(deadLetter: letter.id) == .replayed, "\(name): replayed after the fix")
                #expect(try await eventually { try await cell.effects(app) == 1 }, "\(name): the replay's effect shows")
                #expect(try await consumer.replay(deadLetter: letter.id) == .notFound,
                        "\(name): a second replay is refused (409 already_replayed over HTTP)")
                #expect(try await find(letter.id)?.status == .replayed, "\(name): marked replayed")
                #expect(try await cell.effects(app) == 1, "\(name): handled once")
            case .refused:
                let result = try await consumer.replay(deadLetter: letter.id)
                guard case .failed = result else {
                    Issue.record("\(name): a replay of a record whose cause is itself must fail, got \(result)")
                    return
                }
                let after = try await find(letter.id)
                #expect(after?.status == .parked && after?.attempts == letter.attempts + 1,
                        "\(name): still parked, one more attempt (409 replay_failed over HTTP)")
                #expect(try await pool.withConnection { try await DeadLetters(schema: schema).discard(id: letter.id, on: $0) },
                        "\(name): discarded")
                #expect(try await consumer.replay(deadLetter: letter.id) == .notFound, "\(name): a discarded record is never replayed")
                #expect(try await cell.effects(app) == 0, "\(name): never applied")
            }
        }
    }

    private func send(_ record: PoisonRecord, topic: String, partition: Int32) async throws {
        var outgoing = record.event.kafkaRecord(topic: topic, key: record.key)
        outgoing.partition = partition
        _ = try await producer.send(outgoing)
    }

    private func find(_ id: Int64) async throws -> DeadLetter? {
        let schema = self.schema
        return try await pool.withConnection { try await DeadLetters(schema: schema).find(id: id, on: $0) }
    }
}

extension ParkingProbe {
    /// Polls until the record of event `id` is parked by this consumer (bounded); nil if it never is.
    public func waitForParked(event id: UUID, timeout: Duration = TestEnvironment.patience) async throws -> DeadLetter? {
        _ = try await eventually(timeout: timeout) { try await letters().contains { $0.eventID == id } }
        return try await letters().first { $0.eventID == id }
    }
}
