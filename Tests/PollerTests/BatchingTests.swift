import Foundation
import MusterDomain
import MusterService
@testable import PollerApp
import Testing

@Suite("Batching and the endpoint cap (pure)")
struct BatchingTests {
    let now = Date(timeIntervalSince1970: 1_700_000_000)
    let schedule = PollSchedule(minimumGap: .seconds(5), jitter: 0, batchWindow: .seconds(10))
    let timeout = TimeoutPolicy(finalAnswerGrace: .seconds(30), maxFinalPolls: 2)

    func candidates(_ count: Int, prefix: String = "drsjob-", dueIn: TimeInterval = -1,
                    state: TrackingState = .tracking, finalPolls: Int = 0, deadlineIn: TimeInterval = 3600,
                    polledAgo: TimeInterval? = nil) -> [PollCandidate] {
        (0..<count).map {
            PollCandidate(jobID: "\(prefix)\($0)", nextDue: now + dueIn - Double($0) * 0.001, state: state,
                          finalPolls: finalPolls, deadline: now + deadlineIn, lastPolledAt: polledAgo.map { now - $0 })
        }
    }

    func plan(_ candidates: [PollCandidate], allowance: Int = 100) -> EndpointPlan {
        Batching.plan(candidates: candidates, now: now, allowance: allowance, schedule: schedule, timeout: timeout)
    }

    @Test func everyDueJobOfAnEndpointGoesIntoAsFewPollsAsPossibleOfAtMost1000Ids() {
        let result = plan(candidates(2500))
        #expect(result.polls.map(\.jobIDs.count) == [1000, 1000, 500])
        #expect(result.polls.allSatisfy { !$0.isFinal })
        #expect(Set(result.polledJobIDs).count == 2500, "each job exactly once")
        #expect(plan(candidates(1000)).polls.count == 1)
        #expect(plan(candidates(1)).polls.map(\.jobIDs) == [["drsjob-0"]])
        #expect(plan([]).polls.isEmpty)
    }

    @Test func mostOverdueJobsGoFirst() {
        // Later ids are more overdue (see `candidates`).
        let result = plan(candidates(1500), allowance: 1)
        #expect(result.polls.count == 1)
        #expect(result.polls[0].jobIDs.first == "drsjob-1499")
        #expect(result.deferred.count == 500)
        #expect(result.deferred.contains("drsjob-0"))
    }

    @Test func theEndpointCapDefersWhatDoesNotFit() {
        let result = plan(candidates(3500), allowance: 2)
        #expect(result.polls.count == 2)
        #expect(result.deferred.count == 1500)
        #expect(plan(candidates(10), allowance: 0).polls.isEmpty)
        #expect(plan(candidates(10), allowance: 0).deferred.count == 10)
    }

    @Test func finalsAreSeparatePollsAndGoFirst() {
        let finals = candidates(3, prefix: "late-", deadlineIn: -1)
        let result = plan(candidates(5) + finals, allowance: 1)
        #expect(result.polls == [PlannedPoll(isFinal: true, jobIDs: ["late-2", "late-1", "late-0"])])
        #expect(result.deferred.count == 5)
    }

    @Test func unansweredFinalsTimeOutWithoutUsingTheAllowance() {
        let spent = candidates(2, prefix: "spent-", state: .finalRequested, finalPolls: 2, deadlineIn: -100)
        let again = candidates(1, prefix: "again-", state: .finalRequested, finalPolls: 1, deadlineIn: -100)
        let result = plan(spent + again, allowance: 0)
        #expect(Set(result.timeOuts) == ["spent-0", "spent-1"])
        #expect(result.deferred == ["again-0"])
        let allowed = plan(spent + again, allowance: 1)
        #expect(allowed.polls == [PlannedPoll(isFinal: true, jobIDs: ["again-0"])])
    }

    @Test func jobsDueSoonRideAlongButNeverCauseAPoll() {
        let soon = candidates(4, prefix: "soon-", dueIn: 8)
        let later = candidates(2, prefix: "later-", dueIn: 12)
        #expect(plan(soon + later).polls.isEmpty, "nothing is due: no poll")
        let result = plan(candidates(2) + soon + later)
        #expect(result.polls.count == 1)
        #expect(Set(result.polls[0].jobIDs) == ["drsjob-0", "drsjob-1", "soon-0", "soon-1", "soon-2", "soon-3"])
        // Early jobs never ride along with a final poll.
        let final = candidates(1, prefix: "late-", deadlineIn: -1)
        #expect(plan(final + soon).polls == [PlannedPoll(isFinal: true, jobIDs: ["late-0"])])
        // A live job past its deadline and due soon rides along with a final poll.
        let lateSoon = candidates(1, prefix: "lateSoon-", dueIn: 5, deadlineIn: -1)
        #expect(plan(final + lateSoon + soon).polls == [PlannedPoll(isFinal: true, jobIDs: ["late-0", "lateSoon-0"])])
        // Early jobs only fill spare room.
        let full = plan(candidates(1000) + soon)
        #expect(full.polls.count == 1 && full.polls[0].jobIDs.allSatisfy { $0.rawValue.hasPrefix("drsjob-") })
    }

    @Test func watchLooksRideAlongWithinTheirOwnWindowButNeverCauseAPoll() {
        // Watch looks (transition far off) may ride up to their ride window (here 150 s) early;
        // cadence looks only within the batch window (10 s); a completion look within its step.
        func watch(_ id: JobID, dueIn: TimeInterval) -> PollCandidate {
            PollCandidate(jobID: id, nextDue: now + dueIn, state: .tracking, finalPolls: 0, deadline: now + 3600,
                          lastPolledAt: nil, rideWindow: 150, isCompletion: false)
        }
        let riders = [watch("watch-60", dueIn: 60), watch("watch-149", dueIn: 149), watch("watch-151", dueIn: 151)]
        let cadence = candidates(1, prefix: "cadence-", dueIn: 60)
        #expect(plan(riders + cadence).polls.isEmpty, "nothing due: a watch look never causes a poll")
        let result = plan(candidates(1) + riders + cadence)
        #expect(result.polls.count == 1)
        #expect(Set(result.polledJobIDs) == ["drsjob-0", "watch-60", "watch-149"])
        // Not completion looks: they neither go first nor unlock the completion reserve.
        let reserved = Batching.plan(candidates: candidates(1) + riders, now: now, allowance: 1, schedule: schedule,
                                     timeout: timeout, completionReserve: 1)
        #expect(reserved.polls.isEmpty && reserved.deferred == ["drsjob-0"])
        // A rider within its window still waits out its minimum gap.
        var recent = watch("watch-recent", dueIn: 30)
        recent.lastPolledAt = now - 2
        #expect(plan(candidates(1) + [recent]).polledJobIDs == ["drsjob-0"])
    }

    @Test func aJobInsideItsMinimumGapIsNeverPolled() {
        let recent = candidates(3, prefix: "recent-", polledAgo: 2)
        let old = candidates(2, prefix: "old-", polledAgo: 6)
        let result = plan(recent + old)
        #expect(Set(result.polledJobIDs) == ["old-0", "old-1"])
        #expect(result.deferred.isEmpty, "a job inside its gap is not due yet, not deferred")
    }

    @Test func theLastPollsOfTheCapAreKeptForCompletionLooks() {
        let watch = candidates(2, prefix: "watch-")
        var completion = candidates(1, prefix: "done-soon-")
        completion[0].rideWindow = 0.3  // a completion look (its sweep step)
        completion[0].isCompletion = true
        func reserved(_ candidates: [PollCandidate], allowance: Int) -> EndpointPlan {
            Batching.plan(candidates: candidates, now: now, allowance: allowance, schedule: schedule, timeout: timeout,
                          completionReserve: 2)
        }
        // Watch looks alone: only what exceeds the reserve may be spent.
        #expect(reserved(watch, allowance: 3).polls.count == 1)
        let held = reserved(watch, allowance: 2)
        #expect(held.polls.isEmpty && Set(held.deferred) == ["watch-0", "watch-1"], "deferred, counted by the cap metric")
        // A completion look due: it goes, within the whole allowance, and the watch looks ride along.
        let urgent = reserved(watch + completion, allowance: 1)
        #expect(urgent.polls.count == 1 && Set(urgent.polledJobIDs) == ["watch-0", "watch-1", "done-soon-0"])
        #expect(reserved(watch + completion, allowance: 0).polls.isEmpty, "the cap itself still holds")
        // More due than one poll holds: the completion looks are in the first poll.
        let many = Batching.plan(
            candidates: candidates(1500, prefix: "w-") + completion, now: now, allowance: 1, schedule: schedule,
            timeout: timeout, completionReserve: 0)
        #expect(many.polls.count == 1 && many.polls[0].jobIDs.first == "done-soon-0")
        #expect(many.deferred.count == 501)
        // Finals are not held back by the reserve.
        let finals = candidates(2, prefix: "final-", deadlineIn: -1)
        #expect(reserved(finals, allowance: 1).polls.map(\.isFinal) == [true])
    }

    @Test func theCompletionReserveIsAQuarterOfTheCapByDefaultAndAtMostHalf() throws {
        #expect(EndpointBudget(maxPollsPerMinute: 20).completionReserve == 5)
        #expect(EndpointBudget(maxPollsPerMinute: 20, completionReserve: 15).completionReserve == 10)
        #expect(EndpointBudget(maxPollsPerMinute: 1).completionReserve == 0)
        let configured = try PollerConfiguration(reader: EnvironmentSettings(environment: [
            "MUSTER_POLLER_MAX_POLLS_PER_ENDPOINT_PER_MINUTE": "30", "MUSTER_POLLER_COMPLETION_RESERVE": "3",
        ]))
        #expect(configured.budget == EndpointBudget(maxPollsPerMinute: 30, completionReserve: 3))
        #expect(try PollerConfiguration(reader: EnvironmentSettings(environment: [:])).budget.completionReserve == 5)
        #expect(throws: ConfigurationError.self) {
            try PollerConfiguration(reader: EnvironmentSettings(environment: ["MUSTER_POLLER_COMPLETION_RESERVE": "11"]))
        }
    }

    @Test func theCapIsASlidingMinute() {
        let budget = EndpointBudget(maxPollsPerMinute: 3)
        #expect(budget.allowance(recentSends: [], now: now) == 3)
        #expect(budget.allowance(recentSends: [now - 10, now - 59], now: now) == 1)
        #expect(budget.allowance(recentSends: [now - 10, now - 20, now - 30, now - 40], now: now) == 0)
        #expect(budget.allowance(recentSends: [now - 60, now - 61], now: now) == 3, "older than a minute")
        #expect(EndpointBudget(maxPollsPerMinute: 0).maxPollsPerMinute == 1)
    }
}
