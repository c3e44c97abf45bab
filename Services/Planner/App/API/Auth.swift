import Foundation
import Hummingbird
import MusterAPI
import MusterDomain
import MusterPostgres

/// A planner caller; `teamID` is nil for the bootstrap admin (which manages teams only).
typealias Principal = MusterAPI.Principal<TeamID?>

extension MusterAPI.Principal where Team == TeamID? {
    /// The team, or 403 for the bootstrap admin.
    func team() throws -> TeamID {
        guard let teamID else {
            throw APIError.forbidden("the bootstrap admin token manages teams and tokens only; use a team token")
        }
        return teamID
    }
}

/// Resolves bearer tokens against the team store's tokens (and the bootstrap admin token).
struct Authenticator: Sendable {
    let schema: String
    let pool: PostgresPool
    /// Where team tokens are looked up (Store/TeamStore.swift).
    let tokens: any TeamStoring
    let adminTokenDigest: [UInt8]?
    /// When OIDC is configured: bearer JWTs are the provider's access tokens.
    let oidc: OIDCClient?

    init(schema: String, pool: PostgresPool, tokens: any TeamStoring, adminToken: String?, oidc: OIDCClient? = nil) {
        self.schema = schema
        self.pool = pool
        self.tokens = tokens
        self.adminTokenDigest = adminToken.map(BearerToken.digest)
        self.oidc = oidc
    }

    /// A fresh token: `mst_` and 32 random bytes in hex.
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return "mst_" + bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The caller, or 401.
    func authenticate(_ request: Request) async throws -> Principal {
        // Provider JWTs are longer than the planner's own tokens, so they are recognised first.
        if let oidc, let header = request.headers[.authorization], header.lowercased().hasPrefix("bearer "),
           case let jwt = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces),
           jwt.count <= 16384, JWT.looksLikeJWT(jwt) {
            return try await authenticate(jwt: jwt, with: oidc)
        }
        guard let token = BearerToken(request), token.isWellFormed else {
            throw APIError.missingToken(hint: "ask your team admin for one")
        }
        return try await authenticate(token)
    }

    /// The holder of `token`, or 401.
    func authenticate(_ token: BearerToken) async throws -> Principal {
        let digest = token.digest
        // Digests compare in constant time whatever the token's length.
        if let adminTokenDigest, BearerToken.constantTimeEqual(digest, adminTokenDigest) {
            return Principal(teamID: nil, subject: "bootstrap-admin", role: .admin)
        }
        guard let principal = try await tokens.principal(tokenDigest: digest) else { throw APIError.unknownToken() }
        return principal
    }
}

extension Authenticator {
    /// The holder of a provider access token (OIDC on the API): RS256 against
    /// the provider's JWKS, issuer, the API audience, expiry; groups mapped to a team and role.
    func authenticate(jwt: String, with oidc: OIDCClient) async throws -> Principal {
        do {
            let claims = try await oidc.verify(jwt, audience: oidc.settings.apiAudience)
            return try await oidc.principal(claims, pool: pool, schema: schema)
        } catch let error as TokenError {
            throw APIError.unknownToken(hint: "provider token refused: \(error.description)")
        }
    }
}
