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

    @Test("before-job: recovery jobs run post-launch actions, then end; drills run none")
    func postLaunchActions() throws {
        var sim = try SimFixture.make()
        sim.setBehaviour(DRSSimBehaviour(postLaunchOrder: .beforeJob))
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

    @Test("after-job (the default): the job ends first, with no runs; the runs start and end afterwards")
    func postLaunchActionsAfterJobEnd() throws {
        var sim = try SimFixture.make()
        #expect(sim.behaviour.postLaunchOrder == .afterJob)
        let recovery = try sim.start([1], drill: false)
        // Launched at 965, JOB_END at 995 (no jitter); the agent registers 30 s later.
        let ended = try #require(try sim.job(recovery.jobID, at: 1000))
        #expect(ended.status == .completed)
        #expect(ended.participatingServers?.first?.launchStatus == .launched)
        #expect(ended.participatingServers?.first?.launchActionsStatus == nil, "no runs yet at JOB_END")
        #expect(try sim.logEvents(recovery.jobID, at: 1000).last == .jobEnd)
        // The server is free once the job ended, runs or not.
        let restart = drsError { () throws(DRSSimError) in try sim.start([1], drill: true, at: 1001) }
        #expect(restart == nil)
        let running = try #require(try sim.job(recovery.jobID, at: 1100)?.participatingServers?.first)
        #expect(running.launchActionsStatus?.runs?.first?.status == .inProgress)
        let finished = try #require(try sim.job(recovery.jobID, at: 1200))
        #expect(finished.status == .completed && finished.endDateTime == ended.endDateTime)
        #expect(finished.participatingServers?.first?.launchActionsStatus?.runs?.first?.status == .succeeded)
    }

    @Test("the SSM agent delay counts from JOB_END (after-job) or from the launch (before-job)")
    func ssmAgentDelay() throws {
        var sim = try SimFixture.make()
        sim.setBehaviour(DRSSimBehaviour(postLaunchOrder: .afterJob, ssmAgentDelaySeconds: 300))
        let late = try sim.start([1], drill: false)
        // JOB_END at 995; the agent registers at 1295.
        #expect(try sim.job(late.jobID, at: 1290)?.participatingServers?.first?.launchActionsStatus == nil)
        #expect(try sim.job(late.jobID, at: 1300)?.participatingServers?.first?.launchActionsStatus?.runs?.first?.status
                == .inProgress)
        sim.setBehaviour(DRSSimBehaviour(postLaunchOrder: .beforeJob, ssmAgentDelaySeconds: 300))
        let early = try sim.start([2], drill: false, at: 0)
        // Launched at 965, runs 1265–1385, JOB_END at 1415.
        #expect(try sim.job(early.jobID, at: 1300)?.status == .started)
        #expect(try sim.job(early.jobID, at: 1420)?.status == .completed)
    }

    @Test("DescribeJobs lists newest first; job logs oldest or newest first, late items with jitter")
    func listOrders() throws {
        var sim = try SimFixture.make()
        let first = try sim.start([1], at: 0), second = try sim.start([2], at: 1), third = try sim.start([3], at: 2)
        let listed = try sim.describeJobs(
            DescribeJobsRequest(), accountID: SimFixture.account, region: SimFixture.region, realNow: SimFixture.at(3)
        ).items?.map(\.jobID)
        #expect(listed == [third.jobID, second.jobID, first.jobID])
        let oldestFirst = try sim.logEvents(first.jobID, at: 2000)
        #expect(oldestFirst.first == .jobStart && oldestFirst.last == .jobEnd)
        sim.setBehaviour(DRSSimBehaviour(logOrder: .newestFirst))
        #expect(try sim.logEvents(first.jobID, at: 2000) == oldestFirst.reversed())
        // With jitter an item may be listed after newer ones were: at some moment the
        // listing lacks an item older than the newest one listed.
        sim.setBehaviour(DRSSimBehaviour(logJitterSeconds: 600))
        var sawALateItem = false
        for t in stride(from: 0.0, through: 2000, by: 5) {
            let items = try sim.describeJobLogItems(
                DescribeJobLogItemsRequest(jobID: first.jobID), accountID: SimFixture.account,
                region: SimFixture.region, realNow: SimFixture.at(t)).items ?? []
            let times = items.compactMap { $0.logDateTime.flatMap(DRSDateTime.date(from:)) }
            #expect(times == times.sorted(), "oldest-first listing stays in time order")
            let all = try sim.describeJobLogItems(
                DescribeJobLogItemsRequest(jobID: first.jobID), accountID: SimFixture.account,
                region: SimFixture.region, realNow: SimFixture.at(5000)).items ?? []
            if let newest = times.last,
               all.contains(where: { item in
                   guard let time = item.logDateTime.flatMap(DRSDateTime.date(from:)) else { return false }
                   return time < newest && !items.contains(item)
               }) {
                sawALateItem = true
            }
        }
        #expect(sawALateItem)
        #expect(try sim.logEvents(first.jobID, at: 5000).count == oldestFirst.count, "every item is listed in the end")
    }

    @Test("the aws timestamp form is written and accepted in filters")
    func awsTimestamps() throws {
        var sim = try SimFixture.make()
        sim.setBehaviour(DRSSimBehaviour(timestampFormat: .aws))
        let job = try sim.start([1], at: 0.5)
        let created = try #require(job.creationDateTime)
        #expect(created.hasSuffix("+00:00") && created.split(separator: ".").last?.count == 6 + 6)
        let from = try sim.describeJobs(
            DescribeJobsRequest(filters: DescribeJobsRequestFilters(fromDate: created)), accountID: SimFixture.account,
            region: SimFixture.region, realNow: SimFixture.at(1)).items
        #expect(from?.map(\.jobID) == [job.jobID])
        #expect(DRSDateTime.date(from: created) == SimFixture.at(0.5))
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
