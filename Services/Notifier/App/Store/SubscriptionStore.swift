import Foundation
import MusterDomain
import MusterAPI
import MusterPostgres

/// The API's SQL: a team's subscriptions and their delivery logs (another
/// team's ids are simply not found: 404). Each method is one operation.
struct SubscriptionStore: Sendable {
    let schema: String
    let pool: PostgresPool

    /// A new subscription of `team`, unless the team already has `limit` (409); creations are serialised
    /// per team so the limit holds under concurrency.
    func create(team: TeamID, url: String, filter: EventFilter, secret: String, description: String, enabled: Bool,
                createdBy: String, limit: Int) async throws -> Subscription {
        try await pool.transaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext($1))", ["notifier:" + team.rawValue])
            let count = try await connection.query(
                "SELECT count(*) AS n FROM \(schema).subscriptions WHERE team_id = $1", [team.rawValue]).rows
            if let row = count.first, try row.decode(Int.self, "n") >= limit {
                throw APIError.conflict(rule: "maxSubscriptions",
                    "your team has \(limit) subscriptions, the limit; delete one first")
            }
            let rows = try await connection.query(
                """
                INSERT INTO \(schema).subscriptions (id, team_id, url, event_types, secret, description, enabled, created_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                RETURNING \(Subscription.columns)
                """,
                [UUID(), team.rawValue, url, try PostgresJSON(encoding: filter.entries), secret, description, enabled, createdBy]).rows
            return try Subscription(row: rows[0])
        }
    }

    /// Up to `limit` of the team's subscriptions after `afterSeq`, oldest first.
    func subscriptions(team: TeamID, afterSeq: Int64?, limit: Int) async throws -> [Subscription] {
        try await pool.query(
            """
            SELECT \(Subscription.columns) FROM \(schema).subscriptions
            WHERE team_id = $1 AND ($2::bigint IS NULL OR seq > $2)
            ORDER BY seq LIMIT $3
            """, [team.rawValue, afterSeq, limit]).rows.map(Subscription.init(row:))
    }

    /// The team's subscription `id`, or 404.
    func subscription(_ id: UUID, team: TeamID) async throws -> Subscription {
        try await pool.withConnection { try await subscription(id, team: team, on: $0) }
    }

    /// Changes the given fields of the team's subscription `id` (nil: unchanged), or 404.
    func update(_ id: UUID, team: TeamID, url: String?, filter: EventFilter?, secret: String?, description: String?,
                enabled: Bool?) async throws -> Subscription {
        try await pool.transaction { connection in
            _ = try await subscription(id, team: team, on: connection, lock: true)
            let rows = try await connection.query(
                """
                UPDATE \(schema).subscriptions SET
                    url = COALESCE($3, url), event_types = COALESCE($4, event_types), secret = COALESCE($5, secret),
                    description = COALESCE($6, description), enabled = COALESCE($7, enabled), updated_at = now()
                WHERE id = $1 AND team_id = $2
                RETURNING \(Subscription.columns)
                """,
                [id, team.rawValue, url, try filter.map { try PostgresJSON(encoding: $0.entries) }, secret, description, enabled]).rows
            return try Subscription(row: rows[0])
        }
    }

    /// Deletes the team's subscription `id`, or 404.
    func delete(_ id: UUID, team: TeamID) async throws {
        let deleted = try await pool.query(
            "DELETE FROM \(schema).subscriptions WHERE id = $1 AND team_id = $2", [id, team.rawValue]).affectedRows
        guard deleted == 1 else { throw APIError.notFound("subscription") }
    }

    /// Up to `limit` deliveries of the team's subscription before `beforeSeq`, newest first (404 for the subscription).
    func deliveries(of subscription: UUID, team: TeamID, beforeSeq: Int64?, status: String?, limit: Int) async throws
        -> [Delivery]
    {
        try await pool.withConnection { connection in
            _ = try await self.subscription(subscription, team: team, on: connection)
            return try await connection.query(
                """
                SELECT \(Delivery.columns) FROM \(schema).deliveries d
                WHERE d.subscription_id = $1 AND ($2::bigint IS NULL OR d.seq < $2)
                  AND ($3::text IS NULL OR d.status = $3)
                ORDER BY d.seq DESC LIMIT $4
                """, [subscription, beforeSeq, status, limit]).rows.map(Delivery.init(row:))
        }
    }

    /// The delivery `id` of the team's subscription, or 404.
    func delivery(_ id: UUID, subscription: UUID, team: TeamID) async throws -> Delivery {
        try await pool.withConnection { try await delivery(id, subscription: subscription, team: team, on: $0) }
    }

    /// Starts a new retry window for a DELIVERED or DEAD delivery (409 while it is pending); the attempt
    /// count and last error stay for the log.
    func redeliver(_ id: UUID, subscription: UUID, team: TeamID) async throws -> Delivery {
        try await pool.transaction { connection in
            let current = try await delivery(id, subscription: subscription, team: team, on: connection, lock: true)
            guard current.status != .pending else {
                throw APIError.conflict(field: "status", rule: "notPending",
                    "the delivery is still pending (attempt \(current.attempts + 1) is due at its nextAttemptAt); "
                        + "redeliver a DELIVERED or DEAD one")
            }
            try await connection.query(
                """
                UPDATE \(schema).deliveries SET status = 'PENDING', next_attempt_at = now(), first_attempt_at = NULL,
                    delivered_at = NULL, claim_id = NULL, claimed_until = NULL
                WHERE id = $1
                """, [id])
            return try await delivery(id, subscription: subscription, team: team, on: connection)
        }
    }

    /// Queues a test ping (`body`, already encoded) to the team's subscription, or 404.
    func queuePing(to subscription: UUID, team: TeamID, eventID: UUID, type: String, source: String, time: Date,
                   executionID: String, body: [UInt8]) async throws -> Delivery {
        try await pool.transaction { connection in
            _ = try await self.subscription(subscription, team: team, on: connection)
            let rows = try await connection.query(
                """
                INSERT INTO \(schema).deliveries AS d
                    (id, subscription_id, event_id, event_type, event_source, event_time, execution_id, body)
                VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7)
                RETURNING \(Delivery.columns)
                """,
                [subscription, eventID, type, source, time, executionID, body]).rows
            return try Delivery(row: rows[0])
        }
    }

    func subscription(_ id: UUID, team: TeamID, on connection: PostgresConnection, lock: Bool = false) async throws
        -> Subscription
    {
        let rows = try await connection.query(
            "SELECT \(Subscription.columns) FROM \(schema).subscriptions WHERE id = $1 AND team_id = $2"
                + (lock ? " FOR UPDATE" : ""), [id, team.rawValue]).rows
        guard let row = rows.first else { throw APIError.notFound("subscription") }
        return try Subscription(row: row)
    }

    func delivery(_ id: UUID, subscription: UUID, team: TeamID, on connection: PostgresConnection, lock: Bool = false)
        async throws -> Delivery
    {
        let rows = try await connection.query(
            """
            SELECT \(Delivery.columns) FROM \(schema).deliveries d
            JOIN \(schema).subscriptions s ON s.id = d.subscription_id
            WHERE d.id = $1 AND d.subscription_id = $2 AND s.team_id = $3
            """ + (lock ? " FOR UPDATE OF d" : ""), [id, subscription, team.rawValue]).rows
        guard let row = rows.first else { throw APIError.notFound("delivery") }
        return try Delivery(row: row)
    }
}
