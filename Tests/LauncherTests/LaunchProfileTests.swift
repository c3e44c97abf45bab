import DRSSimApp
import Foundation
import LauncherApp
import MusterAWS
import MusterDRS
import MusterDomain
import MusterEC2
import MusterEvents
import TestSupport
import Testing

@testable import LauncherApp

/// Issue 13's rules without I/O: what is changed, what is put back, when, and what is refused.
@Suite("Launch settings and recovery points: the pure rules")
struct LaunchSettingsRulesTests {
    let drill = ServerLaunchSettings(
        profile: "drill",
        settings: LaunchProfile(subnetId: "subnet-0d1e2f3a4b5c60002", securityGroupIds: ["sg-0d1e2f3a4b5c60002"],
                                instanceType: "t3.small", launchDisposition: .started, copyPrivateIp: false),
        privateIp: "10.99.0.10")

    @Test("A profile changes only what differs; an explicit type and a static IP turn off what would override them")
    func configurationUpdate() {
        let current = LaunchConfiguration(
            launchDisposition: .stopped, targetInstanceTypeRightSizingMethod: .basic, copyPrivateIp: true, copyTags: true)
        let update = LaunchSettingsRules.configurationUpdate(current: current, server: "s-1", settings: drill)
        #expect(update?.launchDisposition == .started)
        #expect(update?.copyPrivateIp == false)
        #expect(update?.targetInstanceTypeRightSizingMethod == TargetInstanceTypeRightSizingMethod.none)
        #expect(update?.copyTags == nil)
        let already = LaunchConfiguration(
            launchDisposition: .started, targetInstanceTypeRightSizingMethod: TargetInstanceTypeRightSizingMethod.none,
            copyPrivateIp: false)
        #expect(LaunchSettingsRules.configurationUpdate(current: already, server: "s-1", settings: drill) == nil)
    }

    @Test("The restore request puts back every field a profile may change, and is recognised as done")
    func restore() {
        let previous = LaunchConfiguration(
            launchDisposition: .stopped, targetInstanceTypeRightSizingMethod: .basic, copyPrivateIp: true, copyTags: false,
            licensing: Licensing(osByol: true), postLaunchEnabled: true)
        let request = LaunchSettingsRules.restore(previous, server: "s-1")
        #expect(request.launchDisposition == .stopped && request.copyPrivateIp == true && request.copyTags == false)
        #expect(request.targetInstanceTypeRightSizingMethod == .basic && request.licensing?.osByol == true)
        #expect(request.postLaunchEnabled == true)
        var changed = previous
        changed.copyPrivateIp = false
        #expect(!LaunchSettingsRules.isRestored(changed, previous: previous))
        #expect(LaunchSettingsRules.isRestored(previous, previous: previous))
    }

    @Test("Template settings carry subnet, groups, type and the server's static IP")
    func template() {
        let template = LaunchSettingsRules.templateSettings(drill)
        #expect(template?.subnetID == "subnet-0d1e2f3a4b5c60002" && template?.privateIPAddress == "10.99.0.10")
        #expect(LaunchSettingsRules.templateSettings(ServerLaunchSettings(profile: "p", settings: LaunchProfile(copyTags: true))) == nil)
        var form = EC2QueryForm(action: "CreateLaunchTemplateVersion")
        template?.encode(into: &form)
        #expect(form.value("LaunchTemplateData.NetworkInterface.1.SubnetId") == "subnet-0d1e2f3a4b5c60002")
        #expect(form.value("LaunchTemplateData.NetworkInterface.1.SecurityGroupId.1") == "sg-0d1e2f3a4b5c60002")
        #expect(form.value("LaunchTemplateData.NetworkInterface.1.PrivateIpAddress") == "10.99.0.10")
    }

    @Test("Refused: unknown subnet or group, an IP outside the subnet or reserved, an IP asked twice")
    func problems() {
        let subnet = EC2Subnet(subnetID: "subnet-0d1e2f3a4b5c60002", vpcID: nil, cidrBlock: "10.99.0.0/24", availabilityZone: nil)
        let subnets = [subnet.subnetID: subnet]
        let groups: Set = ["sg-0d1e2f3a4b5c60002"]
        #expect(LaunchSettingsRules.problems(server: "s-1", settings: drill, subnets: subnets, groups: groups,
                                             ipsInChunk: ["10.99.0.10": "s-1"]).isEmpty)
        #expect(LaunchSettingsRules.problems(server: "s-1", settings: drill, subnets: [:], groups: groups, ipsInChunk: [:])
            .contains { $0.contains("subnetId") })
        var outside = drill
        outside.privateIp = "10.0.0.10"
        #expect(LaunchSettingsRules.problems(server: "s-1", settings: outside, subnets: subnets, groups: groups, ipsInChunk: [:])
            .contains { $0.contains("not an assignable address") })
        var reserved = drill
        reserved.privateIp = "10.99.0.2"
        #expect(!LaunchSettingsRules.problems(server: "s-1", settings: reserved, subnets: subnets, groups: groups, ipsInChunk: [:]).isEmpty)
        #expect(LaunchSettingsRules.problems(server: "s-2", settings: drill, subnets: subnets, groups: groups,
                                             ipsInChunk: ["10.99.0.10": "s-1"]).contains { $0.contains("also asked for s-1") })
        #expect(LaunchSettingsRules.problems(server: "s-1", settings: drill, subnets: subnets, groups: [], ipsInChunk: [:])
            .contains { $0.contains("securityGroupIds") })
    }

    @Test("Past launch: LAUNCHED, FAILED or TERMINATED servers, or every server of a completed job; never a TERMINATE job")
    func pastLaunch() {
        func observed(_ status: DRSJobStatus, _ servers: [(String, DRSLaunchStatus)], type: DRSJobType = .launch) -> JobObserved {
            JobObserved(
                launchGroup: LaunchGroupID(executionID: .named("e"), waveNumber: 1, endpoint: Endpoint(accountID: "1", region: "r")),
                chunk: 0, jobID: "drsjob-1", jobType: type, status: status,
                servers: servers.map { ObservedServer(sourceServerID: SourceServerID(rawValue: $0.0), launchStatus: $0.1, recoveryInstanceID: nil, launchActionRuns: []) },
                observedAt: Date())
        }
        #expect(LaunchSettingsRules.pastLaunch(observed(.started, [("a", .launched), ("b", .inProgress), ("c", .failed)])) == ["a", "c"])
        #expect(LaunchSettingsRules.pastLaunch(observed(.completed, [("a", .launched), ("b", .pending)])) == ["a", "b"])
        #expect(LaunchSettingsRules.pastLaunch(observed(.completed, [("a", .launched)], type: .terminate)).isEmpty)
    }

    @Test("Recovery point: the newest snapshot at or before the time; none when all are later")
    func newest() {
        let snapshots = ["2026-01-01T10:00:00Z", "2026-01-01T11:00:00Z", "2026-01-01T12:00:00Z"].enumerated().map {
            RecoverySnapshot(snapshotID: "pit-\($0.offset)", sourceServerID: "s-1", expectedTimestamp: $0.element, timestamp: $0.element)
        }
        let t = DRSDateTime.date(from: "2026-01-01T11:30:00Z")!
        #expect(RecoveryPointRules.newest(snapshots, atOrBefore: t)?.id == "pit-1")
        #expect(RecoveryPointRules.newest(snapshots, atOrBefore: DRSDateTime.date(from: "2026-01-01T11:00:00Z")!)?.id == "pit-1")
        #expect(RecoveryPointRules.newest(snapshots, atOrBefore: DRSDateTime.date(from: "2026-01-01T09:00:00Z")!) == nil)
    }

    @Test("IPv4 CIDR: containment and AWS's five reserved addresses")
    func cidr() {
        let cidr = IPv4CIDR("10.99.0.0/24")!
        #expect(cidr.isAssignable(IPv4Address("10.99.0.4")!) && cidr.isAssignable(IPv4Address("10.99.0.254")!))
        #expect(!cidr.isAssignable(IPv4Address("10.99.0.3")!) && !cidr.isAssignable(IPv4Address("10.99.0.255")!))
        #expect(!cidr.contains(IPv4Address("10.98.0.10")!))
        #expect(IPv4Address("10.99.0.010") == nil && IPv4Address("256.1.1.1") == nil && IPv4CIDR("10.0.0.0/33") == nil)
    }
}

/// Issue 13 against drs-sim over HTTP, PostgreSQL and the broker: a drill
/// with a profile launches in the drill subnet with its static IPs, and
/// afterwards every server's launch configuration and default template
/// version are exactly what they were — also when the launcher dies between
/// the change and the launch.
@Suite("Launcher: drill profiles applied, then restored", .serialized)
struct LaunchProfileIntegrationTests {
    typealias H = LauncherHarness

    struct Before: Equatable {
        var configuration: LaunchConfiguration
        var defaultVersion: Int64
    }

    func clients(_ harness: H) -> (DRSClient, EC2Client) {
        let credentials = StaticCredentialsProvider(H.credentials)
        let base = "http://127.0.0.1:\(harness.port)"
        return (DRSClient(region: H.region, endpoint: base, credentials: credentials, httpClient: harness.http, logger: TestEnvironment.logger),
                EC2Client(region: H.region, endpoint: base, credentials: credentials, httpClient: harness.http, logger: TestEnvironment.logger))
    }

    func state(_ harness: H, _ servers: [String]) async throws -> [String: Before] {
        let (drs, ec2) = clients(harness)
        var result: [String: Before] = [:]
        for server in servers {
            let configuration = try await drs.getLaunchConfiguration(GetLaunchConfigurationRequest(sourceServerID: server))
            let version = try await ec2.defaultVersion(templateID: configuration.ec2LaunchTemplateID ?? "")
            result[server] = Before(configuration: configuration, defaultVersion: version.versionNumber)
        }
        return result
    }

    func drillRequest(_ harness: H, _ execution: String, servers: [String], ips: [String]) -> LaunchGroupRequested {
        var request = harness.launchGroupRequested(execution, servers: servers)
        let profile = LaunchProfile(subnetId: "subnet-0d1e2f3a4b5c60002", securityGroupIds: ["sg-0d1e2f3a4b5c60002"],
                                    instanceType: "t3.small", copyPrivateIp: false)
        request.launchSettings = Dictionary(uniqueKeysWithValues: zip(servers, ips).map {
            ($0.0, ServerLaunchSettings(profile: "drill", settings: profile, privateIp: $0.1))
        })
        return request
    }

    /// Asks the launcher to poll its unfinished jobs, as the poller would.
    func pollOnce(_ harness: H) async throws {
        let jobs = try await harness.jobs().filter { $0.completed == nil }.map(\.jobID)
        if !jobs.isEmpty {
            try await harness.publish(harness.topics.jobPoll, type: EventType.jobPoll, JobPoll(endpoint: H.endpoint, jobIDs: jobs.map(JobID.init(rawValue:))))
        }
    }

    /// Polls the launcher's jobs (as the poller would) until every restore is closed.
    func pollUntilRestored(_ harness: H) async throws -> Bool {
        try await eventually(every: .milliseconds(300)) {
            try await pollOnce(harness)
            let open = try await harness.pool.query(
                "SELECT count(*) AS n FROM \(harness.schema).launch_restores WHERE closed_at IS NULL").rows[0].decode(Int.self, "n")
            let all = try await harness.pool.query(
                "SELECT count(*) AS n FROM \(harness.schema).launch_restores").rows[0].decode(Int.self, "n")
            return all > 0 && open == 0
        }
    }

    func instanceIPs(_ harness: H, _ servers: [String]) async throws -> [String: [String]] {
        let (drs, _) = clients(harness)
        let items = try await drs.describeRecoveryInstances(DescribeRecoveryInstancesRequest(
            filters: DescribeRecoveryInstancesRequestFilters(sourceServerIDs: servers))).items ?? []
        var ips: [String: [String]] = [:]
        for item in items {
            ips[item.sourceServerID ?? ""] = item.recoveryInstanceProperties?.networkInterfaces?.first?.ips ?? []
        }
        return ips
    }

    @Test("A drill launches in the drill subnet with the static IPs; afterwards settings equal those before")
    func drillRestores() async throws {
        try await H.with { harness in
            let servers = [H.sid(1), H.sid(2)]
            let before = try await state(harness, servers)
            try await harness.startLauncher(harness.configuration())
            try await harness.launch(drillRequest(harness, "ex-profile", servers: servers, ips: ["10.99.0.21", "10.99.0.22"]))
            #expect(try await eventually { try await harness.jobs().count == 1 })
            #expect(try await pollUntilRestored(harness))
            #expect(try await instanceIPs(harness, servers) == [H.sid(1): ["10.99.0.21"], H.sid(2): ["10.99.0.22"]])
            #expect(try await state(harness, servers) == before)
            // The drill really changed them: a template version was made for each server.
            let (_, ec2) = clients(harness)
            for server in servers {
                let versions = try await ec2.describeLaunchTemplateVersions(
                    templateID: before[server]!.configuration.ec2LaunchTemplateID!, versions: [])
                #expect(versions.contains { $0.settings.privateIPAddress != nil && !$0.isDefault })
            }
        }
    }

    @Test("Killed between the change and the launch: the next launcher launches once, then restores")
    func crashAfterChange() async throws {
        try await H.with { harness in
            let servers = [H.sid(3)]
            let before = try await state(harness, servers)
            let crashed = Locked(false)
            let (_, first) = try await harness.startLauncher(harness.configuration(), hooks: LauncherHooks(afterApplyingSettings: {
                let crash = crashed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if crash { throw LauncherCrash() }
            }))
            try await harness.launch(drillRequest(harness, "ex-crash", servers: servers, ips: ["10.99.0.31"]))
            await #expect(throws: LauncherCrash.self) { try await first[0].value }
            for task in first { task.cancel() }
            for task in first { _ = try? await task.value }
            // The change is made and recorded, nothing launched.
            #expect(try await state(harness, servers) != before)
            #expect(try await harness.jobs().isEmpty)

            try await harness.startLauncher(harness.configuration())
            #expect(try await eventually { try await harness.jobs().count == 1 })
            #expect(try await pollUntilRestored(harness))
            #expect(try await instanceIPs(harness, servers) == [H.sid(3): ["10.99.0.31"]])
            #expect(try await state(harness, servers) == before)
        }
    }

    @Test("Killed after restoring, before the restore was marked done: the next launcher restores again, same result")
    func crashDuringRestore() async throws {
        try await H.with { harness in
            let servers = [H.sid(4)]
            let before = try await state(harness, servers)
            let crashed = Locked(false)
            let (_, first) = try await harness.startLauncher(harness.configuration(), hooks: LauncherHooks(beforeClosingRestore: { _ in
                let crash = crashed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if crash { throw LauncherCrash() }
            }))
            try await harness.launch(drillRequest(harness, "ex-restore-crash", servers: servers, ips: ["10.99.0.41"]))
            #expect(try await eventually { try await harness.jobs().count == 1 })
            for _ in 0..<100 where !crashed.withLock({ $0 }) {
                try await pollOnce(harness)
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(crashed.withLock { $0 })
            for task in first { task.cancel() }
            for task in first { _ = try? await task.value }
            try await harness.startLauncher(harness.configuration())
            #expect(try await pollUntilRestored(harness))
            #expect(try await state(harness, servers) == before)
        }
    }

    @Test("A profile naming an IP outside its subnet refuses the chunk before anything changes")
    func invalidProfile() async throws {
        try await H.with { harness in
            let servers = [H.sid(5)]
            let before = try await state(harness, servers)
            try await harness.startLauncher(harness.configuration())
            try await harness.launch(drillRequest(harness, "ex-bad-ip", servers: servers, ips: ["10.0.0.50"]))
            #expect(try await eventually {
                try await harness.outboxPayloads(EventType.jobLaunchFailed, as: JobLaunchFailed.self).count == 1
            })
            let failed = try await harness.outboxPayloads(EventType.jobLaunchFailed, as: JobLaunchFailed.self)
            #expect(failed.first?.errorCode == "InvalidLaunchProfile")
            #expect(failed.first?.reason.contains("privateIp 10.0.0.50") == true)
            #expect(try await state(harness, servers) == before)
            #expect(try await harness.jobs().isEmpty)
        }
    }

    @Test("Recovery point before T: each server launches from the newest snapshot at or before T")
    func recoveryPointBefore() async throws {
        try await H.with { harness in
            let server = H.sid(6)
            let (drs, _) = clients(harness)
            let snapshots = try await drs.describeRecoverySnapshots(DescribeRecoverySnapshotsRequest(
                sourceServerID: server, order: .desc)).items ?? []
            try #require(snapshots.count >= 10)
            // Just after the third newest: that one is expected.
            let expected = snapshots[snapshots.count / 2]  // an hourly one: it outlives the test
            let t = DRSDateTime.date(from: expected.timestamp!)!.addingTimeInterval(1)
            var request = harness.launchGroupRequested("ex-pit", servers: [server])
            request.recoveryPoint = RecoveryPoint(before: t)
            try await harness.startLauncher(harness.configuration())
            try await harness.launch(request)
            #expect(try await eventually { try await harness.jobs().count == 1 })
            let created = try await harness.outboxPayloads(EventType.jobCreated, as: JobCreated.self)
            #expect(created.first?.recoverySnapshots?.first?.snapshotID == expected.snapshotID)
            #expect(try await eventually(every: .milliseconds(200)) {
                let items = try await drs.describeRecoveryInstances(DescribeRecoveryInstancesRequest(
                    filters: DescribeRecoveryInstancesRequestFilters(sourceServerIDs: [server]))).items ?? []
                return items.first?.pointInTimeSnapshotDateTime.flatMap(DRSDateTime.date(from:))
                    == DRSDateTime.date(from: expected.timestamp!)
            })
        }
    }

    @Test("EC2 throttling backs off within the endpoint's budget and never starves another chunk's StartRecovery")
    func ec2ThrottlingDoesNotStarveStartRecovery() async throws {
        try await H.with { harness in
            let profiled = [H.sid(5)], plain = [H.sid(6)]
            let before = try await state(harness, profiled)
            // EC2 answers RequestLimitExceeded to everything until the fault is cleared.
            try await harness.engine.withSimulation { simulation, now in
                _ = try simulation.addFault(DRSSimFault(type: .ec2Throttling), realNow: now)
            }
            try await harness.startLauncher(harness.configuration())
            try await harness.launch(drillRequest(harness, "ex-ec2-throttled", servers: profiled, ips: ["10.99.0.31"]))
            try await harness.launch(harness.launchGroupRequested("ex-drs-only", servers: plain))

            // The chunk without EC2 settings launches while EC2 is still throttled.
            #expect(try await eventually {
                try await harness.jobs().contains { $0.launchGroup.hasPrefix("\(ExecutionID.named("ex-drs-only")):") }
            })
            #expect(try await harness.jobs().allSatisfy { !$0.launchGroup.hasPrefix("\(ExecutionID.named("ex-ec2-throttled")):") },
                    "nothing launches with settings EC2 never accepted")
            let throttled = await harness.counters().ec2Throttled
            #expect(throttled >= 1)
            #expect(await harness.counters().throttles == 0, "DRS itself was never throttled")

            // EC2 recovers: the profiled chunk launches with its settings, then they are restored.
            await harness.engine.withSimulation { simulation, _ in simulation.clearFaults() }
            #expect(try await eventually {
                try await harness.jobs().contains { $0.launchGroup.hasPrefix("\(ExecutionID.named("ex-ec2-throttled")):") }
            })
            #expect(try await pollUntilRestored(harness))
            #expect(try await instanceIPs(harness, profiled) == [H.sid(5): ["10.99.0.31"]])
            #expect(try await state(harness, profiled) == before)
        }
    }
}
