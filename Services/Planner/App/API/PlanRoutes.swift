import Foundation
import Hummingbird
import MusterAPI
import MusterEvents
import MusterPostgres

// Recovery plans: validated (names, limits, references, DAG) before
// anything is stored; not editable while one of their executions runs.
extension PlannerAPI {
    struct PlanView: Encodable {
        struct Wave: Encodable {
            var name: String, protectionGroupIds: [UUID], dependsOn: [String], pauseBefore: Bool
            var continueOnFailure: Bool, timeoutMinutes: Int
            var before: [HookStepInput]?, after: [HookStepInput]?
        }
        var id: UUID, name: String, description: String?, rtoTargetMinutes: Int?, waves: [Wave], version: Int
        var createdAt: Date, updatedAt: Date
        var launchOverrides: LaunchOverrides?
        var launchProfiles: [String: LaunchProfile]?
        var drillProfile: String?
        var recoveryProfile: String?
        var keepRecoverySettings: Bool?
        var servers: [String: PlanLaunchProfiles.Server]?
        /// Per protection group (by id): drill / recovery profile overrides.
        var protectionGroups: [String: PlanLaunchProfiles.WaveProfiles]?
        var rpoTargetMinutes: Int?
        /// Whether a drill runs in a subnet of its own in every wave (the CLI's "isolated").
        var drillIsolated: Bool
        /// The drill policy in days, if any.
        var drillFrequencyDays: Int?
    }

    static let activeStatuses = "('PENDING', 'RUNNING', 'PAUSED')"

    func addPlanRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("plans") { request, _ in try await savePlan(request, existing: nil) }
        v1.put("plans/:id") { request, context in try await savePlan(request, existing: try context.id(what: "plan")) }
        v1.get("plans") { request, _ in
            let team = try await auth.authenticate(request).team()
            let rows = try await pool.query(
                "SELECT * FROM \(schema).plans WHERE team_id = $1 ORDER BY lower(name)", [team]).rows
            return try JSONResponse.make(.ok, Page(items: try rows.map(planView), nextCursor: nil))
        }
        v1.get("plans/:id") { request, context in
            let team = try await auth.authenticate(request).team()
            guard let row = try await pool.query(
                "SELECT * FROM \(schema).plans WHERE id = $1 AND team_id = $2",
                [try context.id(what: "plan"), team]).rows.first else { throw APIError.notFound("plan") }
            return try JSONResponse.make(.ok, try planView(row))
        }
        v1.delete("plans/:id") { request, context in
            let principal = try await auth.authenticate(request)
            let team = try principal.team()
            try principal.require(.operator)
            let planID = try context.id(what: "plan")
            try await pool.transaction { connection in
                try await lockIdlePlan(planID, team: team, on: connection)
                try await connection.query("DELETE FROM \(schema).plans WHERE id = $1", [planID])
                try await audit(principal, team: team, action: "plan.delete", type: "plan", id: planID.uuidString,
                                on: connection)
            }
            return JSONResponse.noContent()
        }
    }

    /// Locks a plan of the team; 404 when absent, 409 while an execution of it runs.
    @discardableResult
    func lockIdlePlan(_ planID: UUID, team: UUID, on connection: PostgresConnection) async throws -> PostgresRow {
        guard let row = try await connection.query(
            "SELECT * FROM \(schema).plans WHERE id = $1 AND team_id = $2 FOR UPDATE", [planID, team]).rows.first
        else { throw APIError.notFound("plan") }
        if let running = try await connection.query(
            "SELECT id FROM \(schema).executions WHERE plan_id = $1 AND status IN \(Self.activeStatuses) LIMIT 1",
            [planID]).rows.first {
            let execution = try running.decode(UUID.self, "id").uuidString.lowercased()
            throw APIError.conflict(rule: "executionRunning",
                "execution \(execution) of this plan is running; wait for it to end or cancel it first")
        }
        return row
    }

    func savePlan(_ request: Request, existing: UUID?) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try principal.team()
        try principal.require(.operator)
        let input = try await JSONBody.decode(
            PlanInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
        let plan = try validated { try PlanValidator.validate(input, limits: limits) }
        let planID = existing ?? UUID()
        let row = try await uniqueConflict(field: "name", message: "a plan named \(plan.name) exists in your team") {
            try await pool.transaction { connection in
                if let existing { try await lockIdlePlan(existing, team: team, on: connection) }
                let counts = try await connection.query(
                    """
                    SELECT g.id, count(m.server_id) AS servers FROM \(schema).protection_groups g
                    LEFT JOIN \(schema).protection_group_servers m ON m.group_id = g.id
                    WHERE g.team_id = $1 AND g.id IN (SELECT (jsonb_array_elements_text($2))::uuid)
                    GROUP BY g.id
                    """, [team, try PostgresJSON(encoding: plan.protectionGroupIds.map { $0.uuidString })]).rows
                var serverCounts: [UUID: Int] = [:]
                for count in counts { serverCounts[try count.decode(UUID.self, "id")] = try count.decode(Int.self, "servers") }
                try validated { try PlanValidator.validateReferences(plan, serverCounts: serverCounts, limits: limits) }
                let definition = try PostgresJSON(encoding: plan)
                if let existing {
                    try await connection.query(
                        """
                        UPDATE \(schema).plans SET name = $2, definition = $3, version = version + 1, updated_at = now()
                        WHERE id = $1
                        """, [existing, plan.name, definition])
                    try await connection.query("DELETE FROM \(schema).plan_groups WHERE plan_id = $1", [existing])
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
                try await audit(principal, team: team, action: existing == nil ? "plan.create" : "plan.update",
                                type: "plan", id: planID.uuidString, on: connection)
                return try await connection.query("SELECT * FROM \(schema).plans WHERE id = $1", [planID]).rows[0]
            }
        }
        return try JSONResponse.make(existing == nil ? .created : .ok, try planView(row))
    }

    func planView(_ row: PostgresRow) throws -> PlanView {
        let plan = try row.decode(PostgresJSON.self, "definition").decode(ValidatedPlan.self)
        return PlanView(
            id: try row.decode(UUID.self, "id"), name: plan.name, description: plan.description,
            rtoTargetMinutes: plan.rtoTargetMinutes,
            waves: plan.waves.map { wave in
                .init(name: wave.name, protectionGroupIds: wave.protectionGroupIds,
                      dependsOn: wave.dependsOn.map { plan.waves[$0].name }, pauseBefore: wave.pauseBefore,
                      continueOnFailure: wave.continueOnFailure, timeoutMinutes: wave.timeoutMinutes,
                      before: wave.before?.map(HookStepInput.init), after: wave.after?.map(HookStepInput.init))
            },
            version: try row.decode(Int.self, "version"), createdAt: try row.decode(Date.self, "created_at"),
            updatedAt: try row.decode(Date.self, "updated_at"), launchOverrides: plan.launchOverrides,
            launchProfiles: plan.launchProfiles?.profiles, drillProfile: plan.launchProfiles?.drillProfile,
            recoveryProfile: plan.launchProfiles?.recoveryProfile, keepRecoverySettings: plan.launchProfiles?.keepRecoverySettings,
            servers: plan.launchProfiles?.servers.isEmpty == false ? plan.launchProfiles?.servers : nil,
            protectionGroups: plan.launchProfiles?.groups,
            rpoTargetMinutes: plan.rpoTargetMinutes,
            drillIsolated: plan.waves.indices.allSatisfy {
                plan.launchProfiles?.drillIsIsolated(wave: $0, groups: plan.waves[$0].protectionGroupIds) ?? false
            },
            drillFrequencyDays: plan.drillFrequencyDays)
    }
}
