import Foundation
import MusterPostgres

/// The SQL behind readiness evaluation: a plan's servers with what the
/// inventory and the running executions say about them, and each account's load.
struct ReadinessStore: Sendable {
    let schema: String

    /// The facts for `plan` (stored as `planID`) on `connection`; `excluding` is an execution not to count as load.
    func facts(plan: ValidatedPlan, planID: UUID, quotas: ReadinessQuotas, now: Date,
               on connection: PostgresConnection) async throws -> ReadinessFacts {
        let groups = try PostgresJSON(encoding: plan.protectionGroupIds.map { $0.uuidString })
        let rows = try await connection.query(
            """
            SELECT m.group_id, m.server_id, m.account_id, s.server_id IS NOT NULL AS known, s.replication_state,
                   s.recovery_instance_id, s.observed_at, live.execution_id AS live_execution
            FROM \(schema).protection_group_servers m
            LEFT JOIN \(schema).source_servers s
              ON s.account_id = m.account_id AND s.region = m.region AND s.server_id = m.server_id
            LEFT JOIN LATERAL (
                SELECT es.execution_id FROM \(schema).execution_servers es
                JOIN \(schema).executions e ON e.id = es.execution_id
                WHERE es.server_id = m.server_id AND es.account_id = m.account_id AND es.region = m.region
                  AND e.status IN ('PENDING', 'RUNNING', 'PAUSED') AND es.status IN ('PENDING', 'LAUNCHING', 'IN_PROGRESS')
                LIMIT 1) live ON true
            WHERE m.group_id IN (SELECT (jsonb_array_elements_text($1))::uuid)
            ORDER BY m.server_id
            """, [groups]).rows
        var byGroup: [UUID: [ReadinessFacts.Server]] = [:]
        for row in rows {
            byGroup[try row.decode(UUID.self, "group_id"), default: []].append(ReadinessFacts.Server(
                id: try row.decode(String.self, "server_id"), accountID: try row.decode(String.self, "account_id"),
                wave: 0, inInventory: try row.decode(Bool.self, "known"),
                replicationState: try row.decode(String?.self, "replication_state"),
                recoveryInstanceID: try row.decode(String?.self, "recovery_instance_id"),
                observedAt: try row.decode(Date?.self, "observed_at"),
                liveExecutionID: try row.decode(UUID?.self, "live_execution")?.uuidString.lowercased()))
        }
        var servers: [ReadinessFacts.Server] = []
        for (index, wave) in plan.waves.enumerated() {
            for group in wave.protectionGroupIds {
                servers += (byGroup[group] ?? []).map { var server = $0; server.wave = index; return server }
            }
        }
        let accounts = Array(Set(servers.map(\.accountID))).sorted()
        let loads = try await connection.query(
            """
            SELECT es.account_id, count(DISTINCT es.job_id) AS jobs, count(*) AS servers
            FROM \(schema).execution_servers es JOIN \(schema).executions e ON e.id = es.execution_id
            WHERE e.status IN ('PENDING', 'RUNNING', 'PAUSED') AND es.job_id IS NOT NULL
              AND es.status IN ('LAUNCHING', 'IN_PROGRESS')
              AND es.account_id IN (SELECT jsonb_array_elements_text($1))
            GROUP BY es.account_id
            """, [try PostgresJSON(encoding: accounts)]).rows
        var load: [String: ReadinessFacts.AccountLoad] = [:]
        for row in loads {
            load[try row.decode(String.self, "account_id")] = .init(
                activeJobs: try row.decode(Int.self, "jobs"), serversInActiveJobs: try row.decode(Int.self, "servers"))
        }
        return ReadinessFacts(waves: plan.waves.map(\.name), servers: servers, load: load, quotas: quotas, now: now)
    }
}
