import Foundation
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Keeps the inventory from `inventory.v1`: one row per source server,
/// never replaced by an older observation.
struct InventoryHandler: Sendable {
    let schema: String
    /// Stores the launcher's readiness answers (`readiness.checked`) and re-evaluates their plans.
    let readiness: ReadinessRecorder
    let now: @Sendable () -> Date

    init(configuration: PlannerConfiguration) {
        schema = configuration.schema
        readiness = ReadinessRecorder(configuration: configuration)
        now = configuration.clock
    }

    func handle(_ event: CloudEvent, on connection: PostgresConnection) async throws {
        if event.type == EventType.readinessChecked {
            let answer: ReadinessChecked
            do {
                answer = try event.decode(ReadinessChecked.self)
            } catch {
                throw UnprocessableEvent("\(error)")
            }
            if let changed = try await readiness.answered(answer, now: now(), on: connection) {
                try await Outbox(schema: schema).enqueue(changed, on: connection)
            }
            return
        }
        guard event.type == EventType.sourceServerObserved else {
            throw UnprocessableEvent("inventory.v1 carries no \(event.type) events")
        }
        let server: SourceServerObserved
        do {
            server = try event.decode(SourceServerObserved.self)
        } catch {
            throw UnprocessableEvent("\(error)")
        }
        let readiness = ReadinessStore(schema: schema)
        let changed = try await readiness.inventoryChanges(
            account: server.endpoint.accountID, region: server.endpoint.region, server: server.sourceServerID,
            replicationState: server.replicationState, recoveryInstanceID: server.recoveryInstanceID, on: connection)
        try await connection.query(
            """
            INSERT INTO \(schema).source_servers (account_id, region, server_id, hostname, replication_state,
                last_launch_result, tags, recovery_instance_id, observed_at, lag_seconds, last_snapshot_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            ON CONFLICT (account_id, region, server_id) DO UPDATE SET hostname = EXCLUDED.hostname,
                replication_state = EXCLUDED.replication_state, last_launch_result = EXCLUDED.last_launch_result,
                tags = EXCLUDED.tags, recovery_instance_id = EXCLUDED.recovery_instance_id,
                observed_at = EXCLUDED.observed_at, lag_seconds = EXCLUDED.lag_seconds,
                last_snapshot_at = EXCLUDED.last_snapshot_at
            WHERE source_servers.observed_at <= EXCLUDED.observed_at
            """,
            [server.endpoint.accountID, server.endpoint.region, server.sourceServerID, server.hostname,
             server.replicationState, server.lastLaunchResult, try PostgresJSON(encoding: server.tags),
             server.recoveryInstanceID, server.observedAt, server.lagSeconds, server.lastSnapshotAt])
        // What readiness looks at changed: the plans with this server are re-evaluated on the next pass.
        if changed {
            try await readiness.markStale(
                account: server.endpoint.accountID, region: server.endpoint.region, server: server.sourceServerID,
                on: connection)
        }
    }
}
