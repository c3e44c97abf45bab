import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres

/// The planner's copy of the source-server inventory (`source_servers`, from `inventory.v1`): one row
/// per server, never replaced by an older observation. Every statement runs on the caller's transaction.
struct SourceServerStore: Sendable {
    let schema: String

    /// Keeps `server`'s observation unless a newer one is stored.
    func keep(_ server: SourceServerObserved, on connection: PostgresConnection) async throws {
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
    }

    /// The inventory's replication freshness of `serverIDs` in `endpoint`.
    func replication(
        of serverIDs: [String], in endpoint: Endpoint, on connection: PostgresConnection
    ) async throws -> [String: ReplicationObservation] {
        var observations: [String: ReplicationObservation] = [:]
        for row in try await connection.query(
            """
            SELECT server_id, replication_state, lag_seconds, last_snapshot_at, observed_at FROM \(schema).source_servers
            WHERE account_id = $1 AND region = $2 AND server_id = ANY(string_to_array($3, ','))
            """, [endpoint.accountID, endpoint.region, serverIDs.joined(separator: ",")]).rows {
            observations[try row.decode(String.self, "server_id")] = ReplicationObservation(
                replicationState: try row.decode(String?.self, "replication_state"),
                lagSeconds: try row.decode(Double?.self, "lag_seconds"),
                lastSnapshotAt: try row.decode(Date?.self, "last_snapshot_at"),
                observedAt: try row.decode(Date.self, "observed_at"))
        }
        return observations
    }
}
