import Foundation
import MusterDomain
@testable import PollerApp
import Testing

@Suite("Timeouts and observations (pure)")
struct TimeoutPolicyTests {
    let t0 = Date(timeIntervalSince1970: 1_700_000_000)
    let policy = TimeoutPolicy(finalAnswerGrace: .seconds(30), maxFinalPolls: 2)
    let schedule = PollSchedule(pendingInterval: .seconds(60), startedInterval: .seconds(15), minimumGap: .seconds(5),
                                jitter: 0)

    @Test func dueJobsPollUntilTheDeadlineThenAskForAFinalLook() {
        let deadline = t0.addingTimeInterval(100)
        #expect(policy.dueAction(state: .tracking, finalPolls: 0, deadline: deadline, now: t0) == .poll)
        #expect(policy.dueAction(state: .tracking, finalPolls: 0, deadline: deadline, now: deadline)
            == .finalPoll(attempt: 1))
    }

    @Test func unansweredFinalPollsAreResentThenTheJobTimesOut() {
        let deadline = t0
        #expect(policy.dueAction(state: .finalRequested, finalPolls: 1, deadline: deadline, now: t0 + 31)
            == .finalPoll(attempt: 2))
        #expect(policy.dueAction(state: .finalRequested, finalPolls: 2, deadline: deadline, now: t0 + 61) == .timeOut)
        #expect(policy.dueAction(state: .done, finalPolls: 0, deadline: deadline, now: t0) == nil)
        #expect(policy.dueAction(state: .timedOut, finalPolls: 2, deadline: deadline, now: t0) == nil)
        #expect(policy.answerDeadline(sentAt: t0, minimumGap: .seconds(5)) == t0 + 30)
        #expect(policy.answerDeadline(sentAt: t0, minimumGap: .seconds(90)) == t0 + 90, "never inside the gap")
        #expect(TimeoutPolicy(maxFinalPolls: 0).maxFinalPolls == 1, "at least one final look")
    }

    func job(_ state: TrackingState = .tracking, phase: DRSJobStatus = .pending, observedAt: Date? = nil,
             deadline: Date? = nil) -> JobSnapshotState {
        JobSnapshotState(state: state, phase: phase, observedAt: observedAt, nextDue: t0 + 50, lastPolledAt: t0,
                         deadline: deadline ?? t0 + 3600)
    }

    func decide(_ job: JobSnapshotState, _ status: DRSJobStatus, at observedAt: Date, final: Bool = false,
                now: Date? = nil, awaiting: Bool = false) -> ObservationDecision {
        var random = SeededRandom(seed: 9)
        return ObservationPolicy.decide(job: job, status: status, awaitingPostLaunch: awaiting, observedAt: observedAt,
                                        isFinal: final, now: now ?? t0 + 10, schedule: schedule, timeout: policy,
                                        using: &random)
    }

    // Post-launch runs before JOB_END (`before-job`): the COMPLETED snapshot
    // carries finished runs and tracking stops, as it always did.
    @Test func beforeJobOrderACompletedSnapshotWithFinishedRunsFinishes() {
        let started = job(phase: .started, observedAt: t0 + 5)
        #expect(decide(started, .completed, at: t0 + 9, awaiting: false) == .finish(observedAt: t0 + 9))
    }

    // JOB_END before the runs end (`after-job`): the job stays tracked at the
    // STARTED cadence, then finishes once a snapshot shows the runs ended.
    @Test func afterJobOrderACompletedJobAwaitingRunsStaysTrackedAtTheStartedCadence() {
        let started = job(phase: .started, observedAt: t0 + 5)
        #expect(decide(started, .completed, at: t0 + 9, awaiting: true)
                == .update(phase: .completed, observedAt: t0 + 9, nextDue: t0 + 25))
        let awaiting = job(phase: .completed, observedAt: t0 + 9)
        #expect(decide(awaiting, .completed, at: t0 + 20, awaiting: true)
                == .update(phase: .completed, observedAt: t0 + 20, nextDue: nil), "keeps its planned look")
        #expect(decide(awaiting, .started, at: t0 + 21) == .ignore(.stale))
        #expect(decide(awaiting, .completed, at: t0 + 30, awaiting: false) == .finish(observedAt: t0 + 30))
    }

    @Test func afterJobOrderRunsStillGoingAtTheDeadlineTimeOutAsCompleted() {
        let expired = job(.finalRequested, phase: .completed, observedAt: t0 + 1, deadline: t0)
        #expect(decide(expired, .completed, at: t0 + 5, final: true, awaiting: true) == .timeOut(lastStatus: .completed))
        #expect(decide(expired, .completed, at: t0 + 5, final: true, awaiting: false) == .finish(observedAt: t0 + 5))
        // A stale STARTED final answer cannot say the runs are still going.
        #expect(decide(expired, .started, at: t0 + 5, final: true) == .ignore(.stale))
    }

    @Test func aFinalAnswerStillLiveTimesOutAndATerminalOneDoesNot() {
        let expired = job(.finalRequested, phase: .started, deadline: t0)
        #expect(decide(expired, .started, at: t0 + 5, final: true) == .timeOut(lastStatus: .started))
        #expect(decide(expired, .completed, at: t0 + 5, final: true) == .finish(observedAt: t0 + 5))
        // A stale PENDING final answer still means "not terminal": the known phase is reported.
        #expect(decide(expired, .pending, at: t0 + 5, final: true) == .timeOut(lastStatus: .started))
        // An ordinary snapshot after the deadline does not decide: the final answer does.
        #expect(decide(expired, .started, at: t0 + 6) == .update(phase: .started, observedAt: t0 + 6, nextDue: nil))
    }

    @Test func staleAndBackwardSnapshotsAreIgnored() {
        let started = job(phase: .started, observedAt: t0 + 5)
        #expect(decide(started, .pending, at: t0 + 9) == .ignore(.stale), "phase never moves backwards")
        #expect(decide(started, .started, at: t0 + 4) == .ignore(.stale), "older snapshot of the same phase")
        #expect(decide(started, .started, at: t0 + 5) == .ignore(.stale), "the same snapshot again")
        #expect(decide(started, .started, at: t0 + 8) == .update(phase: .started, observedAt: t0 + 8, nextDue: nil))
        #expect(decide(job(.done, phase: .completed), .started, at: t0 + 9) == .ignore(.finished))
        #expect(decide(job(.timedOut), .completed, at: t0 + 9) == .ignore(.finished), "a timeout is final")
    }

    @Test func completedIsTerminalEvenWhenOlderAndAPhaseChangeReschedules() {
        let started = job(phase: .started, observedAt: t0 + 5)
        #expect(decide(started, .completed, at: t0 + 1) == .finish(observedAt: t0 + 1))
        // PENDING → STARTED at t0+10: next look at t0+10+15 rather than the planned t0+50.
        #expect(decide(job(), .started, at: t0 + 9) == .update(phase: .started, observedAt: t0 + 9, nextDue: t0 + 25))
        // While a final answer is awaited the grace timer stands.
        #expect(decide(job(.finalRequested, deadline: t0), .started, at: t0 + 9)
            == .update(phase: .started, observedAt: t0 + 9, nextDue: nil))
    }
}
