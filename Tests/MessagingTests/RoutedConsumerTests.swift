import Foundation
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import TestSupport
import Testing

/// One `EventConsumer` over one group member subscribed to several topics,
/// a route per topic (issue 18), against the real PostgreSQL and broker:
/// each topic's records reach its own handler under its own logical name
/// (inbox, dead letters, replay), and a record held in retry on one topic
/// holds up no other topic.
@Suite("Routed consumer: one member, several topics")
struct RoutedConsumerTests {
    struct Transient: Error {}
    struct Item: Codable { var name: String }

    @Test("each topic's records take their route and name; a retried record on one topic holds up no other; a parked record replays through its route; an unrouted topic parks under the loop's name")
    func routes() async throws {
        let schema = TestEnvironment.uniqueName("routed")
        let pool = try TestEnvironment.pool(size: 6)
        try await Migrator.migrate(
            schema: schema,
            migrations: MessagingSchema.migrations(schema: schema) + [
                Migration(version: 100, name: "seen", sql: "CREATE TABLE \(schema).seen (route TEXT NOT NULL, name TEXT NOT NULL)")
            ],
            pool: pool, logger: TestEnvironment.logger)
        let alpha = try await TestEnvironment.makeTopic("alpha", partitions: 1)
        let beta = try await TestEnvironment.makeTopic("beta", partitions: 1)
        let stray = try await TestEnvironment.makeTopic("stray", partitions: 1)
        let producer = try KafkaProducer(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
        let kafka = try KafkaConsumer(
            configuration: try TestEnvironment.kafka(), groupID: TestEnvironment.uniqueName("routed"),
            topics: [alpha, beta, stray], logger: TestEnvironment.logger)
        let alphaBlocked = Locked(true), betaBroken = Locked(true)
        let outcomes = Locked<[String]>([])
        func route(_ topic: String, _ name: String, failing: Locked<Bool>, error: @escaping @Sendable () -> any Error)
            -> EventConsumer.Route
        {
            EventConsumer.Route(
                topic: topic, name: name, onOutcome: { outcome, _ in outcomes.withLock { $0.append("\(name):\(outcome)") } },
                handler: { event, _, transaction in
                    let item = try event.decode(Item.self)
                    if item.name.hasPrefix("bad"), failing.withLock({ $0 }) { throw error() }
                    try await transaction.query("INSERT INTO \(schema).seen (route, name) VALUES ($1, $2)", [name, item.name])
                })
        }
        var configuration = EventConsumer.Configuration()
        configuration.retry = Backoff(base: .milliseconds(10), cap: .milliseconds(50))
        configuration.budget = RetryBudget(maxAttempts: 100_000, maxDuration: .seconds(600))
        let consumer = EventConsumer(
            name: "loop", schema: schema, consumer: kafka, pool: pool, logger: TestEnvironment.logger,
            configuration: configuration,
            routes: [
                route(alpha, "first", failing: alphaBlocked, error: { Transient() }),
                route(beta, "second", failing: betaBroken, error: { UnprocessableEvent("broken for now") }),
            ])
        #expect(consumer.names == ["first", "second"])
        func send(_ topic: String, _ name: String, id: UUID = UUID()) async throws {
            let event = try CloudEvent(id: id, source: "/muster/test", type: "item", payload: Item(name: name))
            _ = try await producer.send(event.kafkaRecord(topic: topic, key: "k"))
        }
        let betaBad = UUID(), strayID = UUID()
        try await send(alpha, "bad-a")  // retried until unblocked
        try await send(alpha, "a1")     // behind it on the same partition
        try await send(beta, "bad-b", id: betaBad)
        try await send(beta, "b1")
        try await send(stray, "s1", id: strayID)
        let running = Task { try await consumer.run() }
        func seen() async throws -> [String] {
            try await pool.query("SELECT route || ':' || name AS v FROM \(schema).seen ORDER BY 1").rows
                .map { try $0.decode(String.self, "v") }
        }
        // beta went on while alpha's first record was being retried.
        #expect(try await eventually { try await seen() == ["second:b1"] })
        let letters = try await pool.withConnection { try await DeadLetters(schema: schema).list(status: .parked, on: $0) }
        #expect(letters.first { $0.eventID == betaBad }?.consumer == "second", "parked under its route's name")
        #expect(try await eventually { try await pool.withConnection {
            try await DeadLetters(schema: schema).list(status: .parked, on: $0) }.contains { $0.topic == stray } })
        let strayLetter = try await pool.withConnection {
            try await DeadLetters(schema: schema).list(status: .parked, on: $0) }.first { $0.topic == stray }
        #expect(strayLetter?.consumer == "loop" && strayLetter?.reason == .malformed, "an unrouted topic parks under the loop's name")
        // alpha's lane is still held by its retried record.
        #expect(try await seen().allSatisfy { !$0.hasPrefix("first:") })
        alphaBlocked.withLock { $0 = false }
        #expect(try await eventually { try await seen() == ["first:a1", "first:bad-a", "second:b1"] })
        let inbox = try await pool.query("SELECT consumer, topic FROM \(schema).inbox ORDER BY 1, 2").rows
            .map { "\(try $0.decode(String.self, "consumer"))@\(try $0.decode(String.self, "topic"))" }
        #expect(Set(inbox) == ["first@\(alpha)", "second@\(beta)"], "inbox entries under each route's name")
        // Replay goes through the route named by the parked record.
        betaBroken.withLock { $0 = false }
        let parked = try #require(letters.first { $0.eventID == betaBad })
        #expect(try await consumer.replay(deadLetter: parked.id) == .replayed)
        #expect(try await seen().contains("second:bad-b"))
        #expect(outcomes.withLock { $0.contains("second:handled") && $0.contains("first:handled") })
        running.cancel()
        _ = try? await running.value
        await producer.shutdown(timeout: .seconds(5))
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }
}
