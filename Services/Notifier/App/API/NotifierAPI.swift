import Foundation
import Hummingbird
import Logging
import MusterAPI
import MusterPostgres

/// The notifier's REST API under `/v1` (docs/notifier.md): subscriptions,
/// their delivery logs, redelivery and test pings. Authenticated with the
/// planner's bearer tokens through the `teams.v1` replica; a team sees and
/// touches only its own subscriptions (another team's ids answer 404).
/// Documented by Services/Notifier/App/API/openapi.json (compiled in, served
/// at `/openapi.json` and `/docs`; undocumented methods answer 405). Each
/// handler is a named function (authorize, validate, call the store, render).
public struct NotifierAPI: Sendable {
    let configuration: NotifierConfiguration
    let pool: PostgresPool
    let auth: Authenticator
    let rules: SubscriptionRules
    /// The API's SQL (Store/SubscriptionStore.swift).
    let store: SubscriptionStore
    let wake: @Sendable () -> Void

    var schema: String { configuration.schema }

    /// An API over `pool`; `wake` is called after a change that made deliveries due.
    public init(configuration: NotifierConfiguration, pool: PostgresPool, wake: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.pool = pool
        self.auth = Authenticator(schema: configuration.schema, pool: pool)
        self.rules = SubscriptionRules(allowHTTP: configuration.allowHTTP)
        self.store = SubscriptionStore(schema: configuration.schema, pool: pool)
        self.wake = wake
    }

    /// The notifier's OpenAPI document, as compiled in from `API/openapi.json`.
    public static let document: APIDocument = {
        do {
            return try APIDocument(json: PackageResources.openapi_json)
        } catch {
            // Cannot happen for a build whose tests passed (the notifier's API document test reads it).
            fatalError("Services/Notifier/App/API/openapi.json is not an OpenAPI document: \(error)")
        }
    }()

    /// Adds every `/v1` route to `router`, the document's routes and its 405 rule.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.add(middleware: MethodNotAllowedMiddleware(document: Self.document))
        Self.document.addRoutes(to: router)
        let v1 = router.group("v1").add(middleware: ErrorMiddleware<Context>(service: "notifier"))
        addSubscriptionRoutes(to: v1)
        addDeliveryRoutes(to: v1)
    }
}
