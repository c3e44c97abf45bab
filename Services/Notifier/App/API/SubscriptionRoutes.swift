import Foundation
import Hummingbird
import MusterAPI
import MusterPostgres

// Subscriptions: URL, event-type filter, secret (shown once), enabled flag.
extension NotifierAPI {
    func addSubscriptionRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("subscriptions") { request, _ in try await create(request) }
        v1.get("subscriptions") { request, _ in
            let principal = try await auth.authenticate(request)
            let page = try PageRequest(request)
            let rows = try await pool.query(
                """
                SELECT \(Subscription.columns) FROM \(schema).subscriptions
                WHERE team_id = $1 AND ($2::bigint IS NULL OR seq > $2)
                ORDER BY seq LIMIT $3
                """, [principal.teamID, page.afterSeq, page.limit + 1]).rows
            let subscriptions = try rows.prefix(page.limit).map(Subscription.init(row:))
            let next = rows.count > page.limit ? subscriptions.last.map { PageRequest.cursor(after: $0.seq) } : nil
            return try JSONResponse.make(.ok, Page(items: subscriptions.map { SubscriptionView($0) }, nextCursor: next))
        }
        v1.get("subscriptions/:id") { request, context in
            let principal = try await auth.authenticate(request)
            let subscriptionID = try context.id(what: "subscription")
            let subscription = try await pool.withConnection {
                try await self.subscription(subscriptionID, team: principal.teamID, on: $0)
            }
            return try JSONResponse.make(.ok, SubscriptionView(subscription))
        }
        v1.patch("subscriptions/:id") { request, context in try await update(request, context: context) }
        v1.delete("subscriptions/:id") { request, context in
            let principal = try await auth.authenticate(request)
            try principal.require(.operator)
            let subscriptionID = try context.id(what: "subscription")
            let deleted = try await pool.query(
                "DELETE FROM \(schema).subscriptions WHERE id = $1 AND team_id = $2",
                [subscriptionID, principal.teamID]).affectedRows
            guard deleted == 1 else { throw APIError.notFound("subscription") }
            return Response(status: .noContent)
        }
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
        let subscription = try await pool.transaction { connection in
            // Serialises creations per team, so the limit holds under concurrency.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext($1))", ["notifier:" + principal.teamID])
            let count = try await connection.query(
                "SELECT count(*) AS n FROM \(schema).subscriptions WHERE team_id = $1", [principal.teamID]).rows
            if let row = count.first, try row.decode(Int.self, "n") >= configuration.maxSubscriptionsPerTeam {
                throw APIError.conflict(rule: "maxSubscriptions",
                    "your team has \(configuration.maxSubscriptionsPerTeam) subscriptions, the limit; delete one first")
            }
            let rows = try await connection.query(
                """
                INSERT INTO \(schema).subscriptions (id, team_id, url, event_types, secret, description, enabled, created_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                RETURNING \(Subscription.columns)
                """,
                [UUID(), principal.teamID, url, try PostgresJSON(encoding: filter.entries), secret.value, description,
                 body.enabled ?? true, principal.subject]).rows
            return try Subscription(row: rows[0])
        }
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
        let subscription = try await pool.transaction { connection in
            _ = try await self.subscription(subscriptionID, team: principal.teamID, on: connection, lock: true)
            let rows = try await connection.query(
                """
                UPDATE \(schema).subscriptions SET
                    url = COALESCE($3, url), event_types = COALESCE($4, event_types), secret = COALESCE($5, secret),
                    description = COALESCE($6, description), enabled = COALESCE($7, enabled), updated_at = now()
                WHERE id = $1 AND team_id = $2
                RETURNING \(Subscription.columns)
                """,
                [subscriptionID, principal.teamID, url, try filter.map { try PostgresJSON(encoding: $0.entries) },
                 secret?.value, description, body.enabled]).rows
            return try Subscription(row: rows[0])
        }
        // Re-enabling may have made held deliveries due.
        if body.enabled == true { wake() }
        return try JSONResponse.make(.ok, SubscriptionView(subscription))
    }
}
