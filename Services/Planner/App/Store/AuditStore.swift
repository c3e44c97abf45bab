import Foundation
import MusterDomain
import MusterPostgres

/// The audit trail: who did what, written in the caller's transaction, and
/// read back per resource.
struct AuditStore: Sendable {
    let schema: String

    /// One audit row for `actor`'s `action` on `type`/`id`, in the caller's transaction.
    func record(actor: String, team: TeamID?, action: String, type: String, id: String, detail: [String: String] = [:],
                on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO \(schema).audit (team_id, actor, action, resource_type, resource_id, detail)
            VALUES ($1, $2, $3, $4, $5, $6)
            """,
            [team, actor, action, type, id, try PostgresJSON(encoding: detail)])
    }

    /// The audit rows of one execution, oldest first.
    func execution(_ id: String, pool: PostgresPool) async throws -> [PlannerAPI.AuditEntry] {
        try await pool.query(
            """
            SELECT at, actor, action, detail FROM \(schema).audit
            WHERE resource_type = 'execution' AND resource_id = $1 ORDER BY seq
            """, [id]).rows.map {
            PlannerAPI.AuditEntry(
                at: try $0.decode(Date.self, "at"), actor: try $0.decode(String.self, "actor"),
                action: try $0.decode(String.self, "action"),
                detail: try $0.decode(PostgresJSON?.self, "detail")?.decode([String: String].self) ?? [:])
        }
    }
}
