import Foundation
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres
import Testing

/// Issue 18: each service reads all its topics through one consumer-group
/// member, and each topic's records still reach the handler, inbox name,
/// dead letters and metrics of the logical consumer that owned the topic
/// before (e.g. `planner.inventory`). Sends one CloudEvent on every topic
/// through the real broker and reads, from the service's inbox, under which
/// consumer name and from which topic each was claimed (handled or parked:
/// both claim the event in the inbox, so a probe type a handler refuses
/// still shows where it was routed).
public struct SingleMemberProbe: Sendable {
    public let pool: PostgresPool
    public let schema: String
    public let producer: KafkaProducer

    public init(pool: PostgresPool, schema: String, producer: KafkaProducer) {
        self.pool = pool
        self.schema = schema
        self.producer = producer
    }

    /// Sends `events[topic]` (or a probe of type `type` when nil) on each topic and waits until
    /// every one is in the inbox; returns, per topic, the consumer name its event was claimed under
    /// and the topic the inbox recorded (nil: never consumed within the bound).
    public func send(
        _ topics: [String], key: String = "probe", type: String = "muster.test.routing-probe",
        events: [String: CloudEvent] = [:], timeout: Duration = TestEnvironment.patience
    ) async throws -> [String: (consumer: String, topic: String)?] {
        var sent: [String: UUID] = [:]
        for topic in topics {
            let event = try events[topic] ?? CloudEvent(source: "/test/single-member", type: type, payload: ["probe": topic])
            _ = try await producer.send(event.kafkaRecord(topic: topic, key: key))
            sent[topic] = event.id
        }
        let ids = Array(sent.values)
        _ = try await eventually(timeout: timeout) { try await claimed(ids).count == ids.count }
        let rows = try await claimed(ids)
        return sent.mapValues { rows[$0] }
    }

    /// Expects `consumers` to be one loop (one group member) whose logical names are `routes`'
    /// consumer names in order, then sends one record per route's topic and expects each to be
    /// claimed under its route's name.
    public func expectOneMember(
        _ consumers: [EventConsumer], routes: [(topic: String, consumer: String)], key: String = "probe",
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let names = routes.map(\.consumer).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        #expect(consumers.count == 1, "one consumer loop, one group member", sourceLocation: sourceLocation)
        #expect(consumers.first?.names == names, sourceLocation: sourceLocation)
        try await expectRouted(Dictionary(uniqueKeysWithValues: routes.map { ($0.topic, $0.consumer) }), key: key,
                               sourceLocation: sourceLocation)
    }

    /// Sends one record on each topic of `expected` (topic → logical consumer name) and expects
    /// each to be claimed in the inbox under that name, from that topic.
    public func expectRouted(
        _ expected: [String: String], key: String = "probe", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let seen = try await send(Array(expected.keys), key: key)
        for (topic, consumer) in expected {
            let claim = seen[topic] ?? nil
            #expect(claim?.consumer == consumer && claim?.topic == topic,
                    "a record on \(topic) was consumed by \(consumer), got \(String(describing: claim))",
                    sourceLocation: sourceLocation)
        }
    }

    private func claimed(_ ids: [UUID]) async throws -> [UUID: (consumer: String, topic: String)] {
        let rows = try await pool.query(
            "SELECT event_id, consumer, topic FROM \(schema).inbox WHERE event_id = ANY(string_to_array($1, ',')::uuid[])",
            [ids.map(\.uuidString).joined(separator: ",")]).rows
        var result: [UUID: (consumer: String, topic: String)] = [:]
        for row in rows {
            result[try row.decode(UUID.self, "event_id")] = (try row.decode(String.self, "consumer"), try row.decode(String.self, "topic"))
        }
        return result
    }
}
