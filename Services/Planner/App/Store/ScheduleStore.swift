import Foundation
import MusterDomain
import MusterPostgres

/// The SQL of drill schedules: the schedules, the drills they started, and
/// what the scheduler needs to fire and clean up.
struct ScheduleStore: Sendable {
    let schema: String

    /// Schedules and the executions they started (version 180).
    static let migration = Migration(version: 180, name: "drill_schedules", sql: """
        CREATE TABLE drill_schedules (
            id                    UUID PRIMARY KEY,
            team_id               UUID NOT NULL REFERENCES teams(id),
            plan_id               UUID NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
            cron                  TEXT NOT NULL,
            time_zone             TEXT NOT NULL,
            cleanup_after_minutes INTEGER,
            enabled               BOOLEAN NOT NULL DEFAULT true,
            next_fire_at          TIMESTAMPTZ,
            last_fired_at         TIMESTAMPTZ,
            last_outcome          TEXT,
            created_by            TEXT NOT NULL,
            created_at            TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX drill_schedules_plan ON drill_schedules (plan_id);
        CREATE INDEX drill_schedules_due ON drill_schedules (next_fire_at) WHERE enabled;
        CREATE TABLE scheduled_runs (
            execution_id          UUID PRIMARY KEY REFERENCES executions(id) ON DELETE CASCADE,
            -- No foreign key: deleting a schedule must not forget the clean-up its last drill is owed.
            schedule_id           UUID NOT NULL,
            cleanup_after_minutes INTEGER,
            cleanup_requested_at  TIMESTAMPTZ,
            cleanup_outcome       TEXT
        );
        CREATE INDEX scheduled_runs_cleanup ON scheduled_runs (execution_id)
            WHERE cleanup_after_minutes IS NOT NULL AND cleanup_requested_at IS NULL;
        """)

    /// A stored schedule.
    struct Row: Encodable, Equatable {
        var id: String, planId: PlanID, cron: String, timeZone: String, cleanupAfterMinutes: Int?, enabled: Bool
        var nextFireAt: Date?, lastFiredAt: Date?, lastOutcome: String?, createdBy: String, createdAt: Date
    }

    static func row(_ row: PostgresRow) throws -> Row {
        Row(id: try row.decode(UUID.self, "id").uuidString.lowercased(),
            planId: try row.decode(PlanID.self, "plan_id"), cron: try row.decode(String.self, "cron"),
            timeZone: try row.decode(String.self, "time_zone"),
            cleanupAfterMinutes: try row.decode(Int?.self, "cleanup_after_minutes"),
            enabled: try row.decode(Bool.self, "enabled"), nextFireAt: try row.decode(Date?.self, "next_fire_at"),
            lastFiredAt: try row.decode(Date?.self, "last_fired_at"), lastOutcome: try row.decode(String?.self, "last_outcome"),
            createdBy: try row.decode(String.self, "created_by"), createdAt: try row.decode(Date.self, "created_at"))
    }

    func insert(id: UUID, team: TeamID, plan: PlanID, schedule: ValidatedSchedule, nextFireAt: Date?, createdBy: String,
                on connection: PostgresConnection) async throws -> Row {
        let rows = try await connection.query(
            """
            INSERT INTO \(schema).drill_schedules
                (id, team_id, plan_id, cron, time_zone, cleanup_after_minutes, enabled, next_fire_at, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *
            """,
            [id, team, plan, schedule.cron.expression, schedule.timeZone.identifier, schedule.cleanupAfterMinutes,
             schedule.enabled, nextFireAt, createdBy]).rows
        return try Self.row(rows[0])
    }

    func count(plan: PlanID, on connection: PostgresConnection) async throws -> Int {
        try await connection.query(
            "SELECT count(*) AS n FROM \(schema).drill_schedules WHERE plan_id = $1", [plan]).rows[0].decode(Int.self, "n")
    }

    func list(plan: PlanID, team: TeamID, on connection: PostgresConnection) async throws -> [Row] {
        try await connection.query(
            "SELECT * FROM \(schema).drill_schedules WHERE plan_id = $1 AND team_id = $2 ORDER BY created_at, id",
            [plan, team]).rows.map(Self.row)
    }

    /// Deletes one; false when it is not the team's schedule of that plan.
    func delete(_ id: UUID, plan: PlanID, team: TeamID, on connection: PostgresConnection) async throws -> Bool {
        !(try await connection.query(
            "DELETE FROM \(schema).drill_schedules WHERE id = $1 AND plan_id = $2 AND team_id = $3 RETURNING id",
            [id, plan, team]).rows.isEmpty)
    }

    // MARK: The scheduler

    /// A schedule due to fire, locked (other planners skip it).
    struct Due {
        var id: UUID, team: TeamID, plan: PlanID, cron: String, timeZone: String, cleanupAfterMinutes: Int?
    }

    func lockDue(now: Date, limit: Int, on connection: PostgresConnection) async throws -> [Due] {
        try await connection.query(
            """
            SELECT id, team_id, plan_id, cron, time_zone, cleanup_after_minutes FROM \(schema).drill_schedules
            WHERE enabled AND next_fire_at <= $1 ORDER BY next_fire_at LIMIT $2 FOR UPDATE SKIP LOCKED
            """, [now, limit]).rows.map { row in
            Due(id: try row.decode(UUID.self, "id"), team: try row.decode(TeamID.self, "team_id"),
                plan: try row.decode(PlanID.self, "plan_id"), cron: try row.decode(String.self, "cron"),
                timeZone: try row.decode(String.self, "time_zone"),
                cleanupAfterMinutes: try row.decode(Int?.self, "cleanup_after_minutes"))
        }
    }

    /// The AWS accounts of a plan's servers now.
    func accounts(plan: ValidatedPlan, on connection: PostgresConnection) async throws -> [String] {
        try await connection.query(
            """
            SELECT DISTINCT account_id FROM \(schema).protection_group_servers
            WHERE group_id IN (SELECT (jsonb_array_elements_text($1))::uuid) ORDER BY account_id
            """, [try PostgresJSON(encoding: plan.protectionGroupIds.map { $0.uuidString })]).rows.map {
            try $0.decode(String.self, "account_id")
        }
    }

    /// Scheduled drills running now, per account they launch in.
    func runningScheduledDrills(on connection: PostgresConnection) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in try await connection.query(
            """
            SELECT es.account_id, count(DISTINCT e.id) AS n FROM \(schema).scheduled_runs r
            JOIN \(schema).executions e ON e.id = r.execution_id AND e.status IN ('PENDING', 'RUNNING', 'PAUSED')
            JOIN \(schema).execution_servers es ON es.execution_id = e.id
            GROUP BY es.account_id
            """).rows {
            counts[try row.decode(String.self, "account_id")] = try row.decode(Int.self, "n")
        }
        return counts
    }

    func recordFire(_ id: UUID, firedAt: Date, next: Date?, outcome: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE \(schema).drill_schedules SET last_fired_at = $2, next_fire_at = $3, last_outcome = $4 WHERE id = $1
            """, [id, firedAt, next, outcome])
    }

    func recordRun(execution: UUID, schedule: UUID, cleanupAfterMinutes: Int?, on connection: PostgresConnection)
        async throws
    {
        try await connection.query(
            """
            INSERT INTO \(schema).scheduled_runs (execution_id, schedule_id, cleanup_after_minutes) VALUES ($1, $2, $3)
            """, [execution, schedule, cleanupAfterMinutes])
    }

    /// Ended scheduled drills whose hold time is over and whose clean-up was not asked for yet, locked.
    func lockCleanupDue(now: Date, limit: Int, on connection: PostgresConnection) async throws -> [(UUID, UUID)] {
        try await connection.query(
            """
            SELECT r.execution_id, r.schedule_id FROM \(schema).scheduled_runs r
            JOIN \(schema).executions e ON e.id = r.execution_id
            WHERE r.cleanup_after_minutes IS NOT NULL AND r.cleanup_requested_at IS NULL AND e.ended_at IS NOT NULL
              AND e.ended_at + make_interval(mins => r.cleanup_after_minutes) <= $1
            ORDER BY e.ended_at LIMIT $2 FOR UPDATE OF r SKIP LOCKED
            """, [now, limit]).rows.map {
            (try $0.decode(UUID.self, "execution_id"), try $0.decode(UUID.self, "schedule_id"))
        }
    }

    func recordCleanup(execution: UUID, at: Date, outcome: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE \(schema).scheduled_runs SET cleanup_requested_at = $2, cleanup_outcome = $3 WHERE execution_id = $1",
            [execution, at, outcome])
    }
}
