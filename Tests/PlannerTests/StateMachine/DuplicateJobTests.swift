import Foundation
import MusterDomain
import MusterEvents
import Testing
@testable import PlannerApp

/// A chunk whose StartRecovery DRS acted on twice (`job.duplicate-detected`):
/// the extra job never moves a server or a wave, and every instance it
/// launched is terminated with the drill's clean-up.
@Suite struct DuplicateJobTests {
    /// Launches `db` (2 servers) through drsjob-1 and reports drsjob-dup as its duplicate.
    func drillWithDuplicate(type: ExecutionType = .drill) throws -> (Harness, [String]) {
        var harness = Harness(type: type, waves: [("db", [], 2), ("app", [1], 1)])
        let job = try harness.createJob("db")
        try harness.apply(.jobDuplicateDetected(JobDuplicateDetected(
            launchGroup: harness.group("db"), chunk: 0, attempt: 1, jobID: job, duplicateJobIDs: ["drsjob-dup"])))
        return (harness, harness.servers("db").map(\.id))
    }

    /// A snapshot of the duplicate whose servers launched as `i-dup-<server>`, or with `status`.
    func observeDuplicate(_ harness: inout Harness, _ ids: [String], status: DRSLaunchStatus = .launched,
                          job: DRSJobStatus = .completed) throws {
        try harness.apply(.jobObserved(JobObserved(
            launchGroup: harness.group("db"), chunk: 0, jobID: "drsjob-dup", status: job,
            servers: ids.map { ObservedServer(sourceServerID: SourceServerID(rawValue: $0), launchStatus: status,
                                              recoveryInstanceID: status == .launched ? "i-dup-\($0)" : nil) },
            observedAt: harness.clock.addingTimeInterval(1))))
    }

    @Test func aDuplicatesSnapshotNeverMovesServersOrWaves() throws {
        var (harness, ids) = try drillWithDuplicate()
        _ = harness.take()
        try observeDuplicate(&harness, ids, status: .failed)
        #expect(harness.servers("db").allSatisfy { $0.status != .failed })
        #expect(harness.wave("db").status != .failed)
        try observeDuplicate(&harness, ids, status: .launched)
        #expect(harness.servers("db").allSatisfy { $0.recoveryInstanceID == nil })
        #expect([.pending, .waiting].contains(harness.wave("app").status), "the dependant has not started")
        #expect(harness.take().launchGroups.isEmpty, "a duplicate's completion starts no dependant wave")
        #expect(harness.state.duplicateJobs?["drsjob-dup"]?.instanceIDs.sorted() == ids.map { "i-dup-\($0)" }.sorted())
    }

    @Test func aDuplicatesTimeoutFailsNothing() throws {
        var (harness, _) = try drillWithDuplicate()
        try harness.apply(.jobTimedOut(JobTimedOut(
            launchGroup: harness.group("db"), chunk: 0, jobID: "drsjob-dup", lastStatus: .started, timeoutSeconds: 600)))
        #expect(harness.wave("db").status != .timedOut)
        #expect(harness.servers("db").allSatisfy { $0.status != .failed })
    }

    @Test func cleanupTerminatesTheInstancesOfBothJobs() throws {
        var (harness, ids) = try drillWithDuplicate()
        try observeDuplicate(&harness, ids)
        try harness.observe("db", job: "drsjob-1", status: .completed, Dictionary(uniqueKeysWithValues: ids.map { ($0, .launched) }))
        try harness.launchAll("app")
        #expect(harness.state.status == .completed)
        _ = harness.take()
        try harness.apply(.cleanup(actor: "bob"))
        let terminated = Set(harness.take().terminations.flatMap(\.recoveryInstanceIDs))
        let expected = Set(ids.map { "i-\($0)" } + ids.map { "i-dup-\($0)" } + harness.servers("app").map { "i-\($0.id)" })
        #expect(terminated == expected)
    }

    @Test func aDuplicateSeenAfterTheCleanupIsTerminatedAtOnce() throws {
        var (harness, ids) = try drillWithDuplicate()
        try harness.observe("db", job: "drsjob-1", status: .completed, Dictionary(uniqueKeysWithValues: ids.map { ($0, .launched) }))
        try harness.launchAll("app")
        try harness.apply(.cleanup(actor: "bob"))
        _ = harness.take()
        try observeDuplicate(&harness, ids)
        #expect(Set(harness.take().terminations.flatMap(\.recoveryInstanceIDs)) == Set(ids.map { "i-dup-\($0)" }))
        // Seen again: asked once only.
        try observeDuplicate(&harness, ids)
        #expect(harness.take().terminations.isEmpty)
    }

    @Test func aRecoveryKeepsItsDuplicatesInstancesButNotesThem() throws {
        var (harness, ids) = try drillWithDuplicate(type: .recovery)
        try observeDuplicate(&harness, ids)
        #expect(harness.take().terminations.isEmpty)
        #expect(harness.state.duplicateJobs?["drsjob-dup"]?.instanceIDs.count == 2)
    }

    @Test func olderDocumentsWithoutDuplicatesDecode() throws {
        let (harness, _) = try drillWithDuplicate()
        var object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(harness.state)) as! [String: Any]
        object["duplicateJobs"] = nil
        let decoded = try JSONDecoder().decode(ExecutionState.self, from: JSONSerialization.data(withJSONObject: object))
        #expect(decoded.duplicateJobs == nil)
    }
}
