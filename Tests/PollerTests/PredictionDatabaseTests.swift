import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres
@testable import PollerApp
import Testing
import TestSupport

/// The predictive schedule on the real PostgreSQL: history learned from
/// finished jobs, and the looks it plans for the next ones.
@Suite("Predictive schedule (PostgreSQL)", .serialized)
struct PredictionDatabaseTests {
    func fixture() async throws -> PollerFixture {
        try await PollerFixture { configuration in
            configuration.prediction = PredictionSettings(
                sweepStep: .seconds(1), sweepStepPerJob: .zero, watchInterval: .seconds(3600), minimumSamples: 3)
        }
    }

    /// The COMPLETED snapshot of a job that launched 780 DRS seconds after creation and ended at +990 s.
    func finishedSnapshot(_ created: JobCreated, launched: Bool = true) -> JobObserved {
        var observed = PollerFixture.observed(created, .completed)
        observed.servers[0].launchStatus = launched ? .launched : .failed
        observed.newLogEvents = [
            JobLogEvent(event: "LAUNCH_START", time: created.createdAt.addingTimeInterval(780)),
            JobLogEvent(event: "JOB_END", time: created.createdAt.addingTimeInterval(990)),
        ]
        return observed
    }

    func history(_ fixture: PollerFixture) async throws -> [String: (samples: Int, mean: Double)] {
        let rows = try await fixture.pool.query(
            "SELECT phase, samples, mean FROM \(fixture.schema).phase_history").rows
        var result: [String: (Int, Double)] = [:]
        for row in rows {
            result[try row.decode(String.self, "phase")] = (try row.decode(Int.self, "samples"), try row.decode(Double.self, "mean"))
        }
        return result
    }

    func row(_ fixture: PollerFixture, _ job: String) async throws -> (due: Date, tracked: Date, kind: String) {
        // next_due − tracked_at is exact: both are the poller's clock.
        let row = try await fixture.pool.query(
            "SELECT next_due, tracked_at, look_kind FROM \(fixture.schema).jobs WHERE job_id = $1", [job]).rows[0]
        return (try row.decode(Date.self, "next_due"), try row.decode(Date.self, "tracked_at"),
                try row.decode(String.self, "look_kind"))
    }

    @Test func finishedJobsTeachTheModelAndTheNextJobIsLookedAtWhenLikelyStarted() async throws {
        let fixture = try await fixture()
        for n in 1...3 {
            let created = PollerFixture.created(job: "learn-\(n)")
            try await fixture.track([created])
            #expect(try await row(fixture, created.jobID.rawValue).kind == "cadence", "no history yet: the phase cadence")
            #expect(try await fixture.observe(finishedSnapshot(created)) == .completed)
        }
        // A failed server says nothing about durations.
        let failed = PollerFixture.created(job: "failed")
        try await fixture.track([failed])
        _ = try await fixture.observe(finishedSnapshot(failed, launched: false))
        let learned = try await history(fixture)
        #expect(learned["PENDING"]?.samples == 3 && learned["STARTED"]?.samples == 3)
        #expect(abs((learned["PENDING"]?.mean ?? 0) - 780) < 0.01)
        #expect(abs((learned["STARTED"]?.mean ?? 0) - 210) < 0.01)

        // The next job: looked at when it has most likely turned STARTED, not at the first-look delay.
        let next = PollerFixture.created(job: "next")
        try await fixture.track([next])
        let pending = try await row(fixture, "next")
        #expect(pending.kind == "watch")
        #expect(abs(pending.due.timeIntervalSince(pending.tracked) - 780) < 0.01)

        // STARTED with LAUNCH_START 5 DRS seconds after creation: completion likely 210 s later.
        var started = PollerFixture.observed(next, .started)
        started.newLogEvents = [JobLogEvent(event: "LAUNCH_START", time: next.createdAt.addingTimeInterval(5))]
        #expect(try await fixture.observe(started) == .applied)
        let completion = try await row(fixture, "next")
        #expect(completion.kind == "completion")
        #expect(abs(completion.due.timeIntervalSince(completion.tracked) - 215) < 0.01)
    }

    @Test func aPolledJobExpectedToCompleteIsSweptAndOthersKeepTheCadence() async throws {
        let fixture = try await fixture()
        for n in 1...3 {
            let created = PollerFixture.created(job: "h-\(n)")
            try await fixture.track([created])
            _ = try await fixture.observe(finishedSnapshot(created))
        }
        // A job that STARTED long ago (DRS): completion is overdue, so after a poll it is looked at again
        // one step later (back-off from the window's end), not a STARTED interval later.
        let overdue = PollerFixture.created(job: "overdue")
        try await fixture.track([overdue])
        // As if tracked 1000 s ago (the DRS clock is anchored on the tracking moment).
        try await fixture.pool.query(
            "UPDATE \(fixture.schema).jobs SET tracked_at = tracked_at - interval '1000 seconds' WHERE job_id = 'overdue'")
        var started = PollerFixture.observed(overdue, .started)
        started.newLogEvents = [JobLogEvent(event: "LAUNCH_START", time: overdue.createdAt.addingTimeInterval(780))]
        _ = try await fixture.observe(started)
        // Another endpoint without history stays on the cadence.
        let other = PollerFixture.created(job: "other", region: "eu-west-1")
        try await fixture.track([other])
        try await fixture.pool.query(
            "UPDATE \(fixture.schema).jobs SET next_due = clock_timestamp() - interval '1 second' WHERE state = 'TRACKING'")
        let summary = try await fixture.scheduler().tick()
        #expect(Set(summary.polls.flatMap(\.jobIDs)) == ["overdue", "other"])
        let overdueRow = try await row(fixture, "overdue")
        let otherRow = try await row(fixture, "other")
        #expect(overdueRow.kind == "completion")
        // LAUNCH_START 780 s after a creation 1000 s ago; window end 210 s later: ~10 s overdue → gap ≈ 5 s.
        let gap = overdueRow.due.timeIntervalSince(summary.now)
        #expect(gap >= 1 && gap < 15)
        #expect(otherRow.kind == "cadence")
        let cadence = otherRow.due.timeIntervalSince(summary.now)
        let pending = fixture.configuration.schedule.pendingInterval
        #expect(cadence > pending.seconds * 0.85 && cadence < pending.seconds * 1.15)
        #expect(summary.nextDue != nil, "the loop knows when the next look is")
    }
    @Test func onlyJobsAnotherStepWaitsForCountTowardTheSweepStep() async throws {
        let fixture = try await fixture()
        var last = PollerFixture.created(job: "last-wave")
        last.gatesNextStep = false
        let gating = PollerFixture.created(job: "gating")
        var older = PollerFixture.created(job: "older-planner")
        older.gatesNextStep = nil
        try await fixture.track([last, gating, older])
        let stored = try await fixture.pool.query(
            "SELECT job_id, gates_next_step FROM \(fixture.schema).jobs ORDER BY job_id").rows
        let gates = try Dictionary(uniqueKeysWithValues: stored.map {
            (try $0.decode(String.self, "job_id"), try $0.decode(Bool.self, "gates_next_step"))
        })
        #expect(gates == ["gating": true, "last-wave": false, "older-planner": true], "absent counts as gating")
        let model = try await fixture.pool.withConnection { connection in
            try await fixture.tracker.endpointModel(gating.launchGroup.endpoint, on: connection)
        }
        #expect(model.liveJobs == 2, "the last wave's job does not widen the endpoint's sweep step")
    }

    @Test func aWatchLookRidesAlongEarlyOnAPollSentAnywayAndKeepsItsPlan() async throws {
        let fixture = try await fixture()  // watch 3600 s: watch looks ride up to 1800 s early
        for n in 1...3 {
            let created = PollerFixture.created(job: "h-\(n)")
            try await fixture.track([created])
            _ = try await fixture.observe(finishedSnapshot(created))
        }
        let jobs = ["trigger", "rider", "cadence", "far"].map { PollerFixture.created(job: $0) }
        try await fixture.track(jobs)
        // The trigger is due; the rider's watch look is 600 s off (past the 150 ms batch window, within
        // its ride window); a cadence look 600 s off and a watch look 2000 s off do not ride.
        try await fixture.pool.query(
            """
            UPDATE \(fixture.schema).jobs SET next_due = clock_timestamp() + CASE job_id
                WHEN 'trigger' THEN interval '-1 second' WHEN 'far' THEN interval '2000 seconds'
                ELSE interval '600 seconds' END,
                look_kind = CASE WHEN job_id = 'cadence' THEN 'cadence' ELSE look_kind END
            WHERE job_id IN ('trigger', 'rider', 'cadence', 'far')
            """)
        let summary = try await fixture.scheduler().tick()
        #expect(summary.polls.count == 1)
        #expect(Set(summary.polls.flatMap(\.jobIDs)) == ["trigger", "rider"])
        // The rider had its look early; the next one is still the model's (likely STARTED 780 s after creation).
        let rider = try await row(fixture, "rider")
        #expect(rider.kind == "watch")
        #expect(abs(rider.due.timeIntervalSince(rider.tracked) - 780) < 0.01)
        // Nothing else due: no poll, however many watch looks are within their ride window.
        let idle = try await fixture.scheduler().tick()
        #expect(idle.polls.isEmpty)
    }
}
