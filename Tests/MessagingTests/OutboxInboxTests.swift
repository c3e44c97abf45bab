import Foundation
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import Synchronization
import TestSupport
import Testing

/// Outbox, relay, inbox and the consumer loop against the real PostgreSQL
/// and broker.
@Suite("Outbox and inbox", .serialized)
struct OutboxInboxTests {
    struct Rollback: Error {}
    struct Flaky: Error {}

    /// A schema with the messaging tables and a `handled` table the test
    /// handlers write to, and a fresh topic.
    struct Fixture {
        let schema: String
        let topic: String
        let pool: PostgresPool
        let producer: KafkaProducer

        init() async throws {
            schema = TestEnvironment.uniqueName("msg")
            pool = try TestEnvironment.pool(size: 6)
            try await Migrator.migrate(
                schema: schema,
                migrations: MessagingSchema.migrations(schema: schema) + [
                    Migration(version: 100, name: "handled", sql: """
                        CREATE TABLE \(schema).handled (event_id UUID NOT NULL, type TEXT NOT NULL)
                        """)
                ],
                pool: pool, logger: TestEnvironment.logger)
            topic = try await TestEnvironment.makeTopic("events", partitions: 3)
            producer = try KafkaProducer(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        }

        func message(_ type: String, key: String = "exec-1") -> OutboxMessage {
            OutboxMessage(
                topic: topic, key: key,
                event: CloudEvent(source: "/muster/test", type: type, subject: key, data: Array(#"{"n":1}"#.utf8)))
        }

        func relay(afterPublish: (@Sendable ([UUID]) async throws -> Void)? = nil) -> OutboxRelay {
            OutboxRelay(schema: schema, pool: pool, producer: producer, logger: TestEnvironment.logger,
                        afterPublish: afterPublish)
        }

        func consumer(group: String, outcomes: Locked<[ConsumeOutcome]>, handler: EventHandler? = nil) throws
            -> EventConsumer
        {
            let schema = self.schema
            let kafka = try KafkaConsumer(
                configuration: try TestEnvironment.kafka(), groupID: group, topics: [topic],
                logger: TestEnvironment.logger)
            var configuration = EventConsumer.Configuration()
            configuration.retry = Backoff(base: .milliseconds(10), cap: .milliseconds(50))
            return EventConsumer(
                name: "test", schema: schema, consumer: kafka, pool: pool, logger: TestEnvironment.logger,
                configuration: configuration, onOutcome: { outcome, _ in outcomes.withLock { $0.append(outcome) } },
                handler: handler ?? { event, _, transaction in
                    try await transaction.query(
                        "INSERT INTO \(schema).handled (event_id, type) VALUES ($1, $2)", [event.id, event.type])
                })
        }

        func handledCount() async throws -> Int {
            try await pool.query("SELECT count(*) AS n FROM \(schema).handled").rows[0].decode(Int.self, "n")
        }

        func tearDown() async {
            await producer.shutdown(timeout: .seconds(5))
            _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
            await pool.close()
        }
    }

    @Test func rolledBackOutboxRowsAreNeverPublished() async throws {
        let fixture = try await Fixture()
        let outbox = Outbox(schema: fixture.schema)
        let ghost = fixture.message("ghost")
        await #expect(throws: Rollback.self) {
            try await fixture.pool.transaction { connection in
                try await outbox.enqueue(ghost, on: connection)
                throw Rollback()
            }
        }
        let real = fixture.message("real")
        try await fixture.pool.transaction { try await outbox.enqueue(real, on: $0) }

        #expect(try await fixture.relay().publishBatch() == 1)
        let records = try await KafkaTestReader.collect(topic: fixture.topic, count: 1, thenWait: .milliseconds(500))
        #expect(records.map { $0.header("ce_type") } == ["real"])
        #expect(records.first?.header("ce_id") == real.event.id.uuidString.lowercased())
        #expect(try await fixture.pool.withConnection { try await outbox.pendingCount(on: $0) } == 0)
        await fixture.tearDown()
    }

    @Test func relayPublishesInOrderPerKeyAndMarksRows() async throws {
        let fixture = try await Fixture()
        let outbox = Outbox(schema: fixture.schema)
        let messages = (0..<30).map { fixture.message("n\($0)", key: "exec-\($0 % 3)") }
        try await fixture.pool.transaction { try await outbox.enqueue(messages, on: $0) }

        let relay = fixture.relay()
        let running = Task { try await relay.run() }
        let records = try await KafkaTestReader.collect(topic: fixture.topic, count: 30)
        running.cancel()
        try await running.value

        #expect(records.count == 30)
        for key in ["exec-0", "exec-1", "exec-2"] {
            let sent = messages.filter { $0.key == key }.map(\.event.type)
            let received = records.filter { $0.key == Array(key.utf8) }.map { $0.header("ce_type") ?? "" }
            #expect(received == sent, "records of \(key) arrive in outbox order")
        }
        #expect(try await fixture.pool.withConnection { try await outbox.pendingCount(on: $0) } == 0)
        await fixture.tearDown()
    }

    @Test func relayKilledBetweenPublishAndMarkStillYieldsExactlyOneHandling() async throws {
        let fixture = try await Fixture()
        let outbox = Outbox(schema: fixture.schema)
        let message = fixture.message("job.created")
        try await fixture.pool.transaction { try await outbox.enqueue(message, on: $0) }

        // The first relay "dies" after the broker acknowledged, before marking.
        let crashed = fixture.relay(afterPublish: { _ in throw Rollback() })
        await #expect(throws: Rollback.self) { try await crashed.publishBatch() }
        #expect(try await fixture.pool.withConnection { try await outbox.pendingCount(on: $0) } == 1)
        // Its successor publishes the same row again and marks it.
        #expect(try await fixture.relay().publishBatch() == 1)

        let outcomes = Locked<[ConsumeOutcome]>([])
        let consumer = try fixture.consumer(group: TestEnvironment.uniqueName("g"), outcomes: outcomes)
        let running = Task { try await consumer.run() }
        let sawBoth = await eventually { outcomes.withLock { $0.contains(.handled) && $0.contains(.duplicate) } }
        running.cancel()
        try await running.value

        #expect(sawBoth, "both copies reached the consumer")
        #expect(outcomes.withLock { $0.firstDeliveries } == [.handled])
        #expect(try await fixture.handledCount() == 1)
        await fixture.tearDown()
    }

    @Test func failingHandlerRetriesTheSameRecordAndRestartRedelivers() async throws {
        let fixture = try await Fixture()
        let outbox = Outbox(schema: fixture.schema)
        try await fixture.pool.transaction { try await outbox.enqueue(fixture.message("flaky"), on: $0) }
        try await fixture.relay().publishBatch()
        let group = TestEnvironment.uniqueName("g")

        // A consumer whose handler always fails is stopped: nothing committed.
        let attempts = Atomic<Int>(0)
        let failingOutcomes = Locked<[ConsumeOutcome]>([])
        let failing = try fixture.consumer(group: group, outcomes: failingOutcomes) { _, _, _ in
            attempts.add(1, ordering: .relaxed)
            throw Flaky()
        }
        let first = Task { try await failing.run() }
        #expect(await eventually { attempts.load(ordering: .relaxed) >= 3 }, "the record is retried in place")
        first.cancel()
        try await first.value
        #expect(failingOutcomes.withLock { $0.isEmpty })
        #expect(try await fixture.handledCount() == 0)

        // A restarted member of the same group gets the record again.
        let outcomes = Locked<[ConsumeOutcome]>([])
        let healthy = try fixture.consumer(group: group, outcomes: outcomes)
        let second = Task { try await healthy.run() }
        #expect(await eventually { outcomes.withLock { $0.firstDeliveries } == [.handled] })
        second.cancel()
        try await second.value
        #expect(try await fixture.handledCount() == 1)
        await fixture.tearDown()
    }

    @Test func malformedRecordsAreSkippedAndCountedWithoutStoppingTheConsumer() async throws {
        let fixture = try await Fixture()
        // Not a CloudEvent: no ce_* headers. Same key, so it precedes the good one.
        _ = try await fixture.producer.send(
            KafkaOutgoingRecord(topic: fixture.topic, key: Array("exec-1".utf8), value: Array("garbage".utf8)))
        let outbox = Outbox(schema: fixture.schema)
        try await fixture.pool.transaction { try await outbox.enqueue(fixture.message("good"), on: $0) }
        try await fixture.relay().publishBatch()

        let outcomes = Locked<[ConsumeOutcome]>([])
        let consumer = try fixture.consumer(group: TestEnvironment.uniqueName("g"), outcomes: outcomes)
        let running = Task { try await consumer.run() }
        #expect(await eventually { outcomes.withLock { $0.firstDeliveries.count } >= 2 })
        running.cancel()
        try await running.value
        #expect(outcomes.withLock { $0.firstDeliveries } == [.malformed, .handled])
        #expect(try await fixture.handledCount() == 1)
        await fixture.tearDown()
    }

    @Test("Shutdown interrupts a relay pass waiting on an unreachable broker: rows stay unpublished, the lock is released")
    func shutdownInterruptsThePublishPass() async throws {
        let fixture = try await Fixture()
        let outbox = Outbox(schema: fixture.schema)
        try await fixture.pool.transaction { try await outbox.enqueue([fixture.message("a"), fixture.message("b")], on: $0) }
        // Nothing listens on port 1: the batch waits for acknowledgements until librdkafka's message timeout.
        let unreachable = try KafkaProducer(
            configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), logger: TestEnvironment.logger)
        let relay = OutboxRelay(schema: fixture.schema, pool: fixture.pool, producer: unreachable,
                                logger: TestEnvironment.logger)
        let running = Task { try await relay.run() }
        #expect(await eventually { unreachable.pendingDeliveries == 2 }, "the pass is waiting on the broker")
        let stopping = ContinuousClock.now
        running.cancel()
        try await running.value
        print("[figure] relay pass interrupted by shutdown in \(ContinuousClock.now - stopping)")
        let unpublished = try await fixture.pool.query(
            "SELECT count(*) AS n FROM \(fixture.schema).outbox WHERE published_at IS NULL").rows[0].decode(Int.self, "n")
        #expect(unpublished == 2, "nothing was marked: the next relay publishes both")
        let key = "muster.outbox.\(fixture.schema)"
        let other = try TestEnvironment.pool(size: 1)  // another session: advisory locks are re-entrant within one
        let free = try await other.query("SELECT pg_try_advisory_lock(hashtext($1)) AS locked", [key])
        #expect(try free.rows[0].decode(Bool.self, "locked"), "the interrupted pass released the schema's lock")
        await other.close()
        await unreachable.shutdown(timeout: .zero)
        await fixture.tearDown()
    }
}
