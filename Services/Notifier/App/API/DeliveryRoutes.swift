import Foundation
import Hummingbird
import MusterAPI
import MusterDomain
import MusterEvents

// The delivery log of a subscription, redelivery and test pings.
// SQL: Store/SubscriptionStore.swift.
extension NotifierAPI {
    /// `ce_type` of a test ping (not an execution event: filters do not apply).
    static let pingType = "notifier.ping"

    private struct Ping: Encodable {
        var type: String
        var subscriptionId: String
        var teamID: TeamID
        var executionID: String
        var occurredAt: Date
    }

    func addDeliveryRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.get("subscriptions/:id/deliveries") { request, context in try await listDeliveries(request, context) }
        v1.get("subscriptions/:id/deliveries/:deliveryId") { request, context in try await getDelivery(request, context) }
        v1.post("subscriptions/:id/deliveries/:deliveryId/redeliver") { request, context in
            try await redeliver(request, context)
        }
        v1.post("subscriptions/:id/test") { request, context in try await ping(request, context) }
    }

    func listDeliveries(_ request: Request, _ context: some RequestContext) async throws -> Response {
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
        let rows = try await store.deliveries(of: subscriptionID, team: principal.teamID, beforeSeq: page.afterSeq,
                                              status: status, limit: page.limit + 1)
        let deliveries = rows.prefix(page.limit)
        let next = rows.count > page.limit ? deliveries.last.map { PageRequest.cursor(after: $0.seq) } : nil
        return try JSONResponse.make(.ok, Page(items: deliveries.map(DeliveryView.init), nextCursor: next))
    }

    func getDelivery(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let subscriptionID = try context.id(what: "subscription")
        let deliveryID = try context.id("deliveryId", what: "delivery")
        let delivery = try await store.delivery(deliveryID, subscription: subscriptionID, team: principal.teamID)
        return try JSONResponse.make(.ok, DeliveryView(delivery))
    }

    func redeliver(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        try principal.require(.operator)
        let subscriptionID = try context.id(what: "subscription")
        let deliveryID = try context.id("deliveryId", what: "delivery")
        let delivery = try await store.redeliver(deliveryID, subscription: subscriptionID, team: principal.teamID)
        wake()
        return try JSONResponse.make(.accepted, DeliveryView(delivery))
    }

    func ping(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        try principal.require(.operator)
        let subscriptionID = try context.id(what: "subscription")
        let eventID = UUID()
        let executionID = "ping-\(eventID.uuidString.lowercased())"
        let now = Date()
        let body = try EventCoding.encoder.encode(Ping(
            type: Self.pingType, subscriptionId: subscriptionID.uuidString.lowercased(),
            teamID: principal.teamID, executionID: executionID, occurredAt: now))
        let delivery = try await store.queuePing(
            to: subscriptionID, team: principal.teamID, eventID: eventID, type: Self.pingType, source: EventSource.notifier,
            time: now, executionID: executionID, body: Array(body))
        wake()
        return try JSONResponse.make(.accepted, DeliveryView(delivery))
    }
}
