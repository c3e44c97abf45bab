import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Turns one `execution.events.v1` record into one delivery row per matching
/// subscription, inside the inbox transaction (the outbox pattern pointed at
/// HTTP): a redelivered record is a duplicate in the inbox, and
/// `UNIQUE (subscription_id, event_id)` backs that up, so no event is ever
/// delivered twice to a subscription by the notifier's own doing.
struct EventRouting: Sendable {
    let schema: String

    /// The fields routing needs. Decoding only these (not the whole
    /// `ExecutionEvent`) keeps later payload versions routable.
    private struct Route: Decodable {
        var teamID: TeamID
        var executionID: String?
        /// Plan events (`plan.readiness-changed`) carry no execution: they are ordered per plan.
        var planID: PlanID?
        /// The key deliveries are ordered by.
        var orderKey: String? { executionID ?? planID.map { "plan:\($0)" } }
    }

    /// Creates the deliveries; returns how many. Only the planner publishes
    /// execution events: a record from any other `ce_source` (a forged or
    /// misrouted one, written by whoever can write to the topic) is refused
    /// as unprocessable — parked, never signed and delivered.
    @discardableResult
    func handle(_ event: CloudEvent, on connection: PostgresConnection) async throws -> Int {
        guard event.source == EventSource.planner else {
            throw UnprocessableEvent(
                "\(event.type) \(event.id): ce_source '\(event.source)' is not the planner's (\(EventSource.planner)); "
                    + "only the planner publishes execution events")
        }
        let route: Route
        do {
            route = try event.decode(Route.self)
        } catch {
            throw UnprocessableEvent("\(event.type) \(event.id): body lacks a team id (a UUID): \(error)")
        }
        guard let orderKey = route.orderKey else {
            throw UnprocessableEvent("\(event.type) \(event.id): body lacks executionID (or planID for a plan event)")
        }
        let subscriptions = try await connection.query(
            "SELECT id, event_types FROM \(schema).subscriptions WHERE team_id = $1 AND enabled", [route.teamID.rawValue]).rows
        var created = 0
        // The consumer span's position: each attempt's POST continues the event's trace.
        let trace = StoredTrace.current
        for row in subscriptions {
            let filter = EventFilter(entries: try row.decode(PostgresJSON.self, "event_types").decode([String].self))
            guard filter.matches(event.type) else { continue }
            created += try await connection.query(
                """
                INSERT INTO \(schema).deliveries
                    (id, subscription_id, event_id, event_type, event_source, event_time, execution_id, body,
                     traceparent, tracestate)
                VALUES (gen_random_uuid(), $1, $2, $3, $4, $5, $6, $7, $8, $9)
                ON CONFLICT (subscription_id, event_id) DO NOTHING
                """,
                [try row.decode(UUID.self, "id"), event.id, event.type, event.source, event.time,
                 orderKey, event.data, trace?.traceparent, trace?.tracestate]).affectedRows
        }
        return created
    }
}
