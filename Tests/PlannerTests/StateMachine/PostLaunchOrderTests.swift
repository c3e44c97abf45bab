import Foundation
import MusterDomain
import MusterEvents
import Testing
@testable import PlannerApp

/// AWS documents no order between a recovery job's JOB_END and its servers'
/// post-launch runs, so the state machine must give the same outcome under
/// both: runs ending before JOB_END (`before-job`) and after it (`after-job`,
/// where the first COMPLETED snapshot may carry no runs at all).
@Suite struct PostLaunchOrderTests {
    static func run(_ status: PostLaunchActionStatus, _ id: String = "ssm-1") -> LaunchActionRun {
        LaunchActionRun(actionID: id, actionName: "AWS-ConfigureCloudWatch", status: status,
                        failureReason: status == .failed ? "document timed out" : nil)
    }

    /// One snapshot of `job` whose single server is LAUNCHED with `runs`.
    static func snapshot(_ harness: inout Harness, job: JobID, _ status: DRSJobStatus, runs: [LaunchActionRun],
                         enabled: Bool? = nil) throws {
        let id = harness.servers("db")[0].id
        try harness.apply(.jobObserved(JobObserved(
            launchGroup: harness.group("db"), chunk: 0, jobID: job, status: status,
            servers: [ObservedServer(sourceServerID: SourceServerID(rawValue: id), launchStatus: .launched, recoveryInstanceID: "i-\(id)",
                                     launchActionRuns: runs, postLaunchEnabled: enabled)],
            observedAt: harness.clock.addingTimeInterval(1))))
    }

    static func recovery() -> Harness { Harness(type: .recovery, waves: [("db", [], 1), ("app", [1], 1)]) }

    @Test func beforeJobOrderRunsEndThenTheJobEnds() throws {
        var harness = Self.recovery()
        let job = try harness.createJob("db")
        try Self.snapshot(&harness, job: job, .started, runs: [Self.run(.inProgress)])
        #expect(harness.wave("db").status == .running)
        try Self.snapshot(&harness, job: job, .started, runs: [Self.run(.succeeded)])
        try Self.snapshot(&harness, job: job, .completed, runs: [Self.run(.succeeded)])
        #expect(harness.servers("db")[0].postLaunch == .succeeded)
        #expect(harness.wave("db").status == .completed)
        #expect(harness.wave("app").status == .launching)
    }

    @Test func afterJobOrderACompletedJobWithoutRunsYetKeepsTheWaveOpen() throws {
        var harness = Self.recovery()
        let job = try harness.createJob("db")
        // JOB_END before the SSM agent registered: COMPLETED, LAUNCHED, no runs.
        try Self.snapshot(&harness, job: job, .completed, runs: [], enabled: true)
        #expect(harness.servers("db")[0].status == .launched)
        #expect(harness.servers("db")[0].postLaunch == .pending, "not failed because the job ended first")
        #expect(harness.wave("db").status == .running)
        #expect(harness.wave("app").status == .waiting, "the wave is gated on the runs, not on JOB_END")
        #expect(!harness.effects.eventTypes.contains(.serverFailed))
        // The poller keeps polling the COMPLETED job: the runs appear, then end.
        try Self.snapshot(&harness, job: job, .completed, runs: [Self.run(.inProgress)], enabled: true)
        #expect(harness.wave("db").status == .running)
        try Self.snapshot(&harness, job: job, .completed, runs: [Self.run(.succeeded)], enabled: true)
        #expect(harness.servers("db")[0].postLaunch == .succeeded)
        #expect(harness.wave("db").status == .completed)
        #expect(harness.wave("app").status == .launching)
        #expect(harness.effects.eventTypes.filter { $0 == .serverLaunched }.count == 1)
    }

    @Test func afterJobOrderARunFailingAfterJobEndFailsTheServer() throws {
        var harness = Self.recovery()
        let job = try harness.createJob("db")
        try Self.snapshot(&harness, job: job, .completed, runs: [Self.run(.inProgress)])
        #expect(harness.wave("db").status == .running)
        try Self.snapshot(&harness, job: job, .completed, runs: [Self.run(.failed)])
        #expect(harness.servers("db")[0].postLaunch == .failed)
        #expect(harness.servers("db")[0].failureReason?.contains("AWS-ConfigureCloudWatch failed") == true)
        #expect(harness.wave("db").status == .failed)
        #expect(harness.wave("app").status == .skipped)
    }

    @Test func unknownConfigurationWaitsForRunsThatNeverComeUntilTheWaveTimesOut() throws {
        var harness = Self.recovery()
        let job = try harness.createJob("db")
        try Self.snapshot(&harness, job: job, .completed, runs: [])
        #expect(harness.wave("db").status == .running, "nil postLaunchEnabled counts as enabled")
        try harness.apply(.jobTimedOut(JobTimedOut(
            launchGroup: harness.group("db"), chunk: 0, jobID: job, lastStatus: .completed, timeoutSeconds: 600)))
        let server = harness.servers("db")[0]
        #expect(server.postLaunch == .failed)
        #expect(server.failureReason?.contains("post-launch actions had not finished") == true)
        #expect(harness.wave("db").status == .timedOut)
    }

    @Test func disabledPostLaunchCompletesAtJobEnd() throws {
        var harness = Self.recovery()
        let job = try harness.createJob("db")
        try Self.snapshot(&harness, job: job, .completed, runs: [], enabled: false)
        #expect(harness.servers("db")[0].postLaunch == .notApplicable)
        #expect(harness.wave("db").status == .completed)
    }

    @Test func aTimeoutAfterTheRunsSucceededChangesNothing() throws {
        var harness = Self.recovery()
        let job = try harness.createJob("db")
        try Self.snapshot(&harness, job: job, .completed, runs: [Self.run(.succeeded)])
        try harness.apply(.jobTimedOut(JobTimedOut(
            launchGroup: harness.group("db"), chunk: 0, jobID: job, lastStatus: .completed, timeoutSeconds: 600)))
        #expect(harness.wave("db").status == .completed)
        #expect(harness.servers("db")[0].postLaunch == .succeeded)
    }

    @Test func aDrillNeverWaitsForRuns() throws {
        var harness = Harness(waves: [("db", [], 1)])
        let job = try harness.createJob("db")
        try Self.snapshot(&harness, job: job, .completed, runs: [Self.run(.inProgress)], enabled: true)
        #expect(harness.wave("db").status == .completed)
    }

    @Test func theSharedRuleReadsEveryRunShape() {
        func server(_ runs: [LaunchActionRun], overall: PostLaunchActionStatus? = nil, enabled: Bool? = nil,
                    status: DRSLaunchStatus = .launched) -> ObservedServer {
            ObservedServer(sourceServerID: "s-1", launchStatus: status, launchActionRuns: runs,
                           postLaunchActionsStatus: overall, postLaunchEnabled: enabled)
        }
        #expect(server([]).postLaunchProgress(isRecovery: true) == .waiting)
        #expect(server([], enabled: true).postLaunchProgress(isRecovery: true) == .waiting)
        #expect(server([], enabled: false).postLaunchProgress(isRecovery: true) == .notApplicable)
        #expect(server([], status: .inProgress).postLaunchProgress(isRecovery: true) == .notApplicable)
        #expect(server([Self.run(.inProgress)]).postLaunchProgress(isRecovery: false) == .notApplicable)
        #expect(server([Self.run(.succeeded), Self.run(.inProgress, "b")]).postLaunchProgress(isRecovery: true)
                    == .waiting)
        #expect(server([Self.run(.succeeded), Self.run(.succeeded, "b")]).postLaunchProgress(isRecovery: true)
                    == .succeeded)
        #expect(server([], overall: .succeeded).postLaunchProgress(isRecovery: true) == .succeeded)
        if case .failed = server([Self.run(.succeeded), Self.run(.failed, "b")]).postLaunchProgress(isRecovery: true) {
        } else { Issue.record("a failed run fails the server") }
        let observed = JobObserved(
            launchGroup: LaunchGroupID(executionID: Harness.execution, waveNumber: 1, endpoint: Harness.endpoint), chunk: 0,
            jobID: "drsjob-1", status: .completed, servers: [server([]), server([Self.run(.succeeded)])],
            observedAt: Date())
        #expect(observed.awaitsPostLaunch(isRecovery: true))
        #expect(!observed.awaitsPostLaunch(isRecovery: false))
    }
}
