import Foundation
import MusterAPI
import MusterDomain
import MusterPostgres

/// Recovery plans: stored validated, not changed while one of their
/// executions runs. A protocol for the database-free route tests.
protocol PlanStoring: Sendable {
    /// Creates (`existing` false, as `id`) or updates an idle plan of `team`: checks its group references
    /// (`validateReferences` gets each referenced group's server count), records its groups, marks readiness
    /// stale and writes the audit row.
    func save(_ plan: ValidatedPlan, id: PlanID, existing: Bool, team: TeamID, by actor: String,
              validateReferences: @Sendable ([UUID: Int]) throws -> Void) async throws -> PlannerAPI.PlanView
    /// The team's plans by name.
    func plans(of team: TeamID) async throws -> [PlannerAPI.PlanView]
    /// One plan of the team, or nil.
    func plan(_ id: PlanID, of team: TeamID) async throws -> PlannerAPI.PlanView?
    /// Removes an idle plan of the team with its audit row.
    func remove(_ id: PlanID, of team: TeamID, by actor: String) async throws
}

/// ``PlanStoring`` on PostgreSQL.
struct PlanStore: PlanStoring {
    let schema: String
    let pool: PostgresPool

    var auditLog: AuditStore { AuditStore(schema: schema) }

    /// The statuses of an execution still running (a plan is not idle while one has them).
    static let activeStatuses = "('PENDING', 'RUNNING', 'PAUSED')"

    func save(_ plan: ValidatedPlan, id planID: PlanID, existing: Bool, team: TeamID, by actor: String,
              validateReferences: @Sendable ([UUID: Int]) throws -> Void) async throws -> PlannerAPI.PlanView {
        try await pool.transaction { connection in
            if existing { try await lockIdle(planID, team: team, on: connection) }
            let counts = try await connection.query(
                """
                SELECT g.id, count(m.server_id) AS servers FROM \(schema).protection_groups g
                LEFT JOIN \(schema).protection_group_servers m ON m.group_id = g.id
                WHERE g.team_id = $1 AND g.id IN (SELECT (jsonb_array_elements_text($2))::uuid)
                GROUP BY g.id
                """, [team, try PostgresJSON(encoding: plan.protectionGroupIds.map { $0.uuidString })]).rows
            var serverCounts: [UUID: Int] = [:]
            for count in counts { serverCounts[try count.decode(UUID.self, "id")] = try count.decode(Int.self, "servers") }
            try validateReferences(serverCounts)
            let definition = try PostgresJSON(encoding: plan)
            if existing {
                try await connection.query(
                    """
                    UPDATE \(schema).plans SET name = $2, definition = $3, version = version + 1, updated_at = now()
                    WHERE id = $1
                    """, [planID, plan.name, definition])
                try await connection.query("DELETE FROM \(schema).plan_groups WHERE plan_id = $1", [planID])
            } else {
                try await connection.query(
                    "INSERT INTO \(schema).plans (id, team_id, name, definition) VALUES ($1, $2, $3, $4)",
                    [planID, team, plan.name, definition])
            }
            try await connection.query(
                """
                INSERT INTO \(schema).plan_groups (plan_id, group_id)
                SELECT DISTINCT $1::uuid, (jsonb_array_elements_text($2))::uuid
                """, [planID, try PostgresJSON(encoding: plan.protectionGroupIds.map { $0.uuidString })])
            try await ReadinessStore(schema: schema).markStale(plan: planID, on: connection)
            try await auditLog.record(actor: actor, team: team, action: existing ? "plan.update" : "plan.create",
                                      type: "plan", id: planID.uuid.uuidString, on: connection)
            return try Self.view(try await connection.query(
                "SELECT * FROM \(schema).plans WHERE id = $1", [planID]).rows[0])
        }
    }

    func plans(of team: TeamID) async throws -> [PlannerAPI.PlanView] {
        try await pool.query(
            "SELECT * FROM \(schema).plans WHERE team_id = $1 ORDER BY lower(name)", [team]).rows.map(Self.view)
    }

    func plan(_ id: PlanID, of team: TeamID) async throws -> PlannerAPI.PlanView? {
        try await pool.query(
            "SELECT * FROM \(schema).plans WHERE id = $1 AND team_id = $2", [id, team]).rows.first.map(Self.view)
    }

    func remove(_ planID: PlanID, of team: TeamID, by actor: String) async throws {
        try await pool.transaction { connection in
            try await lockIdle(planID, team: team, on: connection)
            try await connection.query("DELETE FROM \(schema).plans WHERE id = $1", [planID])
            try await auditLog.record(actor: actor, team: team, action: "plan.delete", type: "plan",
                                      id: planID.uuid.uuidString, on: connection)
        }
    }

    /// Locks a plan of the team; 404 when absent, 409 while an execution of it runs.
    func lockIdle(_ planID: PlanID, team: TeamID, on connection: PostgresConnection) async throws {
        guard try await !connection.query(
            "SELECT 1 FROM \(schema).plans WHERE id = $1 AND team_id = $2 FOR UPDATE", [planID, team]).rows.isEmpty
        else { throw APIError.notFound("plan") }
        if let running = try await Self.runningExecution(of: planID, schema: schema, on: connection) {
            throw APIError.conflict(rule: "executionRunning",
                "execution \(running.uuidString.lowercased()) of this plan is running; wait for it to end or cancel it first")
        }
    }

    /// An execution of `planID` that is still running, if any.
    static func runningExecution(of planID: PlanID, schema: String, on connection: PostgresConnection) async throws -> UUID? {
        try await connection.query(
            "SELECT id FROM \(schema).executions WHERE plan_id = $1 AND status IN \(activeStatuses) LIMIT 1",
            [planID]).rows.first.map { try $0.decode(UUID.self, "id") }
    }

    static func view(_ row: PostgresRow) throws -> PlannerAPI.PlanView {
        PlannerAPI.planView(id: try row.decode(PlanID.self, "id"),
                            plan: try row.decode(PostgresJSON.self, "definition").decode(ValidatedPlan.self),
                            version: try row.decode(Int.self, "version"), createdAt: try row.decode(Date.self, "created_at"),
                            updatedAt: try row.decode(Date.self, "updated_at"))
    }
}
