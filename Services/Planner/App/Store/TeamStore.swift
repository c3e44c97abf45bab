import Foundation
import MusterAPI
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Teams and their API tokens. A protocol because the API's route tests run
/// without a database (a second implementation that fails if reached).
protocol TeamStoring: Sendable {
    /// The live token with SHA-256 `digest`, as a caller; nil if unknown or revoked.
    func principal(tokenDigest digest: [UInt8]) async throws -> Principal?
    /// Stores `team` with its audit row.
    func create(_ team: PlannerAPI.TeamView, by actor: String) async throws
    /// The teams `scope` may see (all for nil), by name.
    func teams(visibleTo scope: TeamID?) async throws -> [PlannerAPI.TeamView]
    /// Stores `token` (hashed `secret`) with its audit row and `token.issued` event; 404 for an unknown team.
    func issue(_ token: PlannerAPI.TokenView, secret: String, by actor: String) async throws
    /// A team's tokens, oldest first (no secrets).
    func tokens(of team: TeamID) async throws -> [PlannerAPI.TokenView]
    /// Revokes a token of `team` with its audit row and `token.revoked` event; 404 if it is not the team's.
    func revoke(_ token: UUID, of team: TeamID, by actor: String) async throws
}

/// ``TeamStoring`` on PostgreSQL: `teams`, `tokens`, `audit`, the outbox (`teams.v1`).
struct TeamStore: TeamStoring {
    let schema: String
    let pool: PostgresPool
    let topics: Topics

    var auditLog: AuditStore { AuditStore(schema: schema) }

    func principal(tokenDigest digest: [UInt8]) async throws -> Principal? {
        let result = try await pool.query(
            "SELECT team_id, subject, role FROM \(schema).tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            [digest])
        guard let row = result.rows.first, let role = Role(rawValue: try row.decode(String.self, "role")) else {
            return nil
        }
        return Principal(teamID: try row.decode(TeamID.self, "team_id"), subject: try row.decode(String.self, "subject"),
                         role: role)
    }

    func create(_ team: PlannerAPI.TeamView, by actor: String) async throws {
        try await pool.transaction { connection in
            try await connection.query(
                "INSERT INTO \(schema).teams (id, name, created_at) VALUES ($1, $2, $3)",
                [team.id, team.name, team.createdAt])
            try await auditLog.record(actor: actor, team: team.id, action: "team.create", type: "team",
                                      id: team.id.uuid.uuidString, on: connection)
        }
    }

    func teams(visibleTo scope: TeamID?) async throws -> [PlannerAPI.TeamView] {
        let result = try await pool.query(
            "SELECT id, name, created_at FROM \(schema).teams WHERE $1::uuid IS NULL OR id = $1 ORDER BY lower(name)",
            [scope])
        return try result.rows.map {
            PlannerAPI.TeamView(id: try $0.decode(TeamID.self, "id"), name: try $0.decode(String.self, "name"),
                                createdAt: try $0.decode(Date.self, "created_at"))
        }
    }

    func issue(_ token: PlannerAPI.TokenView, secret: String, by actor: String) async throws {
        let team = token.teamId
        try await pool.transaction { connection in
            guard try await !connection.query("SELECT 1 FROM \(schema).teams WHERE id = $1", [team]).rows.isEmpty
            else { throw APIError.notFound("team") }
            try await connection.query(
                """
                INSERT INTO \(schema).tokens (id, team_id, name, subject, role, token_hash, created_by, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                """,
                [token.id, team, token.name, token.subject, token.role.rawValue, BearerToken.digest(secret), actor,
                 token.createdAt])
            try await auditLog.record(actor: actor, team: team, action: "token.create", type: "token",
                                      id: token.id.uuidString,
                                      detail: ["role": token.role.rawValue, "subject": token.subject], on: connection)
            let issued = TokenIssued(
                tokenID: token.id.uuidString.lowercased(), teamID: team, subject: token.subject,
                role: token.role.rawValue,
                tokenSHA256: BearerToken.digestHex(secret),
                issuedAt: token.createdAt)
            try await Outbox(schema: schema).owe(issued, source: EventSource.planner, topics: topics, on: connection)
        }
    }

    func tokens(of team: TeamID) async throws -> [PlannerAPI.TokenView] {
        let result = try await pool.query(
            """
            SELECT id, team_id, name, subject, role, created_at, revoked_at FROM \(schema).tokens
            WHERE team_id = $1 ORDER BY created_at
            """, [team])
        return try result.rows.map { row in
            PlannerAPI.TokenView(
                id: try row.decode(UUID.self, "id"), teamId: try row.decode(TeamID.self, "team_id"),
                name: try row.decode(String.self, "name"), subject: try row.decode(String.self, "subject"),
                role: Role(rawValue: try row.decode(String.self, "role")) ?? .viewer,
                createdAt: try row.decode(Date.self, "created_at"),
                revokedAt: try row.decode(Date?.self, "revoked_at"), token: nil)
        }
    }

    func revoke(_ tokenID: UUID, of team: TeamID, by actor: String) async throws {
        try await pool.transaction { connection in
            let result = try await connection.query(
                """
                UPDATE \(schema).tokens SET revoked_at = coalesce(revoked_at, now())
                WHERE id = $1 AND team_id = $2
                """, [tokenID, team])
            guard result.affectedRows == 1 else { throw APIError.notFound("token") }
            try await auditLog.record(actor: actor, team: team, action: "token.revoke", type: "token",
                                      id: tokenID.uuidString, on: connection)
            try await Outbox(schema: schema).owe(
                TokenRevoked(tokenID: tokenID.uuidString.lowercased(), teamID: team,
                             revokedAt: Date()),
                source: EventSource.planner, topics: topics, on: connection)
        }
    }
}
