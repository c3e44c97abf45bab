import Foundation
import Hummingbird
import MusterAPI
import MusterEvents
import MusterMessaging
import MusterPostgres

// Teams and tokens. The bootstrap admin creates teams and their first
// tokens; a team admin manages its own team's tokens.
extension PlannerAPI {
    struct TeamInput: Decodable { var name: String }
    struct TeamView: Encodable { var id: UUID; var name: String; var createdAt: Date }
    struct TokenInput: Decodable { var name: String; var subject: String; var role: Role }
    struct TokenView: Encodable {
        var id: UUID, teamId: UUID, name: String, subject: String, role: Role, createdAt: Date, revokedAt: Date?
        var token: String?
    }
    struct MeView: Encodable { var subject: String; var role: Role; var teamId: UUID? }

    func addTeamRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.get("me") { request, _ in
            let principal = try await auth.authenticate(request)
            return try JSONResponse.make(.ok, MeView(subject: principal.subject, role: principal.role,
                                                     teamId: principal.teamID))
        }
        v1.post("teams") { request, _ in
            let principal = try await auth.authenticate(request)
            guard principal.teamID == nil else { throw APIError.forbidden("only the bootstrap admin creates teams") }
            let input = try await JSONBody.decode(
                TeamInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
            let name = try validated { try FieldRules.name(input.name, field: "name", limits: limits) }
            let team = TeamView(id: UUID(), name: name, createdAt: Date())
            try await uniqueConflict(field: "name", message: "a team named \(name) exists; pick another name") {
                try await pool.transaction { connection in
                    try await connection.query(
                        "INSERT INTO \(schema).teams (id, name, created_at) VALUES ($1, $2, $3)",
                        [team.id, team.name, team.createdAt])
                    try await audit(principal, team: team.id, action: "team.create", type: "team",
                                    id: team.id.uuidString, on: connection)
                }
            }
            return try JSONResponse.make(.created, team)
        }
        v1.get("teams") { request, _ in
            let principal = try await auth.authenticate(request)
            let result = try await pool.query(
                "SELECT id, name, created_at FROM \(schema).teams WHERE $1::uuid IS NULL OR id = $1 ORDER BY lower(name)",
                [principal.teamID])
            let teams = try result.rows.map {
                TeamView(id: try $0.decode(UUID.self, "id"), name: try $0.decode(String.self, "name"),
                         createdAt: try $0.decode(Date.self, "created_at"))
            }
            return try JSONResponse.make(.ok, Page(items: teams, nextCursor: nil))
        }
        v1.post("teams/:teamId/tokens") { request, context in
            let principal = try await auth.authenticate(request)
            let team = try tokenTeam(principal, context)
            let input = try await JSONBody.decode(
                TokenInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
            let name = try validated { try FieldRules.name(input.name, field: "name", limits: limits) }
            let subject = try validated { try FieldRules.name(input.subject, field: "subject", limits: limits) }
            let secret = Authenticator.newToken()
            var view = TokenView(id: UUID(), teamId: team, name: name, subject: subject, role: input.role,
                                 createdAt: Date(), revokedAt: nil, token: nil)
            try await pool.transaction { connection in
                guard try await !connection.query("SELECT 1 FROM \(schema).teams WHERE id = $1", [team]).rows.isEmpty
                else { throw APIError.notFound("team") }
                try await connection.query(
                    """
                    INSERT INTO \(schema).tokens (id, team_id, name, subject, role, token_hash, created_by, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                    """,
                    [view.id, team, name, subject, input.role.rawValue, BearerToken.digest(secret), principal.subject,
                     view.createdAt])
                try await audit(principal, team: team, action: "token.create", type: "token", id: view.id.uuidString,
                                detail: ["role": input.role.rawValue, "subject": subject], on: connection)
                let issued = TokenIssued(
                    tokenID: view.id.uuidString.lowercased(), teamID: team.uuidString.lowercased(), subject: subject,
                    role: input.role.rawValue,
                    tokenSHA256: BearerToken.digestHex(secret),
                    issuedAt: view.createdAt)
                try await publishTeamEvent(team, type: EventType.tokenIssued, payload: issued, on: connection)
            }
            wake()
            view.token = secret
            return try JSONResponse.make(.created, view)
        }
        v1.get("teams/:teamId/tokens") { request, context in
            let principal = try await auth.authenticate(request)
            let team = try tokenTeam(principal, context)
            let result = try await pool.query(
                """
                SELECT id, team_id, name, subject, role, created_at, revoked_at FROM \(schema).tokens
                WHERE team_id = $1 ORDER BY created_at
                """, [team])
            let tokens = try result.rows.map { row in
                TokenView(id: try row.decode(UUID.self, "id"), teamId: try row.decode(UUID.self, "team_id"),
                          name: try row.decode(String.self, "name"), subject: try row.decode(String.self, "subject"),
                          role: Role(rawValue: try row.decode(String.self, "role")) ?? .viewer,
                          createdAt: try row.decode(Date.self, "created_at"),
                          revokedAt: try row.decode(Date?.self, "revoked_at"), token: nil)
            }
            return try JSONResponse.make(.ok, Page(items: tokens, nextCursor: nil))
        }
        v1.delete("teams/:teamId/tokens/:id") { request, context in
            let principal = try await auth.authenticate(request)
            let team = try tokenTeam(principal, context)
            let tokenID = try context.id(what: "token")
            try await pool.transaction { connection in
                let result = try await connection.query(
                    """
                    UPDATE \(schema).tokens SET revoked_at = coalesce(revoked_at, now())
                    WHERE id = $1 AND team_id = $2
                    """, [tokenID, team])
                guard result.affectedRows == 1 else { throw APIError.notFound("token") }
                try await audit(principal, team: team, action: "token.revoke", type: "token",
                                id: tokenID.uuidString, on: connection)
                try await publishTeamEvent(team, type: EventType.tokenRevoked, payload: TokenRevoked(
                    tokenID: tokenID.uuidString.lowercased(), teamID: team.uuidString.lowercased(), revokedAt: Date()),
                    on: connection)
            }
            wake()
            return JSONResponse.noContent()
        }
    }

    /// The team in the path, which the caller must administer (a team admin
    /// only its own team; another team's id answers 404).
    func tokenTeam(_ principal: Principal, _ context: some RequestContext) throws -> UUID {
        let team = try context.id("teamId", what: "team")
        if let own = principal.teamID {
            guard own == team else { throw APIError.notFound("team") }
            try principal.require(.admin)
        }
        return team
    }

    /// Owes a `teams.v1` event (key = team id) in the caller's transaction.
    func publishTeamEvent<T: Encodable>(_ team: UUID, type: String, payload: T, on connection: PostgresConnection)
        async throws {
        let key = team.uuidString.lowercased()
        try await Outbox(schema: schema).enqueue(OutboxMessage(
            topic: configuration.topics.teams, key: key,
            event: try CloudEvent(source: EventSource.planner, type: type, subject: key, payload: payload)), on: connection)
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
