import DRSSimApp
import Foundation
import LauncherApp
import MusterDomain
import MusterEvents
import MusterMessaging
import TestSupport
import Testing

/// SSM Automation wave-hook steps (issue 16) through the launcher's real
/// inputs and outputs: `ssm.automation-requested` on the hook topic, drs-sim's
/// SSM subset over HTTP, `ssm.automation-status` in the outbox.
@Suite("Launcher SSM Automation steps against drs-sim, Kafka and PostgreSQL")
struct SSMStepTests {
    typealias H = LauncherHarness

    static func request(_ execution: String, step: String = "prepare", document: String = "Muster-Prepare",
                        deadlineIn seconds: TimeInterval = 600) -> SSMAutomationRequested {
        SSMAutomationRequested(
            executionID: .named(execution), waveNumber: 1, stepName: step, idempotencyKey: UUID().uuidString.lowercased(),
            endpoint: H.endpoint, documentName: document, parameters: ["InstanceId": ["i-0123456789abcdef0"]],
            deadline: Date().addingTimeInterval(seconds))
    }

    static func behaviour(_ harness: H, _ documents: [String: SSMDocumentBehaviour]) async {
        await harness.engine.withSimulation { simulation, _ in
            var behaviour = simulation.behaviour
            behaviour.ssmDocuments = documents
            simulation.setBehaviour(behaviour)
        }
    }

    func send(_ harness: H, _ request: SSMAutomationRequested) async throws {
        try await harness.publish(harness.topics.hookRequests, type: EventType.ssmAutomationRequested, request)
    }

    /// The execution named `execution`'s `ssm.automation-status` reports.
    func statuses(_ harness: H, _ execution: String) async throws -> [SSMAutomationStatus] {
        try await statuses(harness, ExecutionID.named(execution))
    }

    func statuses(_ harness: H, _ execution: ExecutionID) async throws -> [SSMAutomationStatus] {
        try await harness.outboxPayloads(EventType.ssmAutomationStatus, as: SSMAutomationStatus.self)
            .filter { $0.executionID == execution }
    }

    /// Starts a launcher with `hooks`, sends `request`, waits for the hook to
    /// crash it, then starts a healthy one and waits for the terminal status.
    func crashThenRestart(_ harness: H, _ request: SSMAutomationRequested, hooks: LauncherHooks,
                          beforeRestart: () async throws -> Void) async throws {
        let (_, first) = try await harness.startLauncher(harness.configuration(), hooks: hooks)
        try await send(harness, request)
        await #expect(throws: LauncherCrash.self) { try await first[0].value }
        for task in first { task.cancel() }
        for task in first { _ = try? await task.value }
        try await beforeRestart()
        try await harness.startLauncher(harness.configuration())
        #expect(try await eventually {
            try await statuses(harness, request.executionID).contains { $0.terminal }
        })
    }

    @Test("A redelivered request starts one automation; started, then Success with outputs")
    func successOnce() async throws {
        try await H.with() { harness in
            // 120 simulated seconds at scale 600: 0.2 s.
            await Self.behaviour(harness, ["Muster-Prepare": SSMDocumentBehaviour(
                outcome: "Success", durationSeconds: 120, outputs: ["check.Result": ["ok"]])])
            try await harness.startLauncher(harness.configuration())
            let request = Self.request("ex-ssm-ok")
            try await send(harness, request)
            try await send(harness, request)  // redelivery / duplicate command
            #expect(try await eventually {
                try await statuses(harness, "ex-ssm-ok").contains { $0.terminal }
            })
            let events = try await statuses(harness, "ex-ssm-ok")
            #expect(events.map(\.terminal) == [false, true], "one started, one terminal: \(events)")
            #expect(events.first?.automationExecutionID != nil)
            #expect(events.last?.automationExecutionID == events.first?.automationExecutionID)
            #expect(events.last?.status == "Success")
            #expect(events.last?.outputs == ["check.Result": ["ok"]])
            let counters = await harness.counters()
            #expect(counters.ssmAutomationsStarted == 1)
            #expect(counters.calls("ssm:StartAutomationExecution") == 1, "the duplicate request was deduplicated")
        }
    }

    @Test("A crash after SSM started the automation but before its id was stored starts no second one")
    func crashAfterStart() async throws {
        try await H.with() { harness in
            await Self.behaviour(harness, ["Muster-Prepare": SSMDocumentBehaviour(outcome: "Success", durationSeconds: 120)])
            let crash = Locked(true)
            try await crashThenRestart(harness, Self.request("ex-ssm-crash"), hooks: LauncherHooks(afterSSMStart: { _ in
                if crash.withLock({ $0 }) { throw LauncherCrash() }
            })) {
                #expect(await harness.counters().ssmAutomationsStarted == 1, "the start had landed before the crash")
                crash.withLock { $0 = false }
            }
            let counters = await harness.counters()
            #expect(counters.ssmAutomationsStarted == 1, "the restart repeated the start with the same ClientToken")
            #expect(counters.ssmIdempotentStarts == 1)
            #expect(try await statuses(harness, "ex-ssm-crash").last?.status == "Success")
        }
    }

    @Test("A crash between the intent and the send: the restart sends once")
    func crashBeforeSend() async throws {
        try await H.with() { harness in
            await Self.behaviour(harness, ["Muster-Prepare": SSMDocumentBehaviour(outcome: "Success", durationSeconds: 60)])
            try await crashThenRestart(harness, Self.request("ex-ssm-intent"), hooks: LauncherHooks(beforeSSMStart: { _ in
                throw LauncherCrash()
            })) {
                #expect(await harness.counters().calls("ssm:StartAutomationExecution") == 0)
            }
            let counters = await harness.counters()
            #expect(counters.ssmAutomationsStarted == 1)
            #expect(counters.calls("ssm:StartAutomationExecution") == 1)
        }
    }

    @Test("A failing document ends Failed with its message; an unknown one ends StartFailed")
    func failure() async throws {
        try await H.with() { harness in
            await Self.behaviour(harness, ["Muster-Broken": SSMDocumentBehaviour(
                outcome: "Failed", durationSeconds: 60, failureMessage: "Step restart failed: instance not found")])
            await harness.engine.withSimulation { simulation, _ in
                var behaviour = simulation.behaviour
                behaviour.ssmMissingDocuments = ["Muster-Missing"]
                simulation.setBehaviour(behaviour)
            }
            try await harness.startLauncher(harness.configuration())
            try await send(harness, Self.request("ex-ssm-fail", document: "Muster-Broken"))
            try await send(harness, Self.request("ex-ssm-missing", document: "Muster-Missing"))
            #expect(try await eventually {
                let failed = try await statuses(harness, "ex-ssm-fail").contains { $0.terminal }
                let missing = try await statuses(harness, "ex-ssm-missing").contains { $0.terminal }
                return failed && missing
            })
            let failed = try #require(try await statuses(harness, "ex-ssm-fail").last)
            #expect(failed.status == "Failed")
            #expect(!failed.succeeded)
            #expect(failed.failureMessage == "Step restart failed: instance not found")
            let missing = try await statuses(harness, "ex-ssm-missing")
            #expect(missing.count == 1, "never started: no started event")
            #expect(missing.first?.status == "StartFailed")
            #expect(missing.first?.failureMessage?.contains("AutomationDefinitionNotFoundException") == true)
        }
    }

    @Test("Past the step's deadline a running automation is stopped and ends TimedOut")
    func timeout() async throws {
        try await H.with() { harness in
            // A day of simulated time: it is still running at the deadline.
            await Self.behaviour(harness, [
                "Muster-Slow": SSMDocumentBehaviour(outcome: "Success", durationSeconds: 86_400),
                "Muster-Prepare": SSMDocumentBehaviour(outcome: "Success", durationSeconds: 60),
            ])
            try await harness.startLauncher(harness.configuration())
            // The deadline is wall-clock: first see the launcher take a request (its consumer has
            // joined, which can take seconds on a loaded machine), so the 30 s are the automation's.
            // (8 s was too few once with two CPU hogs beside the suite, 15 s with four: the request
            // arrived after its deadline and was rightly ended TimedOut without a start.)
            try await send(harness, Self.request("ex-ssm-warm"))
            #expect(try await eventually { try await !statuses(harness, "ex-ssm-warm").isEmpty })
            try await send(harness, Self.request("ex-ssm-slow", document: "Muster-Slow", deadlineIn: 30))
            #expect(try await eventually {
                try await statuses(harness, "ex-ssm-slow").contains { $0.terminal }
            })
            let events = try await statuses(harness, "ex-ssm-slow")
            #expect(events.map(\.terminal) == [false, true])
            #expect(events.last?.status == "TimedOut")
            let counters = await harness.counters()
            #expect(counters.ssmAutomationsStopped == 1)
            #expect(counters.calls("ssm:StopAutomationExecution") == 1)
        }
    }

    @Test("The planner's stop cancels a running automation")
    func stop() async throws {
        try await H.with() { harness in
            await Self.behaviour(harness, ["Muster-Slow": SSMDocumentBehaviour(outcome: "Success", durationSeconds: 86_400)])
            try await harness.startLauncher(harness.configuration())
            let running = Self.request("ex-ssm-stop", document: "Muster-Slow")
            try await send(harness, running)
            #expect(try await eventually { try await statuses(harness, "ex-ssm-stop").contains { !$0.terminal } })
            try await harness.publish(harness.topics.hookRequests, type: EventType.ssmAutomationStopRequested,
                                      SSMAutomationStopRequested(
                                          executionID: running.executionID, stepName: running.stepName,
                                          idempotencyKey: running.idempotencyKey, endpoint: H.endpoint, reason: "skipped"))
            #expect(try await eventually { try await statuses(harness, "ex-ssm-stop").contains { $0.terminal } })
            let ended = try #require(try await statuses(harness, "ex-ssm-stop").last)
            #expect(ended.status == "Cancelled" && ended.failureMessage?.contains("skipped") == true)
            #expect(await harness.counters().ssmAutomationsStopped == 1)
        }
    }

    @Test("A request SSM could never take (idempotency key not a UUID) is parked")
    func parked() async throws {
        try await H.with() { harness in
            try await harness.startLauncher(harness.configuration())
            var request = Self.request("ex-ssm-bad")
            request.idempotencyKey = "not-a-uuid"
            try await send(harness, request)
            #expect(await eventually { harness.outcomes.withLock { $0.contains(.malformed) } })
            #expect(await harness.counters().calls("ssm:StartAutomationExecution") == 0)
        }
    }
}
