import Foundation
import Hummingbird
import MusterAPI
import MusterDomain

// Teams and tokens. The bootstrap admin creates teams and their first
// tokens; a team admin manages its own team's tokens. SQL: Store/TeamStore.swift.
extension PlannerAPI {
    struct TeamInput: Decodable { var name: String }
    struct TeamView: Encodable { var id: TeamID; var name: String; var createdAt: Date }
    struct TokenInput: Decodable { var name: String; var subject: String; var role: Role }
    struct TokenView: Encodable {
        var id: UUID, teamId: TeamID, name: String, subject: String, role: Role, createdAt: Date, revokedAt: Date?
        var token: String?
    }
    struct MeView: Encodable { var subject: String; var role: Role; var teamId: TeamID? }

    func addTeamRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.get("me") { request, _ in try await me(request) }
        v1.post("teams") { request, _ in try await createTeam(request) }
        v1.get("teams") { request, _ in try await listTeams(request) }
        v1.post("teams/:teamId/tokens") { request, context in try await issueToken(request, context) }
        v1.get("teams/:teamId/tokens") { request, context in try await listTokens(request, context) }
        v1.delete("teams/:teamId/tokens/:id") { request, context in try await revokeToken(request, context) }
    }

    func me(_ request: Request) async throws -> Response {
        let principal = try await auth.authenticate(request)
        return try JSONResponse.make(.ok, MeView(subject: principal.subject, role: principal.role, teamId: principal.teamID))
    }

    func createTeam(_ request: Request) async throws -> Response {
        let principal = try await auth.authenticate(request)
        guard principal.teamID == nil else { throw APIError.forbidden("only the bootstrap admin creates teams") }
        let input = try await JSONBody.decode(TeamInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
        let name = try validated { try FieldRules.name(input.name, field: "name", limits: limits) }
        let team = TeamView(id: .random(), name: name, createdAt: Date())
        try await uniqueConflict(field: "name", message: "a team named \(name) exists; pick another name") {
            try await teams.create(team, by: principal.subject)
        }
        return try JSONResponse.make(.created, team)
    }

    func listTeams(_ request: Request) async throws -> Response {
        let principal = try await auth.authenticate(request)
        return try JSONResponse.make(.ok, Page(items: try await teams.teams(visibleTo: principal.teamID), nextCursor: nil))
    }

    func issueToken(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try tokenTeam(principal, context)
        let input = try await JSONBody.decode(TokenInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
        let name = try validated { try FieldRules.name(input.name, field: "name", limits: limits) }
        let subject = try validated { try FieldRules.name(input.subject, field: "subject", limits: limits) }
        let secret = Authenticator.newToken()
        var view = TokenView(id: UUID(), teamId: team, name: name, subject: subject, role: input.role,
                             createdAt: Date(), revokedAt: nil, token: nil)
        try await teams.issue(view, secret: secret, by: principal.subject)
        wake()
        view.token = secret
        return try JSONResponse.make(.created, view)
    }

    func listTokens(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try tokenTeam(principal, context)
        return try JSONResponse.make(.ok, Page(items: try await teams.tokens(of: team), nextCursor: nil))
    }

    func revokeToken(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try tokenTeam(principal, context)
        try await teams.revoke(try context.id(what: "token"), of: team, by: principal.subject)
        wake()
        return JSONResponse.noContent()
    }

    /// The team in the path, which the caller must administer (a team admin
    /// only its own team; another team's id answers 404).
    func tokenTeam(_ principal: Principal, _ context: some RequestContext) throws -> TeamID {
        let team = try context.id(TeamID.self, "teamId", what: "team")
        if let own = principal.teamID {
            guard own == team else { throw APIError.notFound("team") }
            try principal.require(.admin)
        }
        return team
    }

    /// Runs a pure check, turning `ValidationFailure` into a 422.
    func validated<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let failure as ValidationFailure {
            throw APIError.validation(failure)
        }
    }
}
