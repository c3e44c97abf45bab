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
    /// Its SQL (Store/DeliveryStore.swift).
    let store: DeliveryStore

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
        var created = 0
        // The consumer span's position: each attempt's POST continues the event's trace.
        let trace = StoredTrace.current
        for subscription in try await store.enabledSubscriptions(of: route.teamID, on: connection) {
            guard subscription.filter.matches(event.type) else { continue }
            created += try await store.queue(
                event, to: subscription.id, executionID: orderKey, body: event.data, trace: trace, on: connection)
        }
        return created
    }
}
