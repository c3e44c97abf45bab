import Crypto
import Foundation
import _CryptoExtras

/// A compact JWS (RFC 7515) split into its parts; nothing is trusted until
/// `TokenVerifier` has checked the signature and the claims.
struct JWT: Sendable {
    /// The decoded JOSE header.
    var header: [String: JSONClaim]
    /// The decoded claims.
    var claims: [String: JSONClaim]
    /// `base64url(header).base64url(payload)`: what the signature covers.
    var signingInput: [UInt8]
    /// The signature bytes.
    var signature: [UInt8]

    /// Parses `token`; throws `TokenError.malformed` for anything that is not three base64url JSON parts.
    init(_ token: String) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerBytes = Base64URL.decode(parts[0]), let payloadBytes = Base64URL.decode(parts[1]),
              let signature = Base64URL.decode(parts[2]),
              let header = try? JSONDecoder().decode([String: JSONClaim].self, from: Data(headerBytes)),
              let claims = try? JSONDecoder().decode([String: JSONClaim].self, from: Data(payloadBytes))
        else { throw TokenError.malformed }
        self.header = header
        self.claims = claims
        self.signingInput = Array(parts[0].utf8) + [UInt8(ascii: ".")] + Array(parts[1].utf8)
        self.signature = signature
    }

    /// Whether `text` looks like a JWS at all (two dots, a JSON header): bearer tokens that do are checked as JWTs.
    static func looksLikeJWT(_ text: String) -> Bool {
        text.hasPrefix("eyJ") && text.split(separator: ".", omittingEmptySubsequences: false).count == 3
    }
}

/// One JSON value of a header or claim set.
enum JSONClaim: Codable, Sendable, Equatable {
    case string(String), number(Double), bool(Bool), array([JSONClaim]), object([String: JSONClaim]), null

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONClaim].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONClaim].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    var string: String? { if case .string(let value) = self { value } else { nil } }
    var number: Double? { if case .number(let value) = self { value } else { nil } }
    /// A string, or the strings of an array (`aud`, `groups`).
    var strings: [String] {
        switch self {
        case .string(let value): [value]
        case .array(let values): values.compactMap(\.string)
        default: []
        }
    }
}

/// Base64url without padding (RFC 7515 §2).
enum Base64URL {
    static func decode(_ text: Substring) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }

    static func encode(_ bytes: some DataProtocol) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Why a token was refused; the message names the check (never the token).
enum TokenError: Error, Equatable, CustomStringConvertible {
    case malformed
    case algorithm(String)
    case unknownKey(String)
    case signature
    case issuer
    case audience
    case expired
    case notYetValid
    case nonce
    case noTeam

    var description: String {
        switch self {
        case .malformed: "the token is not a JWT"
        case .algorithm(let alg): "alg \(alg) is not accepted; tokens must be RS256"
        case .unknownKey(let kid): "no key \(kid) in the provider's JWKS"
        case .signature: "the signature does not verify against the provider's JWKS"
        case .issuer: "iss is not the configured issuer"
        case .audience: "aud does not name this client"
        case .expired: "the token has expired"
        case .notYetValid: "the token is not valid yet"
        case .nonce: "the nonce does not match this sign-in"
        case .noTeam: "none of the token's groups maps to a Muster team"
        }
    }
}

/// RSA public keys of a JWK set (RFC 7517), by `kid`.
struct JWKS: Sendable {
    var keys: [String: _RSA.Signing.PublicKey]

    /// Reads the RSA signing keys of a JWKS document; other keys are skipped.
    init(json: [UInt8]) throws {
        struct Document: Decodable {
            struct Key: Decodable { var kty: String; var kid: String?; var use: String?; var n: String?; var e: String? }
            var keys: [Key]
        }
        let document = try JSONDecoder().decode(Document.self, from: Data(json))
        var keys: [String: _RSA.Signing.PublicKey] = [:]
        for key in document.keys where key.kty == "RSA" && (key.use ?? "sig") == "sig" {
            guard let n = key.n.flatMap({ Base64URL.decode($0[...]) }), let e = key.e.flatMap({ Base64URL.decode($0[...]) })
            else { continue }
            keys[key.kid ?? ""] = try _RSA.Signing.PublicKey(n: n, e: e)
        }
        self.keys = keys
    }
}
