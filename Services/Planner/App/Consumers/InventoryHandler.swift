import Foundation
import MusterEvents
import MusterKafka
import MusterMessaging
import MusterPostgres

/// Keeps the inventory from `inventory.v1`: one row per source server,
/// never replaced by an older observation.
struct InventoryHandler: Sendable {
    let schema: String
    /// Stores the launcher's readiness answers (`readiness.checked`) and re-evaluates their plans.
    let readiness: ReadinessRecorder
    let now: @Sendable () -> Date
    /// `inventory.v1`'s types; any other is parked.
    private let handlers: EventHandlers

    init(configuration: PlannerConfiguration) {
        let schema = configuration.schema, readiness = ReadinessRecorder(configuration: configuration)
        let now = configuration.clock
        self.schema = schema
        self.readiness = readiness
        self.now = now
        var handlers = EventHandlers(unregistered: .park)
        handlers.register(ReadinessChecked.self) { answer, context in
            if let changed = try await readiness.answered(answer, now: now(), on: context.transaction) {
                try await Outbox(schema: schema).enqueue(changed, on: context.transaction)
            }
        }
        handlers.register(SourceServerObserved.self) { server, context in
            try await Self.store(server, schema: schema, on: context.transaction)
        }
        self.handlers = handlers
    }

    func handle(_ event: CloudEvent, _ record: KafkaRecord, on connection: PostgresConnection) async throws {
        try await handlers.handle(event, record: record, transaction: connection)
    }

    /// Keeps `server`'s row unless a newer observation is stored; marks its plans' readiness stale when it changed.
    private static func store(_ server: SourceServerObserved, schema: String, on connection: PostgresConnection)
        async throws
    {
        let readiness = ReadinessStore(schema: schema)
        let changed = try await readiness.inventoryChanges(
            account: server.endpoint.accountID, region: server.endpoint.region, server: server.sourceServerID.rawValue,
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
                account: server.endpoint.accountID, region: server.endpoint.region, server: server.sourceServerID.rawValue,
                on: connection)
        }
    }
}
