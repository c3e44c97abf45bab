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
            launchGroup: harness.group("db"), chunk: 0, chunkCount: 1, jobID: id, isDrill: true, sourceServerIDs: servers,
            createdAt: harness.clock, waveStartedAt: harness.clock, timeoutSeconds: 600,
            recoverySnapshots: [
                RecoverySnapshotUsed(sourceServerID: servers[0], snapshotID: "pit-00000000000000001",
                                     snapshotTime: start.addingTimeInterval(-600)),
                RecoverySnapshotUsed(sourceServerID: servers[1], snapshotID: "pit-00000000000000002",
                                     snapshotTime: start.addingTimeInterval(-3600)),
            ])))
        try harness.observe("db", job: id, status: .completed, [servers[0]: .launched, servers[1]: .launched])

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
}
