import Foundation
import MusterDRS
import MusterDomain
import MusterEC2

/// Puts launch settings back (issue 13): for every restore of an endpoint
/// that is due, the launch template's default version as recorded, then the
/// DRS launch configuration as recorded. Both requests are idempotent, so a
/// restore cut short by a crash is simply done again by whichever launcher
/// owns the endpoint next.
struct Restoring: Sendable {
    let context: LauncherContext
    var restores: RestoreStore { RestoreStore(schema: context.store.schema) }

    /// Restores what is due; returns whether any restore failed (to look again soon).
    func restoreDue(_ endpoint: Endpoint) async throws -> Bool {
        var failures = false
        for row in try await restores.due(endpoint, pool: context.pool) {
            if row.keep {
                try await restores.close(row, as: "KEPT", pool: context.pool)
                continue
            }
            do {
                if let templateID = row.launchTemplateID, let previous = row.previousVersion {
                    _ = try await context.gate.callEC2(endpoint, "ModifyLaunchTemplate") {
                        try await $0.modifyLaunchTemplate(templateID: templateID, defaultVersion: previous)
                    }
                }
                let request = LaunchSettingsRules.restore(row.previous, server: row.sourceServerID)
                _ = try await context.gate.call(endpoint, "UpdateLaunchConfiguration") {
                    try await $0.updateLaunchConfiguration(request)
                }
                try context.hooks.beforeClosingRestore(row.sourceServerID)
                if try await restores.close(row, as: "RESTORED", pool: context.pool) {
                    LauncherMetrics.restored(endpoint)
                    context.logger.info("launch settings restored", metadata: [
                        "server": "\(row.sourceServerID)", "templateVersion": "\(row.previousVersion.map(String.init) ?? "-")"])
                }
            } catch let crash as LauncherCrash {
                throw crash
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failures = true
                try await restores.failed(row, error: "\(error)", pool: context.pool)
                context.logger.error("restoring launch settings failed; will retry", metadata: [
                    "server": "\(row.sourceServerID)", "error": "\(error)"])
            }
        }
        return failures
    }
}
