import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres
@testable import PollerApp
import TestSupport
import Testing

/// `job.duplicate-detected`: the extra jobs of a chunk are tracked like the
/// chunk's job, so the launcher looks at them and the planner learns (and
/// cleans up) the instances they launched.
@Suite("Poller tracks duplicate jobs")
struct DuplicateTrackingTests {
    func detected(_ created: JobCreated, duplicates: [JobID]) -> JobDuplicateDetected {
        JobDuplicateDetected(
            launchGroup: created.launchGroup, chunk: created.chunk, attempt: 1, jobID: created.jobID,
            duplicateJobIDs: duplicates)
    }

    func trackDuplicates(_ fixture: PollerFixture, _ event: JobDuplicateDetected) async throws -> Int {
        let tracker = fixture.tracker
        return try await fixture.pool.transaction { try await tracker.trackDuplicates(event, on: $0) }
    }

    @Test func duplicatesInheritTheOriginalsDeadlineAndArePolledUntilTerminal() async throws {
        let fixture = try await PollerFixture()
        let original = PollerFixture.created(job: "drsjob-1", timeoutSeconds: 900)
        try await fixture.track([original])
        #expect(try await trackDuplicates(fixture, detected(original, duplicates: ["drsjob-1", "drsjob-2"])) == 1)
        #expect(try await trackDuplicates(fixture, detected(original, duplicates: ["drsjob-2"])) == 0, "a redelivery adds nothing")
        let rows = try await fixture.pool.query(
            "SELECT job_id, deadline, timeout_seconds, launch_group FROM \(fixture.schema).jobs ORDER BY job_id").rows
        #expect(rows.count == 2)
        #expect(try rows[1].decode(Date.self, "deadline") == rows[0].decode(Date.self, "deadline"))
        #expect(try rows[1].decode(Int.self, "timeout_seconds") == 900)
        #expect(try rows[1].decode(String.self, "launch_group") == original.launchGroup.description)

        let scheduler = fixture.scheduler()
        try await runTicks(scheduler, for: .milliseconds(600))
        #expect(try await fixture.polls().contains { $0.jobIDs.contains("drsjob-2") }, "the duplicate is polled")
        var duplicate = PollerFixture.observed(original, .completed)
        duplicate.jobID = "drsjob-2"
        _ = try await fixture.observe(duplicate)
        #expect(try await fixture.state(of: "drsjob-2") != .tracking)
        await fixture.tearDown()
    }

    @Test func withoutTheOriginalADuplicateGetsAnHourFromNow() async throws {
        let fixture = try await PollerFixture()
        let original = PollerFixture.created(job: "drsjob-gone")
        #expect(try await trackDuplicates(fixture, detected(original, duplicates: ["drsjob-3"])) == 1)
        let row = try await fixture.pool.query(
            """
            SELECT timeout_seconds, extract(epoch FROM deadline - tracked_at)::int AS span
            FROM \(fixture.schema).jobs WHERE job_id = 'drsjob-3'
            """).rows[0]
        #expect(try row.decode(Int.self, "timeout_seconds") == 3600)
        #expect(try row.decode(Int.self, "span") == 3600)
        #expect(try await fixture.state(of: "drsjob-3") == .tracking)
        await fixture.tearDown()
    }
}
