import Foundation
import Hummingbird
import MusterAPI
import MusterDomain
import MusterPostgres

/// A notifier caller; its team is the replica's `team_id`.
typealias Principal = MusterAPI.Principal<TeamID>

/// Resolves `Authorization: Bearer <token>` against the token replica by
/// SHA-256 digest. Every well-formed header costs one hash and one indexed
/// lookup whatever the token, so response time says nothing about how close
/// a guess was.
struct Authenticator: Sendable {
    let schema: String
    let pool: PostgresPool

    func authenticate(_ request: Request) async throws -> Principal {
        guard let token = BearerToken(request) else {
            throw APIError.missingToken(hint: "the same token as for the planner API")
        }
        // Malformed tokens are looked up too (then fail), for the timing reason above.
        let found = try await TokenReplica.principal(sha256: token.digestHex, schema: schema, pool: pool)
        guard token.isWellFormed, let found else {
            throw APIError.unknownToken(
                hint: "a token issued seconds ago may still be on its way to the notifier: retry")
        }
        return found
    }
}
