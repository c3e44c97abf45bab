import Crypto
import Foundation
import Hummingbird
import MusterPostgres

/// What a token may do; each role includes the ones before it (as in the planner).
enum Role: String, Sendable, CaseIterable, Comparable {
    /// List and read subscriptions and deliveries.
    case viewer
    /// Also create, change, delete, test and redeliver.
    case `operator`
    /// Everything an operator may.
    case admin

    static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    private var rank: Int { Role.allCases.firstIndex(of: self)! }
}

/// The caller, from the bearer token.
struct Principal: Sendable {
    var teamID: String
    var subject: String
    var role: Role

    /// 403 unless the role is at least `role`.
    func require(_ role: Role) throws {
        guard self.role >= role else {
            throw APIError.forbidden("this needs the \(role.rawValue) role; your token has \(self.role.rawValue)")
        }
    }
}

/// Resolves `Authorization: Bearer <token>` against the token replica by
/// SHA-256 digest. Every well-formed header costs one hash and one indexed
/// lookup whatever the token, so response time says nothing about how close
/// a guess was.
struct Authenticator: Sendable {
    let schema: String
    let pool: PostgresPool

    /// Longest token accepted; longer headers are hashed anyway (then fail).
    static let maxTokenLength = 512

    static func digestHex(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    func authenticate(_ request: Request) async throws -> Principal {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthenticated
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        let digest = Self.digestHex(token)
        let rows = try await pool.query(
            """
            SELECT team_id, subject, role FROM \(schema).tokens
            WHERE token_sha256 = $1 AND revoked_at IS NULL
            """, [digest]).rows
        guard !token.isEmpty, token.count <= Self.maxTokenLength, let row = rows.first,
              let role = Role(rawValue: try row.decode(String.self, "role"))
        else {
            throw APIError(status: .unauthorized, code: "unauthenticated",
                           message: "the token is unknown or revoked; ask your team admin for a new one "
                               + "(a token issued seconds ago may still be on its way to the notifier: retry)")
        }
        return Principal(teamID: try row.decode(String.self, "team_id"), subject: try row.decode(String.self, "subject"),
                         role: role)
    }
}
