import Foundation
import Hummingbird
import Logging
import MusterAPI
import MusterDomain
import MusterPostgres

/// The REST API under `/v1` (DESIGN §7), documented by
/// Services/Planner/App/API/openapi.json (compiled in, served at
/// `/openapi.json` and `/docs`; undocumented methods answer 405). Handlers validate before anything is
/// stored, run each change in one transaction with its audit row and owed
/// events, and wake the outbox relay after commit. Each handler is a named
/// function (authorize, validate, call a store, render); the SQL is in `Store/`.
public struct PlannerAPI: Sendable {
    let configuration: PlannerConfiguration
    let pool: PostgresPool
    let auth: Authenticator
    let executions: ExecutionStore
    let teams: any TeamStoring
    let accounts: any AccountStoring
    let groups: any GroupStoring
    let plans: any PlanStoring
    let wake: @Sendable () -> Void
    let streamHub: EventStreamHub
    let oidc: OIDCClient?

    var schema: String { configuration.schema }
    var limits: PlannerLimits { configuration.limits }

    /// An API over `pool`; `wake` is called after a transaction that enqueued events commits.
    public init(configuration: PlannerConfiguration, pool: PostgresPool, wake: @escaping @Sendable () -> Void) {
        let schema = configuration.schema
        self.init(configuration: configuration, pool: pool,
                  teams: TeamStore(schema: schema, pool: pool, topics: configuration.topics),
                  accounts: AccountStore(schema: schema, pool: pool, topics: configuration.topics),
                  groups: GroupStore(schema: schema, pool: pool, limits: configuration.limits),
                  plans: PlanStore(schema: schema, pool: pool), wake: wake)
    }

    /// An API over the given stores (route tests give ones that need no database).
    init(configuration: PlannerConfiguration, pool: PostgresPool, teams: any TeamStoring, accounts: any AccountStoring,
         groups: any GroupStoring, plans: any PlanStoring, wake: @escaping @Sendable () -> Void) {
        self.configuration = configuration
        self.pool = pool
        self.teams = teams
        self.accounts = accounts
        self.groups = groups
        self.plans = plans
        let oidc = configuration.oidc.flatMap { try? OIDCClient(settings: $0, logger: Logger(label: "planner.oidc")) }
        self.oidc = oidc
        self.auth = Authenticator(schema: configuration.schema, pool: pool, tokens: teams, adminToken: configuration.adminToken,
                                  oidc: oidc)
        self.executions = ExecutionStore(schema: configuration.schema, topics: configuration.topics,
                                         callbackBaseURL: configuration.callbackBaseURL)
        self.wake = wake
        self.streamHub = EventStreamHub(
            log: EventLog(schema: configuration.schema), pool: pool, pollInterval: configuration.stream.pollInterval,
            heartbeatInterval: configuration.stream.heartbeatInterval, logger: Logger(label: "planner.events"))
    }

    /// The planner's OpenAPI document, as compiled in from `API/openapi.json`.
    public static let document: APIDocument = {
        do {
            return try APIDocument(json: PackageResources.openapi_json)
        } catch {
            // Cannot happen for a build whose tests passed (APIDocumentTests reads it).
            fatalError("Services/Planner/App/API/openapi.json is not an OpenAPI document: \(error)")
        }
    }()

    /// Adds every `/v1` route to `router`, the document's routes and its 405 rule.
    public func addRoutes<Context: RequestContext>(to router: Router<Context>) {
        router.add(middleware: MethodNotAllowedMiddleware(document: Self.document))
        Self.document.addRoutes(to: router)
        let v1 = router.group("v1").add(middleware: ErrorMiddleware<Context>(service: "planner"))
        addTeamRoutes(to: v1)
        addAccountRoutes(to: v1)
        addGroupRoutes(to: v1)
        addPlanRoutes(to: v1)
        addExecutionRoutes(to: v1)
        addApprovalRoutes(to: v1)
        addCallbackRoutes(to: v1)
        addReadinessRoutes(to: v1)
        addComplianceRoutes(to: v1)
        addScheduleRoutes(to: v1)
        addEventStreamRoutes(to: v1)
    }

    /// Records who did what, in the caller's transaction.
    func audit(_ principal: Principal, team: TeamID?, action: String, type: String, id: String, detail: [String: String] = [:],
               on connection: PostgresConnection) async throws {
        try await AuditStore(schema: schema).record(actor: principal.subject, team: team, action: action, type: type, id: id,
                                                    detail: detail, on: connection)
    }

    /// Maps a unique violation on `constraint` to a 409 naming the field.
    func uniqueConflict<T: Sendable>(field: String, message: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PostgresError where error.isUniqueViolation {
            throw APIError.conflict(field: field, rule: "unique", message)
        }
    }
}
