import Foundation
import Hummingbird
import MusterAPI
import MusterEvents
import MusterPostgres

// The delivery log of a subscription, redelivery and test pings.
extension NotifierAPI {
    /// `ce_type` of a test ping (not an execution event: filters do not apply).
    static let pingType = "notifier.ping"

    private struct Ping: Encodable {
        var type: String
        var subscriptionId: String
        var teamID: String
        var executionID: String
        var occurredAt: Date
    }

    func addDeliveryRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.get("subscriptions/:id/deliveries") { request, context in
            let principal = try await auth.authenticate(request)
            let subscriptionID = try context.id(what: "subscription")
            let page = try PageRequest(request)
            let status = try request.uri.queryParameters["status"].map { raw in
                guard let value = DeliveryStatus(rawValue: String(raw)) else {
                    throw APIError.badRequest(field: "status", rule: "enum",
                        "status must be one of \(DeliveryStatus.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return value.rawValue
            }
            let rows = try await pool.withConnection { connection in
                _ = try await self.subscription(subscriptionID, team: principal.teamID, on: connection)
                return try await connection.query(
                    """
                    SELECT \(Delivery.columns) FROM \(schema).deliveries d
                    WHERE d.subscription_id = $1 AND ($2::bigint IS NULL OR d.seq < $2)
                      AND ($3::text IS NULL OR d.status = $3)
                    ORDER BY d.seq DESC LIMIT $4
                    """, [subscriptionID, page.afterSeq, status, page.limit + 1]).rows
            }
            let deliveries = try rows.prefix(page.limit).map(Delivery.init(row:))
            let next = rows.count > page.limit ? deliveries.last.map { PageRequest.cursor(after: $0.seq) } : nil
            return try JSONResponse.make(.ok, Page(items: deliveries.map(DeliveryView.init), nextCursor: next))
        }
        v1.get("subscriptions/:id/deliveries/:deliveryId") { request, context in
            let principal = try await auth.authenticate(request)
            let subscriptionID = try context.id(what: "subscription")
            let deliveryID = try context.id("deliveryId", what: "delivery")
            let delivery = try await pool.withConnection { connection in
                try await self.delivery(deliveryID, subscription: subscriptionID, team: principal.teamID, on: connection)
            }
            return try JSONResponse.make(.ok, DeliveryView(delivery))
        }
        v1.post("subscriptions/:id/deliveries/:deliveryId/redeliver") { request, context in
            let principal = try await auth.authenticate(request)
            try principal.require(.operator)
            let subscriptionID = try context.id(what: "subscription")
            let deliveryID = try context.id("deliveryId", what: "delivery")
            let delivery = try await pool.transaction { connection in
                let current = try await self.delivery(
                    deliveryID, subscription: subscriptionID, team: principal.teamID, on: connection, lock: true)
                guard current.status != .pending else {
                    throw APIError.conflict(field: "status", rule: "notPending",
                        "the delivery is still pending (attempt \(current.attempts + 1) is due at its nextAttemptAt); "
                            + "redeliver a DELIVERED or DEAD one")
                }
                // A new retry window starts; the attempt count and last error stay for the log.
                try await connection.query(
                    """
                    UPDATE \(schema).deliveries SET status = 'PENDING', next_attempt_at = now(), first_attempt_at = NULL,
                        delivered_at = NULL, claim_id = NULL, claimed_until = NULL
                    WHERE id = $1
                    """, [deliveryID])
                return try await self.delivery(deliveryID, subscription: subscriptionID, team: principal.teamID,
                                               on: connection)
            }
            wake()
            return try JSONResponse.make(.accepted, DeliveryView(delivery))
        }
        v1.post("subscriptions/:id/test") { request, context in
            let principal = try await auth.authenticate(request)
            try principal.require(.operator)
            let subscriptionID = try context.id(what: "subscription")
            let delivery = try await pool.transaction { connection in
                _ = try await self.subscription(subscriptionID, team: principal.teamID, on: connection)
                let eventID = UUID()
                let executionID = "ping-\(eventID.uuidString.lowercased())"
                let now = Date()
                let body = try EventCoding.encoder.encode(Ping(
                    type: Self.pingType, subscriptionId: subscriptionID.uuidString.lowercased(),
                    teamID: principal.teamID, executionID: executionID, occurredAt: now))
                let rows = try await connection.query(
                    """
                    INSERT INTO \(schema).deliveries AS d
                        (id, subscription_id, event_id, event_type, event_source, event_time, execution_id, body)
                    VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7)
                    RETURNING \(Delivery.columns)
                    """,
                    [subscriptionID, eventID, Self.pingType, EventSource.notifier, now, executionID, Array(body)]).rows
                return try Delivery(row: rows[0])
            }
            wake()
            return try JSONResponse.make(.accepted, DeliveryView(delivery))
        }
    }

    /// The delivery `id` of the team's subscription, or 404.
    func delivery(_ id: UUID, subscription: UUID, team: String, on connection: PostgresConnection, lock: Bool = false)
        async throws -> Delivery
    {
        let rows = try await connection.query(
            """
            SELECT \(Delivery.columns) FROM \(schema).deliveries d
            JOIN \(schema).subscriptions s ON s.id = d.subscription_id
            WHERE d.id = $1 AND d.subscription_id = $2 AND s.team_id = $3
            """ + (lock ? " FOR UPDATE OF d" : ""), [id, subscription, team]).rows
        guard let row = rows.first else { throw APIError.notFound("delivery") }
        return try Delivery(row: row)
    }
}
