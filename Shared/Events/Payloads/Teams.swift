import Foundation
import MusterDomain

// `teams.v1`, key = team id: the planner publishes each API token it issues
// or revokes — as a SHA-256 digest, never the token — so that services
// serving their own part of the API (the notifier's subscriptions) accept
// the same bearer tokens without reading the planner's tables.

/// `token.issued`: a team token exists.
public struct TokenIssued: Codable, Sendable, Equatable {
    /// The token's id.
    public var tokenID: String
    /// The team it belongs to.
    public var teamID: TeamID
    /// The person or system it was issued to (audit, `initiatedBy`).
    public var subject: String
    /// `viewer`, `operator` or `admin` (each includes the ones before it).
    public var role: String
    /// Lowercase hex SHA-256 of the token's UTF-8 bytes.
    public var tokenSHA256: String
    /// When it was issued.
    public var issuedAt: Date

    /// Creates the payload.
    public init(tokenID: String, teamID: TeamID, subject: String, role: String, tokenSHA256: String, issuedAt: Date) {
        self.tokenID = tokenID
        self.teamID = teamID
        self.subject = subject
        self.role = role
        self.tokenSHA256 = tokenSHA256
        self.issuedAt = issuedAt
    }
}

/// `token.revoked`: the token no longer authenticates anywhere.
public struct TokenRevoked: Codable, Sendable, Equatable {
    /// The token's id.
    public var tokenID: String
    /// The team it belonged to.
    public var teamID: TeamID
    /// When it was revoked.
    public var revokedAt: Date

    /// Creates the payload.
    public init(tokenID: String, teamID: TeamID, revokedAt: Date) {
        self.tokenID = tokenID
        self.teamID = teamID
        self.revokedAt = revokedAt
    }
}
