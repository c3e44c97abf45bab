import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres

/// SQL for wave hook steps (issue 16): which executions have a step past its
/// deadline, and the audit rows of step transitions.
struct StepStore: Sendable {
    let schema: String

    /// Active executions with a RUNNING step whose deadline is at or before `now`, oldest first.
    func dueExecutions(now: Date, limit: Int, on connection: PostgresConnection) async throws -> [UUID] {
        try await connection.query(
            """
            SELECT e.id FROM \(schema).executions e
            WHERE e.status IN ('RUNNING', 'PAUSED') AND EXISTS (
                SELECT 1 FROM jsonb_array_elements(e.state->'waves') w,
                              jsonb_array_elements(COALESCE(w->'steps', '[]'::jsonb)) s
                WHERE s->>'status' = 'RUNNING' AND (s->>'deadline')::timestamptz <= $1)
            ORDER BY e.seq LIMIT $2
            """, [now, limit]).rows.map { try $0.decode(UUID.self, "id") }
    }

    /// One audit row per step event (`step.started`, `step.completed`,
    /// `execution.approval-requested`): who (the approver, or `muster`), which
    /// step, its status and output. In the caller's transaction.
    func audit(_ events: [ExecutionEvent], on connection: PostgresConnection) async throws {
        struct Row: Encodable {
            var team_id: TeamID, actor: String, action: String, resource_id: String, detail: [String: String]
        }
        let rows = events.compactMap { event -> Row? in
            guard let step = event.step else { return nil }
            var detail = ["step": step.name, "kind": step.kind.rawValue, "phase": step.phase.rawValue, "status": step.status.rawValue]
            if let wave = event.wave { detail["wave"] = wave.name }
            if let output = step.output { detail["output"] = output }
            return Row(team_id: event.teamID, actor: event.actor ?? "muster", action: event.type.rawValue,
                       resource_id: event.executionID.rawValue, detail: detail)
        }
        guard !rows.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO \(schema).audit (team_id, actor, action, resource_type, resource_id, detail)
            SELECT r.team_id::uuid, r.actor, r.action, 'execution', r.resource_id, r.detail
            FROM jsonb_to_recordset($1) AS r(team_id text, actor text, action text, resource_id text, detail jsonb)
            """, [try ExecutionStore.json(rows)])
    }
}
