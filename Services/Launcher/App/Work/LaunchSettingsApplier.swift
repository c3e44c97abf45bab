import Foundation
import MusterDRS
import MusterDomain
import MusterEC2
import MusterEvents

/// A chunk's launch settings or recovery point that cannot be used: the chunk
/// is refused (`job.launch-failed`) before anything was changed or launched.
struct LaunchRefused: Error, CustomStringConvertible {
    /// `InvalidLaunchProfile` or `NoRecoverySnapshot`.
    var code: String
    /// Every problem, each naming the server and field.
    var problems: [String]
    var description: String { problems.joined(separator: "; ") }
}

/// Applies a chunk's launch settings before StartRecovery (issue 13, DESIGN
/// §12): checks them against EC2, records each server's launch
/// configuration and template default *before* changing anything, creates a
/// template version from the profile on top of the recorded default, makes
/// it the default and updates the DRS launch configuration. `Restoring`
/// puts everything back once the job is past launch.
struct LaunchSettingsApplier: Sendable {
    let context: LauncherContext
    var restores: RestoreStore { RestoreStore(schema: context.store.schema) }

    /// Applies the settings of `row`'s servers; nothing when none has any.
    func apply(_ row: ChunkRow, request: LaunchGroupRequested) async throws {
        let plans = row.servers.compactMap { server in
            LaunchSettingsRules.settings(for: server, in: request).map { (server: server, settings: $0) }
        }
        guard !plans.isEmpty else { return }
        // Every EC2 call goes through the endpoint's budget, like DRS's (`DRSGate.callEC2`).
        let ec2 = plans.contains { LaunchSettingsRules.templateSettings($0.settings) != nil }
        let endpoint = row.endpoint, gate = context.gate
        if ec2 { try await validate(plans, endpoint: endpoint) }

        // 1. Record what is there now — before anything changes.
        var recorded: [RestoreStore.Recorded] = []
        var current: [SourceServerID: LaunchConfiguration] = [:]
        for plan in plans {
            let configuration = try await context.gate.call(row.endpoint, "GetLaunchConfiguration") {
                try await $0.getLaunchConfiguration(GetLaunchConfigurationRequest(sourceServerID: plan.server.rawValue))
            }
            current[plan.server] = configuration
            var templateID: String?, previousVersion: Int64?
            if ec2, LaunchSettingsRules.templateSettings(plan.settings) != nil {
                guard let id = configuration.ec2LaunchTemplateID else {
                    throw LaunchRefused(code: "InvalidLaunchProfile", problems: [
                        "\(plan.server): DRS names no ec2LaunchTemplateID in its launch configuration; the profile's EC2 settings cannot be applied"])
                }
                templateID = id
                previousVersion = try await gate.callEC2(endpoint, "DescribeLaunchTemplateVersions") {
                    try await $0.defaultVersion(templateID: id)
                }.versionNumber
            }
            recorded.append(RestoreStore.Recorded(
                sourceServerID: plan.server, launchTemplateID: templateID, previousVersion: previousVersion,
                previous: configuration, keep: plan.settings.keep))
        }
        let rows = try await restores.record(recorded, chunk: row.id, endpoint: row.endpoint, pool: context.pool)

        // 2. Change.
        for plan in plans {
            guard let restore = rows[plan.server], let configuration = current[plan.server] else { continue }
            var appliedVersion: Int64?
            if ec2, let template = LaunchSettingsRules.templateSettings(plan.settings),
               let templateID = restore.launchTemplateID, let source = restore.previousVersion {
                // Built on the default recorded first (never on a version of an earlier attempt);
                // the client token makes a repeated request return the same version.
                let version = try await gate.callEC2(endpoint, "CreateLaunchTemplateVersion") {
                    try await $0.createLaunchTemplateVersion(
                        templateID: templateID, sourceVersion: String(source), settings: template,
                        description: "muster \(plan.settings.profile) \(row.launchGroup.executionID)",
                        clientToken: "muster-\(restore.id)-\(row.id)")
                }
                _ = try await gate.callEC2(endpoint, "ModifyLaunchTemplate") {
                    try await $0.modifyLaunchTemplate(templateID: templateID, defaultVersion: version.versionNumber)
                }
                appliedVersion = version.versionNumber
            }
            if let update = LaunchSettingsRules.configurationUpdate(current: configuration, server: plan.server, settings: plan.settings) {
                _ = try await context.gate.call(row.endpoint, "UpdateLaunchConfiguration") {
                    try await $0.updateLaunchConfiguration(update)
                }
            }
            try await restores.applied(restore.id, appliedVersion: appliedVersion, pool: context.pool)
        }
        context.logger.info("launch settings applied; they are restored once the job is past launch", metadata: [
            "launchGroup": "\(row.launchGroup)", "chunk": "\(row.chunk)", "servers": "\(plans.count)"])
    }

    /// Subnets and security groups exist, static IPs fit their subnet and are not asked twice.
    private func validate(_ plans: [(server: SourceServerID, settings: ServerLaunchSettings)], endpoint: Endpoint) async throws {
        let gate = context.gate
        var subnets: [String: EC2Subnet] = [:]
        for id in Set(plans.compactMap(\.settings.settings.subnetId)).sorted() {
            do {
                if let subnet = try await gate.callEC2(endpoint, "DescribeSubnets", { try await $0.describeSubnets(ids: [id]) }).first {
                    subnets[id] = subnet
                }
            } catch let error as EC2Error where error.code == "InvalidSubnetID.NotFound" || error.code == "InvalidSubnetID.Malformed" {
                continue
            }
        }
        var groups = Set<String>()
        for id in Set(plans.flatMap { $0.settings.settings.securityGroupIds ?? [] }).sorted() {
            do {
                groups.formUnion(try await gate.callEC2(endpoint, "DescribeSecurityGroups") {
                    try await $0.describeSecurityGroups(ids: [id])
                }.map(\.groupID))
            } catch let error as EC2Error where error.code.hasPrefix("InvalidGroup") {
                continue
            }
        }
        var ips: [String: SourceServerID] = [:]
        for plan in plans { if let ip = plan.settings.privateIp, ips[ip] == nil { ips[ip] = plan.server } }
        let problems = plans.flatMap {
            LaunchSettingsRules.problems(server: $0.server, settings: $0.settings, subnets: subnets, groups: groups, ipsInChunk: ips)
        }
        if !problems.isEmpty { throw LaunchRefused(code: "InvalidLaunchProfile", problems: problems) }
    }
}
