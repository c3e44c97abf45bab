import Foundation
import MusterDomain
import MusterEvents
@testable import PlannerApp
import TestSupport
import Testing

/// An SSM step's transport (issue 16), pure: `runStep` → the launcher's
/// `ssm.automation-requested`; `ssm.automation-status` → the step's outcome.
@Suite("SSM step transport")
struct SSMStepTransportTests {
    static let endpoint = Endpoint(accountID: "111122223333", region: "us-east-1")

    func status(_ step: String, _ status: AutomationExecutionStatus, terminal: Bool, failure: String? = nil) -> SSMAutomationStatus {
        SSMAutomationStatus(executionID: Harness.execution, waveNumber: 1, stepName: step, attempt: 1, endpoint: Self.endpoint,
                            automationExecutionID: "a1b2c3d4-0000-4000-8000-000000000001", status: status,
                            terminal: terminal, outputs: terminal ? ["check.Result": ["ok"]] : nil, failureMessage: failure)
    }

    func run(_ harness: inout Harness) -> StepRun? {
        harness.take().compactMap { if case .runStep(let run) = $0 { run } else { nil } }.first
    }

    @Test func runStepBecomesARequestWithAStableUUIDKey() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: ["db": (before: [WaveHookTests.ssm("prep")], after: [])])
        let stepRun = try #require(run(&harness))
        let request = try #require(SSMStepTransport.request(stepRun, requestedAt: harness.clock))
        #expect(request.endpoint == Self.endpoint)
        #expect(request.documentName == "AWS-RunShellScript")
        #expect(request.deadline == harness.clock.addingTimeInterval(300))
        #expect(request.stepName == "prep" && request.waveNumber == 1 && request.attempt == 1)
        #expect(UUID(uuidString: request.idempotencyKey) != nil, "SSM's ClientToken must be a UUID")
        #expect(request.idempotencyKey == SSMStepTransport.idempotencyKey(executionID: Harness.execution, stepName: "prep", attempt: 1))
        #expect(request.idempotencyKey != SSMStepTransport.idempotencyKey(executionID: Harness.execution, stepName: "prep", attempt: 2))
        #expect(request.idempotencyKey != SSMStepTransport.idempotencyKey(executionID: .fixture(2), stepName: "prep", attempt: 1))
        let message = try #require(try SSMStepTransport.message(stepRun, topics: Topics(prefix: "test.")))
        #expect(message.topic == "test.hook.requests.v1" && message.key == "111122223333/us-east-1")
        #expect(message.event.type == EventType.ssmAutomationRequested)
    }

    @Test func aCalloutStepIsNotCarriedHere() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: ["db": (before: [WaveHookTests.callout("tell")], after: [])])
        let stepRun = try #require(run(&harness))
        #expect(try SSMStepTransport.message(stepRun, topics: Topics(prefix: "test.")) == nil)
    }

    @Test func startedChangesNothingTerminalStatusesMoveTheStep() throws {
        var harness = Harness(waves: [("db", [], 1), ("app", [1], 1)], hooks: [
            "db": (before: [WaveHookTests.ssm("prep")], after: []),
            "app": (before: [WaveHookTests.ssm("check")], after: []),
        ])
        _ = harness.take()
        #expect(SSMStepTransport.input(status("prep", "InProgress", terminal: false)) == nil)

        try harness.apply(try #require(SSMStepTransport.input(status("prep", "Success", terminal: true))))
        var prep = harness.state.waves[0].steps![0]
        #expect(prep.status == .succeeded)
        #expect(prep.output?.contains("Success") == true && prep.output?.contains("check.Result=ok") == true)
        #expect(!harness.take().launchGroups.isEmpty, "the wave launches once its before step succeeded")

        // A repeated terminal status for a step no longer RUNNING changes nothing.
        let before = harness.state.waves
        try harness.apply(try #require(SSMStepTransport.input(status("prep", "Failed", terminal: true))))
        #expect(harness.state.waves == before)
        #expect(harness.take().isEmpty, "no effect either")
        prep = harness.state.waves[0].steps![0]
        #expect(prep.status == .succeeded)

        try harness.launchAll("db")
        _ = harness.take()
        try harness.apply(try #require(SSMStepTransport.input(
            status("check", "TimedOut", terminal: true, failure: "stopped: the step's timeout passed"))))
        let check = harness.state.waves[1].steps![0]
        #expect(check.status == .failed)
        #expect(check.output?.contains("the step's timeout passed") == true)
        #expect(harness.wave("app").status == .failed)
    }

    func stops(_ effects: [ExecutionEffect]) -> [String] {
        effects.compactMap { if case .stopStep(let run) = $0 { run.step.name } else { nil } }
    }

    @Test func aTimedOutOrCancelledAutomationIsStoppedAFinishedOneIsNot() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: ["db": (before: [WaveHookTests.ssm("prep", timeout: 60)], after: [])])
        _ = harness.take()
        harness.clock = try #require(harness.state.waves[0].steps?[0].deadline)
        try harness.apply(.tick)
        var effects = harness.take()
        #expect(stops(effects) == ["prep"])
        let stopRun = try #require(effects.compactMap { if case .stopStep(let run) = $0 { run } else { nil } }.first)
        let message = try #require(try SSMStepTransport.stopMessage(stopRun, topics: Topics(prefix: "test.")))
        let stop = try message.event.decode(SSMAutomationStopRequested.self)
        #expect(message.event.type == EventType.ssmAutomationStopRequested && message.key == "111122223333/us-east-1")
        #expect(stop.idempotencyKey == SSMStepTransport.idempotencyKey(executionID: Harness.execution, stepName: "prep", attempt: 1))

        var cancelled = Harness(waves: [("db", [], 1)], hooks: ["db": (before: [WaveHookTests.ssm("prep")], after: [])])
        _ = cancelled.take()
        try cancelled.apply(.cancel(actor: "bob", terminateInstances: false))
        #expect(stops(cancelled.take()) == ["prep"])

        var finished = Harness(waves: [("db", [], 1)], hooks: ["db": (before: [WaveHookTests.ssm("prep")], after: [])])
        _ = finished.take()
        try finished.apply(.stepFinished(StepResult(stepName: "prep", succeeded: false)))
        effects = finished.take()
        #expect(stops(effects).isEmpty, "a failed automation has ended: nothing to stop")
    }
}
