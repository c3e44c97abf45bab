import Foundation
import MusterDRS
import MusterDomain
import MusterEvents
import MusterMessaging
import ServiceLifecycle

/// DescribeSourceServers per registered (account, region) this instance
/// owns, on an interval, every page (DESIGN §5 "Inventory"). Only servers
/// that changed (new, replication state, hostname, last launch result,
/// recovery instance, tags, lag band) are published as `source-server.observed`,
/// plus every server once per full-refresh period, so a quiet estate costs
/// no events. An interval of zero disables inventory; the service then
/// just waits for shutdown (a returning service would stop the launcher).
final class Inventory: Service, Sendable {
    private let context: LauncherContext

    init(context: LauncherContext) {
        self.context = context
    }

    func run() async throws {
        let interval = context.configuration.inventoryInterval
        guard interval > .zero else {
            context.logger.info("inventory disabled (MUSTER_LAUNCHER_INVENTORY_INTERVAL=0)")
            try? await gracefulShutdown()
            return
        }
        // Let the scheduler's first heartbeat claim the endpoints; then a round per interval.
        let loop = WorkLoop(name: "inventory", timing: LoopTiming(idle: interval), logger: context.logger)
        var first = true
        try await loop.run {
            if first {
                first = false
                return .after(min(interval, .seconds(1)))
            }
            await inventoryOnce()
            return .idle
        }
    }

    /// One round over the owned, registered endpoints; returns how many servers were published.
    @discardableResult
    func inventoryOnce(full: Bool = false) async -> Int {
        var published = 0
        do {
            let owned = Set(try await context.store.owned(by: context.instanceID, pool: context.pool).map(\.endpoint))
            for endpoint in context.accounts.endpoints where owned.contains(endpoint) && context.ownership.mayAct(for: endpoint) {
                do {
                    published += try await inventory(endpoint, full: full)
                } catch {
                    context.logger.warning("inventory failed", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                }
            }
        } catch {
            context.logger.warning("inventory round failed", metadata: ["error": "\(error)"])
        }
        return published
    }

    private func inventory(_ endpoint: Endpoint, full: Bool) async throws -> Int {
        let servers = try await context.gate.callAll(
            endpoint, "DescribeSourceServers", items: \.items, nextToken: \.nextToken
        ) { try await $0.describeSourceServers(DescribeSourceServersRequest(maxResults: 200, nextToken: $1)) }
        let now = Date()
        let observed = servers.compactMap { server -> SourceServerObserved? in
            guard let id = server.sourceServerID.map(SourceServerID.init(rawValue:)) else { return nil }
            let replication = server.dataReplicationInfo
            return SourceServerObserved(
                endpoint: endpoint, sourceServerID: id, hostname: server.sourceProperties?.identificationHints?.hostname,
                replicationState: replication?.dataReplicationState?.rawValue,
                lastLaunchResult: server.lastLaunchResult?.rawValue, tags: server.tags ?? [:],
                recoveryInstanceID: server.recoveryInstanceId, observedAt: now,
                lagSeconds: replication?.lagDuration.flatMap(DRSDuration.seconds(from:)),
                lastSnapshotAt: replication?.lastSnapshotDateTime.flatMap(DRSDateTime.date(from:)))
        }
        let refreshBefore = full ? now : now.addingTimeInterval(-LauncherConfiguration.seconds(context.configuration.inventoryFullRefresh))
        let count = try await context.inventoryStore.publishChanges(
            observed, endpoint: endpoint, refreshBefore: refreshBefore, pool: context.pool)
        if count > 0 { context.wakeRelay() }
        return count
    }
}
