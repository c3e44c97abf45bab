import Crypto
import Foundation
import Hummingbird

/// The token of `Authorization: Bearer <token>`. Services store and look up
/// tokens by SHA-256 digest only, so the token itself never leaves this value:
/// it is not printed, and only its digest is exposed.
public struct BearerToken: Sendable, CustomStringConvertible {
    /// Longest token accepted.
    public static let maxLength = 512

    private let token: String

    /// The bearer token of `request`, or nil without an `Authorization: Bearer` header.
    public init?(_ request: Request) {
        guard let header = request.headers[.authorization] else { return nil }
        self.init(authorization: header)
    }

    /// The token of an `Authorization` header value (scheme case-insensitive,
    /// surrounding spaces trimmed), or nil for another scheme.
    public init?(authorization header: String) {
        guard header.lowercased().hasPrefix("bearer ") else { return nil }
        token = String(header.dropFirst("bearer ".count)).trimmingCharacters(in: .whitespaces)
    }

    /// Non-empty and at most `maxLength` characters; anything else can never match.
    public var isWellFormed: Bool { !token.isEmpty && token.count <= Self.maxLength }

    /// The SHA-256 digest, as stored by the planner.
    public var digest: [UInt8] { Self.digest(token) }

    /// The SHA-256 digest in lowercase hex, as carried by `token.issued` events.
    public var digestHex: String { Self.digestHex(token) }

    /// Never the token.
    public var description: String { "BearerToken(redacted)" }

    /// The SHA-256 digest of `token`.
    public static func digest(_ token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }

    /// The SHA-256 digest of `token` in lowercase hex.
    public static func digestHex(_ token: String) -> String {
        digest(token).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether two digests are equal, in time independent of where they differ.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
