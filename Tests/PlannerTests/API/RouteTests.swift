import Foundation
import Hummingbird
import Logging
import MusterAPI
import MusterDomain
import MusterEvents
import MusterPostgres
@testable import PlannerApp
import TestSupport
import Testing

/// Stores for route tests with no database: they know a few tokens (the one
/// lookup a request may make before it is refused) and fail the test if any
/// other operation is reached — every answer below is decided by the handler's
/// authorize and validate steps alone.
struct UnreachableStores: TeamStoring, AccountStoring, GroupStoring, PlanStoring {
    /// Token digest → the caller it names.
    var known: [[UInt8]: PlannerApp.Principal] = [:]

    struct Reached: Error {}

    func reached(_ operation: String, sourceLocation: SourceLocation = #_sourceLocation) -> Reached {
        Issue.record("the route reached the store (\(operation)) before refusing", sourceLocation: sourceLocation)
        return Reached()
    }

    func principal(tokenDigest digest: [UInt8]) async throws -> PlannerApp.Principal? { known[digest] }
    func create(_ team: PlannerAPI.TeamView, by actor: String) async throws { throw reached("create team") }
    func teams(visibleTo scope: TeamID?) async throws -> [PlannerAPI.TeamView] { throw reached("teams") }
    func issue(_ token: PlannerAPI.TokenView, secret: String, by actor: String) async throws { throw reached("issue") }
    func tokens(of team: TeamID) async throws -> [PlannerAPI.TokenView] { throw reached("tokens") }
    func revoke(_ token: UUID, of team: TeamID, by actor: String) async throws { throw reached("revoke") }
    func save(_ account: AccountWrite, id: UUID, existing: Bool, team: TeamID, by actor: String) async throws
        -> PlannerAPI.AccountView { throw reached("save account") }
    func accounts(of team: TeamID) async throws -> [PlannerAPI.AccountView] { throw reached("accounts") }
    func account(_ id: UUID, of team: TeamID) async throws -> PlannerAPI.AccountView? { throw reached("account") }
    func remove(_ id: UUID, of team: TeamID, by actor: String) async throws { throw reached("remove") }
    func remove(_ id: PlanID, of team: TeamID, by actor: String) async throws { throw reached("remove plan") }
    func sourceServers(of team: TeamID, accountID: String?, region: String?, state: String?) async throws
        -> [PlannerAPI.ServerView] { throw reached("source servers") }
    func save(id: UUID, existing: Bool, name: String, region: String, selection: GroupSelection, team: TeamID,
              by actor: String) async throws -> PlannerAPI.GroupView { throw reached("save group") }
    func groups(of team: TeamID) async throws -> [PlannerAPI.GroupView] { throw reached("groups") }
    func group(_ id: UUID, of team: TeamID) async throws -> PlannerAPI.GroupView? { throw reached("group") }
    func save(_ plan: ValidatedPlan, id: PlanID, existing: Bool, team: TeamID, by actor: String,
              validateReferences: @Sendable ([UUID: Int]) throws -> Void) async throws -> PlannerAPI.PlanView {
        throw reached("save plan")
    }
    func plans(of team: TeamID) async throws -> [PlannerAPI.PlanView] { throw reached("plans") }
    func plan(_ id: PlanID, of team: TeamID) async throws -> PlannerAPI.PlanView? { throw reached("plan") }
}

/// The planner's handlers through the router's responder (no socket, no
/// database): authorization refusals, 422s naming the field, 404s and 405s.
@Suite("Planner routes without a database")
struct PlannerRouteTests {
    static let adminToken = "route-test-admin-token"
    let team = TeamID.named("route-team")
    let viewer = Authenticator.newToken(), operatorToken = Authenticator.newToken(), admin = Authenticator.newToken()
    let client: RouterClient

    init() {
        var stores = UnreachableStores()
        stores.known[BearerToken.digest(viewer)] = PlannerApp.Principal(teamID: team, subject: "vera", role: .viewer)
        stores.known[BearerToken.digest(operatorToken)] = PlannerApp.Principal(teamID: team, subject: "otto", role: .operator)
        stores.known[BearerToken.digest(admin)] = PlannerApp.Principal(teamID: team, subject: "ada", role: .admin)
        // Lazy: the pool never connects (nothing here reaches PostgreSQL).
        let pool = PostgresPool(configuration: .init(url: "postgresql://127.0.0.1:1/none"), logger: Logger(label: "test"))
        let router = Router(context: LocalRequestContext.self)
        PlannerAPI(configuration: PlannerConfiguration(adminToken: Self.adminToken), pool: pool, teams: stores,
                   accounts: stores, groups: stores, plans: stores, wake: {}).addRoutes(to: router)
        client = RouterClient(router)
    }

    struct ErrorBody: Decodable {
        struct Detail: Decodable { var code: String; var field: String?; var rule: String?; var message: String }
        var error: Detail
    }

    func send(_ method: HTTPRequest.Method, _ path: String, token: String?, body: String = "")
        async throws -> (status: HTTPResponse.Status, headers: HTTPFields, error: ErrorBody.Detail?)
    {
        var headers: HTTPFields = [:]
        if let token { headers[.authorization] = "Bearer \(token)" }
        let answer = try await client.send(method, path, body: body, headers: headers)
        return (answer.status, answer.headers, try? JSONDecoder().decode(ErrorBody.self, from: Data(answer.body)).error)
    }

    @Test("no token, or one the team store does not know: 401 before any other store is asked")
    func unauthenticated() async throws {
        for (method, path) in [(HTTPRequest.Method.get, "/v1/plans"), (.post, "/v1/teams"), (.get, "/v1/source-servers"),
                               (.delete, "/v1/accounts/\(UUID())")] {
            let none = try await send(method, path, token: nil, body: #"{"name":"x"}"#)
            #expect(none.status == .unauthorized, "\(method) \(path)")
            #expect(none.error?.code == "unauthenticated")
            let unknown = try await send(method, path, token: Authenticator.newToken(), body: #"{"name":"x"}"#)
            #expect(unknown.status == .unauthorized, "\(method) \(path)")
            #expect(unknown.error?.message.contains("unknown or revoked") == true)
        }
    }

    @Test("roles: a viewer cannot change plans or groups, an operator cannot remove accounts; 403 names the role")
    func forbiddenByRole() async throws {
        let plan = try await send(.post, "/v1/plans", token: viewer, body: #"{"name":"p","waves":[]}"#)
        #expect(plan.status == .forbidden)
        #expect(plan.error?.message.contains("operator role") == true)
        let group = try await send(.delete, "/v1/protection-groups/\(UUID())", token: viewer)
        #expect(group.status == .forbidden)
        let account = try await send(.delete, "/v1/accounts/\(UUID())", token: operatorToken)
        #expect(account.status == .forbidden)
        #expect(account.error?.message.contains("admin role") == true)
        let tokens = try await send(.get, "/v1/teams/\(team)/tokens", token: operatorToken)
        #expect(tokens.status == .forbidden)
        // Only the bootstrap admin creates teams; it holds no team, so team resources refuse it.
        let createTeam = try await send(.post, "/v1/teams", token: admin, body: #"{"name":"other"}"#)
        #expect(createTeam.status == .forbidden)
        let plans = try await send(.get, "/v1/plans", token: Self.adminToken)
        #expect(plans.status == .forbidden)
        #expect(plans.error?.message.contains("bootstrap admin") == true)
    }

    @Test("422 names the field and rule; nothing is stored")
    func validation() async throws {
        let cases: [(HTTPRequest.Method, String, String, String, String, String)] = [
            (.post, "/v1/teams", Self.adminToken, #"{"name":""}"#, "name", "length"),
            (.post, "/v1/plans", operatorToken, #"{"name":"p","waves":[]}"#, "waves", "minItems"),
            (.put, "/v1/plans/\(UUID())", operatorToken, #"{"name":"p","waves":[]}"#, "waves", "minItems"),
            (.post, "/v1/protection-groups", operatorToken, #"{"name":"web","region":"us-east-1","sourceServerIds":[]}"#,
             "sourceServerIds", "minItems"),
            (.post, "/v1/accounts", admin,
             #"{"awsAccountId":"123","name":"prod","regions":["us-east-1"],"credentials":{"type":"ASSUME_ROLE","roleArn":"arn:aws:iam::123456789012:role/x"}}"#,
             "awsAccountId", "format"),
            (.post, "/v1/teams/\(team)/tokens", admin, #"{"name":"ci","subject":"","role":"operator"}"#, "subject", "length"),
        ]
        for (method, path, token, body, field, rule) in cases {
            let answer = try await send(method, path, token: token, body: body)
            #expect(answer.status == .unprocessableContent, "\(method) \(path)")
            #expect(answer.error?.field == field, "\(method) \(path)")
            #expect(answer.error?.rule == rule, "\(method) \(path): \(answer.error?.message ?? "")")
        }
    }

    @Test("a plan id that is no UUID in a body or a query is a 4xx naming planId, before any store is asked")
    func malformedPlanIDs() async throws {
        for (body, rule, words) in [(#"{"planId":"plan-1","type":"DRILL"}"#, "format", "plan id must be a UUID"),
                                    (#"{"planId":7,"type":"DRILL"}"#, "type", "planId must be")] {
            let answer = try await send(.post, "/v1/executions", token: operatorToken, body: body)
            #expect(answer.status == .unprocessableContent, "\(body)")
            #expect(answer.error?.field == "planId" && answer.error?.rule == rule, "\(body)")
            #expect(answer.error?.message.contains(words) == true, "\(answer.error?.message ?? "")")
        }
        for path in ["/v1/executions?planId=plan-1", "/v1/events/stream?planId=plan-1"] {
            let answer = try await send(.get, path, token: viewer)
            #expect(answer.status == .badRequest, "\(path)")
            #expect(answer.error?.field == "planId" && answer.error?.rule == "format", "\(path)")
        }
    }

    @Test("malformed ids and another team's tokens answer 404 naming the resource")
    func notFound() async throws {
        for (path, what) in [("/v1/plans/not-a-uuid", "plan"), ("/v1/protection-groups/7", "protection group"),
                             ("/v1/accounts/x", "account")] {
            let answer = try await send(.get, path, token: viewer)
            #expect(answer.status == .notFound, "\(path)")
            #expect(answer.error?.message.contains(what) == true, "\(path)")
        }
        let other = try await send(.get, "/v1/teams/\(UUID())/tokens", token: admin)
        #expect(other.status == .notFound)
        let token = try await send(.delete, "/v1/teams/\(team)/tokens/nope", token: admin)
        #expect(token.status == .notFound)
    }

    @Test("an undocumented method on a documented path is 405 with Allow, before authentication")
    func methodNotAllowed() async throws {
        let answer = try await send(.patch, "/v1/accounts/\(UUID())", token: nil)
        #expect(answer.status == .methodNotAllowed)
        #expect(answer.headers[.allow] == "DELETE, GET, PUT")
        let teams = try await send(.delete, "/v1/teams", token: Self.adminToken)
        #expect(teams.status == .methodNotAllowed)
        #expect(teams.headers[.allow] == "GET, POST")
    }

    @Test("/v1/me answers from the token alone")
    func me() async throws {
        let answer = try await client.send(.get, "/v1/me", headers: [.authorization: "Bearer \(operatorToken)"])
        #expect(answer.status == .ok)
        let me = try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]
        #expect(me?["subject"] as? String == "otto")
        #expect(me?["role"] as? String == "operator")
        #expect(me?["teamId"] as? String == team.rawValue, "the lowercase UUID, as every id is written")
    }

    @Test("a corrupt team or plan id in a stored execution document is an error naming the id, not a crash")
    func corruptStoredID() throws {
        let state = Harness(waves: [("db", [], 1)]).state
        let text = String(decoding: try EventCoding.encoder.encode(state), as: UTF8.self)
        #expect(try ExecutionStore.decode(text) == state, "the stored document reads back")
        for (id, kind) in [(state.teamID.rawValue, "team id"), (state.planID.rawValue, "plan id")] {
            #expect(text.contains("\"\(id)\""))
            let corrupt = text.replacingOccurrences(of: "\"\(id)\"", with: "\"exec-1\"")
            do {
                _ = try ExecutionStore.decode(corrupt)
                Issue.record("a document with a \(kind) of exec-1 decoded")
            } catch {
                #expect("\(error)".contains("\(kind) must be a UUID"), "\(error)")
                #expect("\(error)".contains("exec-1"))
            }
        }
    }
}
