import Foundation
import MusterEvents
import MusterMessaging
import MusterPostgres

/// The readiness requests the launcher owes an answer (issue 16): written by
/// the accounts consumer in its inbox transaction, claimed by a worker for a
/// while (a killed worker's claim lapses and another takes it), and deleted
/// in the transaction that enqueues the answer — so each request is answered,
/// at least once, and the answer is never lost.
struct ReadinessRequestStore: Sendable {
    let launch: LaunchStore
    var schema: String { launch.schema }

    /// Version 230: one row per open request.
    static func migration(schema s: String) -> Migration {
        Migration(version: 230, name: "launcher_readiness_requests", sql: """
            CREATE TABLE \(s).readiness_requests (
                evaluation_id TEXT NOT NULL,
                account_id    TEXT NOT NULL,
                request       JSONB NOT NULL,
                received_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
                claimed_until TIMESTAMPTZ,
                PRIMARY KEY (evaluation_id, account_id)
            );
            """)
    }

    /// Records `request` (a redelivered one is recorded once).
    func record(_ request: ReadinessCheckRequested, on connection: PostgresConnection) async throws {
        try await connection.query(
            """
            INSERT INTO \(schema).readiness_requests (evaluation_id, account_id, request) VALUES ($1, $2, $3)
            ON CONFLICT DO NOTHING
            """, [request.evaluationID, request.accountID, try PostgresJSON(encoding: request)])
    }

    /// Claims the oldest unclaimed (or lapsed) request for `lease`; nil when there is none.
    func claim(lease: Duration, pool: PostgresPool) async throws -> ReadinessCheckRequested? {
        try await pool.query(
            """
            UPDATE \(schema).readiness_requests SET claimed_until = now() + make_interval(secs => $1::float8)
            WHERE (evaluation_id, account_id) = (
                SELECT evaluation_id, account_id FROM \(schema).readiness_requests
                WHERE claimed_until IS NULL OR claimed_until < now()
                ORDER BY received_at LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING request
            """, [Double(lease.components.seconds)]).rows.first
            .map { try $0.decode(PostgresJSON.self, "request").decode(ReadinessCheckRequested.self) }
    }

    /// Enqueues the answer on `inventory.v1` (key: plan id) and closes the request, in one transaction.
    func answer(_ answer: ReadinessChecked, pool: PostgresPool) async throws {
        let message = try launch.message(answer)
        try await pool.transaction { connection in
            try await launch.outbox.enqueue([message], on: connection)
            try await connection.query(
                "DELETE FROM \(schema).readiness_requests WHERE evaluation_id = $1 AND account_id = $2",
                [answer.evaluationID, answer.accountID])
        }
    }
}
