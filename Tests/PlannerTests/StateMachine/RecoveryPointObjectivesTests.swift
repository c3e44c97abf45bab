import Foundation
import MusterDomain
import MusterEvents
import Testing

@testable import PlannerApp

/// Issue 13: the snapshot each server was launched from, its age at the start
/// (achieved RPO), the worst per execution against the plan's target, in the
/// report and on `execution.completed`.
@Suite("Execution state machine: recovery points and RPO evidence")
struct RecoveryPointObjectivesTests {
    @Test func achievedRPOPerServerWorstAndOnCompletion() throws {
        var harness = Harness(waves: [("db", [], 2)])
        harness.state.rpoTargetMinutes = 30
        let start = harness.state.createdAt
        let servers = harness.servers("db").map(\.id)
        let id = "drsjob-rpo"
        try harness.apply(.jobCreated(JobCreated(
            launchGroup: harness.group("db"), chunk: 0, chunkCount: 1, jobID: JobID(rawValue: id), isDrill: true, sourceServerIDs: servers.map(SourceServerID.init(rawValue:)),
            createdAt: harness.clock, waveStartedAt: harness.clock, timeoutSeconds: 600,
            recoverySnapshots: [
                RecoverySnapshotUsed(sourceServerID: SourceServerID(rawValue: servers[0]), snapshotID: "pit-00000000000000001",
                                     snapshotTime: start.addingTimeInterval(-600)),
                RecoverySnapshotUsed(sourceServerID: SourceServerID(rawValue: servers[1]), snapshotID: "pit-00000000000000002",
                                     snapshotTime: start.addingTimeInterval(-3600)),
            ])))
        try harness.observe("db", job: JobID(rawValue: id), status: .completed, [servers[0]: .launched, servers[1]: .launched])

        let report = ExecutionViews.report(harness.state)
        let rows = report.waves[0].servers
        #expect(rows.first { $0.sourceServerId == servers[0] }?.achievedRpoSeconds == 600)
        #expect(rows.first { $0.sourceServerId == servers[1] }?.recoverySnapshotId == "pit-00000000000000002")
        #expect(report.worstAchievedRpoSeconds == 3600)
        #expect(report.rpoTargetMinutes == 30 && report.rpoMet == false)

        let completed = harness.effects.compactMap { effect -> ExecutionEvent? in
            if case .publish(let event) = effect, event.type == .executionCompleted { return event }
            return nil
        }
        #expect(completed.count == 1)
        #expect(completed.first?.objectives?.worstAchievedRpoSeconds == 3600)
        #expect(completed.first?.objectives?.rpoTargetMinutes == 30)
        #expect(completed.first?.objectives?.rtoTargetMinutes == 30)
        // Non-terminal events carry no objectives.
        let started = harness.effects.compactMap { effect -> ExecutionEvent? in
            if case .publish(let event) = effect, event.type == .serverLaunched { return event }
            return nil
        }
        #expect(!started.isEmpty && started.allSatisfy { $0.objectives == nil })
    }

    // MARK: `latest`: the recovery point from the inventory's lag and last snapshot

    @Test func latestEstimateFollowsTheReplicationState() throws {
        let launch = Date(timeIntervalSince1970: 1_800_000_000)
        let observed = launch.addingTimeInterval(-900)
        func estimate(_ state: String?, lag: Double?, snapshot: Double? = nil) -> LatestRecoveryPoint? {
            LatestRecoveryPoint.estimate(ReplicationObservation(
                replicationState: state, lagSeconds: lag, lastSnapshotAt: snapshot.map { launch.addingTimeInterval($0) },
                observedAt: observed), launchedAt: launch)
        }
        // Replicating: the lag still holds at launch (the launcher republishes a change of band).
        let continuous = try #require(estimate("CONTINUOUS", lag: 42, snapshot: -300))
        #expect(continuous.time == launch.addingTimeInterval(-42))
        #expect(continuous.basis == .replicationLag && continuous.ageAtLaunchSeconds == 42)
        // Stalled: nothing newer than the observation minus its lag.
        let stalled = try #require(estimate("STALLED", lag: 100))
        #expect(stalled.time == observed.addingTimeInterval(-100))
        #expect(stalled.ageAtLaunchSeconds == 1000)
        // A snapshot newer than that bound wins: DRS holds at least its data.
        let snapshotWins = try #require(estimate("DISCONNECTED", lag: 3600, snapshot: -600))
        #expect(snapshotWins.basis == .lastSnapshot && snapshotWins.ageAtLaunchSeconds == 600)
        // Only a last snapshot (a DRS without lagDuration).
        #expect(estimate("CONTINUOUS", lag: nil, snapshot: -120)?.ageAtLaunchSeconds == 120)
        // Nothing known, or only a snapshot "after" the launch: unknown, never invented.
        #expect(estimate("CONTINUOUS", lag: nil) == nil)
        #expect(estimate("CONTINUOUS", lag: nil, snapshot: 60) == nil)
        #expect(estimate("CONTINUOUS", lag: -5) == nil)
        // An observation made after the launch says nothing newer than the launch.
        let late = LatestRecoveryPoint.estimate(ReplicationObservation(
            replicationState: "STALLED", lagSeconds: 10, lastSnapshotAt: nil, observedAt: launch.addingTimeInterval(300)),
            launchedAt: launch)
        #expect(late?.ageAtLaunchSeconds == 10)
    }

    @Test func latestRecoveryPointsReachTheReportAndTheWorstRPO() throws {
        var harness = Harness(waves: [("db", [], 3)])
        harness.state.rpoTargetMinutes = 5
        let servers = harness.servers("db").map(\.id)
        let id = "drsjob-latest"
        let created = JobCreated(
            launchGroup: harness.group("db"), chunk: 0, chunkCount: 1, jobID: JobID(rawValue: id), isDrill: true, sourceServerIDs: servers.map(SourceServerID.init(rawValue:)),
            createdAt: harness.clock, waveStartedAt: harness.clock, timeoutSeconds: 600,
            recoverySnapshots: [RecoverySnapshotUsed(sourceServerID: SourceServerID(rawValue: servers[2]), snapshotID: "pit-00000000000000003",
                                                     snapshotTime: harness.state.createdAt.addingTimeInterval(-120))])
        try harness.apply(.jobCreated(created))
        let observations = [
            servers[0]: ReplicationObservation(replicationState: "CONTINUOUS", lagSeconds: 30, lastSnapshotAt: nil,
                                               observedAt: created.createdAt.addingTimeInterval(-60)),
            servers[1]: ReplicationObservation(replicationState: "STALLED", lagSeconds: 400, lastSnapshotAt: nil,
                                               observedAt: created.createdAt.addingTimeInterval(-60)),
            // A chosen snapshot is never overridden by the inventory.
            servers[2]: ReplicationObservation(replicationState: "CONTINUOUS", lagSeconds: 1, lastSnapshotAt: nil,
                                               observedAt: harness.clock),
        ]
        harness.state = ExecutionStateMachine.noteLatestRecoveryPoints(observations, job: created, in: harness.state)
        // (The harness's clock moves on as inputs apply; everything below counts from the job's creation.)
        let again = ExecutionStateMachine.noteLatestRecoveryPoints(
            [servers[0]: ReplicationObservation(replicationState: "CONTINUOUS", lagSeconds: 9999, lastSnapshotAt: nil,
                                                observedAt: harness.clock)], job: created, in: harness.state)
        #expect(again == harness.state, "a replayed job.created keeps the first estimate")

        let rows = Dictionary(ExecutionViews.report(harness.state).waves[0].servers.map { ($0.sourceServerId, $0) },
                              uniquingKeysWith: { $1 })
        #expect(rows[servers[0]]?.achievedRpoSeconds == 30)
        #expect(rows[servers[0]]?.recoveryPointBasis == "replication-lag")
        #expect(rows[servers[0]]?.recoveryPointTime == created.createdAt.addingTimeInterval(-30))
        #expect(rows[servers[1]]?.achievedRpoSeconds == 460)
        #expect(rows[servers[2]]?.recoveryPointBasis == "snapshot")
        #expect(rows[servers[2]]?.achievedRpoSeconds == 120)
        let report = ExecutionViews.report(harness.state)
        #expect(report.worstAchievedRpoSeconds == 460)
        #expect(report.rpoMet == false)
    }
}
