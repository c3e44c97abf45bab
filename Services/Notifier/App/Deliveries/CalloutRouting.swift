import Foundation
import MusterAPI
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres

/// Turns one `callout.requested` (from the planner, on the private
/// `callouts.v1`) into one delivery row, inside the inbox transaction: the
/// dispatcher sends it like a webhook delivery (same signature, retries and
/// URL rules) to the step's URL, signed with the named subscription's secret,
/// retrying until the step's deadline. A callout that cannot be sent (the
/// subscription does not exist in the team, the URL breaks the webhook URL
/// rules) is reported failed at once, so the step fails with the reason.
struct CalloutRouting: Sendable {
    let schema: String
    let topics: Topics
    let rules: SubscriptionRules
    /// `callouts.v1`'s one type; any other is parked.
    private let handlers: EventHandlers

    init(schema: String, topics: Topics, rules: SubscriptionRules) {
        self.schema = schema
        self.topics = topics
        self.rules = rules
        var handlers = EventHandlers(
            unregistered: .park, onlyFrom: EventSource.planner,
            refusal: "is not the planner's; only the planner requests callouts")
        let routing = Routing(schema: schema, store: DeliveryStore(schema: schema), topics: topics, rules: rules)
        handlers.register(CalloutRequested.self) { request, context in
            _ = try await routing.route(request, event: context.event, on: context.transaction)
        }
        self.handlers = handlers
    }

    func handle(_ event: CloudEvent, _ record: KafkaRecord, on connection: PostgresConnection) async throws {
        try await handlers.handle(event, record: record, transaction: connection)
    }
}

/// Turns one decoded `callout.requested` into a delivery row, or a failed `callout.completed`.
private struct Routing: Sendable {
    let schema: String
    /// Its SQL (Store/DeliveryStore.swift).
    let store: DeliveryStore
    let topics: Topics
    let rules: SubscriptionRules

    /// The deliveries created (0 or 1).
    func route(_ request: CalloutRequested, event: CloudEvent, on connection: PostgresConnection) async throws -> Int {
        let body = request.body
        let refusal = try await refusal(request, on: connection)
        guard refusal == nil, let subscription = UUID(uuidString: request.subscriptionID) else {
            try await Outbox(schema: schema).owe(
                CalloutCompleted(executionID: body.executionID, stepName: body.stepName, delivered: false,
                                 error: refusal ?? "subscription \(request.subscriptionID) is not a subscription id",
                                 attempts: 0),
                source: EventSource.notifier, topics: topics, on: connection)
            return 0
        }
        return try await store.queue(
            event, to: subscription, executionID: body.executionID.rawValue,
            body: Array(try EventCoding.encoder.encode(body)),
            callout: (request.url, CalloutTarget(stepName: body.stepName, deadline: body.deadline)),
            trace: StoredTrace.current, on: connection)
    }

    /// Why the callout cannot be sent, or nil.
    private func refusal(_ request: CalloutRequested, on connection: PostgresConnection) async throws -> String? {
        do {
            _ = try rules.checkURL(request.url)
        } catch let error as APIError {
            return "the callout URL is refused: \(error.message)"
        }
        guard let id = UUID(uuidString: request.subscriptionID) else {
            return "subscription \(request.subscriptionID) is not a subscription id"
        }
        return try await store.subscriptionExists(id, team: request.body.teamID, on: connection)
            ? nil
            : "subscription \(request.subscriptionID) does not exist in the team: the callout cannot be signed"
    }
}
