import Foundation
import MusterConsole
import MusterDomain
import MusterPostgres

/// What the console's pages read from the planner's tables, scoped to a team
/// (another team's ids are simply absent). Rows come back as the page
/// models of `MusterConsole`, times formatted as the console shows them.
struct ConsoleStore: Sendable {
    let schema: String
    let pool: PostgresPool

    /// The statuses of an execution still running.
    static let active = PlanStore.activeStatuses

    static func format(_ date: Date?) -> String { PlannerConsole.format(date) }

    /// A team's name ("" if unknown).
    func teamName(_ team: TeamID) async throws -> String {
        try await pool.query("SELECT name FROM \(schema).teams WHERE id = $1", [team]).rows.first?
            .decode(String.self, "name") ?? ""
    }

    /// The dashboard: active executions, capacity per account and region, recent failures.
    func dashboard(_ team: TeamID) async throws -> DashboardPage {
        let active = try await pool.query(
            """
            SELECT e.id, e.plan_name, e.type, e.status, e.created_at,
                   count(s.server_id) AS total, count(s.server_id) FILTER (WHERE s.status = 'LAUNCHED') AS done
            FROM \(schema).executions e LEFT JOIN \(schema).execution_servers s ON s.execution_id = e.id
            WHERE e.team_id = $1 AND e.status IN \(Self.active)
            GROUP BY e.id ORDER BY e.created_at DESC LIMIT 50
            """, [team]).rows.map { row in
            DashboardPage.Active(
                id: try row.decode(UUID.self, "id").uuidString.lowercased(), planName: try row.decode(String.self, "plan_name"),
                type: try row.decode(String.self, "type"), status: Badge(try row.decode(String.self, "status")),
                progress: Progress(done: try row.decode(Int.self, "done"), total: try row.decode(Int.self, "total")),
                startedAt: Self.format(try row.decode(Date.self, "created_at")))
        }
        let capacity = try await pool.query(
            """
            SELECT s.account_id, s.region,
                   count(DISTINCT s.job_id) FILTER (WHERE s.status IN ('LAUNCHING', 'IN_PROGRESS')) AS jobs,
                   count(*) FILTER (WHERE s.job_id IS NOT NULL AND s.status IN ('LAUNCHING', 'IN_PROGRESS')) AS servers,
                   count(DISTINCT s.wave::text || s.execution_id::text) FILTER (WHERE w.status = 'QUEUED') AS queued
            FROM \(schema).execution_servers s
            JOIN \(schema).executions e ON e.id = s.execution_id
            JOIN \(schema).execution_waves w ON w.execution_id = s.execution_id AND w.number = s.wave
            WHERE e.team_id = $1 AND e.status IN \(Self.active)
            GROUP BY s.account_id, s.region ORDER BY s.account_id, s.region
            """, [team]).rows.map { row in
            DashboardPage.Capacity(
                accountID: try row.decode(String.self, "account_id"), region: try row.decode(String.self, "region"),
                activeJobs: try row.decode(Int.self, "jobs"), serversInJobs: try row.decode(Int.self, "servers"),
                queuedGroups: try row.decode(Int.self, "queued"))
        }
        let servers = try await pool.query(
            """
            SELECT s.execution_id, e.plan_name, s.server_id, s.failure_reason, s.ended_at
            FROM \(schema).execution_servers s JOIN \(schema).executions e ON e.id = s.execution_id
            WHERE e.team_id = $1 AND s.status = 'FAILED' ORDER BY s.ended_at DESC NULLS LAST LIMIT 10
            """, [team]).rows.map { row in
            DashboardPage.Failure(
                executionID: try row.decode(UUID.self, "execution_id").uuidString.lowercased(),
                planName: try row.decode(String.self, "plan_name"), what: "server \(try row.decode(String.self, "server_id"))",
                reason: try row.decode(String?.self, "failure_reason") ?? "failed",
                at: Self.format(try row.decode(Date?.self, "ended_at")))
        }
        let executions = try await pool.query(
            """
            SELECT id, plan_name, status, ended_at FROM \(schema).executions
            WHERE team_id = $1 AND status IN ('FAILED', 'TIMED_OUT', 'PARTIAL') ORDER BY seq DESC LIMIT 5
            """, [team]).rows.map { row in
            DashboardPage.Failure(
                executionID: try row.decode(UUID.self, "id").uuidString.lowercased(),
                planName: try row.decode(String.self, "plan_name"), what: "execution",
                reason: try row.decode(String.self, "status"), at: Self.format(try row.decode(Date?.self, "ended_at")))
        }
        return DashboardPage(active: active, capacity: capacity, failures: executions + servers)
    }

    /// The team's protection group names by id.
    func groupNames(_ team: TeamID) async throws -> [UUID: String] {
        var names: [UUID: String] = [:]
        for row in try await pool.query("SELECT id, name FROM \(schema).protection_groups WHERE team_id = $1", [team]).rows {
            names[try row.decode(UUID.self, "id")] = try row.decode(String.self, "name")
        }
        return names
    }

    /// The team's plans by name.
    func plans(_ team: TeamID) async throws -> [PlansPage.Row] {
        let rows = try await pool.query(
            "SELECT id, name, definition FROM \(schema).plans WHERE team_id = $1 ORDER BY lower(name)", [team]).rows
        return try rows.map { row in
            let plan = try row.decode(PostgresJSON.self, "definition").decode(ValidatedPlan.self)
            return PlansPage.Row(id: try row.decode(PlanID.self, "id").rawValue, name: plan.name,
                                 waves: plan.waves.count, rto: plan.rtoTargetMinutes.map { "\($0) min" } ?? "none")
        }
    }

    /// A plan of the team, or nil.
    func plan(_ id: PlanID, team: TeamID) async throws -> ValidatedPlan? {
        try await pool.query(
            "SELECT definition FROM \(schema).plans WHERE id = $1 AND team_id = $2", [id, team]).rows.first
            .map { try $0.decode(PostgresJSON.self, "definition").decode(ValidatedPlan.self) }
    }

    /// The id of an execution of the plan still running, if any.
    func runningExecution(plan id: PlanID, team: TeamID) async throws -> String? {
        try await pool.query(
            "SELECT id FROM \(schema).executions WHERE plan_id = $1 AND team_id = $2 AND status IN \(Self.active) LIMIT 1",
            [id, team]).rows.first.map { try $0.decode(UUID.self, "id").uuidString.lowercased() }
    }

    /// The team's protection groups with their member counts.
    func groups(_ team: TeamID) async throws -> [GroupsPage.Group] {
        try await pool.query(
            """
            SELECT g.name, g.region, count(m.server_id) AS n FROM \(schema).protection_groups g
            LEFT JOIN \(schema).protection_group_servers m ON m.group_id = g.id
            WHERE g.team_id = $1 GROUP BY g.id ORDER BY lower(g.name)
            """, [team]).rows.map {
            GroupsPage.Group(name: try $0.decode(String.self, "name"), region: try $0.decode(String.self, "region"),
                             servers: try $0.decode(Int.self, "n"))
        }
    }

    /// The team's inventory matching `query` (id or hostname) and replication `state`, at most 500.
    func servers(_ team: TeamID, query: String, state: String?) async throws -> [GroupsPage.Server] {
        try await pool.query(
            """
            SELECT s.server_id, s.hostname, s.account_id, s.region, s.replication_state, s.observed_at, s.tags, g.name AS grp
            FROM \(schema).source_servers s
            JOIN \(schema).accounts a ON a.aws_account_id = s.account_id AND a.team_id = $1
            LEFT JOIN \(schema).protection_group_servers m
                ON m.account_id = s.account_id AND m.region = s.region AND m.server_id = s.server_id
            LEFT JOIN \(schema).protection_groups g ON g.id = m.group_id
            WHERE ($2 = '' OR s.server_id ILIKE '%' || $2 || '%' OR s.hostname ILIKE '%' || $2 || '%')
              AND ($3::text IS NULL OR s.replication_state = $3)
            ORDER BY s.account_id, s.region, s.server_id LIMIT 500
            """, [team, query, state]).rows.map { row in
            let tags = try row.decode(PostgresJSON.self, "tags").decode([String: String].self)
            return GroupsPage.Server(
                id: try row.decode(String.self, "server_id"), hostname: try row.decode(String?.self, "hostname") ?? "",
                accountID: try row.decode(String.self, "account_id"), region: try row.decode(String.self, "region"),
                replication: try row.decode(String?.self, "replication_state") ?? "",
                lastSeen: Self.format(try row.decode(Date.self, "observed_at")), group: try row.decode(String?.self, "grp"),
                tags: tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
    }

    /// Up to `limit` of the team's executions older than `before`, newest first, each with its `seq`.
    func history(_ team: TeamID, status: ExecutionStatus?, type: ExecutionType?, before: Int64?, limit: Int) async throws
        -> [(seq: Int64, row: HistoryPage.Row)]
    {
        try await pool.query(
            """
            SELECT seq, id, plan_name, type, status, initiated_by, created_at, ended_at FROM \(schema).executions
            WHERE team_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR type = $3)
              AND ($4::bigint IS NULL OR seq < $4)
            ORDER BY seq DESC LIMIT $5
            """, [team, status?.rawValue, type?.rawValue, before, limit]).rows.map { row in
            (seq: try row.decode(Int64.self, "seq"), row: HistoryPage.Row(
                id: try row.decode(UUID.self, "id").uuidString.lowercased(), planName: try row.decode(String.self, "plan_name"),
                type: try row.decode(String.self, "type"), status: Badge(try row.decode(String.self, "status")),
                initiatedBy: try row.decode(String.self, "initiated_by"),
                createdAt: Self.format(try row.decode(Date.self, "created_at")),
                endedAt: Self.format(try row.decode(Date?.self, "ended_at"))))
        }
    }

    /// Up to `limit` of the team's audit rows older than `before`, newest first, each with its `seq`.
    func audit(_ team: TeamID, before: Int64?, limit: Int) async throws -> [(seq: Int64, row: AuditPage.Row)] {
        try await pool.query(
            """
            SELECT seq, at, actor, action, resource_type, resource_id, detail FROM \(schema).audit
            WHERE team_id = $1 AND ($2::bigint IS NULL OR seq < $2) ORDER BY seq DESC LIMIT $3
            """, [team, before, limit]).rows.map { row in
            let detail = try row.decode(PostgresJSON?.self, "detail")?.decode([String: String].self) ?? [:]
            return (seq: try row.decode(Int64.self, "seq"), row: AuditPage.Row(
                at: Self.format(try row.decode(Date.self, "at")), actor: try row.decode(String.self, "actor"),
                action: try row.decode(String.self, "action"),
                resource: "\(try row.decode(String.self, "resource_type")) \(try row.decode(String.self, "resource_id"))",
                detail: detail.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")))
        }
    }

    // MARK: OIDC sign-in

    /// Records a started OIDC sign-in (single use, ten minutes) and prunes old ones.
    func saveLogin(stateDigest: [UInt8], nonce: String, verifier: String) async throws {
        try await pool.query(
            """
            INSERT INTO \(schema).oidc_logins (state_hash, nonce, verifier, expires_at)
            VALUES ($1, $2, $3, now() + interval '10 minutes')
            """, [stateDigest, nonce, verifier])
        try await pool.query("DELETE FROM \(schema).oidc_logins WHERE expires_at < now() - interval '1 hour'")
    }

    /// Takes (deletes and returns) a live OIDC sign-in, or nil if expired or already used.
    func takeLogin(stateDigest: [UInt8]) async throws -> (nonce: String, verifier: String)? {
        guard let row = try await pool.query(
            """
            DELETE FROM \(schema).oidc_logins WHERE state_hash = $1 AND expires_at > now() RETURNING nonce, verifier
            """, [stateDigest]).rows.first else { return nil }
        return (try row.decode(String.self, "nonce"), try row.decode(String.self, "verifier"))
    }
}
