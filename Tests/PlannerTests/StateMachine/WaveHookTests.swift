import Foundation
import MusterAPI
import MusterDomain
import MusterEvents
@testable import PlannerApp
import Testing

/// Wave hook steps (issue 16) through the pure state machine: no I/O.
@Suite("Wave hook steps")
struct WaveHookTests {
    static func ssm(_ name: String, onFailure: HookFailurePolicy = .failWave, timeout: Int = 300) -> HookStep {
        HookStep(name: name, kind: .ssmAutomation, timeoutSeconds: timeout, onFailure: onFailure,
                 ssm: .init(documentName: "AWS-RunShellScript", accountID: "111122223333", region: "us-east-1"))
    }
    static func callout(_ name: String, onFailure: HookFailurePolicy = .failWave) -> HookStep {
        HookStep(name: name, kind: .httpCallout, timeoutSeconds: 300, onFailure: onFailure,
                 callout: .init(url: "https://hooks.example/x"))
    }
    static func approval(_ name: String, role: Role? = nil, notStarter: Bool = false, onDecline: DeclineAction = .fail,
                         onFailure: HookFailurePolicy = .failWave) -> HookStep {
        HookStep(name: name, kind: .approval, timeoutSeconds: 3600, onFailure: onFailure,
                 approval: .init(role: role, notStarter: notStarter, onDecline: onDecline))
    }
    static func decision(_ step: String, approve: Bool, actor: String = "bob", role: Role = .operator,
                         comment: String? = nil) -> ExecutionInput {
        .decide(ApprovalDecision(stepName: step, approve: approve, actor: actor, role: role, comment: comment))
    }

    func step(_ harness: Harness, _ name: String) -> StepState {
        harness.state.waves.flatMap { $0.steps ?? [] }.first { $0.step.name == name }!
    }

    @Test func beforeSSMThenLaunchThenAfterCalloutAndApprovalRunInOrder() throws {
        var harness = Harness(waves: [("db", [], 2), ("app", [1], 1)], hooks: [
            "db": (before: [Self.ssm("prep")], after: [Self.callout("notify"), Self.approval("signoff")]),
        ])
        var effects = harness.take()
        // The before step runs first; nothing launches yet.
        #expect(effects.stepRuns == ["prep"])
        #expect(effects.launchGroups.isEmpty)
        #expect(effects.eventTypes == [.executionStarted, .waveStarted, .stepStarted])
        #expect(harness.wave("db").status == .launching && harness.wave("db").hookStage == .before)
        #expect(step(harness, "prep").deadline == harness.clock.addingTimeInterval(300))

        try harness.apply(.stepFinished(StepResult(stepName: "prep", succeeded: true, output: "Status: Success")))
        effects = harness.take()
        #expect(effects.stepEvents == ["step.completed:prep:SUCCEEDED"])
        #expect(effects.launchGroups.map(\.waveName) == ["db"])
        #expect(step(harness, "prep").output == "Status: Success")

        // Servers resolved: the wave waits for its after steps, dependants too.
        try harness.launchAll("db")
        effects = harness.take()
        #expect(!effects.eventTypes.contains(.waveCompleted))
        #expect(effects.stepRuns == ["notify"])
        #expect(harness.wave("db").status == .running && harness.wave("db").outcome == .completed)
        #expect(harness.wave("app").status == .waiting)

        try harness.apply(.stepFinished(StepResult(stepName: "notify", succeeded: true)))
        effects = harness.take()
        #expect(effects.stepEvents == [
            "step.completed:notify:SUCCEEDED", "step.started:signoff:RUNNING", "execution.approval-requested:signoff:RUNNING",
        ])
        let request = effects.compactMap { if case .publish(let e) = $0, e.type == .approvalRequested { e } else { nil } }
        #expect(request.first?.step?.link == "/v1/executions/\(Harness.execution)/approvals/signoff")
        #expect(effects.stepRuns.isEmpty)

        try harness.apply(Self.decision("signoff", approve: true, comment: "checked the app"))
        effects = harness.take()
        #expect(effects.eventTypes == [.stepCompleted, .waveCompleted, .waveStarted])
        #expect(harness.wave("db").status == .completed)
        #expect(step(harness, "signoff").decidedBy == "bob")
        #expect(step(harness, "signoff").output == "approved: checked the app")
        try harness.launchAll("app")
        #expect(harness.state.status == .completed)
    }

    @Test func failedBeforeStepFailsTheWaveItsServersAndSkipsTheRest() throws {
        var harness = Harness(waves: [("db", [], 2), ("app", [1], 1)], hooks: [
            "db": (before: [Self.ssm("prep"), Self.callout("tell")], after: [Self.callout("after")]),
        ])
        _ = harness.take()
        try harness.apply(.stepFinished(StepResult(stepName: "prep", succeeded: false, output: "Status: Failed")))
        let effects = harness.take()
        #expect(effects.launchGroups.isEmpty)
        #expect(effects.stepRuns.isEmpty)
        #expect(effects.stepEvents == [
            "step.completed:prep:FAILED", "step.completed:tell:SKIPPED", "step.completed:after:SKIPPED",
        ])
        #expect(harness.wave("db").status == .failed)
        #expect(harness.wave("app").status == .skipped)
        #expect(harness.servers("db").allSatisfy { $0.status == .failed && $0.failureReason?.contains("prep") == true })
        #expect(harness.state.status == .failed)
    }

    @Test func continuePolicyGoesOnAfterAFailure() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: [
            "db": (before: [Self.ssm("prep", onFailure: .continue), Self.callout("tell")], after: []),
        ])
        _ = harness.take()
        try harness.apply(.stepFinished(StepResult(stepName: "prep", succeeded: false)))
        #expect(harness.take().stepRuns == ["tell"])
        try harness.apply(.stepFinished(StepResult(stepName: "tell", succeeded: true)))
        #expect(harness.take().launchGroups.count == 1)
        try harness.launchAll("db")
        #expect(harness.state.status == .completed)
    }

    @Test func pausePolicyHoldsTheWaveUntilAnOperatorResumes() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: [
            "db": (before: [Self.ssm("prep", onFailure: .pause), Self.callout("tell")], after: []),
        ])
        _ = harness.take()
        try harness.apply(.stepFinished(StepResult(stepName: "prep", succeeded: false)))
        var effects = harness.take()
        #expect(harness.state.status == .paused)
        #expect(effects.eventTypes == [.stepCompleted, .executionPaused])
        #expect(effects.stepRuns.isEmpty && effects.launchGroups.isEmpty)
        #expect(step(harness, "prep").holding)
        try harness.apply(.resume(actor: "carol"))
        effects = harness.take()
        #expect(harness.state.status == .running)
        #expect(effects.stepRuns == ["tell"])
        #expect(!step(harness, "prep").holding)
    }

    @Test func stepsTimeOutOnlyAtTheirDeadline() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: ["db": (before: [Self.ssm("prep", timeout: 60)], after: [])])
        _ = harness.take()
        let deadline = try #require(step(harness, "prep").deadline)
        harness.clock = deadline.addingTimeInterval(-2)
        try harness.apply(.tick)
        #expect(step(harness, "prep").status == .running)
        #expect(harness.take().isEmpty)
        #expect(ExecutionStateMachine.nextDeadline(harness.state) == deadline)
        try harness.apply(.tick)
        #expect(step(harness, "prep").status == .timedOut)
        #expect(step(harness, "prep").output == "no outcome within 60 s")
        #expect(harness.wave("db").status == .failed)
        #expect(ExecutionStateMachine.nextDeadline(harness.state) == nil)
        // A result arriving after the timeout changes nothing.
        let before = harness.state
        try harness.apply(.stepFinished(StepResult(stepName: "prep", succeeded: true)))
        #expect(harness.state == before)
    }

    @Test func declinedApprovalFailsTheWaveWhenConfiguredSo() throws {
        var harness = Harness(waves: [("db", [], 1), ("app", [1], 1)], hooks: [
            "db": (before: [Self.approval("go", onDecline: .fail)], after: []),
        ])
        #expect(harness.take().eventTypes.contains(.approvalRequested))
        try harness.apply(Self.decision("go", approve: false, comment: "not today"))
        #expect(step(harness, "go").status == .declined)
        #expect(step(harness, "go").output == "declined: not today")
        #expect(harness.wave("db").status == .failed)
        #expect(harness.wave("app").status == .skipped)
        #expect(harness.state.status == .failed)
        #expect(harness.take().launchGroups.isEmpty)
    }

    @Test func declinedApprovalCancelsTheExecutionWhenConfiguredSo() throws {
        var harness = Harness(waves: [("db", [], 1), ("app", [1], 1)], hooks: [
            "db": (before: [], after: [Self.approval("keep", onDecline: .cancel), Self.callout("later")]),
        ])
        try harness.launchAll("db")
        _ = harness.take()
        try harness.apply(Self.decision("keep", approve: false))
        let effects = harness.take()
        #expect(harness.state.status == .cancelled)
        #expect(step(harness, "keep").status == .declined)
        #expect(step(harness, "later").status == .skipped)
        // The wave keeps its servers' verdict; the next wave never starts.
        #expect(harness.wave("db").status == .completed)
        #expect(harness.wave("app").status == .skipped)
        #expect(effects.eventTypes.last == .executionCancelled)
        #expect(effects.stepRuns.isEmpty)
    }

    @Test func approvalRulesRestrictWhoDecides() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: [
            "db": (before: [Self.approval("admins", role: .admin), Self.approval("four-eyes", notStarter: true)], after: []),
        ])
        #expect(throws: ExecutionCommandForbidden.self) {
            try harness.apply(Self.decision("admins", approve: true, role: .operator))
        }
        #expect(step(harness, "admins").status == .running)
        try harness.apply(Self.decision("admins", approve: true, role: .admin))
        #expect(throws: ExecutionCommandForbidden.self) {
            try harness.apply(Self.decision("four-eyes", approve: true, actor: "alice", role: .admin))
        }
        try harness.apply(Self.decision("four-eyes", approve: true, actor: "bob"))
        #expect(harness.wave("db").hookStage == nil)
        #expect(harness.take().launchGroups.count == 1)
    }

    @Test func decisionsOnStepsThatAreNotWaitingApprovalsAreRefused() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: [
            "db": (before: [Self.ssm("prep")], after: [Self.approval("later")]),
        ])
        for input in [Self.decision("nope", approve: true), Self.decision("prep", approve: true),
                      Self.decision("later", approve: true)] {
            #expect(throws: ExecutionCommandRefused.self) { try harness.apply(input) }
        }
        // An approval's outcome comes from a decision, never from a step result.
        try harness.apply(.stepFinished(StepResult(stepName: "prep", succeeded: true)))
        try harness.launchAll("db")
        try harness.apply(.stepFinished(StepResult(stepName: "later", succeeded: true)))
        #expect(step(harness, "later").status == .running)
        try harness.apply(Self.decision("later", approve: true))
        #expect(throws: ExecutionCommandRefused.self) { try harness.apply(Self.decision("later", approve: false)) }
        #expect(harness.state.status == .completed)
    }

    @Test func operatorPauseHoldsTheNextStepAndTheLaunch() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: [
            "db": (before: [Self.ssm("one"), Self.ssm("two")], after: []),
        ])
        _ = harness.take()
        try harness.apply(.pause(actor: "carol"))
        try harness.apply(.stepFinished(StepResult(stepName: "one", succeeded: true)))
        #expect(harness.take().stepRuns.isEmpty)
        try harness.apply(.resume(actor: "carol"))
        #expect(harness.take().stepRuns == ["two"])
        try harness.apply(.pause(actor: "carol"))
        try harness.apply(.stepFinished(StepResult(stepName: "two", succeeded: true)))
        #expect(harness.take().launchGroups.isEmpty)
        try harness.apply(.resume(actor: "carol"))
        #expect(harness.take().launchGroups.count == 1)
    }

    @Test func cancelDuringBeforeStepsSkipsThemAndTheWave() throws {
        var harness = Harness(waves: [("db", [], 2)], hooks: ["db": (before: [Self.ssm("prep")], after: [])])
        _ = harness.take()
        try harness.apply(.cancel(actor: "carol", terminateInstances: false))
        #expect(harness.state.status == .cancelled)
        #expect(step(harness, "prep").status == .skipped)
        #expect(harness.wave("db").status == .skipped)
        #expect(harness.servers("db").allSatisfy { $0.status == .failed })
        #expect(harness.take().launchGroups.isEmpty)
    }

    @Test func stepsSurviveTheStoredDocumentAndOldDocumentsHaveNone() throws {
        var harness = Harness(waves: [("db", [], 1)], hooks: [
            "db": (before: [Self.ssm("prep")], after: [Self.approval("ok", role: .admin, notStarter: true, onDecline: .cancel)]),
        ])
        let data = try EventCoding.encoder.encode(harness.state)
        harness.state = try EventCoding.decoder.decode(ExecutionState.self, from: data)
        #expect(harness.state.waves[0].steps?.count == 2)
        #expect(step(harness, "ok").step.approval == .init(role: .admin, notStarter: true, onDecline: .cancel))
        // A document written before hooks existed decodes without steps and runs as before.
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        var waves = try #require(object["waves"] as? [[String: Any]])
        for index in waves.indices { waves[index]["steps"] = nil; waves[index]["hookStage"] = nil }
        object["waves"] = waves
        let old = try EventCoding.decoder.decode(
            ExecutionState.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(old.waves[0].steps == nil)
    }
}
