import Crypto
import Foundation
import MusterAPI
import MusterDomain
import MusterPostgres

/// Console sessions, stored server-side: the cookie holds a random id, the
/// table its SHA-256 digest (a leaked table opens no session), the team,
/// subject and role it grants, its CSRF token and when it expires.
/// Sign-out ends the row, so a copied cookie dies with it.
struct ConsoleSessions: Sendable {
    let schema: String
    let pool: PostgresPool
    let lifetime: Duration

    static let migration = Migration(version: 151, name: "console_sessions", sql: """
        CREATE TABLE console_sessions (
            id_hash    BYTEA PRIMARY KEY,
            team_id    UUID NOT NULL,
            subject    TEXT NOT NULL,
            role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
            csrf       TEXT NOT NULL,
            via        TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            expires_at TIMESTAMPTZ NOT NULL,
            ended_at   TIMESTAMPTZ
        );
        CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
        """)

    /// A live session.
    struct Session: Sendable {
        var principal: Principal
        var team: TeamID
        var csrf: String
    }

    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    static func digest(_ id: String) -> [UInt8] { Array(SHA256.hash(data: Data(id.utf8))) }

    /// Creates a session for `principal`; returns the cookie value.
    func create(for principal: Principal, team: TeamID, via: String) async throws -> String {
        let id = Self.random()
        let seconds = Int(lifetime.components.seconds)
        try await pool.query(
            """
            INSERT INTO \(schema).console_sessions (id_hash, team_id, subject, role, csrf, via, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, now() + make_interval(secs => $7))
            """, [Self.digest(id), team, principal.subject, principal.role.rawValue, Self.random(), via, seconds])
        // Expired and ended rows are of no use to anyone: prune a few on each sign-in.
        try await pool.query(
            """
            DELETE FROM \(schema).console_sessions WHERE id_hash IN (
                SELECT id_hash FROM \(schema).console_sessions
                WHERE expires_at < now() - interval '1 day' OR ended_at < now() - interval '1 day' LIMIT 100)
            """)
        return id
    }

    /// The live session of cookie value `id`, or nil (unknown, ended or expired).
    func find(_ id: String) async throws -> Session? {
        guard id.count == 64 else { return nil }
        let row = try await pool.query(
            """
            SELECT team_id, subject, role, csrf FROM \(schema).console_sessions
            WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > now()
            """, [Self.digest(id)]).rows.first
        guard let row, let role = Role(rawValue: try row.decode(String.self, "role")) else { return nil }
        let team = try row.decode(TeamID.self, "team_id")
        return Session(principal: Principal(teamID: team, subject: try row.decode(String.self, "subject"), role: role),
                       team: team, csrf: try row.decode(String.self, "csrf"))
    }

    /// Ends the session of cookie value `id`.
    func end(_ id: String) async throws {
        try await pool.query(
            "UPDATE \(schema).console_sessions SET ended_at = now() WHERE id_hash = $1 AND ended_at IS NULL",
            [Self.digest(id)])
    }
}
