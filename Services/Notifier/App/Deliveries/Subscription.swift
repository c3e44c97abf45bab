import Foundation
import MusterDomain
import MusterPostgres

/// A webhook subscription as stored.
struct Subscription: Sendable {
    var id: UUID
    var seq: Int64
    var teamID: TeamID
    var url: String
    var filter: EventFilter
    var description: String
    var enabled: Bool
    var createdBy: String
    var createdAt: Date
    var updatedAt: Date

    /// The columns `init(row:)` reads (never the secret).
    static let columns = "id, seq, team_id, url, event_types, description, enabled, created_by, created_at, updated_at"

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id")
        seq = try row.decode(Int64.self, "seq")
        teamID = try row.decode(TeamID.self, "team_id")
        url = try row.decode(String.self, "url")
        filter = EventFilter(entries: try row.decode(PostgresJSON.self, "event_types").decode([String].self))
        description = try row.decode(String.self, "description")
        enabled = try row.decode(Bool.self, "enabled")
        createdBy = try row.decode(String.self, "created_by")
        createdAt = try row.decode(Date.self, "created_at")
        updatedAt = try row.decode(Date.self, "updated_at")
    }
}

/// Delivery states (DESIGN §8).
enum DeliveryStatus: String, Sendable, Codable, CaseIterable {
    /// Waiting for its first or next attempt (or in flight).
    case pending = "PENDING"
    /// The receiver answered 2xx.
    case delivered = "DELIVERED"
    /// Retried for the whole window without success; redeliver on request.
    case dead = "DEAD"
}

/// One delivery as its log shows it: metadata and the last attempt, not the body.
struct Delivery: Sendable {
    var id: UUID
    var seq: Int64
    var subscriptionID: UUID
    var eventID: UUID
    var eventType: String
    var executionID: String
    var status: DeliveryStatus
    var attempts: Int
    var nextAttemptAt: Date
    var firstAttemptAt: Date?
    var lastAttemptAt: Date?
    var lastStatusCode: Int?
    var lastError: String?
    var deliveredAt: Date?
    var createdAt: Date

    static let columns = """
        d.id, d.seq, d.subscription_id, d.event_id, d.event_type, d.execution_id, d.status, d.attempts,
        d.next_attempt_at, d.first_attempt_at, d.last_attempt_at, d.last_status_code, d.last_error,
        d.delivered_at, d.created_at
        """

    init(row: PostgresRow) throws {
        id = try row.decode(UUID.self, "id")
        seq = try row.decode(Int64.self, "seq")
        subscriptionID = try row.decode(UUID.self, "subscription_id")
        eventID = try row.decode(UUID.self, "event_id")
        eventType = try row.decode(String.self, "event_type")
        executionID = try row.decode(String.self, "execution_id")
        status = try row.decode(DeliveryStatus.self, "status")
        attempts = try row.decode(Int.self, "attempts")
        nextAttemptAt = try row.decode(Date.self, "next_attempt_at")
        firstAttemptAt = try row.decode(Date?.self, "first_attempt_at")
        lastAttemptAt = try row.decode(Date?.self, "last_attempt_at")
        lastStatusCode = try row.decode(Int?.self, "last_status_code")
        lastError = try row.decode(String?.self, "last_error")
        deliveredAt = try row.decode(Date?.self, "delivered_at")
        createdAt = try row.decode(Date.self, "created_at")
    }
}

extension DeliveryStatus: PostgresDecodable {}
