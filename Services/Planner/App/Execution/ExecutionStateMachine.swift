import Foundation
import MusterDomain
import MusterEvents

/// The execution state machine (DESIGN §7), pure: state + input → new state
/// + effects. No I/O, no clock (the caller passes `now`), so every rule is
/// unit-tested without a database or broker.
///
/// Rules, in one place:
/// - A wave starts when every dependency is satisfied: COMPLETED, or ended in
///   any terminal status with `continueOnFailure`. A dependency that ended
///   otherwise makes its dependants SKIPPED (transitively).
/// - A wave starts as one `launch-group.requested` per launch group (wave ∩ endpoint).
/// - A wave ends when each of its servers is resolved: FAILED, or LAUNCHED
///   and (RECOVERY only) post-launch actions done. COMPLETED when all
///   succeeded, FAILED when none did, PARTIAL otherwise, TIMED_OUT when a job
///   of it timed out.
/// - Pause (operator) or a `pauseBefore` gate stops new waves; running DRS
///   jobs go on. Resume continues and approves the gates reached.
/// - Snapshots never move a job or server backwards; replays change nothing.
public struct ExecutionStateMachine: Sendable {
    /// The state after the inputs applied so far.
    public internal(set) var state: ExecutionState
    /// The effects owed so far, in order.
    public internal(set) var effects: [ExecutionEffect] = []
    let now: Date

    init(state: ExecutionState, now: Date) {
        self.state = state
        self.now = now
    }

    /// Creates the execution from its blueprint and starts every wave whose
    /// dependencies are met (or pauses at a gate).
    public static func start(_ blueprint: ExecutionBlueprint, now: Date) -> (ExecutionState, [ExecutionEffect]) {
        var servers: [String: ServerState] = [:]
        for (index, wave) in blueprint.waves.enumerated() {
            for server in wave.servers {
                servers[server.id] = ServerState(
                    id: server.id, accountID: server.accountID, region: server.region, wave: index + 1,
                    status: .pending, postLaunch: blueprint.type == .drill ? .notApplicable : .pending)
            }
        }
        let waves = blueprint.waves.enumerated().map { index, wave in
            WaveState(
                number: index + 1, name: wave.name, dependsOn: wave.dependsOn, pauseBefore: wave.pauseBefore,
                continueOnFailure: wave.continueOnFailure, timeoutSeconds: wave.timeoutSeconds,
                status: wave.dependsOn.isEmpty ? .pending : .waiting, approved: false, timedOut: false,
                steps: wave.before.isEmpty && wave.after.isEmpty ? nil
                    : wave.before.map { StepState(step: $0, phase: .before) } + wave.after.map { StepState(step: $0, phase: .after) })
        }
        var state = ExecutionState(
            id: blueprint.executionID, teamID: blueprint.teamID, planID: blueprint.planID,
            planName: blueprint.planName, type: blueprint.type, initiatedBy: blueprint.initiatedBy,
            rtoTargetMinutes: blueprint.rtoTargetMinutes, launchOverrides: blueprint.launchOverrides, status: .running, createdAt: now, pausedByOperator: false,
            waves: waves, servers: servers, jobs: [:], terminateOnCancel: false)
        state.launchSettings = blueprint.launchSettings
        state.recoveryPoint = blueprint.recoveryPoint
        state.rpoTargetMinutes = blueprint.rpoTargetMinutes
        var machine = ExecutionStateMachine(state: state, now: now)
        machine.publish(.executionStarted)
        machine.advance()
        return (machine.state, machine.effects)
    }

    /// Applies `input`. Operator commands that don't fit the current status
    /// throw `ExecutionCommandRefused`; job events never throw.
    public static func apply(_ input: ExecutionInput, to state: ExecutionState, now: Date) throws
        -> (ExecutionState, [ExecutionEffect])
    {
        var machine = ExecutionStateMachine(state: state, now: now)
        switch input {
        case .jobQueued(let event): machine.jobQueued(event)
        case .jobCreated(let event): machine.jobCreated(event)
        case .jobLaunchFailed(let event): machine.jobLaunchFailed(event)
        case .jobObserved(let event): machine.jobObserved(event)
        case .jobTimedOut(let event): machine.jobTimedOut(event)
        case .jobDuplicateDetected(let event): machine.jobDuplicateDetected(event)
        case .pause(let actor): try machine.pause(actor: actor)
        case .resume(let actor): try machine.resume(actor: actor)
        case .cancel(let actor, let terminate): try machine.cancel(actor: actor, terminateInstances: terminate)
        case .cleanup(let actor): try machine.cleanup(actor: actor)
        case .stepFinished(let result): machine.stepFinished(result)
        case .decide(let decision): try machine.decide(decision)
        case .tick: machine.tick()
        }
        return (machine.state, machine.effects)
    }

    // MARK: Operator commands

    mutating func pause(actor: String) throws {
        guard state.status == .running else {
            throw ExecutionCommandRefused("only a RUNNING execution can be paused; it is \(state.status.rawValue)")
        }
        state.status = .paused
        state.pausedByOperator = true
        publish(.executionPaused, actor: actor, reason: "paused by \(actor)")
    }

    mutating func resume(actor: String) throws {
        guard state.status == .paused else {
            throw ExecutionCommandRefused("only a PAUSED execution can be resumed; it is \(state.status.rawValue)")
        }
        state.status = .running
        state.pausedByOperator = false
        // Resuming approves every gate the execution is waiting at.
        for index in state.waves.indices where isReady(state.waves[index]) && state.waves[index].pauseBefore {
            state.waves[index].approved = true
        }
        // Resuming also releases steps that failed with the PAUSE policy: the next step runs.
        for index in state.waves.indices {
            for step in (state.waves[index].steps ?? []).indices where state.waves[index].steps![step].holding {
                state.waves[index].steps![step].holding = false
            }
        }
        publish(.executionResumed, actor: actor)
        advance()
    }

    mutating func cancel(actor: String, terminateInstances: Bool) throws {
        guard !state.status.isTerminal else {
            throw ExecutionCommandRefused("the execution already ended (\(state.status.rawValue)); nothing to cancel")
        }
        if terminateInstances && state.type != .drill {
            throw ExecutionCommandRefused("terminateInstances applies to drills only; a RECOVERY keeps its instances")
        }
        state.status = .cancelled
        state.endedAt = now
        state.pausedByOperator = false
        for index in state.waves.indices where [.pending, .waiting].contains(state.waves[index].status) {
            endWave(index, status: .skipped, reason: "execution cancelled")
        }
        endHookPhasesOnCancel()
        publish(.executionCancelled, actor: actor, reason: terminateInstances ? "cancelled; terminating drill instances" : "cancelled")
        if terminateInstances {
            state.terminateOnCancel = true
            requestTermination(of: Array(state.servers.values), actor: actor)
        }
    }

    mutating func cleanup(actor: String) throws {
        guard state.type == .drill else {
            throw ExecutionCommandRefused("clean-up terminates drill instances; this execution is a RECOVERY")
        }
        guard state.status.isTerminal else {
            throw ExecutionCommandRefused("clean up after the drill ends; it is \(state.status.rawValue) (cancel it first)")
        }
        if let cleanup = state.cleanup, cleanup.completedAt == nil {
            throw ExecutionCommandRefused("a clean-up is already in progress")
        }
        let terminated = Set(state.cleanup?.instanceIDs ?? [])
        let remaining = state.servers.values.filter {
            $0.recoveryInstanceID.map { !terminated.contains($0) } ?? false
        }
        guard !remaining.isEmpty || !duplicateInstances(excluding: terminated).isEmpty else {
            throw ExecutionCommandRefused("no recovery instances left to terminate")
        }
        requestTermination(of: remaining, actor: actor)
    }

    /// Emits `instances.terminate` per endpoint for `servers`' recovery
    /// instances and tracks the clean-up.
    /// Every instance of a duplicate job is terminated with them.
    mutating func requestTermination(of servers: [ServerState], actor: String) {
        let asked = Set(state.cleanup?.instanceIDs ?? [])
        var byEndpoint = duplicateInstances(excluding: asked)
        for server in servers {
            guard let instance = server.recoveryInstanceID, !asked.contains(instance) else { continue }
            byEndpoint[server.endpoint, default: []].append(instance)
        }
        var cleanup = state.cleanup ?? CleanupState(
            requestedBy: actor, requestedAt: now, pendingEndpoints: [], doneChunks: [:], instanceIDs: [], failures: [])
        if byEndpoint.isEmpty && state.cleanup == nil {
            // Nothing launched yet: the clean-up is recorded and instances are
            // terminated as they appear (terminateOnCancel).
            state.cleanup = cleanup
            return
        }
        cleanup.completedAt = nil
        for endpoint in byEndpoint.keys.sorted(by: { $0.key < $1.key }) {
            let instances = Set(byEndpoint[endpoint] ?? []).sorted()
            cleanup.instanceIDs.append(contentsOf: instances)
            if !cleanup.pendingEndpoints.contains(endpoint.key) { cleanup.pendingEndpoints.append(endpoint.key) }
            cleanup.doneChunks[endpoint.key] = []
            effects.append(.terminateInstances(InstancesTerminate(
                executionID: state.id, endpoint: endpoint, recoveryInstanceIDs: instances, requestedBy: actor)))
        }
        state.cleanup = cleanup
    }
}
