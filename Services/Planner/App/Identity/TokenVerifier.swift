import Crypto
import Foundation
import MusterAPI
import _CryptoExtras

/// Checks a provider's JWT (an OIDC ID token, or an access token on the API)
/// against its JWKS: RS256 signature, issuer, audience, expiry (with a small
/// leeway for clock skew) and, for ID tokens, the nonce of the sign-in. Pure
/// given the key set and the time.
struct TokenVerifier: Sendable {
    var issuer: String
    var audience: String
    var leeway: TimeInterval = 60

    /// The verified claims, or the first check that failed.
    func verify(_ token: String, keys: JWKS, now: Date, nonce: String? = nil) throws -> [String: JSONClaim] {
        let jwt = try JWT(token)
        let alg = jwt.header["alg"]?.string ?? "none"
        guard alg == "RS256" else { throw TokenError.algorithm(alg) }
        let kid = jwt.header["kid"]?.string ?? ""
        guard let key = keys.keys[kid] ?? (keys.keys.count == 1 && kid.isEmpty ? keys.keys.values.first : nil) else {
            throw TokenError.unknownKey(kid)
        }
        let signature = _RSA.Signing.RSASignature(rawRepresentation: jwt.signature)
        guard key.isValidSignature(signature, for: SHA256.hash(data: jwt.signingInput), padding: .insecurePKCS1v1_5) else {
            throw TokenError.signature
        }
        let claims = jwt.claims
        guard claims["iss"]?.string == issuer else { throw TokenError.issuer }
        guard claims["aud"]?.strings.contains(audience) == true else { throw TokenError.audience }
        guard let exp = claims["exp"]?.number, now.timeIntervalSince1970 < exp + leeway else { throw TokenError.expired }
        if let nbf = claims["nbf"]?.number, now.timeIntervalSince1970 + leeway < nbf { throw TokenError.notYetValid }
        if let nonce, claims["nonce"]?.string != nonce { throw TokenError.nonce }
        return claims
    }
}

/// Which Muster team and role a person's identity-provider groups give:
/// `MUSTER_OIDC_GROUP_MAP="dr-admins=payments:admin,dr-ops=payments:operator"`.
/// A person in several mapped groups of one team gets the highest role; the
/// team is that of the first mapping (in the configured order) they match.
struct GroupMapping: Sendable, Equatable {
    struct Grant: Sendable, Equatable { var group: String; var team: String; var role: Role }
    var grants: [Grant]

    /// Parses the mapping; throws naming the entry at fault.
    init(_ text: String) throws {
        grants = try text.split(separator: ",").map { entry in
            let parts = entry.split(separator: "=", maxSplits: 1)
            let target = parts.count == 2 ? parts[1].split(separator: ":") : []
            guard parts.count == 2, target.count == 2, let role = Role(rawValue: String(target[1])),
                  !parts[0].trimmingCharacters(in: .whitespaces).isEmpty
            else { throw GroupMappingError(entry: String(entry)) }
            return Grant(group: parts[0].trimmingCharacters(in: .whitespaces), team: String(target[0]), role: role)
        }
    }

    struct GroupMappingError: Error, CustomStringConvertible {
        var entry: String
        var description: String { "group mapping entry \"\(entry)\" must be group=team:role (role viewer, operator or admin)" }
    }

    /// The team name and role for `groups`, or nil when no group is mapped.
    func grant(for groups: [String]) -> (team: String, role: Role)? {
        let member = Set(groups)
        guard let first = grants.first(where: { member.contains($0.group) }) else { return nil }
        let role = grants.filter { member.contains($0.group) && $0.team == first.team }.map(\.role).max()!
        return (first.team, role)
    }
}
