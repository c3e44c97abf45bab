import DRSSimApp
import Foundation
import LauncherApp
import MusterAWS
import MusterDRS
import MusterDomain
import MusterEvents
import MusterMessaging
import TestSupport
import Testing

/// The launcher against drs-sim (in-process, over HTTP), the real broker and
/// PostgreSQL. drs-sim runs at time scale 600: a drill takes about 1.7 s.
@Suite("Launcher against drs-sim, Kafka and PostgreSQL")
struct LauncherIntegrationTests {
    typealias H = LauncherHarness

    @Test("Two executions sharing servers never overlap jobs; drs-sim counts zero conflicts")
    func sharedServers() async throws {
        try await H.with() { harness in
            try await harness.startLauncher(harness.configuration())
            let first = harness.launchGroupRequested("ex-a", servers: [H.sid(1), H.sid(2), H.sid(3)])
            let second = harness.launchGroupRequested("ex-b", servers: [H.sid(2), H.sid(3), H.sid(4)])
            try await harness.launch(first)
            #expect(try await eventually { try await harness.jobs().count == 1 })
            try await harness.launch(second)
            #expect(try await eventually { try await harness.outboxTypes(execution: "ex-b").contains(EventType.jobQueued) })
            let queued = try await harness.outboxPayloads(EventType.jobQueued, as: JobQueued.self)
            #expect(queued.first?.reason == .leases)
            #expect(Set((queued.first?.blockingServerIDs ?? []).map(\.rawValue)) == [H.sid(2), H.sid(3)])

            #expect(try await harness.pollUntil { try await harness.jobs().count == 2 })
            let jobs = try await harness.jobs()
            let jobA = try #require(jobs.first { $0.launchGroup == first.launchGroup.description })
            let jobB = try #require(jobs.first { $0.launchGroup == second.launchGroup.description })
            let completedA = try #require(jobA.completed)
            #expect(jobB.created >= completedA, "B started only after A's job was observed terminal")
            let counters = await harness.counters()
            #expect(counters.conflicts == 0)
            #expect(counters.jobsByLaunchGroup[first.launchGroup.description] == 1)
            #expect(counters.jobsByLaunchGroup[second.launchGroup.description] == 1)
        }
    }

    @Test("A foreign job holding a server delays the group (ConflictException back-off), which then launches")
    func foreignJob() async throws {
        try await H.with() { harness in
            // The foreign job holds the server until the test has seen Muster
            // back off from it at least once (no race with a wall-clock hold).
            _ = try await harness.engine.withSimulation { simulation, now in
                try simulation.addFault(DRSSimFault(
                    type: .foreignJob, accountID: H.accountID, region: H.region, sourceServerIDs: [H.sid(5)], seconds: 3600),
                    realNow: now)
            }
            try await harness.startLauncher(harness.configuration {
                $0.conflict = ConflictPolicy(initialDelay: 30, deadline: 3600, scale: 0.01)  // 0.3 s, 0.6 s, …
            })
            let request = harness.launchGroupRequested("ex-f", servers: [H.sid(5), H.sid(6)])
            try await harness.launch(request)
            #expect(await eventually { await harness.counters().conflicts >= 1 },
                    "the launch met the foreign job")
            #expect(try await harness.jobs().isEmpty, "nothing launched while the server is held")
            // The foreign job ends: jump simulated time past its hold.
            _ = try await harness.engine.withSimulation { simulation, now in
                try simulation.advanceClock(bySimulatedSeconds: 3600 * 600 + 60, realNow: now)
            }
            #expect(try await eventually { try await harness.jobs().count == 1 })
            let counters = await harness.counters()
            #expect(counters.jobsByLaunchGroup[request.launchGroup.description] == 1)
            let types = try await harness.outboxTypes(execution: "ex-f")
            #expect(types.contains(EventType.jobQueued))
            #expect(!types.contains(EventType.jobLaunchFailed))
            #expect(try await harness.outboxPayloads(EventType.jobQueued, as: JobQueued.self).first?.reason == .conflict)
        }
    }

    @Test("A throttling storm is ridden out: every group launches once, none fails")
    func throttlingStorm() async throws {
        // One request a second, burst 1: each chunk's GetLaunchConfiguration and StartRecovery go
        // out back to back, so the storm happens however the six groups are spread over time
        // (at 4/s, burst 2, a loaded machine could pace them under the limit and nothing throttled).
        try await H.with(rateLimit: DRSSimRateLimit(requestsPerSecond: 1, burst: 1)) { harness in
            let requests = (1...6).map { harness.launchGroupRequested("ex-t\($0)", servers: [H.sid($0)]) }
            for request in requests { try await harness.launch(request) }
            try await harness.startLauncher(harness.configuration { $0.limits.requestsPerSecond = 100; $0.limits.burst = 100 })
            #expect(try await eventually { try await harness.jobs().count == requests.count })
            let counters = await harness.counters()
            #expect(counters.throttles > 0, "the storm happened")
            for request in requests { #expect(counters.jobsByLaunchGroup[request.launchGroup.description] == 1) }
            #expect(try await !harness.outboxTypes().contains(EventType.jobLaunchFailed))
            let calls = counters.calls.values.flatMap(\.values).reduce(0, +)
            #expect(counters.throttles < calls, "the launcher paused instead of hammering")
        }
    }

    @Test("Job slots full: each completed job admits a waiting group, never more jobs than slots, one job.queued per waiting group")
    func slotsFreedByCompletions() async throws {
        try await H.with(quotas: DRSSimQuotas(maxConcurrentJobs: 2, maxServersInActiveJobs: 200, maxServersPerJob: 200)) { harness in
            try await harness.startLauncher(harness.configuration { $0.limits.maxConcurrentJobs = 2 })
            let requests = (1...6).map { harness.launchGroupRequested("ex-slot-\($0)", servers: [H.sid($0)]) }
            for request in requests { try await harness.launch(request) }
            #expect(try await harness.pollUntil {
                try await harness.jobs().filter { $0.completed != nil }.count == requests.count
            })
            let jobs = try await harness.jobs()
            #expect(Set(jobs.map(\.launchGroup)) == Set(requests.map(\.launchGroup.description)))
            // The launcher's own record: at no job's creation were more than 2 of its jobs live.
            for job in jobs {
                let live = jobs.filter { $0.created <= job.created && ($0.completed.map { $0 > job.created } ?? true) }
                #expect(live.count <= 2, "\(live.count) jobs live when \(job.launchGroup) started")
            }
            let counters = await harness.counters()
            #expect(counters.maxConcurrentJobs <= 2)
            #expect(counters.quotaExceeded == 0, "admission never asked DRS for a third job")
            for request in requests { #expect(counters.jobsByLaunchGroup[request.launchGroup.description] == 1) }
            // The 4 groups that waited said so once each (the reason did not change while they waited).
            let queued = try await harness.outboxPayloads(EventType.jobQueued, as: JobQueued.self)
            #expect(queued.allSatisfy { $0.reason == .quota })
            #expect(queued.count == Set(queued.map(\.launchGroup)).count, "one job.queued per waiting group")
            #expect(queued.count >= 4)
        }
    }

    @Test("A group waiting for a slot has its launch configuration read while it waits; its launch then reads none")
    func launchConfigurationReadAhead() async throws {
        try await H.with(quotas: DRSSimQuotas(maxConcurrentJobs: 1, maxServersInActiveJobs: 200, maxServersPerJob: 200)) { harness in
            try await harness.startLauncher(harness.configuration { $0.limits.maxConcurrentJobs = 1 })
            let first = harness.launchGroupRequested("ex-ahead-1", servers: [H.sid(1)])
            let second = harness.launchGroupRequested("ex-ahead-2", servers: [H.sid(2)])
            try await harness.launch(first)
            #expect(try await eventually { try await harness.jobs().count == 1 })
            try await harness.launch(second)
            // No poll yet, so the first job holds the only slot: the second group waits, and its
            // server's configuration is read meanwhile (the first launch read its own).
            #expect(await eventually { await harness.counters().calls("GetLaunchConfiguration") == 2 })
            #expect(try await harness.jobs().count == 1)
            #expect(try await harness.pollUntil {
                try await harness.jobs().filter { $0.completed != nil }.count == 2
            })
            let counters = await harness.counters()
            #expect(counters.calls("GetLaunchConfiguration") == 2, "the second launch found its configuration cached")
            #expect(counters.jobsByLaunchGroup[second.launchGroup.description] == 1)
        }
    }

    @Test("A 250-server launch group becomes two jobs within the quotas")
    func largeGroup() async throws {
        try await H.with(servers: 250) { harness in
            try await harness.startLauncher(harness.configuration {
                $0.limits.maxServersPerJob = 200
                $0.limits.maxServersInActiveJobs = 200
            })
            var request = harness.launchGroupRequested("ex-big", servers: (1...250).map(H.sid))
            request.gatesNextStep = false  // the last wave: carried to the poller on each job.created
            try await harness.launch(request)
            // Count-bounded: 10 s alone, 36 s once with every suite on 2 cores (the second job waits for the first to end).
            #expect(try await harness.pollUntil { try await harness.jobs().count == 2 })
            let created = try await harness.outboxPayloads(EventType.jobCreated, as: JobCreated.self)
            #expect(created.map(\.chunk).sorted() == [0, 1])
            #expect(created.allSatisfy { $0.chunkCount == 2 && $0.sourceServerIDs.count == 125 })
            #expect(Set(created.flatMap(\.sourceServerIDs).map(\.rawValue)) == Set((1...250).map(H.sid)))
            #expect(created.allSatisfy { $0.timeoutSeconds == 600 && $0.isDrill && $0.launchGroup == request.launchGroup })
            #expect(created.allSatisfy { $0.gatesNextStep == false })
            let counters = await harness.counters()
            #expect(counters.quotaExceeded == 0)
            #expect(counters.maxServersInActiveJobs <= 200)
            #expect(counters.jobsByLaunchGroup[request.launchGroup.description] == 2)
            #expect(try await harness.outboxPayloads(EventType.jobQueued, as: JobQueued.self).first?.reason == .quota)
        }
    }

    @Test("Killed between StartRecovery and recording the job id: after restart exactly one job exists")
    func crashAfterStartRecovery() async throws {
        try await H.with() { harness in
            let crashedJob = Locked<JobID?>(nil)
            let (_, firstTasks) = try await harness.startLauncher(harness.configuration(), hooks: LauncherHooks { jobID in
                let first = crashedJob.withLock { job in
                    defer { job = job ?? jobID }
                    return job == nil
                }
                if first { throw LauncherCrash() }
            })
            let request = harness.launchGroupRequested("ex-crash", servers: [H.sid(7), H.sid(8)])
            try await harness.launch(request)
            // The scheduler dies at the seam; stop the rest of that "process".
            await #expect(throws: LauncherCrash.self) { try await firstTasks[0].value }
            for task in firstTasks { task.cancel() }
            for task in firstTasks { _ = try? await task.value }
            #expect(await harness.counters().jobsByLaunchGroup[request.launchGroup.description] == 1)
            #expect(try await harness.jobs().isEmpty, "the job id was never recorded")

            try await harness.startLauncher(harness.configuration())
            #expect(try await eventually { try await harness.jobs().count == 1 })
            try await Task.sleep(for: .milliseconds(500))
            #expect(await harness.counters().jobsByLaunchGroup[request.launchGroup.description] == 1)
            let created = try await harness.outboxPayloads(EventType.jobCreated, as: JobCreated.self)
            #expect(created.count == 1)
            #expect(created.first?.jobID == crashedJob.value, "the reconciler adopted the job started before the crash")
            #expect(created.first?.sourceServerIDs.map(\.rawValue) == [H.sid(7), H.sid(8)])
        }
    }

    @Test("A poll of 500 jobs costs one DescribeJobs call")
    func pollFiveHundred() async throws {
        try await H.with(
            servers: 500, timeScale: 1,
            quotas: DRSSimQuotas(maxConcurrentJobs: 1000, maxServersInActiveJobs: 1000, maxServersPerJob: 200)) { harness in
            let client = DRSClient(
                region: H.region, endpoint: "http://127.0.0.1:\(harness.port)",
                credentials: StaticCredentialsProvider(H.credentials), httpClient: harness.http, logger: TestEnvironment.logger)
            var ids: [String] = []
            for n in 1...500 {
                let tags = [JobTags.launchGroup: "\(ExecutionID.named("ex-poll")):w1:\(H.accountID):\(H.region)", JobTags.chunk: String(n - 1)]
                let job = try await client.startRecovery(StartRecoveryRequest(
                    sourceServers: [.init(sourceServerID: H.sid(n))], isDrill: true, tags: tags))
                ids.append(try #require(job.job?.jobID))
            }
            try await harness.startLauncher(harness.configuration())
            let before = await harness.counters().calls("DescribeJobs")
            try await harness.publish(harness.topics.jobPoll, type: EventType.jobPoll, JobPoll(endpoint: H.endpoint, jobIDs: ids.map(JobID.init(rawValue:))))
            #expect(try await eventually {
                try await harness.outboxTypes().filter { $0 == EventType.jobObserved }.count == 500
            })
            #expect(await harness.counters().calls("DescribeJobs") - before == 1)
            let observed = try await harness.outboxPayloads(EventType.jobObserved, as: JobObserved.self)
            #expect(Set(observed.map(\.jobID.rawValue)) == Set(ids))
            #expect(observed.allSatisfy { $0.servers.count == 1 && !$0.newLogEvents.isEmpty })
        }
    }

    @Test("Leases are released when jobs complete, including with FAILED servers")
    func leasesReleasedOnFailure() async throws {
        try await H.with() { harness in
            _ = try await harness.engine.withSimulation { simulation, now in
                try simulation.addFault(DRSSimFault(type: .launchFailure, sourceServerID: H.sid(9), message: "boom"), realNow: now)
            }
            try await harness.startLauncher(harness.configuration())
            try await harness.launch(harness.launchGroupRequested("ex-fail", servers: [H.sid(9), H.sid(10)]))
            #expect(try await eventually { try await harness.leaseCount() == 2 })
            #expect(try await harness.pollUntil {
                let jobs = try await harness.jobs()
                return jobs.count == 1 && jobs.allSatisfy { $0.completed != nil }
            })
            #expect(try await harness.leaseCount() == 0)
            let last = try #require(try await harness.outboxPayloads(EventType.jobObserved, as: JobObserved.self).last)
            #expect(last.status == .completed)
            #expect(last.servers.first { $0.sourceServerID.rawValue == H.sid(9) }?.launchStatus == .failed)
            #expect(last.servers.first { $0.sourceServerID.rawValue == H.sid(10) }?.launchStatus == .launched)
            let events = try await harness.outboxPayloads(EventType.jobObserved, as: JobObserved.self).flatMap(\.newLogEvents)
            #expect(events.contains { $0.event == "LAUNCH_FAILED" && $0.sourceServerID?.rawValue == H.sid(9) })
            #expect(Set(events.map { "\($0.event)\($0.time)\($0.sourceServerID?.rawValue ?? "")" }).count == events.count,
                    "log events are reported once")

            // The freed server launches again at once.
            try await harness.launch(harness.launchGroupRequested("ex-again", servers: [H.sid(9)]))
            #expect(try await eventually { try await harness.jobs().count == 2 })
        }
    }

    @Test("A malformed launch-group.requested is logged, counted and skipped; the consumer goes on")
    func malformedRecord() async throws {
        try await H.with() { harness in
            try await harness.startLauncher(harness.configuration())
            let broken = CloudEvent(source: "/test", type: EventType.launchGroupRequested, data: Array(#"{"launchGroup": 42}"#.utf8))
            _ = try await harness.producer.send(broken.kafkaRecord(topic: harness.topics.launchRequests, key: H.endpoint.key))
            try await harness.launch(harness.launchGroupRequested("ex-ok", servers: [H.sid(1)]))
            #expect(try await eventually { try await harness.jobs().count == 1 })
            #expect(harness.outcomes.withLock { $0 }.contains(.malformed))
        }
    }

    @Test("Cleanup terminates recovery instances as a tracked TERMINATE job; inventory publishes every server")
    func cleanupAndInventory() async throws {
        try await H.with(servers: 12) { harness in
            let (launcher, _) = try await harness.startLauncher(harness.configuration())
            try await harness.launch(harness.launchGroupRequested("ex-clean", servers: [H.sid(11), H.sid(12)]))
            #expect(try await harness.pollUntil {
                let jobs = try await harness.jobs()
                return jobs.count == 1 && jobs[0].completed != nil
            })
            let instances = try await harness.outboxPayloads(EventType.jobObserved, as: JobObserved.self).last?.servers
                .compactMap(\.recoveryInstanceID) ?? []
            #expect(instances.count == 2)
            try await harness.publish(harness.topics.instancesTerminate, type: EventType.instancesTerminate, InstancesTerminate(
                executionID: .named("ex-clean"), endpoint: H.endpoint, recoveryInstanceIDs: instances, requestedBy: "alice"))
            #expect(try await eventually {
                try await harness.outboxPayloads(EventType.jobCreated, as: JobCreated.self).contains { $0.jobType == .terminate }
            })
            let terminate = try #require(try await harness.outboxPayloads(EventType.jobCreated, as: JobCreated.self).last)
            #expect(terminate.launchGroup.waveNumber == 0)
            #expect(Set(terminate.sourceServerIDs.map(\.rawValue)) == [H.sid(11), H.sid(12)])
            #expect(try await harness.pollUntil { try await harness.jobs().allSatisfy { $0.completed != nil } })
            #expect(await harness.counters().recoveryInstancesTerminated == 2)

            #expect(await launcher.inventoryNow() == 12)
            let observed = try await harness.outboxPayloads(EventType.sourceServerObserved, as: SourceServerObserved.self)
            #expect(Set(observed.map(\.sourceServerID.rawValue)) == Set((1...12).map(H.sid)))
        }
    }

    @Test("Inventory carries lagDuration and lastSnapshotDateTime; only a change of lag band republishes; each DRS answer shape is read")
    func inventoryReplicationFreshness() async throws {
        // Real-time clock: a stalled server's lag grows by the second, not by ten minutes.
        try await H.with(servers: 3, timeScale: 1) { harness in
            let (launcher, _) = try await harness.startLauncher(harness.configuration())
            try await harness.engine.withSimulation { simulation, now throws(DRSSimAdminError) in
                try simulation.seed(SeedDocument(accounts: [SeedAccount(accountID: H.accountID, regions: [H.region: SeedRegion(
                    sourceServers: [
                        SeedSourceServer(sourceServerID: H.sid(1), hostname: "host-1", lagSeconds: 42),
                        SeedSourceServer(sourceServerID: H.sid(2), hostname: "host-2", replicationState: "STALLED", lagSeconds: 100),
                        SeedSourceServer(sourceServerID: H.sid(3), hostname: "host-3", lagSeconds: 400),
                    ])])]), realNow: now)
            }
            // Inventory covers the endpoints this launcher owns: the first round after it claims this one.
            #expect(await eventually { await launcher.inventoryNow() == 3 })
            let first = try await harness.outboxPayloads(EventType.sourceServerObserved, as: SourceServerObserved.self)
            let byID = Dictionary(first.map { ($0.sourceServerID.rawValue, $0) }, uniquingKeysWith: { $1 })
            #expect(byID[H.sid(1)]?.lagSeconds == 42)
            #expect(byID[H.sid(3)]?.lagSeconds == 400)
            let stalled = try #require(byID[H.sid(2)])
            #expect((stalled.lagSeconds ?? 0) >= 100, "a stalled server's lag grows from its last replicated moment")
            for server in first {
                let snapshot = try #require(server.lastSnapshotAt, "\(server.sourceServerID)")
                // DRS snapshots on the ten-minute mark; a replicating server took one in the last ten minutes,
                // a stalled one none after its last replicated moment.
                #expect(Int(snapshot.timeIntervalSince1970) % 600 == 0)
                #expect(snapshot <= server.observedAt)
                if server.replicationState == "CONTINUOUS" {
                    #expect(server.observedAt.timeIntervalSince(snapshot) < 601)
                } else {
                    #expect(snapshot <= server.observedAt.addingTimeInterval(-(server.lagSeconds ?? 0) + 1))
                }
            }
            #expect(await launcher.inventoryNow() == 0, "the same lag band publishes nothing")

            // The same server, now 20 minutes behind: another band, published at once.
            try await harness.engine.withSimulation { simulation, now throws(DRSSimAdminError) in
                try simulation.seed(SeedDocument(accounts: [SeedAccount(accountID: H.accountID, regions: [H.region: SeedRegion(
                    sourceServers: [SeedSourceServer(sourceServerID: H.sid(1), hostname: "host-1", lagSeconds: 1200)])])]),
                    realNow: now)
                var behaviour = simulation.behaviour
                behaviour.replicationInfo = .lagOnly  // what botocore's model lists
                simulation.setBehaviour(behaviour)
            }
            #expect(await launcher.inventoryNow() == 1)
            let second = try #require(try await harness.outboxPayloads(EventType.sourceServerObserved, as: SourceServerObserved.self).last)
            #expect(second.sourceServerID.rawValue == H.sid(1))
            #expect(second.lagSeconds == 1200)
            #expect(second.lastSnapshotAt == nil)

            await harness.engine.withSimulation { simulation, _ in
                var behaviour = simulation.behaviour
                behaviour.replicationInfo = .neither
                simulation.setBehaviour(behaviour)
            }
            #expect(await launcher.inventoryNow() == 3, "an unknown lag is a band of its own")
            let third = try await harness.outboxPayloads(EventType.sourceServerObserved, as: SourceServerObserved.self).suffix(3)
            #expect(third.allSatisfy { $0.lagSeconds == nil && $0.lastSnapshotAt == nil })
        }
    }
}
