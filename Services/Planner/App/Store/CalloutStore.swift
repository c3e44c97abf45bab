import Foundation
import MusterEvents
import MusterMessaging
import MusterPostgres

/// SQL for HTTP callout steps: the one-time callback tokens (digests only)
/// and the `callout.requested` outbox rows, written in the transaction that
/// starts the step.
struct CalloutStore: Sendable {
    let schema: String
    let topics: Topics
    let callbackBaseURL: String

    static let migration = Migration(version: 220, name: "callout_tokens", sql: """
        -- One row per HTTP callout step started: the SHA-256 of its callback token,
        -- never the token. used_at: the callback was accepted (a second one is refused).
        CREATE TABLE callout_tokens (
            token_sha256 TEXT PRIMARY KEY,
            execution_id UUID NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
            step_name    TEXT NOT NULL,
            created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
            used_at      TIMESTAMPTZ,
            UNIQUE (execution_id, step_name)
        );
        """)

    /// One `callout.requested` per callout step `effects` start, each with a
    /// fresh token whose digest is stored here (in the caller's transaction).
    /// A step snapshotted without a subscription is not sent: it times out.
    func requests(for effects: [ExecutionEffect], state: ExecutionState, on connection: PostgresConnection)
        async throws -> [OutboxMessage]
    {
        var messages: [OutboxMessage] = []
        for effect in effects {
            guard case .runStep(let run) = effect, run.step.kind == .httpCallout, let callout = run.step.callout,
                  let subscription = callout.subscriptionID else { continue }
            let token = CalloutToken.generate()
            try await connection.query(
                """
                INSERT INTO \(schema).callout_tokens (token_sha256, execution_id, step_name) VALUES ($1, $2, $3)
                ON CONFLICT (execution_id, step_name) DO UPDATE SET token_sha256 = EXCLUDED.token_sha256, used_at = NULL
                """, [CalloutToken.digest(token.value), run.executionID, run.step.name])
            let body = CalloutBody(
                executionID: run.executionID, executionType: state.type.rawValue, initiatedBy: state.initiatedBy,
                planID: state.planID, planName: state.planName, teamID: run.teamID, waveNumber: run.waveNumber,
                waveName: run.waveName, stepName: run.step.name, phase: run.phase.rawValue, deadline: run.deadline,
                callbackURL: token.callbackURL(base: callbackBaseURL))
            messages.append(try OutboxMessage(
                CalloutRequested(url: callout.url, subscriptionID: subscription, body: body), source: EventSource.planner,
                topics: topics))
        }
        return messages
    }

    /// A token's step, locked: nil when no step has this token.
    func lock(digest: String, on connection: PostgresConnection) async throws
        -> (executionID: UUID, stepName: String, used: Bool)?
    {
        guard let row = try await connection.query(
            "SELECT execution_id, step_name, used_at FROM \(schema).callout_tokens WHERE token_sha256 = $1 FOR UPDATE",
            [digest]).rows.first else { return nil }
        return (try row.decode(UUID.self, "execution_id"), try row.decode(String.self, "step_name"),
                try row.decode(Date?.self, "used_at") != nil)
    }

    /// Marks the token used.
    func use(digest: String, on connection: PostgresConnection) async throws {
        try await connection.query(
            "UPDATE \(schema).callout_tokens SET used_at = now() WHERE token_sha256 = $1", [digest])
    }
}
