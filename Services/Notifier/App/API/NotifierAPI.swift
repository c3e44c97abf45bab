import Foundation
import Hummingbird
import Logging
import MusterAPI
import MusterPostgres

/// The notifier's REST API under `/v1` (docs/notifier.md): subscriptions,
/// their delivery logs, redelivery and test pings. Authenticated with the
/// planner's bearer tokens through the `teams.v1` replica; a team sees and
/// touches only its own subscriptions (another team's ids answer 404).
public struct NotifierAPI: Sendable {
    let configuration: NotifierConfiguration
    let pool: PostgresPool
    let auth: Authenticator
    let rules: SubscriptionRules
    let wake: @Sendable () -> Void

    var schema: String { configuration.schema }

    /// An API over `pool`; `wake` is called after a change that made deliveries due.
    public init(configuration: NotifierConfiguration, pool: PostgresPool, wake: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.pool = pool
        self.auth = Authenticator(schema: configuration.schema, pool: pool)
        self.rules = SubscriptionRules(allowHTTP: configuration.allowHTTP)
        self.wake = wake
    }

    /// Adds every `/v1` route to `router`.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        let v1 = router.group("v1").add(middleware: ErrorMiddleware<Context>(service: "notifier"))
        addSubscriptionRoutes(to: v1)
        addDeliveryRoutes(to: v1)
    }

    /// The `{name}` path parameter as a UUID; a malformed id is simply not found.
    func id(_ context: some RequestContext, _ name: String = "id", what: String) throws -> UUID {
        guard let raw = context.parameters.get(name), let id = UUID(uuidString: raw) else { throw APIError.notFound(what) }
        return id
    }

    /// `limit` (1…100, default 20) and `cursor` (a `nextCursor`) of a list request.
    func paging(_ request: Request) throws -> (limit: Int, afterSeq: Int64?) {
        let query = request.uri.queryParameters
        let limit = try query["limit"].map { raw in
            guard let value = Int(String(raw)), (1...100).contains(value) else {
                throw APIError.badRequest(field: "limit", rule: "range", "limit must be an integer from 1 to 100")
            }
            return value
        } ?? 20
        let cursor = try query["cursor"].map { raw in
            guard let data = Data(base64Encoded: String(raw)), let text = String(data: data, encoding: .utf8),
                  text.hasPrefix("s:"), let seq = Int64(text.dropFirst(2)) else {
                throw APIError.badRequest(field: "cursor", rule: "format", "cursor must be a nextCursor value from an earlier page")
            }
            return seq
        }
        return (limit, cursor)
    }

    /// The opaque cursor after `seq`.
    static func cursor(after seq: Int64) -> String { Data("s:\(seq)".utf8).base64EncodedString() }

    /// The team's subscription `id`, or 404.
    func subscription(_ id: UUID, team: String, on connection: PostgresConnection, lock: Bool = false) async throws
        -> Subscription
    {
        let rows = try await connection.query(
            "SELECT \(Subscription.columns) FROM \(schema).subscriptions WHERE id = $1 AND team_id = $2"
                + (lock ? " FOR UPDATE" : ""), [id, team]).rows
        guard let row = rows.first else { throw APIError.notFound("subscription") }
        return try Subscription(row: row)
    }
}
