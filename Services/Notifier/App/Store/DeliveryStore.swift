import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// The consumers' SQL: which subscriptions an event or a callout goes to, and
/// the delivery rows they become. Every method runs on the caller's
/// connection, inside its inbox transaction.
struct DeliveryStore: Sendable {
    let schema: String

    /// The team's enabled subscriptions, with the event types each wants.
    func enabledSubscriptions(of team: TeamID, on connection: PostgresConnection) async throws
        -> [(id: UUID, filter: EventFilter)]
    {
        try await connection.query(
            "SELECT id, event_types FROM \(schema).subscriptions WHERE team_id = $1 AND enabled", [team.rawValue]).rows
            .map { row in
                (try row.decode(UUID.self, "id"),
                 EventFilter(entries: try row.decode(PostgresJSON.self, "event_types").decode([String].self)))
            }
    }

    /// Whether subscription `id` exists in `team` (enabled or not).
    func subscriptionExists(_ id: UUID, team: TeamID, on connection: PostgresConnection) async throws -> Bool {
        !(try await connection.query(
            "SELECT 1 FROM \(schema).subscriptions WHERE id = $1 AND team_id = $2", [id, team.rawValue]).rows.isEmpty)
    }

    /// Queues `event` (its id, type, source and time) for `subscription`, ordered by `executionID`, sending
    /// `body`; a callout step goes to its own `url` (not the subscription's) until its deadline. Returns the
    /// rows created: 0 when the subscription already has the event (`UNIQUE (subscription_id, event_id)`:
    /// a redelivered record).
    func queue(_ event: CloudEvent, to subscription: UUID, executionID: String, body: [UInt8],
               callout: (url: String, step: CalloutTarget)? = nil, trace: StoredTrace?,
               on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            """
            INSERT INTO \(schema).deliveries
                (id, subscription_id, event_id, event_type, event_source, event_time, execution_id, body,
                 target_url, callout_step, callout_deadline, traceparent, tracestate)
            VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (subscription_id, event_id) DO NOTHING
            """,
            [subscription, event.id, event.type, event.source, event.time, executionID, body, callout?.url,
             callout?.step.stepName, callout?.step.deadline, trace?.traceparent, trace?.tracestate]).affectedRows
    }
}
