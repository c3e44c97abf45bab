import Foundation
import MusterDRS

extension DRSSimulation {
    /// `DescribeSourceServers`: servers in seed order, filtered, paginated.
    public mutating func describeSourceServers(
        _ request: DescribeSourceServersRequest, accountID: String, region: String, realNow: Date
    ) throws(DRSSimError) -> DescribeSourceServersResponse {
        try handle(.describeSourceServers, accountID: accountID, region: region, realNow: realNow) { sim, key, now throws(DRSSimError) in
            let estate = try sim.estate(key)
            var servers = estate.serverOrder.compactMap { estate.servers[$0].map { sim.described($0, now: now) } }
            if let wanted = request.filters?.sourceServerIDs, !wanted.isEmpty {
                try Validation.count(wanted.count, field: "filters.sourceServerIDs", min: 0, max: 200)
                for (index, id) in wanted.enumerated() {
                    try Validation.sourceServerID.check(id, field: "filters.sourceServerIDs[\(index)]")
                }
                let set = Set(wanted)
                servers = servers.filter { $0.sourceServerID.map(set.contains) ?? false }
            }
            if let hardwareID = request.filters?.hardwareId, !hardwareID.isEmpty {
                servers = servers.filter {
                    let hints = $0.sourceProperties?.identificationHints
                    return hints?.vmWareUuid == hardwareID || hints?.awsInstanceID == hardwareID
                }
            }
            if let staging = request.filters?.stagingAccountIDs, !staging.isEmpty {
                try Validation.count(staging.count, field: "filters.stagingAccountIDs", min: 0, max: 200)
                servers = servers.filter { $0.stagingArea?.stagingAccountID.map(staging.contains) ?? false }
            }
            let page = try Pagination.page(
                servers, maxResults: request.maxResults, nextToken: request.nextToken, scope: "DescribeSourceServers"
            )
            return DescribeSourceServersResponse(items: page.items, nextToken: page.nextToken)
        }
    }

    /// The server as `DescribeSourceServers` shows it at `now`: its lag (the
    /// seed's while CONTINUOUS, growing since seeding in any other state) and
    /// its newest snapshot's time, as the `replicationInfo` behaviour says.
    func described(_ source: SimSourceServer, now: Date) -> SourceServer {
        var server = source.server
        let lag = max(0, now.timeIntervalSince(Self.replicatedThrough(source, now: now)))
        let report = behaviour.replicationInfo
        if report == .lagAndLastSnapshot || report == .lagOnly {
            server.dataReplicationInfo?.lagDuration = DRSDuration.string(seconds: lag.rounded())
        } else {
            server.dataReplicationInfo?.lagDuration = nil
        }
        if report == .lagAndLastSnapshot || report == .lastSnapshotOnly,
           let newest = snapshots(of: source, now: now).first {
            server.dataReplicationInfo?.lastSnapshotDateTime = timestamp(newest.time)
        }
        return server
    }

    /// The newest source data on the staging area at `now`: `lagSeconds`
    /// behind while CONTINUOUS; in any other state replication stopped when the
    /// server was seeded, so its data (and its lag) stop there.
    static func replicatedThrough(_ source: SimSourceServer, now: Date) -> Date {
        let through = source.replicationState == .continuous ? now : min(now, source.seededAt ?? now)
        return through.addingTimeInterval(-source.lagSeconds)
    }

    /// `GetLaunchConfiguration`: a server's launch configuration.
    public mutating func getLaunchConfiguration(
        _ request: GetLaunchConfigurationRequest, accountID: String, region: String, realNow: Date
    ) throws(DRSSimError) -> LaunchConfiguration {
        try handle(.getLaunchConfiguration, accountID: accountID, region: region, realNow: realNow) { sim, key, _ throws(DRSSimError) in
            try sim.sourceServer(request.sourceServerID, in: key).launchConfiguration
        }
    }

    /// `UpdateLaunchConfiguration`: changes the given fields; refused while the server is in a job.
    public mutating func updateLaunchConfiguration(
        _ request: UpdateLaunchConfigurationRequest, accountID: String, region: String, realNow: Date
    ) throws(DRSSimError) -> LaunchConfiguration {
        try handle(.updateLaunchConfiguration, accountID: accountID, region: region, realNow: realNow) { sim, key, _ throws(DRSSimError) in
            var source = try sim.sourceServer(request.sourceServerID, in: key)
            try Validation.known(request.launchDisposition, field: "launchDisposition", allowed: LaunchDisposition.allKnown)
            try Validation.known(
                request.targetInstanceTypeRightSizingMethod, field: "targetInstanceTypeRightSizingMethod",
                allowed: TargetInstanceTypeRightSizingMethod.allKnown
            )
            if let name = request.name { try Validation.length(name, field: "name", max: 128) }
            if let target = request.launchIntoInstanceProperties?.launchIntoEC2InstanceID {
                try Validation.recoveryInstanceID.check(target, field: "launchIntoInstanceProperties.launchIntoEC2InstanceID")
            }
            if let holder = try sim.estate(key).activeJob(holding: source.id) {
                throw .conflict(
                    "Source server \(source.id) is being processed by job \(holder.id); update its launch configuration "
                        + "once that job is COMPLETED.",
                    resourceID: source.id, resourceType: "SOURCE_SERVER"
                )
            }
            var config = source.launchConfiguration
            if let value = request.name { config.name = value }
            if let value = request.launchDisposition { config.launchDisposition = value }
            if let value = request.targetInstanceTypeRightSizingMethod { config.targetInstanceTypeRightSizingMethod = value }
            if let value = request.copyPrivateIp { config.copyPrivateIp = value }
            if let value = request.copyTags { config.copyTags = value }
            if let value = request.licensing { config.licensing = value }
            if let value = request.postLaunchEnabled { config.postLaunchEnabled = value }
            if let value = request.launchIntoInstanceProperties { config.launchIntoInstanceProperties = value }
            source.launchConfiguration = config
            sim.estates[key]?.servers[source.id] = source
            return config
        }
    }

    /// The server `id` in `key`, or the `ValidationException`/`ResourceNotFoundException` DRS answers.
    func sourceServer(_ id: String, in key: EstateKey) throws(DRSSimError) -> SimSourceServer {
        try Validation.sourceServerID.check(id, field: "sourceServerID")
        guard let server = try estate(key).servers[id] else {
            throw .notFound(
                "Source server \(id) not found in account \(key.accountID), region \(key.region). Check the id with DescribeSourceServers.",
                resourceID: id, resourceType: "SOURCE_SERVER"
            )
        }
        return server
    }
}
