import Foundation
import MusterAPI
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Keeps the `tokens` table in step with `teams.v1` (the planner's issued
/// and revoked tokens, as SHA-256 digests). Runs inside the inbox
/// transaction; records of one team share a partition, so they arrive in
/// order, and a revocation that still arrives first is kept (never undone
/// by the issue that follows it).
struct TokenReplica: Sendable {
    let schema: String

    func handle(_ event: CloudEvent, on connection: PostgresConnection) async throws {
        // Tokens grant access: only the planner issues and revokes them.
        guard event.source == EventSource.planner else {
            throw UnprocessableEvent(
                "\(event.type) \(event.id): ce_source '\(event.source)' is not the planner's (\(EventSource.planner))")
        }
        switch event.type {
        case EventType.tokenIssued:
            let issued = try event.decode(TokenIssued.self)
            guard Role(rawValue: issued.role) != nil else {
                throw UnprocessableEvent("token.issued \(issued.tokenID): unknown role '\(issued.role)'")
            }
            let digest = issued.tokenSHA256.lowercased()
            guard digest.count == 64, digest.allSatisfy(\.isHexDigit) else {
                throw UnprocessableEvent("token.issued \(issued.tokenID): tokenSHA256 is not 64 hex digits")
            }
            try await connection.query(
                """
                INSERT INTO \(schema).tokens (token_id, team_id, subject, role, token_sha256, issued_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (token_id) DO UPDATE SET
                    team_id = EXCLUDED.team_id, subject = EXCLUDED.subject, role = EXCLUDED.role,
                    token_sha256 = EXCLUDED.token_sha256, issued_at = EXCLUDED.issued_at
                """,
                [issued.tokenID, issued.teamID, issued.subject, issued.role, digest, issued.issuedAt])
        case EventType.tokenRevoked:
            let revoked = try event.decode(TokenRevoked.self)
            try await connection.query(
                """
                INSERT INTO \(schema).tokens (token_id, team_id, revoked_at) VALUES ($1, $2, $3)
                ON CONFLICT (token_id) DO UPDATE SET revoked_at = COALESCE(tokens.revoked_at, EXCLUDED.revoked_at)
                """,
                [revoked.tokenID, revoked.teamID, revoked.revokedAt])
        default:
            // teams.v1 may carry other team events later; they are not ours.
            return
        }
    }
}
