import Crypto
import Foundation
import Hummingbird
import MusterPostgres

/// What a token may do. Each role includes the ones before it.
enum Role: String, Codable, Sendable, CaseIterable, Comparable {
    /// Read everything of the team.
    case viewer
    /// Also edit protection groups and plans, and run executions.
    case `operator`
    /// Also manage accounts and tokens.
    case admin

    static func < (lhs: Role, rhs: Role) -> Bool { lhs.rank < rhs.rank }
    private var rank: Int { Role.allCases.firstIndex(of: self)! }
}

/// Who is calling: from the bearer token, never from a body.
struct Principal: Sendable {
    /// The team, or nil for the bootstrap admin (which manages teams only).
    var teamID: UUID?
    /// The person or system the token was issued to (audit, `initiatedBy`).
    var subject: String
    /// What it may do.
    var role: Role

    /// The team, or 403 for the bootstrap admin.
    func team() throws -> UUID {
        guard let teamID else {
            throw APIError.forbidden("the bootstrap admin token manages teams and tokens only; use a team token")
        }
        return teamID
    }

    /// 403 unless the role is at least `role`.
    func require(_ role: Role) throws {
        guard self.role >= role else {
            throw APIError.forbidden("this needs the \(role.rawValue) role; your token has \(self.role.rawValue)")
        }
    }
}

/// Resolves bearer tokens. Tokens are stored as SHA-256 digests only.
struct Authenticator: Sendable {
    let schema: String
    let pool: PostgresPool
    let adminTokenDigest: [UInt8]?

    init(schema: String, pool: PostgresPool, adminToken: String?) {
        self.schema = schema
        self.pool = pool
        self.adminTokenDigest = adminToken.map(Self.digest)
    }

    static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// A fresh token: `mst_` and 32 random bytes in hex.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "mst_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The caller, or 401.
    func authenticate(_ request: Request) async throws -> Principal {
        guard let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer ") else {
            throw APIError.unauthenticated
        }
        let token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty, token.count <= 512 else { throw APIError.unauthenticated }
        let digest = Self.digest(token)
        // Digests compare in constant time whatever the token's length.
        if let adminTokenDigest, Self.constantTimeEqual(digest, adminTokenDigest) {
            return Principal(teamID: nil, subject: "bootstrap-admin", role: .admin)
        }
        let result = try await pool.query(
            "SELECT team_id, subject, role FROM \(schema).tokens WHERE token_hash = $1 AND revoked_at IS NULL",
            [digest])
        guard let row = result.rows.first, let role = Role(rawValue: try row.decode(String.self, "role")) else {
            throw APIError(status: .unauthorized, code: "unauthenticated",
                           message: "the token is unknown or revoked; ask your team admin for a new one")
        }
        return Principal(teamID: try row.decode(UUID.self, "team_id"), subject: try row.decode(String.self, "subject"),
                         role: role)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
