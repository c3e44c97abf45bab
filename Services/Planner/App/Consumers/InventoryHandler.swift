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
        try await SourceServerStore(schema: schema).keep(server, on: connection)
        // What readiness looks at changed: the plans with this server are re-evaluated on the next pass.
        if changed {
            try await readiness.markStale(
                account: server.endpoint.accountID, region: server.endpoint.region, server: server.sourceServerID.rawValue,
                on: connection)
        }
    }
}
