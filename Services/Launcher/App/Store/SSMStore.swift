import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// One SSM Automation step run the launcher holds (`ssm_automations`).
struct SSMAutomationRow: Sendable, Equatable {
    /// Where it stands.
    enum State: String, Sendable {
        case queued = "QUEUED", starting = "STARTING", running = "RUNNING", done = "DONE"
    }

    var request: SSMAutomationRequested
    var state: State
    var automationID: String?
    var starts: Int
    /// Why the planner asked to stop it (nil: it did not).
    var stopRequested: String?
    /// The trace of the consumer span that recorded the request (nil while tracing is off).
    var trace: StoredTrace?
}

/// The `ssm_automations` table: requests recorded by the consumer, and each
/// change the SSM worker makes, committed with the `ssm.automation-status`
/// event it owes (outbox).
struct SSMStore: Sendable {
    let launch: LaunchStore

    private var schema: String { launch.schema }

    /// Records a request (inside the inbox transaction); a redelivery or a
    /// repeat of the same idempotency key changes nothing.
    func enqueue(_ request: SSMAutomationRequested, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO \(schema).ssm_automations (idempotency_key, execution_id, wave, step_name, attempt, account_id,
                region, request, state, deadline, traceparent, tracestate)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'QUEUED', $9, $10, $11)
            ON CONFLICT (idempotency_key) DO NOTHING
            """,
            [request.idempotencyKey.lowercased(), request.executionID.rawValue, request.waveNumber, request.stepName,
             request.attempt, request.endpoint.accountID, request.endpoint.region, try LaunchStore.json(request),
             request.deadline, StoredTrace.current?.traceparent, StoredTrace.current?.tracestate])
    }

    /// Open rows of `endpoint` due now, oldest first.
    func due(_ endpoint: Endpoint, limit: Int = 50, pool: PostgresPool) async throws -> [SSMAutomationRow] {
        try await pool.query(
            """
            SELECT request::text AS request, state, automation_id, starts, stop_requested, traceparent, tracestate
            FROM \(schema).ssm_automations
            WHERE account_id = $1 AND region = $2 AND state <> 'DONE' AND next_at <= now()
            ORDER BY next_at LIMIT $3
            """, [endpoint.accountID, endpoint.region, limit]).rows.map { row in
            guard let state = SSMAutomationRow.State(rawValue: try row.decode(String.self, "state")) else {
                throw UnprocessableEvent("ssm_automations holds an unknown state")
            }
            return SSMAutomationRow(
                request: try EventCoding.decoder.decode(
                    SSMAutomationRequested.self, from: Data(try row.decode(String.self, "request").utf8)),
                state: state, automationID: try row.decode(String?.self, "automation_id"),
                starts: try row.decode(Int.self, "starts"), stopRequested: try row.decode(String?.self, "stop_requested"),
                trace: StoredTrace(traceparent: try row.decode(String?.self, "traceparent"),
                                   tracestate: try row.decode(String?.self, "tracestate")))
        }
    }

    /// Records the planner's stop (inside the inbox transaction) and makes
    /// the row due now; a row already DONE, or unknown, is left alone.
    func requestStop(_ stop: SSMAutomationStopRequested, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            UPDATE \(schema).ssm_automations SET stop_requested = $2, next_at = now()
            WHERE idempotency_key = $1 AND state <> 'DONE'
            """, [stop.idempotencyKey.lowercased(), stop.reason])
    }

    /// When `endpoint`'s next open row is due (nil: none open).
    func nextDue(_ endpoint: Endpoint, pool: PostgresPool) async throws -> Date? {
        try await pool.query(
            "SELECT min(next_at) AS next FROM \(schema).ssm_automations WHERE account_id = $1 AND region = $2 AND state <> 'DONE'",
            [endpoint.accountID, endpoint.region]).rows.first?.decode(Date?.self, "next")
    }

    /// The intent: StartAutomationExecution is about to leave (committed first,
    /// so a restart knows a start may have landed and repeats it with the same ClientToken).
    func markStarting(_ key: String, pool: PostgresPool) async throws {
        try await pool.query(
            """
            UPDATE \(schema).ssm_automations SET state = 'STARTING', intent_at = now(), starts = starts + 1
            WHERE idempotency_key = $1 AND state IN ('QUEUED', 'STARTING')
            """, [key])
    }

    /// SSM answered the start: the row runs, `started` is published.
    func markRunning(_ request: SSMAutomationRequested, automationID: String, nextAt: Date, pool: PostgresPool)
        async throws
    {
        try await pool.transaction { connection in
            let updated = try await connection.query(
                """
                UPDATE \(schema).ssm_automations SET state = 'RUNNING', automation_id = $2, status = 'InProgress',
                    next_at = $3, last_error = NULL
                WHERE idempotency_key = $1 AND state IN ('QUEUED', 'STARTING') RETURNING idempotency_key
                """, [request.idempotencyKey.lowercased(), automationID, nextAt]).rows.count
            guard updated == 1 else { return }
            try await launch.outbox.enqueue(try status(SSMAutomationStatus(
                executionID: request.executionID, waveNumber: request.waveNumber, stepName: request.stepName,
                attempt: request.attempt, endpoint: request.endpoint, automationExecutionID: automationID,
                status: "InProgress", terminal: false)), on: connection)
        }
    }

    /// The run ended (or never could start): DONE, and the terminal status published once.
    func finish(_ payload: SSMAutomationStatus, key: String, pool: PostgresPool) async throws {
        try await pool.transaction { connection in
            let updated = try await connection.query(
                """
                UPDATE \(schema).ssm_automations SET state = 'DONE', status = $2, ended_at = now(),
                    automation_id = COALESCE(automation_id, $3), last_error = $4
                WHERE idempotency_key = $1 AND state <> 'DONE' RETURNING idempotency_key
                """, [key.lowercased(), payload.status.rawValue, payload.automationExecutionID, payload.failureMessage]).rows.count
            guard updated == 1 else { return }
            try await launch.outbox.enqueue(try status(payload), on: connection)
        }
    }

    /// Look again at `at` (a poll, or a retry after `error`).
    func later(_ key: String, at: Date, error: String?, pool: PostgresPool) async throws {
        try await pool.query(
            "UPDATE \(schema).ssm_automations SET next_at = $2, last_error = COALESCE($3, last_error) WHERE idempotency_key = $1",
            [key.lowercased(), at, error])
    }

    /// `ssm.automation-status` on `job.status.v1`, keyed by execution.
    func status(_ payload: SSMAutomationStatus) throws -> OutboxMessage {
        try launch.message(payload)
    }
}
