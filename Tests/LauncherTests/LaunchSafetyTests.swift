import DRSSimApp
import Foundation
import LauncherApp
import MusterDRS
import MusterDomain
import MusterEvents
import ServiceLifecycle
import TestSupport
import Testing

/// Issue 10's safety cases against drs-sim, PostgreSQL and the broker:
/// whatever DRS's latency or a crash's timing, exactly one DRS job per
/// chunk and attempt — counted on the DRS side.
@Suite("Launcher: exactly one job per chunk when DRS is slow, fails after acting, or the launcher dies", .serialized)
struct LaunchSafetyTests {
    typealias H = LauncherHarness

    /// A 2 s client timeout and a 3 s margin, so the ambiguity window is 5 s.
    ///
    /// Tests where DRS answers late (3 s of injected latency) take a 9 s margin: the
    /// window's premise is that DRS acts within it, and on a loaded machine drs-sim's
    /// own scheduling can add seconds to the 3 s — with a 3 s margin the launcher would
    /// then rightly relaunch and the test would measure the machine, not the rule.
    func slowDRS(_ harness: H, margin: Duration = .seconds(3)) -> LauncherConfiguration {
        harness.configuration {
            $0.drsTimeout = .seconds(2)
            $0.ambiguityMargin = margin
            $0.reconcileInterval = .milliseconds(200)
        }
    }

    /// Sleeps until one second past the ambiguity window of the one request that was
    /// sent (its `sent_at` + client timeout + margin): after that no relaunch can be
    /// "not yet", so a second job would have been launched by now.
    func waitPastTheWindow(_ harness: H, _ configuration: LauncherConfiguration) async throws {
        let sentAt = try await harness.pool.query(
            "SELECT max(sent_at) AS sent FROM \(harness.schema).launch_chunks"
        ).rows[0].decode(Date?.self, "sent") ?? Date()
        let closes = sentAt.addingTimeInterval(
            configuration.drsTimeout.seconds + configuration.ambiguityMargin.seconds + 1)
        let wait = closes.timeIntervalSinceNow
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
    }

    func fault(_ harness: H, _ fault: DRSSimFault) async throws {
        try await harness.engine.withSimulation { simulation, now in _ = try simulation.addFault(fault, realNow: now) }
    }

    func jobsInDRS(_ harness: H, _ request: LaunchGroupRequested) async -> Int {
        await harness.counters().jobsByLaunchGroup[request.launchGroup.description] ?? 0
    }

    @Test("StartRecovery answering after the client timeout: the late job is adopted, never launched twice")
    func slowerThanTimeout() async throws {
        try await H.with { harness in
            // DRS creates the job 3 s after the request; the launcher gave up after 2 s.
            try await fault(harness, DRSSimFault(type: .latency, operations: ["StartRecovery"], milliseconds: 3000))
            let configuration = slowDRS(harness, margin: .seconds(9))
            try await harness.startLauncher(configuration)
            let request = harness.launchGroupRequested("ex-slow", servers: [H.sid(1), H.sid(2)])
            try await harness.launch(request)
            #expect(try await eventually { try await harness.jobs().count == 1 })
            // Past the whole window: still one job in DRS, and one job.created.
            try await waitPastTheWindow(harness, configuration)
            #expect(await jobsInDRS(harness, request) == 1)
            #expect(try await harness.outboxPayloads(EventType.jobCreated, as: JobCreated.self).count == 1)
            #expect(try await harness.outboxTypes().contains(EventType.jobDuplicateDetected) == false)
        }
    }

    @Test("StartRecovery answering just under the client timeout: one job, recorded from the answer")
    func justUnderTimeout() async throws {
        try await H.with { harness in
            try await fault(harness, DRSSimFault(type: .latency, operations: ["StartRecovery"], milliseconds: 1500))
            try await harness.startLauncher(slowDRS(harness))
            let request = harness.launchGroupRequested("ex-under", servers: [H.sid(3)])
            try await harness.launch(request)
            #expect(try await eventually { try await harness.jobs().count == 1 })
            try await Task.sleep(for: .seconds(2))
            #expect(await jobsInDRS(harness, request) == 1)
        }
    }

    @Test("A 500 after DRS created the job: reconciled to that job, never relaunched")
    func errorAfterCreate() async throws {
        try await H.with { harness in
            try await fault(harness, DRSSimFault(
                type: .internalErrors, count: 1, rate: 1, operations: ["StartRecovery"], phase: .after))
            try await harness.startLauncher(slowDRS(harness))
            let request = harness.launchGroupRequested("ex-500", servers: [H.sid(4), H.sid(5)])
            try await harness.launch(request)
            #expect(try await eventually { try await harness.jobs().count == 1 })
            try await Task.sleep(for: .seconds(6))
            #expect(await jobsInDRS(harness, request) == 1)
            #expect(await harness.counters().injectedInternalErrors == 1)
        }
    }

    @Test("Killed after the intent, before the request left: the next launcher launches it once, at once")
    func crashBeforeSend() async throws {
        try await H.with { harness in
            let crashed = Locked(false)
            let (_, first) = try await harness.startLauncher(slowDRS(harness), hooks: LauncherHooks(beforeSend: {
                let crash = crashed.withLock { done in
                    defer { done = true }
                    return !done
                }
                if crash { throw LauncherCrash() }
            }))
            let request = harness.launchGroupRequested("ex-unsent", servers: [H.sid(6)])
            try await harness.launch(request)
            await #expect(throws: LauncherCrash.self) { try await first[0].value }
            for task in first { task.cancel() }
            for task in first { _ = try? await task.value }
            #expect(await jobsInDRS(harness, request) == 0)

            try await harness.startLauncher(slowDRS(harness))
            #expect(try await eventually { try await harness.jobs().count == 1 })
            #expect(await jobsInDRS(harness, request) == 1)
        }
    }

    @Test("Stopped while a slow StartRecovery is unanswered: the successor waits for it and adopts it")
    func successorWaitsOutTheWindow() async throws {
        try await H.with { harness in
            try await fault(harness, DRSSimFault(type: .latency, operations: ["StartRecovery"], milliseconds: 3000))
            let configuration = slowDRS(harness, margin: .seconds(9))
            let (_, first) = try await harness.startLauncher(configuration)
            let request = harness.launchGroupRequested("ex-handover", servers: [H.sid(7), H.sid(8)])
            try await harness.launch(request)
            // The request has left (sent_at written); stop this launcher while DRS still works on it.
            #expect(try await eventually {
                try await harness.pool.query(
                    "SELECT count(*) AS n FROM \(harness.schema).launch_chunks WHERE sent_at IS NOT NULL"
                ).rows[0].decode(Int.self, "n") == 1
            })
            for task in first { task.cancel() }
            for task in first { _ = try? await task.value }
            try await harness.startLauncher(configuration)
            #expect(try await eventually { try await harness.jobs().count == 1 })
            try await waitPastTheWindow(harness, configuration)
            #expect(await jobsInDRS(harness, request) == 1)
            #expect(try await harness.outboxPayloads(EventType.jobCreated, as: JobCreated.self).count == 1)
        }
    }
}

/// The launcher as it runs: every service inside one `ServiceGroup`, which
/// ends the group when any service returns early.
@Suite("Launcher inside a ServiceGroup")
struct LauncherServiceGroupTests {
    typealias H = LauncherHarness

    @Test("Inventory interval 0 disables inventory without stopping the launcher; a graceful shutdown ends it")
    func inventoryDisabledKeepsRunning() async throws {
        try await H.with { harness in
            let service = try await harness.startService(harness.configuration { $0.inventoryInterval = .zero })
            let ended = Locked(false)
            let running = Task {
                try await service.run.task.value
                ended.withLock { $0 = true }
            }
            // A service that returned would have ended the group by now; the launcher still launches.
            let request = harness.launchGroupRequested("ex-group", servers: [H.sid(9)])
            try await harness.launch(request)
            #expect(try await eventually { try await harness.jobs().count == 1 })
            try await Task.sleep(for: .seconds(1))
            #expect(!ended.value, "no service returned and ended the group")
            await service.stop()
            try await running.value
            #expect(ended.value, "the graceful shutdown ended the group without an error")
        }
    }
}

/// One bad record never stops the launcher's consumers (issue 11): it is
/// parked in `dead_letters` and the records after it — same partition and
/// others — are handled.
@Suite("Launcher consumers park poison records")
struct LauncherParkingTests {
    typealias H = LauncherHarness

    func probe(_ harness: H, _ consumer: String) -> ParkingProbe {
        ParkingProbe(pool: harness.pool, schema: harness.schema, consumer: consumer, log: harness.log)
    }

    @Test("launcher.inputs: a launch-group.requested whose plan name holds a NUL is parked; later launches go on")
    func nulInPlanName() async throws {
        try await H.with { harness in
            try await harness.startLauncher(harness.configuration())
            let inputs = probe(harness, "launcher.inputs")
            var poison = harness.launchGroupRequested("ex-nul", servers: [H.sid(1)])
            poison.planName = "plan\u{0000}name"
            try await harness.launch(poison)
            // A valid record after it on the same partition (same endpoint key).
            try await harness.launch(harness.launchGroupRequested("ex-after", servers: [H.sid(2)]))
            #expect(try await eventually { try await harness.jobs().count == 1 })
            let letters = try await inputs.waitForParked(1)
            #expect(letters.count == 1 && inputs.counted >= 1 && letters.allSatisfy(inputs.reported))
            #expect(try await harness.jobs().first?.launchGroup.hasPrefix(ExecutionID.named("ex-after").rawValue) == true)
            #expect(await harness.counters().jobsByLaunchGroup.keys.contains { $0.hasPrefix(ExecutionID.named("ex-nul").rawValue) } == false)
        }
    }

    @Test("launcher.accounts: an account whose name holds a NUL is parked; a later account registers")
    func nulInAccount() async throws {
        try await H.with { harness in
            try await harness.startLauncher(harness.configuration())
            let accounts = probe(harness, "launcher.accounts")
            let poison = AccountRegistration(
                accountID: "444455556666", name: "bad\u{0000}", regions: ["us-east-1"], credentials: .keyPair(name: "X"))
            try await harness.publish(harness.topics.accounts, key: poison.accountID, type: EventType.accountRegistered, poison)
            let good = AccountRegistration(
                accountID: "777788889999", name: "good", regions: ["us-east-1"], credentials: .keyPair(name: "Y"))
            try await harness.publish(harness.topics.accounts, key: good.accountID, type: EventType.accountRegistered, good)
            #expect(try await eventually {
                try await harness.pool.query(
                    "SELECT count(*) AS n FROM \(harness.schema).accounts WHERE account_id = '777788889999'"
                ).rows[0].decode(Int.self, "n") == 1
            })
            let letters = try await accounts.waitForParked(1)
            #expect(letters.count == 1 && accounts.counted >= 1 && letters.allSatisfy(accounts.reported))
        }
    }
}
