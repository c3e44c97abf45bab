import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres

/// The SQL behind readiness evaluation: a plan's servers with what the
/// inventory and the running executions say about them, and each account's load.
struct ReadinessStore: Sendable {
    let schema: String

    /// The last verdict per plan (version 181); `stale` asks for a re-evaluation on the next pass.
    static let migration = Migration(version: 181, name: "plan_readiness", sql: """
        CREATE TABLE plan_readiness (
            plan_id      UUID PRIMARY KEY REFERENCES plans(id) ON DELETE CASCADE,
            verdict      TEXT NOT NULL,
            checks       JSONB NOT NULL,
            evaluated_at TIMESTAMPTZ NOT NULL,
            stale        BOOLEAN NOT NULL DEFAULT false
        );
        CREATE INDEX plan_readiness_stale ON plan_readiness (plan_id) WHERE stale;
        """)

    /// The launcher's latest answer per plan and account (version 230, issue 16).
    static let answersMigration = Migration(version: 230, name: "plan_readiness_answers", sql: """
        CREATE TABLE plan_readiness_answers (
            plan_id       UUID NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
            account_id    TEXT NOT NULL,
            evaluation_id UUID NOT NULL,
            checks        JSONB NOT NULL,
            checked_at    TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (plan_id, account_id)
        );
        """)

    /// Stores the launcher's answer unless a later one is stored; false when the plan no longer exists.
    func storeAnswer(_ answer: ReadinessChecked, plan: PlanID, on connection: PostgresConnection) async throws -> Bool {
        guard let evaluation = UUID(uuidString: answer.evaluationID) else { return false }
        let exists = try await connection.query("SELECT 1 FROM \(schema).plans WHERE id = $1 FOR SHARE", [plan]).rows
        guard !exists.isEmpty else { return false }
        try await connection.query(
            """
            INSERT INTO \(schema).plan_readiness_answers (plan_id, account_id, evaluation_id, checks, checked_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (plan_id, account_id) DO UPDATE SET evaluation_id = EXCLUDED.evaluation_id,
                checks = EXCLUDED.checks, checked_at = EXCLUDED.checked_at
            WHERE plan_readiness_answers.checked_at <= EXCLUDED.checked_at
            """,
            [plan, answer.accountID, evaluation, try PostgresJSON(encoding: LauncherReadiness.checks(of: answer)),
             answer.checkedAt])
        return true
    }

    /// The launcher's stored answers for `plan` (of evaluation `evaluation` only, when given).
    func answers(plan: PlanID, evaluation: UUID? = nil, on connection: PostgresConnection) async throws
        -> [LauncherReadiness.Answer]
    {
        try await connection.query(
            """
            SELECT account_id, evaluation_id, checks, checked_at FROM \(schema).plan_readiness_answers
            WHERE plan_id = $1 AND ($2::uuid IS NULL OR evaluation_id = $2) ORDER BY account_id
            """, [plan, evaluation]).rows.map { row in
            LauncherReadiness.Answer(
                accountID: try row.decode(String.self, "account_id"), evaluationID: try row.decode(UUID.self, "evaluation_id"),
                checks: try row.decode(PostgresJSON.self, "checks").decode([PlanReadinessCheck].self),
                checkedAt: try row.decode(Date.self, "checked_at"))
        }
    }

    /// A plan of `team` (any team when nil) and the team that owns it, locked `FOR UPDATE` when `lock`;
    /// nil when there is none.
    func plan(_ id: PlanID, team: TeamID?, lock: Bool = false, on connection: PostgresConnection) async throws
        -> (team: TeamID, plan: ValidatedPlan)?
    {
        try await connection.query(
            """
            SELECT team_id, definition FROM \(schema).plans WHERE id = $1 AND ($2::uuid IS NULL OR team_id = $2)
            """ + (lock ? " FOR UPDATE" : ""), [id, team]).rows.first
            .map { (try $0.decode(TeamID.self, "team_id"),
                    try $0.decode(PostgresJSON.self, "definition").decode(ValidatedPlan.self)) }
    }

    /// Whether an inventory observation changes what readiness looks at (replication state, recovery instance).
    func inventoryChanges(account: String, region: String, server: String, replicationState: String?,
                          recoveryInstanceID: String?, on connection: PostgresConnection) async throws -> Bool {
        guard let before = try await connection.query(
            """
            SELECT replication_state, recovery_instance_id FROM \(schema).source_servers
            WHERE account_id = $1 AND region = $2 AND server_id = $3
            """, [account, region, server]).rows.first else { return true }
        return try before.decode(String?.self, "replication_state") != replicationState
            || before.decode(String?.self, "recovery_instance_id") != recoveryInstanceID
    }

    /// The stored verdict of a plan, if it was ever evaluated.
    func verdict(plan: PlanID, on connection: PostgresConnection) async throws -> ReadinessStatus? {
        try await connection.query(
            "SELECT verdict FROM \(schema).plan_readiness WHERE plan_id = $1", [plan]).rows.first
            .flatMap { ReadinessStatus(rawValue: try $0.decode(String.self, "verdict")) }
    }

    /// Stores an evaluation (clearing `stale`).
    func record(plan: PlanID, evaluation: ReadinessEvaluation, at: Date, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO \(schema).plan_readiness (plan_id, verdict, checks, evaluated_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (plan_id) DO UPDATE SET verdict = EXCLUDED.verdict, checks = EXCLUDED.checks,
                evaluated_at = EXCLUDED.evaluated_at, stale = false
            """, [plan, evaluation.verdict.rawValue, try PostgresJSON(encoding: evaluation.checks), at])
    }

    /// Plans to re-evaluate now: never evaluated, marked stale, or evaluated before `olderThan`; locked, skipping
    /// plans another pass (or a start) holds.
    func lockDue(olderThan: Date, limit: Int, on connection: PostgresConnection) async throws
        -> [(id: PlanID, team: TeamID, plan: ValidatedPlan)]
    {
        try await connection.query(
            """
            SELECT p.id, p.team_id, p.definition FROM \(schema).plans p
            LEFT JOIN \(schema).plan_readiness r ON r.plan_id = p.id
            WHERE r.plan_id IS NULL OR r.stale OR r.evaluated_at < $1
            ORDER BY r.stale DESC NULLS FIRST, r.evaluated_at NULLS FIRST LIMIT $2
            FOR UPDATE OF p SKIP LOCKED
            """, [olderThan, limit]).rows.map { row in
            (id: try row.decode(PlanID.self, "id"), team: try row.decode(TeamID.self, "team_id"),
             plan: try row.decode(PostgresJSON.self, "definition").decode(ValidatedPlan.self))
        }
    }

    /// Marks for re-evaluation every plan with `server` (after its inventory changed).
    func markStale(account: String, region: String, server: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE \(schema).plan_readiness SET stale = true WHERE NOT stale AND plan_id IN (
                SELECT pg.plan_id FROM \(schema).plan_groups pg
                JOIN \(schema).protection_group_servers m ON m.group_id = pg.group_id
                WHERE m.account_id = $1 AND m.region = $2 AND m.server_id = $3)
            """, [account, region, server])
    }

    /// Marks for re-evaluation every plan using `group` (after its members changed).
    func markStale(group: UUID, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE \(schema).plan_readiness SET stale = true
            WHERE NOT stale AND plan_id IN (SELECT plan_id FROM \(schema).plan_groups WHERE group_id = $1)
            """, [group])
    }

    /// Marks one plan for re-evaluation (it changed).
    func markStale(plan: PlanID, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE \(schema).plan_readiness SET stale = true WHERE plan_id = $1", [plan])
    }

    /// The facts for `plan` (stored as `planID`) on `connection`.
    func facts(plan: ValidatedPlan, planID: PlanID, quotas: ReadinessQuotas, now: Date,
               on connection: PostgresConnection) async throws -> ReadinessFacts {
        let groups = try PostgresJSON(encoding: plan.protectionGroupIds.map { $0.uuidString })
        let rows = try await connection.query(
            """
            SELECT m.group_id, m.server_id, m.account_id, m.region, s.server_id IS NOT NULL AS known, s.replication_state,
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
                liveExecutionID: try row.decode(UUID?.self, "live_execution")?.uuidString.lowercased(),
                region: try row.decode(String.self, "region"), groupID: try row.decode(UUID.self, "group_id")))
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
        return ReadinessFacts(waves: plan.waves.map(\.name), servers: servers, load: load, quotas: quotas,
                              hooks: ReadinessFacts.hooks(of: plan, servers: servers), now: now)
    }
}
