import DRSSimApp
import Foundation
import MusterDRS
import Testing

@Suite("drs-sim job lifecycle")
struct JobLifecycleTests {
    // Without jitter a one-server drill goes: LAUNCH_START at 785 s, LAUNCHED at 965 s, JOB_END at 995 s.
    @Test("a drill goes PENDING → STARTED → COMPLETED with launch progress and log events")
    func drillLifecycle() throws {
        var sim = try SimFixture.make()
        let job = try sim.start([1, 2])
        #expect(job.status == .pending)
        #expect(job.type == .launch)
        #expect(job.initiatedBy == .startDrill)
        #expect(job.jobID.hasPrefix("drsjob-") && job.jobID.count == 24)
        #expect(job.participatingServers?.map(\.launchStatus) == [.pending, .pending])

        let pending = try #require(try sim.job(job.jobID, at: 600))
        #expect(pending.status == .pending)
        #expect(try sim.logEvents(job.jobID, at: 600).contains(.conversionStart))

        let started = try #require(try sim.job(job.jobID, at: 800))
        #expect(started.status == .started)
        #expect(started.participatingServers?.allSatisfy { $0.launchStatus == .inProgress } == true)
        #expect(started.participatingServers?.allSatisfy { $0.recoveryInstanceID?.hasPrefix("i-") == true } == true)

        let done = try #require(try sim.job(job.jobID, at: 1000))
        #expect(done.status == .completed)
        #expect(done.endDateTime != nil)
        #expect(done.participatingServers?.allSatisfy { $0.launchStatus == .launched } == true)

        let events = try sim.logEvents(job.jobID, at: 1000)
        #expect(events.first == .jobStart)
        #expect(events.last == .jobEnd)
        for kind in [JobLogEvent.snapshotStart, .snapshotEnd, .conversionStart, .conversionEnd, .launchStart] {
            #expect(events.filter { $0 == kind }.count == 2, "expected \(kind) once per server")
        }
        let order = [JobLogEvent.snapshotStart, .snapshotEnd, .conversionStart, .conversionEnd, .launchStart]
        let firstIndexes = order.compactMap { events.firstIndex(of: $0) }
        #expect(firstIndexes == firstIndexes.sorted())

        let instances = try sim.instances(at: 1000)
        #expect(instances.count == 2)
        #expect(instances.allSatisfy { $0.isDrill == true && $0.ec2InstanceState == .running && $0.jobID == job.jobID })
        #expect(Set(instances.compactMap(\.recoveryInstanceID)) == Set(done.participatingServers?.compactMap(\.recoveryInstanceID) ?? []))

        let servers = try sim.describeSourceServers(
            DescribeSourceServersRequest(), accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.at(1000)
        ).items ?? []
        let first = try #require(servers.first { $0.sourceServerID == SimFixture.sid(1) })
        #expect(first.lastLaunchResult == .succeeded)
        #expect(first.lifeCycle?.lastLaunch?.initiated?.type == .drill)
        #expect(first.lifeCycle?.lastLaunch?.initiated?.jobID == job.jobID)
        #expect(first.recoveryInstanceId != nil)
    }

    @Test("a drill spends about 13 simulated minutes PENDING; time scale 600 makes that ~1.3 s")
    func timeScale() throws {
        var sim = try SimFixture.make(timeScale: 600, jitter: 0.1)
        let job = try sim.start([1])
        #expect(try sim.job(job.jobID, at: 1.0)?.status == .pending)
        #expect(try sim.job(job.jobID, at: 1.6)?.status != .pending)
        #expect(try sim.job(job.jobID, at: 2.5)?.status == .completed)
    }

    @Test("the time scale can change mid-job without time running backwards")
    func changeScale() throws {
        var sim = try SimFixture.make()
        let job = try sim.start([1])
        try sim.setTimeScale(1000, realNow: SimFixture.at(10))
        // 10 s at ×1, then 1 s at ×1000: 1010 simulated seconds, past JOB_END at 995 s.
        #expect(try sim.job(job.jobID, at: 11)?.status == .completed)
        try sim.advanceClock(bySimulatedSeconds: 60, realNow: SimFixture.at(11))
        #expect(try sim.job(job.jobID, at: 11)?.status == .completed)
    }

    @Test("servers not in a launchable replication state fail the way DRS fails them")
    func notLaunchable() throws {
        var servers = SimFixture.servers(2)
        servers[1].replicationState = "INITIAL_SYNC"
        var sim = try SimFixture.make(servers: servers)
        let job = try sim.start([1, 2])
        let done = try #require(try sim.job(job.jobID, at: 1000))
        #expect(done.status == .completed)
        let statuses = Dictionary(uniqueKeysWithValues: (done.participatingServers ?? []).map { ($0.sourceServerID ?? "", $0.launchStatus) })
        #expect(statuses[SimFixture.sid(1)] == .launched)
        #expect(statuses[SimFixture.sid(2)] == .failed)
        let logs = try sim.describeJobLogItems(
            DescribeJobLogItemsRequest(jobID: job.jobID), accountID: SimFixture.account, region: SimFixture.region,
            realNow: SimFixture.at(1000)
        ).items ?? []
        let failure = try #require(logs.first { $0.event == .snapshotFail })
        #expect(failure.eventData?.sourceServerID == SimFixture.sid(2))
        #expect(failure.eventData?.rawError?.contains("INITIAL_SYNC") == true)
        #expect(logs.contains { $0.event == .launchFailed && $0.eventData?.sourceServerID == SimFixture.sid(2) })
        #expect(try sim.instances(at: 1000).count == 1)
        #expect(sim.counters.serversFailed == 1)
        #expect(sim.counters.serversLaunched == 1)
    }

    @Test("recovery jobs run post-launch actions; drills do not")
    func postLaunchActions() throws {
        var sim = try SimFixture.make()
        let recovery = try sim.start([1], drill: false)
        let drill = try sim.start([2], drill: true)
        #expect(recovery.initiatedBy == .startRecovery)

        let running = try #require(try sim.job(recovery.jobID, at: 1000)?.participatingServers?.first)
        #expect(running.launchStatus == .launched)
        #expect(running.launchActionsStatus?.runs?.first?.status == .inProgress)
        #expect(try sim.job(recovery.jobID, at: 1000)?.status == .started)

        let finished = try #require(try sim.job(recovery.jobID, at: 1200))
        #expect(finished.status == .completed)
        let run = try #require(finished.participatingServers?.first?.launchActionsStatus?.runs?.first)
        #expect(run.status == .succeeded)
        #expect(run.action?.actionCode == "AWS-RunShellScript")
        #expect(run.runId?.count == 36)
        #expect(try sim.job(drill.jobID, at: 1200)?.participatingServers?.first?.launchActionsStatus == nil)
        #expect(try sim.instances(at: 1200).first { $0.sourceServerID == SimFixture.sid(1) }?.isDrill == false)
    }

    @Test("a second launch of a server replaces its previous recovery instance")
    func relaunchReplacesInstance() throws {
        var sim = try SimFixture.make()
        let first = try sim.start([1])
        let firstInstance = try #require(try sim.instances(at: 1000).first?.recoveryInstanceID)
        _ = try sim.start([1], at: 1001)
        _ = first
        let instances = try sim.instances(at: 2100)
        #expect(instances.count == 1)
        #expect(instances.first?.recoveryInstanceID != firstInstance)
    }
}
