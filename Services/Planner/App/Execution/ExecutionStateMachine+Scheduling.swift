import Foundation
import MusterDomain
import MusterEvents

// Which waves start, end, or are skipped; when the execution ends.
extension ExecutionStateMachine {
    /// A dependency is satisfied when it COMPLETED, or ended at all and may
    /// fail without blocking (`continueOnFailure`).
    func isSatisfied(_ number: Int) -> Bool {
        guard let index = state.waveIndex(number) else { return false }
        let wave = state.waves[index]
        return wave.status == .completed || (wave.status.isTerminal && wave.continueOnFailure)
    }

    /// Not yet started and every dependency satisfied.
    func isReady(_ wave: WaveState) -> Bool {
        [.pending, .waiting].contains(wave.status) && wave.dependsOn.allSatisfy(isSatisfied)
    }

    /// Called after servers changed: ends finished waves, then schedules.
    mutating func afterProgress() {
        for index in state.waves.indices where [.launching, .queued, .running].contains(state.waves[index].status)
            && state.waves[index].hookStage == nil {
            let servers = state.servers(inWave: state.waves[index].number)
            guard servers.allSatisfy(\.isResolved) else { continue }
            let succeeded = servers.filter(\.succeeded).count
            let status: WaveStatus =
                state.waves[index].timedOut ? .timedOut
                : succeeded == servers.count ? .completed
                : succeeded == 0 ? .failed : .partial
            if !state.waves[index].steps(.after).isEmpty && !state.status.isTerminal {
                // The servers' verdict waits while the after steps run.
                state.waves[index].status = .running
                state.waves[index].outcome = status
                state.waves[index].hookStage = .after
                continue
            }
            skipSteps(index, reason: "skipped: execution cancelled")
            endWave(index, status: status, reason: nil)
        }
        advance()
    }

    /// Skips blocked waves, starts ready ones (unless paused or gated), and
    /// ends the execution when every wave has ended.
    mutating func advance() {
        var waveEnded = true
        while waveEnded {
            waveEnded = false
            var changed = true
            while changed {
                changed = false
                for index in state.waves.indices where [.pending, .waiting].contains(state.waves[index].status) {
                    let wave = state.waves[index]
                    if let blocker = wave.dependsOn.first(where: { dependency in
                        state.waveIndex(dependency).map { state.waves[$0].status.isTerminal } == true && !isSatisfied(dependency)
                    }) {
                        let name = state.waves[blocker - 1].name
                        endWave(index, status: .skipped, reason: "dependency \(name) ended \(state.waves[blocker - 1].status.rawValue)")
                        changed = true
                    }
                }
            }
            if state.status == .running {
                let ready = state.waves.indices.filter { isReady(state.waves[$0]) }
                let gated = ready.filter { state.waves[$0].pauseBefore && !state.waves[$0].approved }
                for index in ready where !gated.contains(index) {
                    startWave(index)
                }
                if !gated.isEmpty {
                    state.status = .paused
                    let names = gated.map { state.waves[$0].name }.joined(separator: ", ")
                    publish(.executionPaused, reason: "approval required before wave \(names) (pauseBefore); resume to continue")
                }
            }
            // Hook phases move on; a wave ending in one may let dependants start.
            for index in state.waves.indices where state.waves[index].hookStage != nil {
                if continueSteps(index) { waveEnded = true }
            }
        }
        finishIfDone()
    }

    /// Starts the wave: its `before` steps first, when it has any.
    mutating func startWave(_ index: Int) {
        state.waves[index].status = .launching
        state.waves[index].startedAt = now
        let wave = state.waves[index]
        for server in state.servers(inWave: wave.number) {
            state.servers[server.id]?.status = .launching
            state.servers[server.id]?.startedAt = now
        }
        publish(.waveStarted, wave: wave.number)
        if !wave.steps(.before).isEmpty {
            state.waves[index].hookStage = .before
            return
        }
        launchGroups(index)
    }

    /// Hands the wave's launch groups (wave ∩ endpoint) to the launcher.
    mutating func launchGroups(_ index: Int) {
        let wave = state.waves[index]
        var groups: [Endpoint: [String]] = [:]
        for server in state.servers(inWave: wave.number) {
            groups[server.endpoint, default: []].append(server.id)
        }
        // Another step waits for this wave: a wave that depends on it, or a hook after it.
        let gatesNextStep = !wave.steps(.after).isEmpty || state.waves.contains { $0.dependsOn.contains(wave.number) }
        for endpoint in groups.keys.sorted(by: { $0.key < $1.key }) {
            effects.append(.startLaunchGroup(LaunchGroupRequested(
                launchGroup: LaunchGroupID(executionID: state.id, waveNumber: wave.number, endpoint: endpoint),
                executionType: state.type, planID: state.planID, planName: state.planName, waveName: wave.name,
                team: state.teamID, initiatedBy: state.initiatedBy, sourceServerIDs: groups[endpoint, default: []].sorted().map(SourceServerID.init(rawValue:)),
                waveStartedAt: now, timeoutSeconds: wave.timeoutSeconds, launchOverrides: state.launchOverrides,
                launchSettings: state.launchSettings.map { all in
                    groups[endpoint]!.reduce(into: [String: ServerLaunchSettings]()) { $0[$1] = all[$1] }
                }.flatMap { $0.isEmpty ? nil : $0 },
                recoveryPoint: state.recoveryPoint, gatesNextStep: gatesNextStep)))
        }
    }

    mutating func endWave(_ index: Int, status: WaveStatus, reason: String?) {
        state.waves[index].status = status
        state.waves[index].endedAt = now
        state.waves[index].queuedReason = nil
        publish(.waveCompleted, wave: state.waves[index].number, reason: reason)
    }

    /// Ends the execution once every wave ended (even while paused by an
    /// operator: there is nothing left to hold back).
    mutating func finishIfDone() {
        guard !state.status.isTerminal, state.waves.allSatisfy(\.status.isTerminal) else { return }
        let servers = Array(state.servers.values)
        let status: ExecutionStatus =
            state.waves.contains { $0.status == .timedOut } ? .timedOut
            : state.waves.allSatisfy { $0.status == .completed } ? .completed
            : servers.contains(where: \.succeeded) ? .partial : .failed
        state.status = status
        state.endedAt = now
        state.pausedByOperator = false
        let type: ExecutionEventType = switch status {
        case .timedOut: .executionTimedOut
        case .failed: .executionFailed
        default: .executionCompleted
        }
        publish(type)
    }

    /// Appends an `execution.events.v1` event describing the current state.
    mutating func publish(
        _ type: ExecutionEventType, actor: String? = nil, wave number: Int? = nil, server: ServerState? = nil,
        reason: String? = nil, step: ExecutionEvent.StepRef? = nil
    ) {
        let wave = number.flatMap { state.waveIndex($0) }.map { state.waves[$0] }
        effects.append(.publish(ExecutionEvent(
            type: type, executionID: state.id, executionType: state.type, executionStatus: state.status,
            planID: state.planID, planName: state.planName, teamID: state.teamID, initiatedBy: state.initiatedBy,
            actor: actor, wave: wave.map { .init(number: $0.number, name: $0.name, status: $0.status) },
            server: server.map {
                .init(sourceServerID: SourceServerID(rawValue: $0.id), accountID: $0.accountID, region: $0.region, status: $0.status,
                      recoveryInstanceID: $0.recoveryInstanceID)
            },
            reason: reason, occurredAt: now, objectives: type.isTerminalExecutionEvent ? objectives : nil, step: step)))
    }

    /// RTO and RPO evidence as they stand.
    var objectives: ExecutionEvent.Objectives {
        let lastLaunch = state.servers.values.compactMap(\.launchedAt).max()
        return ExecutionEvent.Objectives(
            rtoTargetMinutes: state.rtoTargetMinutes,
            secondsToLastLaunch: lastLaunch.map { ($0.timeIntervalSince(state.createdAt) * 1000).rounded() / 1000 },
            rpoTargetMinutes: state.rpoTargetMinutes, worstAchievedRpoSeconds: state.worstAchievedRPO)
    }
}
