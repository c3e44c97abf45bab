import Foundation
import MusterDomain
import MusterEvents
@testable import PlannerApp
import Testing

@Suite("Execution state machine")
struct ExecutionStateMachineTests {
    @Test func startEmitsOneLaunchGroupPerEndpointForWavesWithoutDependencies() {
        let other = Endpoint(accountID: "444455556666", region: "eu-west-1")
        let harness = Harness(waves: [("db", [], 4), ("app", [1], 2), ("tools", [], 1)],
                              endpoints: [Harness.endpoint, other])
        let groups = harness.effects.launchGroups
        #expect(groups.map(\.launchGroup.description).sorted() == [
            "\(Harness.execution):w1:111122223333:us-east-1", "\(Harness.execution):w1:444455556666:eu-west-1", "\(Harness.execution):w3:111122223333:us-east-1",
        ])
        #expect(groups.allSatisfy { $0.initiatedBy == "alice" && $0.executionType == .drill && $0.timeoutSeconds == 600 })
        #expect(harness.effects.eventTypes == [.executionStarted, .waveStarted, .waveStarted])
        #expect(harness.state.status == .running)
        #expect(harness.wave("db").status == .launching)
        #expect(harness.wave("app").status == .waiting)
        #expect(harness.servers("db").allSatisfy { $0.status == .launching })
        #expect(harness.servers("app").allSatisfy { $0.status == .pending })
    }

    /// A completed job naming a wave the execution does not have (a wave number out of range, issue 11's
    /// poison matrix) never fails a server of another wave; nothing moves.
    @Test func aCompletedJobOfAnotherWaveDecidesNothingAboutAServer() throws {
        var harness = Harness(waves: [("db", [], 1)])
        let server = try #require(harness.servers("db").first).id
        var elsewhere = harness.group("db")
        elsewhere.waveNumber = 3_000_000_000
        try harness.apply(.jobObserved(JobObserved(
            launchGroup: elsewhere, chunk: 0, jobID: "drsjob-stray", status: .completed,
            servers: [ObservedServer(sourceServerID: SourceServerID(rawValue: server), launchStatus: .launched, recoveryInstanceID: "i-stray")],
            observedAt: harness.clock)))
        #expect(harness.servers("db").map(\.status) == [.launching], "the server of wave 1 is untouched")
        #expect(harness.state.status == .running && harness.wave("db").status == .launching)
    }

    @Test func everyWaveStartedCarriesTheBlueprintsLaunchOverrides() throws {
        let overrides = LaunchOverrides(copyPrivateIp: true, launchDisposition: .stopped,
                                        targetInstanceTypeRightSizingMethod: .inAWS, osByol: false)
        let other = Endpoint(accountID: "444455556666", region: "eu-west-1")
        var harness = Harness(waves: [("db", [], 2), ("app", [1], 1)], endpoints: [Harness.endpoint, other],
                              launchOverrides: overrides)
        let first = harness.take().launchGroups
        #expect(first.count == 2)
        #expect(first.allSatisfy { $0.launchOverrides == overrides })
        // The snapshot lives in the stored state document: it survives a round
        // trip through JSON and still applies to waves started later.
        harness.state = try JSONDecoder().decode(ExecutionState.self, from: JSONEncoder().encode(harness.state))
        try harness.launchAll("db")
        let later = harness.take().launchGroups
        #expect(later.map(\.waveName) == ["app"])
        #expect(later.first?.launchOverrides == overrides)
        // Without overrides the payload says so (nil), rather than inventing defaults.
        #expect(Harness(waves: [("db", [], 1)]).effects.launchGroups.allSatisfy { $0.launchOverrides == nil })
    }

    @Test func chainRunsWavesInOrderAndCompletes() throws {
        var harness = Harness(waves: [("db", [], 2), ("app", [1], 2), ("web", [2], 1)])
        _ = harness.take()
        try harness.launchAll("db")
        #expect(harness.wave("db").status == .completed)
        #expect(harness.wave("app").status == .launching)
        #expect(harness.wave("web").status == .waiting)
        let effects = harness.take()
        #expect(effects.eventTypes == [.serverLaunched, .serverLaunched, .waveCompleted, .waveStarted])
        #expect(effects.launchGroups.map(\.launchGroup.waveNumber) == [2])
        try harness.launchAll("app")
        try harness.launchAll("web")
        #expect(harness.state.status == .completed)
        #expect(harness.take().eventTypes.last == .executionCompleted)
        #expect(harness.state.endedAt != nil)
    }

    @Test func diamondStartsTheJoinOnlyAfterBothBranches() throws {
        var harness = Harness(waves: [("a", [], 1), ("b", [1], 1), ("c", [1], 1), ("d", [2, 3], 1)])
        try harness.launchAll("a")
        #expect(harness.wave("b").status == .launching && harness.wave("c").status == .launching)
        _ = harness.take()
        try harness.launchAll("b")
        #expect(harness.wave("d").status == .waiting)
        #expect(harness.take().launchGroups.isEmpty)
        try harness.launchAll("c")
        #expect(harness.wave("d").status == .launching)
        #expect(harness.take().launchGroups.map(\.launchGroup.waveNumber) == [4])
    }

    @Test func failedWaveSkipsItsDependantsTransitivelyAndTheExecutionFails() throws {
        var harness = Harness(waves: [("db", [], 2), ("app", [1], 1), ("web", [2], 1)])
        try harness.failAll("db")
        #expect(harness.wave("db").status == .failed)
        #expect(harness.wave("app").status == .skipped)
        #expect(harness.wave("web").status == .skipped)
        #expect(harness.state.status == .failed)
        #expect(harness.effects.eventTypes.suffix(4) == [.waveCompleted, .waveCompleted, .waveCompleted, .executionFailed])
        #expect(harness.servers("db").allSatisfy { $0.status == .failed && $0.failureReason != nil })
    }

    @Test func partialWaveBlocksDependantsButTheExecutionIsPartial() throws {
        var harness = Harness(waves: [("db", [], 2), ("app", [1], 1)])
        let job = try harness.createJob("db")
        let ids = harness.servers("db").map(\.id)
        try harness.observe("db", job: job, status: .completed, [ids[0]: .launched, ids[1]: .failed])
        #expect(harness.wave("db").status == .partial)
        #expect(harness.wave("app").status == .skipped)
        #expect(harness.state.status == .partial)
    }

    @Test func continueOnFailureLetsDependantsRun() throws {
        var harness = Harness(waves: [("db", [], 1), ("app", [1], 1)], continueOnFailure: ["db"])
        try harness.failAll("db")
        #expect(harness.wave("db").status == .failed)
        #expect(harness.wave("app").status == .launching)
        try harness.launchAll("app")
        #expect(harness.state.status == .partial)
    }

    @Test func pauseBeforeGatePausesUntilResumeApprovesIt() throws {
        var harness = Harness(waves: [("db", [], 1), ("app", [1], 1)], pauseBefore: ["app"])
        _ = harness.take()
        try harness.launchAll("db")
        #expect(harness.state.status == .paused)
        #expect(harness.wave("app").status == .waiting)
        let effects = harness.take()
        #expect(effects.launchGroups.isEmpty)
        #expect(effects.eventTypes.last == .executionPaused)
        try harness.apply(.resume(actor: "bob"))
        #expect(harness.state.status == .running)
        #expect(harness.wave("app").status == .launching)
        let resumed = harness.take()
        #expect(resumed.eventTypes == [.executionResumed, .waveStarted])
        #expect(resumed.launchGroups.count == 1)
    }

    @Test func gateOnTheFirstWavePausesAtStart() {
        let harness = Harness(waves: [("db", [], 1)], pauseBefore: ["db"])
        #expect(harness.state.status == .paused)
        #expect(harness.effects.launchGroups.isEmpty)
    }

    @Test func operatorPauseHoldsNewWavesWhileRunningJobsFinish() throws {
        var harness = Harness(waves: [("db", [], 1), ("app", [1], 1)])
        try harness.apply(.pause(actor: "bob"))
        #expect(harness.state.status == .paused)
        _ = harness.take()
        try harness.launchAll("db")
        #expect(harness.wave("db").status == .completed, "running jobs still count while paused")
        #expect(harness.wave("app").status == .waiting)
        #expect(harness.take().launchGroups.isEmpty)
        #expect(throws: ExecutionCommandRefused.self) { try harness.apply(.pause(actor: "bob")) }
        try harness.apply(.resume(actor: "bob"))
        #expect(harness.wave("app").status == .launching)
        try harness.launchAll("app")
        #expect(harness.state.status == .completed)
    }

    @Test func resumeOfARunningExecutionIsRefused() {
        var harness = Harness(waves: [("db", [], 1)])
        #expect(throws: ExecutionCommandRefused.self) { try harness.apply(.resume(actor: "bob")) }
    }

    @Test func cancelSkipsUnstartedWavesAndNothingStartsAfterwards() throws {
        var harness = Harness(waves: [("db", [], 1), ("app", [1], 1)])
        try harness.apply(.cancel(actor: "bob", terminateInstances: false))
        #expect(harness.state.status == .cancelled)
        #expect(harness.wave("app").status == .skipped)
        _ = harness.take()
        try harness.launchAll("db")
        #expect(harness.wave("db").status == .completed, "the running wave's job is still tracked")
        let effects = harness.take()
        #expect(effects.launchGroups.isEmpty)
        #expect(!effects.eventTypes.contains(.executionCompleted))
        #expect(harness.state.status == .cancelled)
        #expect(throws: ExecutionCommandRefused.self) { try harness.apply(.cancel(actor: "bob", terminateInstances: false)) }
    }

    @Test func cancelWithTerminationTerminatesLaunchedAndLaterInstances() throws {
        var harness = Harness(waves: [("db", [], 2)])
        let job = try harness.createJob("db")
        let ids = harness.servers("db").map(\.id)
        try harness.observe("db", job: job, status: .started, [ids[0]: .launched, ids[1]: .inProgress])
        _ = harness.take()
        try harness.apply(.cancel(actor: "bob", terminateInstances: true))
        #expect(harness.take().terminations.flatMap(\.recoveryInstanceIDs) == ["i-\(ids[0])"])
        try harness.observe("db", job: job, status: .completed, [ids[0]: .launched, ids[1]: .launched])
        #expect(harness.take().terminations.flatMap(\.recoveryInstanceIDs) == ["i-\(ids[1])"])
    }

    @Test func terminateOnCancelIsRefusedForRecovery() {
        var harness = Harness(type: .recovery, waves: [("db", [], 1)])
        #expect(throws: ExecutionCommandRefused.self) { try harness.apply(.cancel(actor: "bob", terminateInstances: true)) }
        #expect(harness.state.status == .running)
    }

    @Test func timedOutJobFailsItsServersAndTheExecutionTimesOut() throws {
        var harness = Harness(waves: [("db", [], 2), ("app", [1], 1)])
        let job = try harness.createJob("db")
        let ids = harness.servers("db").map(\.id)
        try harness.observe("db", job: job, status: .started, [ids[0]: .launched, ids[1]: .inProgress])
        try harness.apply(.jobTimedOut(JobTimedOut(
            launchGroup: harness.group("db"), chunk: 0, jobID: job, lastStatus: .started, timeoutSeconds: 600)))
        #expect(harness.wave("db").status == .timedOut)
        #expect(harness.servers("db").first { $0.id == ids[1] }?.status == .failed)
        #expect(harness.servers("db").first { $0.id == ids[0] }?.status == .launched)
        #expect(harness.wave("app").status == .skipped)
        #expect(harness.state.status == .timedOut)
        #expect(harness.effects.eventTypes.last == .executionTimedOut)
    }

    @Test func queuedJobIsReflectedThenCreatedRuns() throws {
        var harness = Harness(waves: [("db", [], 1)])
        try harness.apply(.jobQueued(JobQueued(
            launchGroup: harness.group("db"), sourceServerIDs: harness.servers("db").map { SourceServerID(rawValue: $0.id) }, reason: .leases)))
        #expect(harness.wave("db").status == .queued)
        #expect(harness.wave("db").queuedReason == "LEASES")
        _ = try harness.createJob("db")
        #expect(harness.wave("db").status == .running)
        #expect(harness.wave("db").queuedReason == nil)
    }

    @Test func launchFailedFailsTheChunksServers() throws {
        var harness = Harness(waves: [("db", [], 2)])
        try harness.apply(.jobLaunchFailed(JobLaunchFailed(
            launchGroup: harness.group("db"), chunk: 0, chunkCount: 1, sourceServerIDs: harness.servers("db").map { SourceServerID(rawValue: $0.id) },
            errorCode: "AccessDeniedException", reason: "role cannot StartRecovery")))
        #expect(harness.servers("db").allSatisfy { $0.status == .failed })
        #expect(harness.servers("db").first?.failureReason?.contains("AccessDeniedException") == true)
        #expect(harness.state.status == .failed)
    }

    @Test func duplicatedEventsNeverDoubleCount() throws {
        var harness = Harness(waves: [("db", [], 1), ("app", [1], 1)])
        let job = try harness.createJob("db")
        let id = harness.servers("db")[0].id
        let snapshot = JobObserved(
            launchGroup: harness.group("db"), chunk: 0, jobID: job, status: .completed,
            servers: [ObservedServer(sourceServerID: SourceServerID(rawValue: id), launchStatus: .launched, recoveryInstanceID: "i-1")],
            observedAt: harness.clock.addingTimeInterval(5))
        _ = harness.take()
        try harness.apply(.jobObserved(snapshot))
        let first = harness.take()
        let stateAfterFirst = harness.state
        try harness.apply(.jobObserved(snapshot))
        try harness.apply(.jobCreated(JobCreated(
            launchGroup: harness.group("db"), chunk: 0, chunkCount: 1, jobID: job, isDrill: true, sourceServerIDs: [SourceServerID(rawValue: id)],
            createdAt: harness.clock, waveStartedAt: harness.clock, timeoutSeconds: 600)))
        #expect(harness.take().isEmpty, "replays emit nothing")
        #expect(harness.state == stateAfterFirst)
        #expect(first.eventTypes.filter { $0 == .serverLaunched }.count == 1)
        #expect(first.launchGroups.count == 1, "the dependant started exactly once")
    }

    @Test func olderSnapshotNeverMovesBackwards() throws {
        var harness = Harness(waves: [("db", [], 2)])
        let job = try harness.createJob("db")
        let ids = harness.servers("db").map(\.id)
        let t0 = harness.clock
        try harness.observe("db", job: job, status: .started, [ids[0]: .launched, ids[1]: .inProgress],
                            at: t0.addingTimeInterval(10))
        // Delivered late: an earlier snapshot.
        try harness.observe("db", job: job, status: .pending, [ids[0]: .pending, ids[1]: .pending],
                            at: t0.addingTimeInterval(5))
        #expect(harness.servers("db").map(\.status) == [.launched, .inProgress])
        #expect(harness.state.jobs[job.rawValue]?.status == .started)
        // A newer snapshot whose per-server status lags still cannot regress a server.
        try harness.observe("db", job: job, status: .started, [ids[1]: .pending], at: t0.addingTimeInterval(20))
        #expect(harness.servers("db").first { $0.id == ids[1] }?.status == .inProgress)
    }

    @Test func recoveryWaveWaitsForPostLaunchActions() throws {
        var harness = Harness(type: .recovery, waves: [("db", [], 1), ("app", [1], 1)])
        let job = try harness.createJob("db")
        let id = harness.servers("db")[0].id
        try harness.observe("db", job: job, status: .started, [id: .launched], postLaunch: .inProgress)
        #expect(harness.servers("db")[0].status == .launched)
        #expect(harness.wave("db").status == .running, "launched is not enough for RECOVERY")
        #expect(harness.wave("app").status == .waiting)
        try harness.observe("db", job: job, status: .completed, [id: .launched], postLaunch: .succeeded)
        #expect(harness.wave("db").status == .completed)
        #expect(harness.wave("app").status == .launching)
    }

    @Test func recoveryPostLaunchFailureFailsTheServer() throws {
        var harness = Harness(type: .recovery, waves: [("db", [], 1)])
        try harness.launchAll("db", postLaunch: .failed)
        #expect(harness.wave("db").status == .failed)
        #expect(harness.servers("db")[0].postLaunch == .failed)
        #expect(harness.effects.eventTypes.contains(.serverFailed))
    }

    @Test func cleanupTerminatesAFinishedDrillsInstancesAndCompletes() throws {
        var harness = Harness(waves: [("db", [], 2)])
        #expect(throws: ExecutionCommandRefused.self) { try harness.apply(.cleanup(actor: "bob")) }
        try harness.launchAll("db")
        _ = harness.take()
        try harness.apply(.cleanup(actor: "bob"))
        let terminations = harness.take().terminations
        #expect(terminations.count == 1)
        #expect(terminations[0].recoveryInstanceIDs.count == 2)
        #expect(throws: ExecutionCommandRefused.self) { try harness.apply(.cleanup(actor: "bob")) }
        let group = LaunchGroupID(executionID: Harness.execution, waveNumber: 0, endpoint: Harness.endpoint)
        try harness.apply(.jobCreated(JobCreated(
            launchGroup: group, chunk: 0, chunkCount: 1, jobID: "drsjob-t", jobType: .terminate, isDrill: true,
            sourceServerIDs: [], createdAt: harness.clock, waveStartedAt: harness.clock, timeoutSeconds: 600)))
        try harness.apply(.jobObserved(JobObserved(
            launchGroup: group, chunk: 0, jobID: "drsjob-t", jobType: .terminate, status: .completed, servers: [],
            observedAt: harness.clock)))
        #expect(harness.state.cleanup?.completedAt != nil)
        #expect(harness.take().eventTypes == [.cleanupCompleted])
    }

    @Test func cleanupIsRefusedForRecovery() throws {
        var harness = Harness(type: .recovery, waves: [("db", [], 1)])
        try harness.launchAll("db", postLaunch: .succeeded)
        #expect(throws: ExecutionCommandRefused.self) { try harness.apply(.cleanup(actor: "bob")) }
    }

    @Test func executionEventsCarryTheExecutionAndTheSubject() throws {
        var harness = Harness(waves: [("db", [], 1)])
        try harness.launchAll("db")
        let events = harness.effects.compactMap { if case .publish(let e) = $0 { e } else { nil } }
        let launched = try #require(events.first { $0.type == .serverLaunched })
        #expect(launched.server?.recoveryInstanceID?.hasPrefix("i-") == true)
        #expect(launched.wave?.name == "db")
        #expect(events.allSatisfy { $0.executionID == Harness.execution && $0.teamID == .named("t-1") && $0.version == 1 })
    }
}
