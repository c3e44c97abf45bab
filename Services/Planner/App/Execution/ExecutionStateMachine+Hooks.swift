import Foundation
import MusterDomain
import MusterEvents

// Wave hook steps (issue 16): `before` steps run, in order, before a wave's
// launch groups go to the launcher; `after` steps once every server of the
// wave is resolved. One step runs at a time per wave; a step starts only
// while the execution is RUNNING (a pause holds the next step back, as it
// holds back the next wave). A failed, timed-out or declined step applies
// its `onFailure` policy: FAIL_WAVE ends the wave FAILED (a `before` step's
// servers never launch) and skips the rest of its steps; CONTINUE goes on;
// PAUSE pauses the execution until an operator resumes (the next step then
// runs) or cancels. Declining an approval whose `onDecline` is CANCEL
// cancels the execution instead. Results for steps not RUNNING change nothing.
extension ExecutionStateMachine {
    /// The wave index and step index of the step named `name`.
    func locateStep(_ name: String) -> (wave: Int, step: Int)? {
        for (waveIndex, wave) in state.waves.enumerated() {
            if let stepIndex = (wave.steps ?? []).firstIndex(where: { $0.step.name == name }) {
                return (waveIndex, stepIndex)
            }
        }
        return nil
    }

    /// Moves wave `index`'s current hook phase on: starts the next pending step
    /// (while RUNNING), or ends the phase. Returns true when the wave ended.
    mutating func continueSteps(_ index: Int) -> Bool {
        guard let stage = state.waves[index].hookStage else { return false }
        let steps = state.waves[index].steps(stage)
        if steps.contains(where: { $0.step.status == .running || $0.step.holding }) { return false }
        if let next = steps.first(where: { $0.step.status == .pending }) {
            if state.status == .running { startStep(index, next.index) }
            return false
        }
        // A paused execution launches nothing new: the wave launches on resume.
        if stage == .before && state.status != .running { return false }
        state.waves[index].hookStage = nil
        switch stage {
        case .before:
            launchGroups(index)
            return false
        case .after:
            let outcome = state.waves[index].outcome ?? .completed
            state.waves[index].outcome = nil
            endWave(index, status: outcome, reason: nil)
            return true
        }
    }

    mutating func startStep(_ waveIndex: Int, _ stepIndex: Int) {
        guard var step = state.waves[waveIndex].steps?[stepIndex] else { return }
        step.status = .running
        step.startedAt = now
        step.deadline = now.addingTimeInterval(TimeInterval(step.step.timeoutSeconds))
        state.waves[waveIndex].steps?[stepIndex] = step
        publishStep(.stepStarted, wave: waveIndex, step: stepIndex)
        switch step.step.kind {
        case .approval:
            publishStep(.approvalRequested, wave: waveIndex, step: stepIndex, link: StepState.approvalLink(executionID: state.id, step: step.step.name))
        case .ssmAutomation, .httpCallout:
            effects.append(.runStep(stepRun(waveIndex, step)))
        }
    }

    /// What `runStep` / `stopStep` carry for `step` of wave `waveIndex`.
    func stepRun(_ waveIndex: Int, _ step: StepState) -> StepRun {
        StepRun(executionID: state.id, teamID: state.teamID, waveNumber: state.waves[waveIndex].number,
                waveName: state.waves[waveIndex].name, phase: step.phase, step: step.step,
                deadline: step.deadline ?? now)
    }

    /// Ends a step as it succeeded.
    mutating func stepSucceeded(_ waveIndex: Int, _ stepIndex: Int, output: String?, decidedBy: String? = nil) {
        endStep(waveIndex, stepIndex, status: .succeeded, output: output, decidedBy: decidedBy)
    }

    /// Ends a step as failed, timed out or declined and applies its policy.
    mutating func stepFailed(_ waveIndex: Int, _ stepIndex: Int, status: StepStatus, output: String?,
                             decidedBy: String? = nil) {
        endStep(waveIndex, stepIndex, status: status, output: output, decidedBy: decidedBy)
        guard let step = state.waves[waveIndex].steps?[stepIndex] else { return }
        let why = "\(step.phase.rawValue.lowercased()) step \(step.step.name) ended \(status.rawValue)"
        switch step.step.onFailure {
        case .continue:
            break
        case .failWave:
            failWave(waveIndex, reason: why)
        case .pause:
            state.waves[waveIndex].steps?[stepIndex].holding = true
            if state.status == .running {
                state.status = .paused
                publish(.executionPaused, wave: state.waves[waveIndex].number,
                        reason: "\(why) (onFailure PAUSE); resume to go on with the next step, or cancel")
            }
        }
    }

    mutating func endStep(_ waveIndex: Int, _ stepIndex: Int, status: StepStatus, output: String?, decidedBy: String?) {
        guard var step = state.waves[waveIndex].steps?[stepIndex], !step.status.isTerminal else { return }
        // A running automation whose step ends without its result (timeout, cancel) is stopped.
        if step.status == .running, step.step.kind == .ssmAutomation, [.timedOut, .skipped].contains(status) {
            effects.append(.stopStep(stepRun(waveIndex, step)))
        }
        step.status = status
        step.endedAt = now
        step.output = StepState.trimmed(output)
        step.decidedBy = decidedBy
        state.waves[waveIndex].steps?[stepIndex] = step
        publishStep(.stepCompleted, wave: waveIndex, step: stepIndex, actor: decidedBy)
    }

    /// Skips every step of the wave that has not ended.
    mutating func skipSteps(_ waveIndex: Int, reason: String) {
        for stepIndex in (state.waves[waveIndex].steps ?? []).indices
        where !(state.waves[waveIndex].steps?[stepIndex].status.isTerminal ?? true) {
            endStep(waveIndex, stepIndex, status: .skipped, output: reason, decidedBy: nil)
        }
    }

    /// A FAIL_WAVE step failed: the rest is skipped and the wave ends FAILED
    /// (servers that never launched fail with the step's reason).
    mutating func failWave(_ waveIndex: Int, reason: String) {
        skipSteps(waveIndex, reason: "skipped: \(reason)")
        let stage = state.waves[waveIndex].hookStage
        state.waves[waveIndex].hookStage = nil
        state.waves[waveIndex].outcome = nil
        if stage == .before {
            for server in state.servers(inWave: state.waves[waveIndex].number) where !server.isResolved {
                fail(server.id, reason: "not launched: \(reason)")
            }
        }
        endWave(waveIndex, status: .failed, reason: reason)
    }

    /// On cancel: waves inside a hook phase end now (their steps are skipped;
    /// a wave that had not launched yet is SKIPPED and its servers fail).
    mutating func endHookPhasesOnCancel() {
        for index in state.waves.indices {
            guard let stage = state.waves[index].hookStage else { continue }
            skipSteps(index, reason: "skipped: execution cancelled")
            state.waves[index].hookStage = nil
            switch stage {
            case .before:
                for server in state.servers(inWave: state.waves[index].number) where !server.isResolved {
                    fail(server.id, reason: "not launched: execution cancelled during the wave's before steps")
                }
                endWave(index, status: .skipped, reason: "execution cancelled during the wave's before steps")
            case .after:
                let outcome = state.waves[index].outcome ?? .completed
                state.waves[index].outcome = nil
                endWave(index, status: outcome, reason: "after steps skipped: execution cancelled")
            }
        }
    }

    // MARK: Inputs

    mutating func stepFinished(_ result: StepResult) {
        guard let (waveIndex, stepIndex) = locateStep(result.stepName),
              let step = state.waves[waveIndex].steps?[stepIndex], step.status == .running,
              step.step.kind != .approval else { return }
        if result.succeeded {
            stepSucceeded(waveIndex, stepIndex, output: result.output)
        } else {
            stepFailed(waveIndex, stepIndex, status: .failed, output: result.output)
        }
        advance()
    }

    mutating func decide(_ decision: ApprovalDecision) throws {
        guard let (waveIndex, stepIndex) = locateStep(decision.stepName),
              let step = state.waves[waveIndex].steps?[stepIndex] else {
            throw ExecutionCommandRefused("this execution has no step named \(decision.stepName)")
        }
        guard step.step.kind == .approval else {
            throw ExecutionCommandRefused("step \(decision.stepName) is an \(step.step.kind.rawValue) step, not an approval")
        }
        guard step.status == .running else {
            throw ExecutionCommandRefused(
                "approval \(decision.stepName) is \(step.status.rawValue); only a waiting (RUNNING) approval can be decided")
        }
        let rule = step.step.approval ?? HookStep.Approval()
        if let role = rule.role, decision.role < role {
            throw ExecutionCommandForbidden(
                "approval \(decision.stepName) needs the \(role.rawValue) role; you are \(decision.role.rawValue)")
        }
        if rule.notStarter && decision.actor == state.initiatedBy {
            throw ExecutionCommandForbidden(
                "approval \(decision.stepName) must be decided by someone other than \(state.initiatedBy), who started the execution")
        }
        let output = decision.comment.map { "\(decision.approve ? "approved" : "declined"): \($0)" }
            ?? (decision.approve ? "approved" : "declined")
        if decision.approve {
            stepSucceeded(waveIndex, stepIndex, output: output, decidedBy: decision.actor)
        } else if rule.onDecline == .cancel {
            endStep(waveIndex, stepIndex, status: .declined, output: output, decidedBy: decision.actor)
            try cancel(actor: decision.actor, terminateInstances: false)
            return
        } else {
            stepFailed(waveIndex, stepIndex, status: .declined, output: output, decidedBy: decision.actor)
        }
        advance()
    }

    mutating func tick() {
        var changed = false
        for waveIndex in state.waves.indices {
            for stepIndex in (state.waves[waveIndex].steps ?? []).indices {
                guard let step = state.waves[waveIndex].steps?[stepIndex], step.status == .running,
                      let deadline = step.deadline, deadline <= now else { continue }
                stepFailed(waveIndex, stepIndex, status: .timedOut,
                           output: "no outcome within \(step.step.timeoutSeconds) s")
                changed = true
            }
        }
        if changed { advance() }
    }

    /// The earliest deadline of a running step (when the planner must tick this execution).
    public static func nextDeadline(_ state: ExecutionState) -> Date? {
        state.waves.flatMap { $0.steps ?? [] }.filter { $0.status == .running }.compactMap(\.deadline).min()
    }

    /// Publishes a step event describing the step as it stands.
    mutating func publishStep(_ type: ExecutionEventType, wave waveIndex: Int, step stepIndex: Int,
                              actor: String? = nil, link: String? = nil) {
        guard let step = state.waves[waveIndex].steps?[stepIndex] else { return }
        publish(type, actor: actor, wave: state.waves[waveIndex].number,
                step: .init(name: step.step.name, kind: step.step.kind, phase: step.phase,
                            status: step.status, output: step.output, link: link))
    }
}
