import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres
@testable import PollerApp
import TestSupport
import Testing

/// The scheduler and tracker against the real PostgreSQL (no broker: what
/// the poller owes is read from its outbox, where it commits).
@Suite("Poller scheduling on PostgreSQL")
struct SchedulerDatabaseTests {
    @Test func twoPollersOnOneDatabaseNeverPutAJobIntoOverlappingPolls() async throws {
        let fixture = try await PollerFixture()
        let jobs = (0..<1200).map {
            PollerFixture.created(job: "drsjob-\($0)", account: "acct\($0 % 4)", region: $0 % 3 == 0 ? "eu-west-1" : "us-east-1")
        }
        try await fixture.track(jobs)
        let otherPool = try TestEnvironment.pool(size: 4)
        let a = fixture.scheduler(), b = fixture.scheduler(pool: otherPool)
        async let first: Void = runTicks(a, for: .milliseconds(1500), every: .milliseconds(5))
        async let second: Void = runTicks(b, for: .milliseconds(1500), every: .milliseconds(5))
        _ = try await (first, second)
        await otherPool.close()

        let sent = try await fixture.outbox()
        var lastPoll: [String: Date] = [:]
        var violations: [String] = []
        var perJob: [String: Int] = [:]
        for poll in sent where poll.type == EventType.jobPoll {
            let payload = try poll.event.decode(JobPoll.self)
            #expect(Set(payload.jobIDs).count == payload.jobIDs.count, "no job twice in one poll")
            for id in payload.jobIDs.map(\.rawValue) {
                perJob[id, default: 0] += 1
                if let previous = lastPoll[id], payload.requestedAt.timeIntervalSince(previous) < 0.099 {
                    violations.append("\(id): \(payload.requestedAt.timeIntervalSince(previous))")
                }
                lastPoll[id] = payload.requestedAt
            }
        }
        #expect(violations.isEmpty, "a job is never polled twice within its minimum gap: \(violations.prefix(5))")
        #expect(perJob.count == 1200, "every job was polled")
        // 1.5 s at 300 ms PENDING intervals after a 100 ms first look: ~5 looks, never a flood.
        #expect(perJob.values.allSatisfy { (2...8).contains($0) }, "\(Set(perJob.values))")
        await fixture.tearDown()
    }

    @Test func thousandJobsOfOneAccountProduceOnePollPerIntervalNotAThousand() async throws {
        let fixture = try await PollerFixture()
        // Created over one whole interval, as a launcher submitting chunks would.
        let jobs = (0..<1000).map { PollerFixture.created(job: "drsjob-\($0)") }
        try await fixture.track(jobs)
        try await fixture.pool.query(
            "UPDATE \(fixture.schema).jobs SET next_due = clock_timestamp() + random() * interval '300 milliseconds'")
        let scheduler = fixture.scheduler()
        let start = ContinuousClock.now
        try await runTicks(scheduler, for: .milliseconds(1800))
        let elapsed = (ContinuousClock.now - start).seconds

        let polls = try await fixture.polls()
        let intervals = elapsed / 0.27  // the shortest jittered PENDING interval
        #expect(polls.allSatisfy { $0.jobIDs.count <= 1000 })
        #expect(Double(polls.count) <= intervals + 2, "\(polls.count) polls in \(elapsed) s")
        #expect(polls.count >= 3)
        #expect(Set(polls.flatMap(\.jobIDs)).count == 1000, "every job looked at")
        // The account converges on one poll carrying every job (a tick delayed
        // on a loaded machine may split one round, so only the end is checked).
        #expect(polls.last?.jobIDs.count == 1000, "\(polls.map { ($0.jobIDs.count, $0.requestedAt.timeIntervalSince1970) })")
        await fixture.tearDown()
    }

    @Test func aJobObservedTerminalIsNeverPolledAgain() async throws {
        let fixture = try await PollerFixture()
        let done = PollerFixture.created(job: "drsjob-done"), live = PollerFixture.created(job: "drsjob-live")
        try await fixture.track([done, live])
        let scheduler = fixture.scheduler()
        try await runTicks(scheduler, for: .milliseconds(400))
        #expect(try await fixture.observe(PollerFixture.observed(done, .started)) == .applied)
        #expect(try await fixture.observe(PollerFixture.observed(done, .completed)) == .completed)
        let before = try await fixture.polls().count
        // Bounded by count, not a fixed window, so a loaded machine cannot fail it.
        var after = try await fixture.polls().dropFirst(before)
        let deadline = ContinuousClock.now + .seconds(15)
        while after.count < 2, ContinuousClock.now < deadline {
            try await runTicks(scheduler, for: .milliseconds(300))
            after = try await fixture.polls().dropFirst(before)
        }
        #expect(after.count >= 2, "the live job keeps being polled")
        #expect(after.allSatisfy { !$0.jobIDs.contains("drsjob-done") })
        #expect(try await fixture.state(of: "drsjob-done") == .done)
        // Late snapshots and a duplicate job.created change nothing.
        #expect(try await fixture.observe(PollerFixture.observed(done, .started)) == .finished)
        let retracked = try await fixture.pool.transaction { try await fixture.tracker.track(done, on: $0) }
        #expect(!retracked)
        #expect(try await fixture.state(of: "drsjob-done") == .done)
        await fixture.tearDown()
    }

    @Test func aRecoveryJobCompletedBeforeItsPostLaunchRunsKeepsBeingPolledUntilTheyEnd() async throws {
        let fixture = try await PollerFixture()
        let recovery = PollerFixture.created(job: "drsjob-recovery", isDrill: false)
        let drill = PollerFixture.created(job: "drsjob-drill")
        try await fixture.track([recovery, drill])
        let scheduler = fixture.scheduler()
        try await runTicks(scheduler, for: .milliseconds(300))
        let running = [LaunchActionRun(actionID: "ssm-1", status: .inProgress)]
        // after-job order: JOB_END with no runs yet, then with a run going.
        #expect(try await fixture.observe(PollerFixture.observed(recovery, .completed)) == .applied)
        #expect(try await fixture.observe(PollerFixture.observed(drill, .completed)) == .completed, "drills never wait")
        #expect(try await fixture.state(of: "drsjob-recovery") == .tracking)
        let before = try await fixture.polls().count
        // Polled again and again (STARTED cadence, 150 ms here); generous bound for a loaded machine.
        let end = ContinuousClock.now + .seconds(40)
        var after: [JobPoll] = []
        repeat {
            try await scheduler.tick()
            try await Task.sleep(for: .milliseconds(20))
            after = Array(try await fixture.polls().dropFirst(before))
        } while after.filter({ $0.jobIDs.contains("drsjob-recovery") }).count < 3 && ContinuousClock.now < end
        #expect(after.filter { $0.jobIDs.contains("drsjob-recovery") }.count >= 3, "still polled after COMPLETED")
        #expect(after.allSatisfy { !$0.jobIDs.contains("drsjob-drill") })
        #expect(try await fixture.observe(PollerFixture.observed(recovery, .completed, runs: running)) == .applied)
        let done = [LaunchActionRun(actionID: "ssm-1", status: .succeeded)]
        #expect(try await fixture.observe(PollerFixture.observed(recovery, .completed, runs: done)) == .completed)
        #expect(try await fixture.state(of: "drsjob-recovery") == .done)
        let settled = try await fixture.polls().count
        try await runTicks(scheduler, for: .milliseconds(400))
        #expect(try await fixture.polls().dropFirst(settled).allSatisfy { !$0.jobIDs.contains("drsjob-recovery") })
        await fixture.tearDown()
    }

    @Test func aRecoveryJobWhoseRunsOutliveTheWaveTimesOutAfterTheFinalLook() async throws {
        let fixture = try await PollerFixture()
        let job = PollerFixture.created(job: "drsjob-late", waveStartedAt: Date(), timeoutSeconds: 1, isDrill: false)
        try await fixture.track([job])
        #expect(try await fixture.observe(PollerFixture.observed(job, .completed)) == .applied)
        let scheduler = fixture.scheduler()
        // Past the deadline the scheduler asks for a final look …
        let end = ContinuousClock.now + .seconds(5)
        while try await !fixture.polls().contains(where: { $0.isFinal && $0.jobIDs == ["drsjob-late"] }),
              ContinuousClock.now < end {
            try await scheduler.tick()
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await fixture.polls().contains { $0.isFinal && $0.jobIDs == ["drsjob-late"] })
        // … whose COMPLETED answer, runs still going, times the job out.
        let running = [LaunchActionRun(actionID: "ssm-1", status: .inProgress)]
        #expect(try await fixture.observe(PollerFixture.observed(job, .completed, isFinal: true, runs: running))
                == .timedOut)
        let timedOut = try await fixture.outbox().filter { $0.type == EventType.jobTimedOut }
        #expect(timedOut.count == 1)
        #expect(try timedOut.first?.event.decode(JobTimedOut.self).lastStatus == .completed)
        await fixture.tearDown()
    }

    @Test func aStartedJobIsPolledFasterAndStaleSnapshotsNeverMoveItBack() async throws {
        let fixture = try await PollerFixture { $0.schedule.pendingInterval = .seconds(30) }
        let job = PollerFixture.created(job: "drsjob-1")
        try await fixture.track([job])
        let scheduler = fixture.scheduler()
        try await runTicks(scheduler, for: .milliseconds(300))
        #expect(try await fixture.polls().count == 1, "first look, then the 30 s PENDING interval")
        let seen = Date()
        #expect(try await fixture.observe(PollerFixture.observed(job, .started, at: seen)) == .applied)
        #expect(try await fixture.observe(PollerFixture.observed(job, .pending, at: seen + 1)) == .stale)
        #expect(try await fixture.observe(PollerFixture.observed(job, .started, at: seen - 1)) == .stale)
        // STARTED is looked at every ~150 ms; PENDING would wait 30 s. Tick until three more
        // looks (bounded at 10 s, still a third of the PENDING interval, so a loaded machine
        // cannot make a PENDING job pass).
        var polls = 1
        for _ in 0..<100 where polls < 4 {
            try await runTicks(scheduler, for: .milliseconds(100))
            polls = try await fixture.polls().count
        }
        #expect(polls >= 4, "STARTED every ~150 ms: \(polls - 1) polls after the first look")
        let phase = try await fixture.pool.query(
            "SELECT phase FROM \(fixture.schema).jobs WHERE job_id = 'drsjob-1'").rows[0].decode(String.self, "phase")
        #expect(phase == "STARTED")
        await fixture.tearDown()
    }

    @Test func anUnansweredTimeoutFiresExactlyOnceAcrossTwoPollers() async throws {
        let fixture = try await PollerFixture()
        // The wave started long ago with a 1 s timeout: the first look is a final one.
        let job = PollerFixture.created(job: "drsjob-late", waveStartedAt: Date() - 60, timeoutSeconds: 1)
        try await fixture.track([job])
        let otherPool = try TestEnvironment.pool(size: 2)
        // Both pollers tick side by side until the timeout is out (bounded, not a fixed window).
        let deadline = ContinuousClock.now + .seconds(15)
        repeat {
            async let first: Void = runTicks(fixture.scheduler(), for: .milliseconds(500), every: .milliseconds(5))
            async let second: Void = runTicks(
                fixture.scheduler(pool: otherPool), for: .milliseconds(500), every: .milliseconds(5))
            _ = try await (first, second)
        } while try await fixture.outbox().contains(where: { $0.type == EventType.jobTimedOut }) == false
            && ContinuousClock.now < deadline
        await otherPool.close()

        let sent = try await fixture.outbox()
        #expect(sent.filter { $0.type == EventType.jobPoll }.isEmpty, "past the deadline only final looks are sent")
        #expect(sent.filter { $0.type == EventType.jobPollFinal }.count == 2, "sent, then re-sent once (maxFinalPolls 2)")
        let timedOut = sent.filter { $0.type == EventType.jobTimedOut }
        try #require(timedOut.count == 1)
        let payload = try timedOut[0].event.decode(JobTimedOut.self)
        #expect(payload.jobID == "drsjob-late" && payload.lastStatus == .pending && payload.timeoutSeconds == 1)
        #expect(timedOut[0].key == ExecutionID.named("exec-1").rawValue, "keyed by execution id")
        #expect(try await fixture.state(of: "drsjob-late") == .timedOut)
        // A late final answer does not time it out again.
        #expect(try await fixture.observe(PollerFixture.observed(job, .started, isFinal: true)) == .finished)
        #expect(try await fixture.outbox().filter { $0.type == EventType.jobTimedOut }.count == 1)
        await fixture.tearDown()
    }

    @Test func theFinalAnswerDecides() async throws {
        let fixture = try await PollerFixture {
            $0.timeout = TimeoutPolicy(finalAnswerGrace: .seconds(30), maxFinalPolls: 2)
        }
        let live = PollerFixture.created(job: "drsjob-live", waveStartedAt: Date() - 60, timeoutSeconds: 1)
        let finished = PollerFixture.created(job: "drsjob-finished", waveStartedAt: Date() - 60, timeoutSeconds: 1)
        try await fixture.track([live, finished])
        let scheduler = fixture.scheduler()
        try await runTicks(scheduler, for: .milliseconds(300))
        let finals = try await fixture.polls()
        #expect(finals.count == 1 && finals[0].isFinal && Set(finals[0].jobIDs) == ["drsjob-live", "drsjob-finished"])

        #expect(try await fixture.observe(PollerFixture.observed(live, .started, isFinal: true)) == .timedOut)
        // The answer to a re-sent final poll (a new event) changes nothing.
        #expect(try await fixture.observe(PollerFixture.observed(live, .started, isFinal: true)) == .finished)
        #expect(try await fixture.observe(PollerFixture.observed(finished, .completed, isFinal: true)) == .completed)
        try await runTicks(scheduler, for: .milliseconds(300))
        let sent = try await fixture.outbox()
        #expect(sent.filter { $0.type == EventType.jobTimedOut }.count == 1)
        #expect(sent.filter { $0.type == EventType.jobPollFinal }.count == 1, "answered: no re-send")
        #expect(try await fixture.state(of: "drsjob-finished") == .done)
        await fixture.tearDown()
    }

    @Test func theEndpointCapHoldsAcrossTicks() async throws {
        let fixture = try await PollerFixture { $0.budget = EndpointBudget(maxPollsPerMinute: 2) }
        try await fixture.track((0..<2500).map { PollerFixture.created(job: "drsjob-\($0)") }
            + [PollerFixture.created(job: "other-1", account: "444455556666")])
        try await fixture.pool.query("UPDATE \(fixture.schema).jobs SET next_due = clock_timestamp()")
        let scheduler = fixture.scheduler()
        let first = try await scheduler.tick()
        #expect(first.polls.filter { $0.endpoint.accountID == "111122223333" }.map(\.jobIDs.count) == [1000, 1000])
        let untouched = try await fixture.pool.query(
            "SELECT count(*) AS n FROM \(fixture.schema).jobs WHERE polls = 0 AND account_id = '111122223333'")
        #expect(try untouched.rows[0].decode(Int.self, "n") == 500, "the rest waits for the window to slide")
        #expect(first.polls.contains { $0.endpoint.accountID == "444455556666" }, "other endpoints have their own cap")
        try await runTicks(scheduler, for: .milliseconds(500))
        let capped = try await fixture.polls().filter { $0.endpoint.accountID == "111122223333" }
        #expect(capped.count == 2, "no third poll within the minute")
        await fixture.tearDown()
    }

    @Test func aCrashedPollersClaimsExpire() async throws {
        let fixture = try await PollerFixture()
        try await fixture.track((0..<20).map { PollerFixture.created(job: "drsjob-\($0)") })
        try await fixture.pool.query("UPDATE \(fixture.schema).jobs SET next_due = clock_timestamp()")
        // A poller claims the endpoint and its jobs, then hangs inside its transaction.
        let crashingPool = try TestEnvironment.pool(size: 1)
        let claimed = Locked<Int32?>(nil)
        let schema = fixture.schema
        let hung = Task {
            try await crashingPool.transaction { connection in
                try await connection.query("SELECT 1 FROM \(schema).endpoints FOR UPDATE")
                try await connection.query("SELECT 1 FROM \(schema).jobs FOR UPDATE")
                let pid = await connection.backendPID
                claimed.withLock { $0 = pid }
                try await Task.sleep(for: .seconds(30))
            }
        }
        #expect(await eventually { claimed.value != nil })
        let scheduler = fixture.scheduler()
        let during = try await scheduler.tick()
        #expect(during.polls.isEmpty, "claimed rows are skipped, not polled twice")
        // The poller dies: PostgreSQL ends its session and releases the claim.
        try await fixture.pool.query("SELECT pg_terminate_backend($1::int)", [Int(claimed.value!)])
        #expect(try await eventually { try await scheduler.tick().polls.count == 1 })
        #expect(Set(try await fixture.polls().flatMap(\.jobIDs)).count == 20)
        hung.cancel()
        _ = try? await hung.value
        await crashingPool.close()
        await fixture.tearDown()
    }

    @Test func aHungPollersClaimExpiresAfterTheClaimTimeout() async throws {
        let fixture = try await PollerFixture { $0.claimTimeout = .milliseconds(300) }
        try await fixture.track((0..<5).map { PollerFixture.created(job: "drsjob-\($0)") })
        try await fixture.pool.query("UPDATE \(fixture.schema).jobs SET next_due = clock_timestamp()")
        // The same settings a scheduler tick applies, then the holder stalls between statements.
        let stalledPool = try TestEnvironment.pool(size: 1)
        let schema = fixture.schema
        let lockedAt = Locked<ContinuousClock.Instant?>(nil)
        let stalled = Task {
            try await stalledPool.transaction { connection in
                try await connection.query("SELECT set_config('idle_in_transaction_session_timeout', '1500', true)")
                try await connection.query("SELECT 1 FROM \(schema).jobs FOR UPDATE")
                lockedAt.withLock { $0 = .now }
                try await Task.sleep(for: .seconds(4))
                try await connection.query("SELECT 1")
            }
        }
        #expect(await eventually { lockedAt.value != nil })
        let scheduler = fixture.scheduler()
        // With a 300 ms claim timeout a tick on a loaded machine may itself be ended by the server
        // (its own idle-in-transaction limit): such a tick counts as "no poll yet" and is retried.
        let first = try? await scheduler.tick()
        // Only a tick that ended within the holder's 1.5 s surely ran while the rows were locked
        // (a loaded run once got to it later, after the server had already ended the holder).
        if let locked = lockedAt.value, ContinuousClock.now - locked < .milliseconds(1400) {
            #expect(first?.polls.isEmpty != false, "locked rows are skipped")
        }
        #expect(await eventually { (try? await scheduler.tick())?.polls.count == 1 })
        await #expect(throws: (any Error).self, "the stalled transaction was ended by the server") {
            try await stalled.value
        }
        await stalledPool.close()
        await fixture.tearDown()
    }
}
