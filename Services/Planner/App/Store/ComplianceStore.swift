import Foundation
import MusterDomain
import MusterPostgres

/// The SQL behind the compliance view and the history export.
struct ComplianceStore: Sendable {
    let schema: String

    /// A team's plan with its last drill that ended COMPLETED, if any.
    struct PlanRecord {
        var id: PlanID
        var createdAt: Date
        var plan: ValidatedPlan
        var lastDrill: ExecutionState?
    }

    /// Every plan of `team` with its last successful drill, by name.
    func plans(team: TeamID, on connection: PostgresConnection) async throws -> [PlanRecord] {
        let rows = try await connection.query(
            """
            SELECT p.id, p.created_at, p.definition, d.state::text AS last_drill
            FROM \(schema).plans p
            LEFT JOIN LATERAL (
                SELECT e.state FROM \(schema).executions e
                WHERE e.plan_id = p.id AND e.type = 'DRILL' AND e.status = 'COMPLETED'
                ORDER BY e.ended_at DESC NULLS LAST, e.seq DESC LIMIT 1) d ON true
            WHERE p.team_id = $1
            ORDER BY lower(p.name)
            """, [team]).rows
        return try rows.map { row in
            PlanRecord(
                id: try row.decode(PlanID.self, "id"), createdAt: try row.decode(Date.self, "created_at"),
                plan: try row.decode(PostgresJSON.self, "definition").decode(ValidatedPlan.self),
                lastDrill: try row.decode(String?.self, "last_drill").map(ExecutionStore.decode))
        }
    }

    /// Filters of the history export (nil: any).
    struct HistoryFilter {
        var status: String?
        var type: String?
        var planID: PlanID?
    }

    /// The team's executions, newest first, at most `limit`, as state documents.
    func history(team: TeamID, filter: HistoryFilter, limit: Int, on connection: PostgresConnection) async throws
        -> [ExecutionState]
    {
        try await connection.query(
            """
            SELECT state::text AS state FROM \(schema).executions
            WHERE team_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR type = $3)
              AND ($4::uuid IS NULL OR plan_id = $4)
            ORDER BY seq DESC LIMIT $5
            """, [team, filter.status, filter.type, filter.planID, limit]).rows.map {
            try ExecutionStore.decode(try $0.decode(String.self, "state"))
        }
    }
}
