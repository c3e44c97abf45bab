import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// The SQL of inventory: what was last published per server.
struct InventoryStore: Sendable {
    let launch: LaunchStore
    var schema: String { launch.schema }

    /// What identifies a change worth publishing (not the observation time,
    /// nor the exact lag or snapshot time, which move every round): the lag's
    /// band does, so the planner's last figure stays within its band.
    static func fingerprint(_ server: SourceServerObserved) -> String {
        [server.hostname ?? "-", server.replicationState ?? "-", server.lastLaunchResult ?? "-",
         server.recoveryInstanceID ?? "-", server.tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: ","), lagBand(server.lagSeconds)].joined(separator: "|")
    }

    /// Upper bounds (seconds) of the lag bands a change of which is published.
    static let lagBands: [Double] = [60, 300, 900, 3600, 6 * 3600, 24 * 3600]

    /// The band `lag` falls in: `lag<60`, …, `lag>=86400`, or `lag?` when unknown.
    static func lagBand(_ lag: Double?) -> String {
        guard let lag else { return "lag?" }
        if let bound = lagBands.first(where: { lag < $0 }) { return "lag<\(Int(bound))" }
        return "lag>=\(Int(lagBands.last ?? 0))"
    }

    /// Publishes the servers of `observed` that are new or changed, or were
    /// last published before `refreshBefore`; returns how many.
    func publishChanges(
        _ observed: [SourceServerObserved], endpoint: Endpoint, refreshBefore: Date, pool: PostgresPool
    ) async throws -> Int {
        let s = schema, launch = self.launch
        return try await pool.transaction { connection in
            var last: [SourceServerID: (String, Date)] = [:]
            for row in try await connection.query(
                "SELECT source_server_id, fingerprint, published_at FROM \(s).inventory_state WHERE account_id = $1 AND region = $2",
                [endpoint.accountID, endpoint.region]).rows {
                last[try row.decode(SourceServerID.self, "source_server_id")] =
                    (try row.decode(String.self, "fingerprint"), try row.decode(Date.self, "published_at"))
            }
            var messages: [OutboxMessage] = []
            for server in observed {
                let fingerprint = Self.fingerprint(server)
                if let (previous, at) = last[server.sourceServerID], previous == fingerprint, at >= refreshBefore { continue }
                messages.append(try launch.message(server))
                try await connection.query(
                    """
                    INSERT INTO \(s).inventory_state (account_id, region, source_server_id, fingerprint, published_at)
                    VALUES ($1, $2, $3, $4, now())
                    ON CONFLICT (account_id, region, source_server_id)
                    DO UPDATE SET fingerprint = EXCLUDED.fingerprint, published_at = EXCLUDED.published_at
                    """, [endpoint.accountID, endpoint.region, server.sourceServerID, fingerprint])
            }
            try await launch.outbox.enqueue(messages, on: connection)
            return messages.count
        }
    }
}
