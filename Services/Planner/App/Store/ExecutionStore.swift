import Foundation
import Metrics
import MusterAPI
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Persists executions: the state document is the truth the state machine
/// works on; wave and server rows are its projection for queries. Effects
/// become outbox rows in the caller's transaction.
struct ExecutionStore: Sendable {
    let schema: String
    let topics: Topics
    /// Where callout receivers reach the planner (callback URLs).
    let callbackBaseURL: String

    /// Inserts a new execution with its effects.
    func insert(_ state: ExecutionState, effects: [ExecutionEffect], on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO \(schema).executions
                (id, team_id, plan_id, plan_name, type, status, initiated_by, created_at, ended_at, state)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
            """,
            [state.id, state.teamID,
             state.planID, state.planName, state.type.rawValue, state.status.rawValue, state.initiatedBy, state.createdAt,
             state.endedAt, try Self.document(state)])
        try await project(from: nil, to: state, on: connection)
        try await enqueue(effects, state: state, on: connection)
    }

    /// The execution locked for update (job events and commands are
    /// serialised per execution), scoped to `teamID` when given.
    func lock(_ id: ExecutionID, teamID: TeamID?, on connection: PostgresConnection) async throws -> ExecutionState? {
        let result = try await connection.query(
            "SELECT state FROM \(schema).executions WHERE id = $1 AND ($2::uuid IS NULL OR team_id = $2) FOR UPDATE",
            [id, teamID])
        guard let row = result.rows.first else { return nil }
        return try Self.decode(row.decode(String.self, "state"))
    }

    /// The execution (no lock), scoped to its team.
    func get(_ id: ExecutionID, teamID: TeamID, on connection: PostgresConnection) async throws -> ExecutionState? {
        let result = try await connection.query(
            "SELECT state FROM \(schema).executions WHERE id = $1 AND team_id = $2", [id, teamID])
        guard let row = result.rows.first else { return nil }
        return try Self.decode(row.decode(String.self, "state"))
    }

    /// Stores `new` (from `old`) and its effects.
    func save(from old: ExecutionState, to new: ExecutionState, effects: [ExecutionEffect],
              on connection: PostgresConnection) async throws {
        if old != new {
            try await connection.query(
                """
                UPDATE \(schema).executions SET status = $2, ended_at = $3, state = $4, updated_at = now()
                WHERE id = $1
                """,
                [new.id, new.status.rawValue, new.endedAt, try Self.document(new)])
            try await project(from: old, to: new, on: connection)
            // Counted in the transaction: a rolled-back one (rare) counts an execution twice.
            if old.endedAt == nil, new.endedAt != nil {
                Counter(label: "muster_planner_executions_finished_total", dimensions: [("status", new.status.rawValue)])
                    .increment()
            }
        }
        try await enqueue(effects, state: new, on: connection)
    }

    /// Upserts the wave and server rows that changed, in two statements.
    private func project(from old: ExecutionState?, to new: ExecutionState, on connection: PostgresConnection)
        async throws
    {
        let executionID = new.id
        let waves = new.waves.filter { wave in old.map { $0.waves[wave.number - 1] != wave } ?? true }
        if !waves.isEmpty {
            let rows = waves.map { WaveRow(number: $0.number, name: $0.name, status: $0.status.rawValue,
                                           started_at: $0.startedAt, ended_at: $0.endedAt) }
            try await connection.query(
                """
                INSERT INTO \(schema).execution_waves (execution_id, number, name, status, started_at, ended_at)
                SELECT $1, r.number, r.name, r.status, r.started_at, r.ended_at
                FROM jsonb_to_recordset($2) AS r(number int, name text, status text, started_at timestamptz,
                                                 ended_at timestamptz)
                ON CONFLICT (execution_id, number) DO UPDATE SET status = EXCLUDED.status,
                    started_at = EXCLUDED.started_at, ended_at = EXCLUDED.ended_at
                """, [executionID, try Self.json(rows)])
        }
        let servers = new.servers.values.filter { server in old.map { $0.servers[server.id] != server } ?? true }
        if !servers.isEmpty {
            let rows = servers.map {
                ServerRow(server_id: $0.id, wave: $0.wave, account_id: $0.accountID, region: $0.region,
                          status: $0.status.rawValue, job_id: $0.jobID, recovery_instance_id: $0.recoveryInstanceID,
                          launched_at: $0.launchedAt, ended_at: $0.endedAt, failure_reason: $0.failureReason)
            }
            try await connection.query(
                """
                INSERT INTO \(schema).execution_servers (execution_id, server_id, wave, account_id, region, status,
                    job_id, recovery_instance_id, launched_at, ended_at, failure_reason)
                SELECT $1, r.server_id, r.wave, r.account_id, r.region, r.status, r.job_id, r.recovery_instance_id,
                    r.launched_at, r.ended_at, r.failure_reason
                FROM jsonb_to_recordset($2) AS r(server_id text, wave int, account_id text, region text, status text,
                    job_id text, recovery_instance_id text, launched_at timestamptz, ended_at timestamptz,
                    failure_reason text)
                ON CONFLICT (execution_id, server_id) DO UPDATE SET status = EXCLUDED.status,
                    job_id = EXCLUDED.job_id, recovery_instance_id = EXCLUDED.recovery_instance_id,
                    launched_at = EXCLUDED.launched_at, ended_at = EXCLUDED.ended_at,
                    failure_reason = EXCLUDED.failure_reason
                """, [executionID, try Self.json(rows)])
        }
    }

    /// Each effect as an outbox row, keyed as DESIGN §3 says; `state` (the
    /// execution after them) gives callout requests their context.
    func enqueue(_ effects: [ExecutionEffect], state: ExecutionState? = nil, on connection: PostgresConnection)
        async throws
    {
        guard !effects.isEmpty else { return }
        // An SSM step's `runStep` goes to the launcher on hook.requests.v1 (`message`); an HTTP
        // callout step's to the notifier on the private callouts.v1, with its one-time token.
        var messages = try effects.compactMap(message)
        if let state {
            messages += try await CalloutStore(schema: schema, topics: topics, callbackBaseURL: callbackBaseURL)
                .requests(for: effects, state: state, on: connection)
        }
        try await Outbox(schema: schema).enqueue(messages, on: connection)
        // Public execution events also go to the team's durable stream log, in this same transaction.
        let streamed = messages.filter { $0.topic == topics.executionEvents }.map(\.event)
        if !streamed.isEmpty { try await EventLog(schema: schema).append(streamed, on: connection) }
        try await StepStore(schema: schema).audit(
            effects.compactMap { if case .publish(let event) = $0, event.step != nil { event } else { nil } }, on: connection)
    }

    func message(_ effect: ExecutionEffect) throws -> OutboxMessage? {
        switch effect {
        case .startLaunchGroup(let payload):
            return try OutboxMessage(payload, source: EventSource.planner, topics: topics)
        case .publish(let payload):
            return try OutboxMessage(payload, source: EventSource.planner, topics: topics)
        case .terminateInstances(let payload):
            return try OutboxMessage(payload, source: EventSource.planner, topics: topics)
        case .runStep(let run):
            return try SSMStepTransport.message(run, topics: topics)
        case .stopStep(let run):
            return try SSMStepTransport.stopMessage(run, topics: topics)
        }
    }

    // MARK: Starting and listing

    /// The plan of `team` locked for an execution to start from it, or nil.
    func lockPlan(_ planID: PlanID, team: TeamID, on connection: PostgresConnection) async throws -> ValidatedPlan? {
        try await connection.query(
            "SELECT definition FROM \(schema).plans WHERE id = $1 AND team_id = $2 FOR UPDATE",
            [planID, team]).rows.first.map { try $0.decode(PostgresJSON.self, "definition").decode(ValidatedPlan.self) }
    }

    /// The current servers of `groups`, per group, by server id.
    func servers(ofGroups groups: [UUID], on connection: PostgresConnection) async throws
        -> [UUID: [ExecutionBlueprint.Server]]
    {
        let rows = try await connection.query(
            """
            SELECT group_id, server_id, account_id, region FROM \(schema).protection_group_servers
            WHERE group_id IN (SELECT (jsonb_array_elements_text($1))::uuid) ORDER BY server_id
            """, [try PostgresJSON(encoding: groups.map { $0.uuidString })]).rows
        var byGroup: [UUID: [ExecutionBlueprint.Server]] = [:]
        for row in rows {
            byGroup[try row.decode(UUID.self, "group_id"), default: []].append(.init(
                id: try row.decode(String.self, "server_id"), accountID: try row.decode(String.self, "account_id"),
                region: try row.decode(String.self, "region")))
        }
        return byGroup
    }

    /// One page of the team's executions, newest first, and the cursor of the next page (nil on the last).
    func list(team: TeamID, filter: ComplianceStore.HistoryFilter, page: PageRequest, pool: PostgresPool) async throws
        -> (items: [ExecutionViews.Summary], next: String?)
    {
        let rows = try await pool.query(
            """
            SELECT seq, id, plan_id, plan_name, type, status, initiated_by, created_at, ended_at
            FROM \(schema).executions
            WHERE team_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR type = $3)
              AND ($4::uuid IS NULL OR plan_id = $4) AND ($5::bigint IS NULL OR seq < $5)
            ORDER BY seq DESC LIMIT $6
            """, [team, filter.status, filter.type, filter.planID, page.afterSeq, page.limit + 1]).rows
        let items = try rows.prefix(page.limit).map { row in
            ExecutionViews.Summary(
                id: try row.decode(ExecutionID.self, "id"),
                planId: try row.decode(PlanID.self, "plan_id"),
                planName: try row.decode(String.self, "plan_name"),
                type: try row.decode(ExecutionType.self, "type"), status: try row.decode(ExecutionStatus.self, "status"),
                initiatedBy: try row.decode(String.self, "initiated_by"),
                createdAt: try row.decode(Date.self, "created_at"), endedAt: try row.decode(Date?.self, "ended_at"))
        }
        var next: String?
        if rows.count > page.limit, let last = rows.prefix(page.limit).last {
            next = PageRequest.cursor(after: try last.decode(Int64.self, "seq"))
        }
        return (Array(items), next)
    }

    // MARK: Coding

    private struct WaveRow: Encodable {
        var number: Int, name: String, status: String, started_at: Date?, ended_at: Date?
    }

    private struct ServerRow: Encodable {
        var server_id: String, wave: Int, account_id: String, region: String, status: String, job_id: String?
        var recovery_instance_id: String?, launched_at: Date?, ended_at: Date?, failure_reason: String?
    }

    /// Millisecond timestamps (EventCoding), so snapshot ordering survives a round trip.
    static func document(_ state: ExecutionState) throws -> PostgresJSON {
        try json(state)
    }

    static func json<T: Encodable>(_ value: T) throws -> PostgresJSON {
        PostgresJSON(String(decoding: try EventCoding.encoder.encode(value), as: UTF8.self))
    }

    static func decode(_ text: String) throws -> ExecutionState {
        try EventCoding.decoder.decode(ExecutionState.self, from: Data(text.utf8))
    }
}
