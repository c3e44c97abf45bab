import Foundation
import MusterDRS
import MusterDomain
import MusterEvents
import MusterMessaging
import ServiceLifecycle

/// DescribeSourceServers per registered (account, region) this instance
/// owns, on an interval, every page, published as `source-server.observed`
/// on `inventory.v1` (DESIGN §5 "Inventory").
final class Inventory: Service, Sendable {
    private let context: LauncherContext

    init(context: LauncherContext) {
        self.context = context
    }

    func run() async throws {
        let interval = context.configuration.inventoryInterval
        guard interval > .zero else { return }
        // Let the scheduler's first heartbeat claim the endpoints.
        // Sleeps end at graceful shutdown: the interval is minutes long.
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: min(interval, .seconds(1))) }
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await inventoryOnce()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One round over the owned, registered endpoints; returns how many servers were published.
    @discardableResult
    func inventoryOnce() async -> Int {
        var published = 0
        do {
            let s = context.store.schema
            let owned = Set(try await context.pool.query(
                "SELECT account_id, region FROM \(s).endpoints WHERE owner = $1", [context.instanceID]
            ).rows.map { Endpoint(accountID: try $0.decode(String.self, "account_id"), region: try $0.decode(String.self, "region")) })
            for endpoint in context.accounts.endpoints where owned.contains(endpoint) {
                do {
                    published += try await inventory(endpoint)
                } catch {
                    context.logger.warning("inventory failed", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                }
            }
        } catch {
            context.logger.warning("inventory round failed", metadata: ["error": "\(error)"])
        }
        return published
    }

    private func inventory(_ endpoint: Endpoint) async throws -> Int {
        let servers = try await context.gate.callAll(
            endpoint, "DescribeSourceServers", items: \.items, nextToken: \.nextToken
        ) { try await $0.describeSourceServers(DescribeSourceServersRequest(maxResults: 200, nextToken: $1)) }
        let now = Date()
        let messages = try servers.compactMap { server -> OutboxMessage? in
            guard let id = server.sourceServerID else { return nil }
            let payload = SourceServerObserved(
                endpoint: endpoint, sourceServerID: id, hostname: server.sourceProperties?.identificationHints?.hostname,
                replicationState: server.dataReplicationInfo?.dataReplicationState?.rawValue,
                lastLaunchResult: server.lastLaunchResult?.rawValue, tags: server.tags ?? [:],
                recoveryInstanceID: server.recoveryInstanceId, observedAt: now)
            return OutboxMessage(topic: context.store.topics.inventory, key: "\(endpoint.key)/\(id)", event: try CloudEvent(
                source: EventSource.launcher, type: EventType.sourceServerObserved, subject: id, payload: payload))
        }
        let outbox = context.store.outbox
        try await context.pool.transaction { connection in try await outbox.enqueue(messages, on: connection) }
        context.wakeRelay()
        return messages.count
    }
}
