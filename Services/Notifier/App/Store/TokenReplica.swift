import Foundation
import MusterAPI
import MusterDomain
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres

/// Keeps the `tokens` table in step with `teams.v1` (the planner's issued
/// and revoked tokens, as SHA-256 digests). Runs inside the inbox
/// transaction; records of one team share a partition, so they arrive in
/// order, and a revocation that still arrives first is kept (never undone
/// by the issue that follows it). The API's token look-up
/// (`Tokens/Authenticator`) reads the same table through ``principal(sha256:schema:pool:)``.
struct TokenReplica: Sendable {
    let schema: String
    /// `teams.v1`'s token events; other team events that may come later are not ours and are skipped.
    private let handlers: EventHandlers

    init(schema: String) {
        self.schema = schema
        var handlers = EventHandlers(
            unregistered: .skip, onlyFrom: EventSource.planner,
            // Tokens grant access: only the planner issues and revokes them.
            refusal: "is not the planner's (\(EventSource.planner))")
        handlers.register(TokenIssued.self) { issued, context in
            guard Role(rawValue: issued.role) != nil else {
                throw UnprocessableEvent("token.issued \(issued.tokenID): unknown role '\(issued.role)'")
            }
            let digest = issued.tokenSHA256.lowercased()
            guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw UnprocessableEvent("token.issued \(issued.tokenID): tokenSHA256 is not 64 hex digits")
            }
            try await context.transaction.query(
                """
                INSERT INTO \(schema).tokens (token_id, team_id, subject, role, token_sha256, issued_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (token_id) DO UPDATE SET
                    team_id = EXCLUDED.team_id, subject = EXCLUDED.subject, role = EXCLUDED.role,
                    token_sha256 = EXCLUDED.token_sha256, issued_at = EXCLUDED.issued_at
                """,
                [issued.tokenID, issued.teamID.rawValue, issued.subject, issued.role, digest, issued.issuedAt])
        }
        handlers.register(TokenRevoked.self) { revoked, context in
            try await context.transaction.query(
                """
                INSERT INTO \(schema).tokens (token_id, team_id, revoked_at) VALUES ($1, $2, $3)
                ON CONFLICT (token_id) DO UPDATE SET revoked_at = COALESCE(tokens.revoked_at, EXCLUDED.revoked_at)
                """,
                [revoked.tokenID, revoked.teamID.rawValue, revoked.revokedAt])
        }
        self.handlers = handlers
    }

    func handle(_ event: CloudEvent, _ record: KafkaRecord, on connection: PostgresConnection) async throws {
        try await handlers.handle(event, record: record, transaction: connection)
    }

    /// The unrevoked token whose SHA-256 is `digest` (lowercase hex) as its principal; nil when there is
    /// none or its role is unknown. One indexed look-up whatever the digest (the API's timing reason).
    static func principal(sha256 digest: String, schema: String, pool: PostgresPool) async throws -> Principal? {
        let rows = try await pool.query(
            """
            SELECT team_id, subject, role FROM \(schema).tokens
            WHERE token_sha256 = $1 AND revoked_at IS NULL
            """, [digest]).rows
        guard let row = rows.first, let role = Role(rawValue: try row.decode(String.self, "role")) else { return nil }
        return Principal(teamID: try row.decode(TeamID.self, "team_id"), subject: try row.decode(String.self, "subject"),
                         role: role)
    }
}
