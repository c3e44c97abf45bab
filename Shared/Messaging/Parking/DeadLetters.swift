import Foundation
import MusterKafka
import MusterPostgres

/// A parked record as stored in `<schema>.dead_letters` (DESIGN §12).
public struct DeadLetter: Sendable, Equatable {
    /// The row id (used by the replay endpoint).
    public var id: Int64
    /// The inbox consumer name that parked it.
    public var consumer: String
    /// `ce_id`, when the record was a CloudEvent.
    public var eventID: UUID?
    /// Where the record was read.
    public var topic: String
    /// Its partition.
    public var partition: Int32
    /// Its offset.
    public var offset: Int64
    /// Its key, if any.
    public var key: [UInt8]?
    /// Its headers, in order.
    public var headers: [KafkaHeader]
    /// Its value.
    public var value: [UInt8]
    /// Why it was parked.
    public var reason: ParkReason
    /// The last error, made safe to store and log (control characters replaced).
    public var error: String
    /// Failed attempts (replays included).
    public var attempts: Int
    /// When it first failed.
    public var firstFailedAt: Date
    /// When it last failed.
    public var lastFailedAt: Date
    /// When a replay handled it; nil while parked.
    public var replayedAt: Date?
    /// When an operator discarded it (never to be handled); nil otherwise.
    public var discardedAt: Date? = nil

    /// Parked (neither replayed nor discarded), replayed or discarded.
    public var status: DeadLetters.Status {
        replayedAt != nil ? .replayed : discardedAt != nil ? .discarded : .parked
    }

    /// The record as the consumer received it, for a replay.
    public var record: KafkaRecord {
        KafkaRecord(topic: topic, partition: partition, offset: offset, key: key, value: value, headers: headers)
    }
}

/// The `dead_letters` table of one service schema: where a consumer parks a
/// record that can never be processed, inside the transaction that records
/// its inbox entry, so a redelivery is skipped and nothing is lost.
public struct DeadLetters: Sendable {
    /// The service's schema holding the table.
    public let schema: String

    /// The table in `schema` (a lowercase identifier).
    public init(schema: String) {
        self.schema = MessagingSchema.checked(schema)
    }

    /// Which rows a listing returns.
    public enum Status: String, Sendable, CaseIterable {
        /// Still parked (not replayed).
        case parked
        /// Handled by a replay.
        case replayed
        /// Discarded by an operator: never handled.
        case discarded
        /// Every row.
        case all
    }

    /// Stores `record` as parked by `consumer`; a second park of the same
    /// record (consumer, topic, partition, offset) keeps the first row and
    /// returns false.
    @discardableResult
    public func park(
        _ record: KafkaRecord, consumer: String, eventID: UUID?, reason: ParkReason, error: String, attempts: Int,
        firstFailedAt: Date, lastFailedAt: Date, on connection: PostgresConnection
    ) async throws -> Bool {
        try await connection.query(
            """
            INSERT INTO \(schema).dead_letters (consumer, event_id, topic, partition, "offset", key, headers, value,
                reason, error, attempts, first_failed_at, last_failed_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
            ON CONFLICT (consumer, topic, partition, "offset") DO NOTHING
            """,
            [consumer, eventID, Self.storable(record.topic), record.partition, record.offset, record.key,
             Self.encode(record.headers), record.value, reason.rawValue, Self.storable(error), attempts,
             firstFailedAt, lastFailedAt]).affectedRows == 1
    }

    /// Parked records, newest first, optionally of one consumer; at most `limit`, ids below `before` when given.
    public func list(
        status: Status = .parked, consumer: String? = nil, limit: Int = 100, before: Int64? = nil,
        on connection: PostgresConnection
    ) async throws -> [DeadLetter] {
        let filter = switch status {
        case .parked: "replayed_at IS NULL AND discarded_at IS NULL"
        case .replayed: "replayed_at IS NOT NULL"
        case .discarded: "discarded_at IS NOT NULL"
        case .all: "TRUE"
        }
        let result = try await connection.query(
            """
            SELECT \(Self.columns) FROM \(schema).dead_letters
            WHERE \(filter) AND ($1::text IS NULL OR consumer = $1) AND ($2::bigint IS NULL OR id < $2)
            ORDER BY id DESC LIMIT $3
            """,
            [consumer, before, limit])
        return try result.rows.map(Self.decode)
    }

    /// How many records are parked (not replayed), per consumer.
    public func parkedCounts(on connection: PostgresConnection) async throws -> [String: Int] {
        let result = try await connection.query(
            "SELECT consumer, count(*) AS n FROM \(schema).dead_letters WHERE replayed_at IS NULL AND discarded_at IS NULL GROUP BY consumer")
        var counts: [String: Int] = [:]
        for row in result.rows { counts[try row.decode(String.self, "consumer")] = try row.decode(Int.self, "n") }
        return counts
    }

    /// Row `id`, parked or replayed; nil if none.
    public func find(id: Int64, on connection: PostgresConnection) async throws -> DeadLetter? {
        let result = try await connection.query(
            "SELECT \(Self.columns) FROM \(schema).dead_letters WHERE id = $1", [id])
        return try result.rows.first.map(Self.decode)
    }

    /// Locks and returns the parked (not yet replayed) row `id`; nil if none.
    /// Call inside the replay's transaction.
    public func lockParked(id: Int64, on connection: PostgresConnection) async throws -> DeadLetter? {
        let result = try await connection.query(
            "SELECT \(Self.columns) FROM \(schema).dead_letters WHERE id = $1 AND replayed_at IS NULL AND discarded_at IS NULL FOR UPDATE",
            [id])
        return try result.rows.first.map(Self.decode)
    }

    /// Marks `id` handled by a replay (in the replay's transaction).
    public func markReplayed(id: Int64, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE \(schema).dead_letters SET replayed_at = now() WHERE id = $1", [id])
    }

    /// Records a failed replay of `id`: one more attempt and its error.
    public func recordFailedReplay(id: Int64, error: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE \(schema).dead_letters SET attempts = attempts + 1, error = $2, last_failed_at = now()
            WHERE id = $1 AND replayed_at IS NULL AND discarded_at IS NULL
            """,
            [id, Self.storable(error)])
    }

    /// Marks the parked row `id` discarded: it is kept (evidence) but never
    /// replayed. False if no row `id` is parked (none, replayed or discarded).
    public func discard(id: Int64, on connection: PostgresConnection) async throws -> Bool {
        let result = try await connection.query(
            """
            UPDATE \(schema).dead_letters SET discarded_at = now()
            WHERE id = $1 AND replayed_at IS NULL AND discarded_at IS NULL RETURNING id
            """,
            [id])
        return !result.rows.isEmpty
    }

    // MARK: Encoding

    private static let columns = """
        id, consumer, event_id, topic, partition, "offset", key, headers, value, reason, error, attempts,
        first_failed_at, last_failed_at, replayed_at, discarded_at
        """

    private static func decode(_ row: PostgresRow) throws -> DeadLetter {
        DeadLetter(
            id: try row.decode(Int64.self, "id"), consumer: try row.decode(String.self, "consumer"),
            eventID: try row.decode(UUID?.self, "event_id"), topic: try row.decode(String.self, "topic"),
            partition: try row.decode(Int32.self, "partition"), offset: try row.decode(Int64.self, "offset"),
            key: try row.decode([UInt8]?.self, "key"), headers: decodeHeaders(try row.decode([UInt8].self, "headers")),
            value: try row.decode([UInt8].self, "value"),
            reason: ParkReason(rawValue: try row.decode(String.self, "reason")) ?? .deterministic,
            error: try row.decode(String.self, "error"), attempts: try row.decode(Int.self, "attempts"),
            firstFailedAt: try row.decode(Date.self, "first_failed_at"),
            lastFailedAt: try row.decode(Date.self, "last_failed_at"),
            replayedAt: try row.decode(Date?.self, "replayed_at"),
            discardedAt: try row.decode(Date?.self, "discarded_at"))
    }

    private struct StoredHeader: Codable {
        var name: String
        var value: String?  // base64; nil for a null header value
    }

    /// Headers as JSON in a `bytea` column: names and values may hold any
    /// byte, NUL included, which neither `text` nor `jsonb` can.
    static func encode(_ headers: [KafkaHeader]) -> [UInt8] {
        let stored = headers.map { StoredHeader(name: $0.name, value: $0.value.map { Data($0).base64EncodedString() }) }
        return Array((try? JSONEncoder().encode(stored)) ?? Data("[]".utf8))
    }

    static func decodeHeaders(_ bytes: [UInt8]) -> [KafkaHeader] {
        let stored = (try? JSONDecoder().decode([StoredHeader].self, from: Data(bytes))) ?? []
        return stored.map { KafkaHeader(name: $0.name, value: $0.value.flatMap { Data(base64Encoded: $0) }.map(Array.init)) }
    }

    /// `text` safe to store and log: control characters (NUL included) are
    /// replaced by U+FFFD, and the length is capped.
    public static func storable(_ text: String, limit: Int = 4000) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(limit) {
            let control = scalar.properties.generalCategory == .control && scalar != "\n" && scalar != "\t"
            scalars.append(control ? "\u{FFFD}" : scalar)
        }
        return String(scalars)
    }
}
