import Foundation
import Hummingbird
import MusterAPI

// Subscriptions: URL, event-type filter, secret (shown once), enabled flag.
// SQL: Store/SubscriptionStore.swift.
extension NotifierAPI {
    func addSubscriptionRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("subscriptions") { request, _ in try await create(request) }
        v1.get("subscriptions") { request, _ in try await listSubscriptions(request) }
        v1.get("subscriptions/:id") { request, context in try await getSubscription(request, context) }
        v1.patch("subscriptions/:id") { request, context in try await update(request, context: context) }
        v1.delete("subscriptions/:id") { request, context in try await deleteSubscription(request, context) }
    }

    func listSubscriptions(_ request: Request) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let page = try PageRequest(request)
        let rows = try await store.subscriptions(team: principal.teamID, afterSeq: page.afterSeq, limit: page.limit + 1)
        let subscriptions = rows.prefix(page.limit)
        let next = rows.count > page.limit ? subscriptions.last.map { PageRequest.cursor(after: $0.seq) } : nil
        return try JSONResponse.make(.ok, Page(items: subscriptions.map { SubscriptionView($0) }, nextCursor: next))
    }

    func getSubscription(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let subscription = try await store.subscription(try context.id(what: "subscription"), team: principal.teamID)
        return try JSONResponse.make(.ok, SubscriptionView(subscription))
    }

    func deleteSubscription(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        try principal.require(.operator)
        try await store.delete(try context.id(what: "subscription"), team: principal.teamID)
        return Response(status: .noContent)
    }

    private func create(_ request: Request) async throws -> Response {
        let principal = try await auth.authenticate(request)
        try principal.require(.operator)
        let body = try await JSONBody.decode(CreateSubscriptionBody.self, from: request, limit: configuration.maxBodyBytes)
        let url = try rules.checkURL(body.url)
        let filter = try rules.checkEventTypes(body.eventTypes ?? [EventFilter.wildcard])
        let given = try body.secret.map(rules.checkSecret)
        let description = try rules.checkDescription(body.description ?? "")
        let secret = given ?? WebhookSecret.generate()
        let subscription = try await store.create(
            team: principal.teamID, url: url, filter: filter, secret: secret.value, description: description,
            enabled: body.enabled ?? true, createdBy: principal.subject, limit: configuration.maxSubscriptionsPerTeam)
        // A caller-provided secret is never echoed; a generated one is shown this once.
        return try JSONResponse.make(.created, SubscriptionView(subscription, revealing: given == nil ? secret : nil))
    }

    private func update(_ request: Request, context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        try principal.require(.operator)
        let subscriptionID = try context.id(what: "subscription")
        let body = try await JSONBody.decode(UpdateSubscriptionBody.self, from: request, limit: configuration.maxBodyBytes)
        let url = try body.url.map(rules.checkURL)
        let filter = try body.eventTypes.map(rules.checkEventTypes)
        let secret = try body.secret.map(rules.checkSecret)
        let description = try body.description.map(rules.checkDescription)
        let subscription = try await store.update(
            subscriptionID, team: principal.teamID, url: url, filter: filter, secret: secret?.value,
            description: description, enabled: body.enabled)
        // Re-enabling may have made held deliveries due.
        if body.enabled == true { wake() }
        return try JSONResponse.make(.ok, SubscriptionView(subscription))
    }
}
