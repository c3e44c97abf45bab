import MusterEvents
import MusterPostgres
import Tracing

/// An event a service owes, addressed to a topic and partition key.
public struct OutboxMessage: Sendable, Equatable {
    /// The topic name.
    public var topic: String
    /// The partition key (DESIGN §3: it gives the ordering that matters).
    public var key: String
    /// The event.
    public var event: CloudEvent

    /// Creates a message.
    public init(topic: String, key: String, event: CloudEvent) {
        self.topic = topic
        self.key = key
        self.event = event
    }

    /// Creates a message for one of Muster's topics.
    public init(topic: Topic, key: String, event: CloudEvent) {
        self.init(topic: topic.name, key: key, event: event)
    }

    /// The record `payload` is owed as: on its contract's topic (named by
    /// `topics`), under its key, as a CloudEvent from `source` of its
    /// `eventType` (or `type`, one of the contract's types).
    public init<Payload: EventContract>(
        _ payload: Payload, source: String, topics: Topics, type: String? = nil
    ) throws {
        self.init(topic: topics.name(Payload.topic), key: payload.key,
                  event: try payload.cloudEvent(source: source, type: type))
    }
}

/// The transactional outbox of one service schema. `enqueue` runs inside the
/// caller's transaction, so the events exist if and only if the state change
/// that owes them committed; the `OutboxRelay` publishes them afterwards.
public struct Outbox: Sendable {
    /// The service's schema holding the `outbox` table.
    public let schema: String

    /// An outbox in `schema` (a lowercase identifier).
    public init(schema: String) {
        self.schema = MessagingSchema.checked(schema)
    }

    /// Inserts `messages` on `connection`, which must be inside the caller's
    /// transaction for the outbox guarantee to hold. Each row keeps the trace
    /// context it was written in (the event's own `traceparent` if it has
    /// one, else the calling task's current span), so the relay publishes it
    /// in the same trace.
    public func enqueue(_ messages: [OutboxMessage], on connection: PostgresConnection) async throws {
        let current = Self.currentTraceContext()
        for message in messages {
            let event = message.event
            let traceparent = event.traceparent ?? current?.traceparent
            let tracestate = event.traceparent != nil ? event.tracestate : current?.tracestate
            try await connection.query(
                """
                INSERT INTO \(schema).outbox
                    (event_id, topic, key, type, source, subject, event_time, data, traceparent, tracestate)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                """,
                [event.id, message.topic, message.key, event.type, event.source, event.subject, event.time, event.data,
                 traceparent, tracestate]
            )
        }
    }

    /// The current span's `traceparent`/`tracestate`, as the installed instrument writes them (nil when none).
    static func currentTraceContext() -> (traceparent: String, tracestate: String?)? {
        guard let context = ServiceContext.current else { return nil }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryTraceCarrier())
        guard let traceparent = carrier["traceparent"] else { return nil }
        return (traceparent, carrier["tracestate"])
    }

    /// Owes `payload` (see ``OutboxMessage/init(_:source:topics:type:)``) in
    /// the caller's transaction on `connection`.
    public func owe<Payload: EventContract>(
        _ payload: Payload, source: String, topics: Topics, type: String? = nil, on connection: PostgresConnection
    ) async throws {
        try await enqueue([OutboxMessage(payload, source: source, topics: topics, type: type)], on: connection)
    }

    /// Inserts one message; see `enqueue(_:on:)`.
    public func enqueue(_ message: OutboxMessage, on connection: PostgresConnection) async throws {
        try await enqueue([message], on: connection)
    }

    /// How many messages are waiting to be published.
    public func pendingCount(on connection: PostgresConnection) async throws -> Int {
        let result = try await connection.query("SELECT count(*) AS n FROM \(schema).outbox WHERE published_at IS NULL")
        return try result.rows[0].decode(Int.self, "n")
    }
}

/// Trace context as a dictionary (outbox rows, record headers read back).
struct DictionaryTraceCarrier: Injector, Extractor {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
    func extract(key: String, from carrier: [String: String]) -> String? { carrier[key] }
}
