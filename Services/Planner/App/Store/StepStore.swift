import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres

/// SQL for wave hook steps (issue 16): which executions have a step past its
/// deadline, and the audit rows of step transitions.
struct StepStore: Sendable {
    let schema: String

    /// Active executions with a RUNNING step whose deadline is at or before `now`, oldest first,
    /// and the earliest deadline of a RUNNING step still ahead (nil when none is): one statement,
    /// so a round that finds nothing due also says how long the loop may sleep.
    func dueExecutions(now: Date, limit: Int, on connection: PostgresConnection) async throws
        -> (due: [UUID], nextDeadline: Date?)
    {
        let rows = try await connection.query(
            """
            WITH running AS (
                SELECT e.id, e.seq, (s->>'deadline')::timestamptz AS deadline
                FROM \(schema).executions e,
                     jsonb_array_elements(e.state->'waves') w,
                     jsonb_array_elements(COALESCE(w->'steps', '[]'::jsonb)) s
                WHERE e.status IN ('RUNNING', 'PAUSED') AND s->>'status' = 'RUNNING' AND s->>'deadline' IS NOT NULL)
            (SELECT id, NULL::timestamptz AS next FROM running WHERE deadline <= $1
             GROUP BY id ORDER BY min(seq) LIMIT $2)
            UNION ALL
            SELECT NULL, min(deadline) FROM running WHERE deadline > $1
            """, [now, limit]).rows
        var due: [UUID] = []
        var next: Date?
        for row in rows {
            if let id = try row.decode(UUID?.self, "id") { due.append(id) } else { next = try row.decode(Date?.self, "next") }
        }
        return (due, next)
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
