import Foundation
import MusterDomain
@testable import PollerApp
import Testing

/// A deterministic random source (SplitMix64) so pure tests are repeatable.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Poll schedule (pure)")
struct PollScheduleTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    let farDeadline = Date(timeIntervalSince1970: 1_700_100_000)

    @Test func defaultsSuitRealDRS() {
        let schedule = PollSchedule()
        #expect(schedule.interval(for: .pending) == .seconds(60))
        #expect(schedule.interval(for: .started) == .seconds(15))
        #expect(schedule.interval(for: .completed) == .seconds(15), "a COMPLETED job awaiting post-launch runs")
        #expect(schedule.firstPollDelay < schedule.pendingInterval, "the first look comes soon after creation")
    }

    @Test func intervalsFollowThePhaseWithinJitterBounds() {
        let schedule = PollSchedule(pendingInterval: .seconds(60), startedInterval: .seconds(15), jitter: 0.2)
        var random = SeededRandom(seed: 7)
        var pending: [TimeInterval] = [], started: [TimeInterval] = []
        for _ in 0..<2000 {
            pending.append(schedule.nextDue(polledAt: t0, phase: .pending, deadline: farDeadline, using: &random)!
                .timeIntervalSince(t0))
            started.append(schedule.nextDue(polledAt: t0, phase: .started, deadline: farDeadline, using: &random)!
                .timeIntervalSince(t0))
        }
        #expect(pending.allSatisfy { (48.0...72.0).contains($0) })
        #expect(started.allSatisfy { (12.0...18.0).contains($0) })
        // Jitter really spreads: both halves of the band are used.
        #expect(pending.contains { $0 < 55 } && pending.contains { $0 > 65 })
        let completed = schedule.nextDue(polledAt: t0, phase: .completed, deadline: farDeadline, using: &random)
        #expect(completed.map { (12.0...18.0).contains($0.timeIntervalSince(t0)) } == true, "STARTED cadence")
    }

    @Test func firstLookComesSoonAfterCreation() {
        let schedule = PollSchedule(firstPollDelay: .seconds(10), jitter: 0.1)
        var random = SeededRandom(seed: 1)
        for _ in 0..<500 {
            let due = schedule.firstDue(trackedAt: t0, deadline: farDeadline, using: &random).timeIntervalSince(t0)
            #expect((9.0...11.0).contains(due))
        }
    }

    @Test func neverLaterThanTheDeadlineNorInsideTheMinimumGap() {
        let schedule = PollSchedule(pendingInterval: .seconds(60), minimumGap: .seconds(5), jitter: 0)
        var random = SeededRandom(seed: 3)
        let deadline = t0.addingTimeInterval(20)
        #expect(schedule.nextDue(polledAt: t0, phase: .pending, deadline: deadline, using: &random) == deadline)
        // A deadline inside the gap waits for the gap.
        let close = t0.addingTimeInterval(2)
        #expect(schedule.nextDue(polledAt: t0, phase: .pending, deadline: close, using: &random)
            == t0.addingTimeInterval(5))
        #expect(schedule.earliestAllowed(lastPolledAt: t0) == t0.addingTimeInterval(5))
        #expect(schedule.earliestAllowed(lastPolledAt: nil) == nil)
    }

    @Test func startingJobIsWatchedCloselyAtOnceButNotInsideTheGap() {
        let schedule = PollSchedule(pendingInterval: .seconds(60), startedInterval: .seconds(15),
                                    minimumGap: .seconds(5), jitter: 0)
        var random = SeededRandom(seed: 4)
        let planned = t0.addingTimeInterval(50)
        let due = schedule.dueAfterPhaseChange(
            planned: planned, phase: .started, lastPolledAt: t0, deadline: farDeadline, now: t0.addingTimeInterval(1),
            using: &random)
        #expect(due == t0.addingTimeInterval(16), "sooner of the plan and a fresh STARTED interval")
        let keeps = schedule.dueAfterPhaseChange(
            planned: t0.addingTimeInterval(6), phase: .started, lastPolledAt: t0, deadline: farDeadline,
            now: t0.addingTimeInterval(1), using: &random)
        #expect(keeps == t0.addingTimeInterval(6), "an earlier plan is kept")
        let gap = schedule.dueAfterPhaseChange(
            planned: t0.addingTimeInterval(1), phase: .started, lastPolledAt: t0, deadline: farDeadline,
            now: t0.addingTimeInterval(1), using: &random)
        #expect(gap == t0.addingTimeInterval(5), "never inside the minimum gap")
    }
}
