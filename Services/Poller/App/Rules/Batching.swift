import Foundation
import MusterDomain

/// A job the scheduler may include in this tick's polls of one endpoint.
public struct PollCandidate: Sendable, Equatable {
    /// The DRS job id.
    public var jobID: JobID
    /// When it is due (may be in the future, within the batch window).
    public var nextDue: Date
    /// Tracking state.
    public var state: TrackingState
    /// Final polls sent so far.
    public var finalPolls: Int
    /// The wave's deadline.
    public var deadline: Date
    /// Last poll sent, for the minimum gap.
    public var lastPolledAt: Date?
    /// How early (seconds) it may ride along on a poll sent anyway; nil: the
    /// schedule's batch window. A completion look's is its sweep step (never
    /// more than the batch window); a watch look's may be longer (see `Batching`).
    public var rideWindow: TimeInterval?
    /// A completion look (`NextLook.Kind.completion`: the job is expected to
    /// complete, a wave hand-off may wait on it): it goes first and may use
    /// the endpoint's `completionReserve`.
    public var isCompletion: Bool

    /// Creates a candidate; a `rideWindow` makes it a completion look unless `isCompletion` says otherwise.
    public init(
        jobID: JobID, nextDue: Date, state: TrackingState, finalPolls: Int, deadline: Date, lastPolledAt: Date?,
        rideWindow: TimeInterval? = nil, isCompletion: Bool? = nil
    ) {
        self.rideWindow = rideWindow
        self.isCompletion = isCompletion ?? (rideWindow != nil)
        self.jobID = jobID
        self.nextDue = nextDue
        self.state = state
        self.finalPolls = finalPolls
        self.deadline = deadline
        self.lastPolledAt = lastPolledAt
    }
}

/// One `job.poll` or `job.poll.final` to send.
public struct PlannedPoll: Sendable, Equatable {
    /// `job.poll.final` when true.
    public var isFinal: Bool
    /// 1…`maxJobsPerPoll` ids.
    public var jobIDs: [JobID]
}

/// What one endpoint's tick does.
public struct EndpointPlan: Sendable, Equatable {
    /// The polls to send (finals first), within the endpoint's allowance.
    public var polls: [PlannedPoll] = []
    /// Jobs whose final polls went unanswered: publish `job.timed-out`.
    public var timeOuts: [JobID] = []
    /// Due jobs left for a later tick because the endpoint's cap is reached.
    public var deferred: [JobID] = []

    /// Every job id a poll carries.
    public var polledJobIDs: [JobID] { polls.flatMap(\.jobIDs) }
}

/// Batches an endpoint's due jobs into as few polls as possible (DESIGN §6):
/// finals first, then ordinary looks — completion looks first, then most
/// overdue first — ≤ `maxJobsPerPoll` ids each, no more polls than the
/// endpoint's allowance. Ordinary polls with no completion look due leave the
/// last `completionReserve` polls of the allowance unused, so watch and
/// cadence looks (cost control) never use up the cap a wave hand-off needs.
/// Jobs not yet due (inside the batch window) only fill room in an ordinary
/// poll that is sent anyway; they never cause one. How early one may ride
/// along is its `rideWindow`: a completion look's sweep step (capped by the
/// batch window: a precise look is not spent early), a watch look's up to
/// half the watch interval (cost control: a look at a job whose transition
/// is far off is as good a little early, and taken on a poll that goes
/// anyway it costs no call — the job's next look is planned from the one it
/// stood for), otherwise the batch window. Pure.
public enum Batching {
    /// Plans one endpoint's polls at `now` from `candidates`.
    public static func plan(
        candidates: [PollCandidate], now: Date, allowance: Int, schedule: PollSchedule, timeout: TimeoutPolicy,
        maxJobsPerPoll: Int = 1000, completionReserve: Int = 0
    ) -> EndpointPlan {
        precondition(maxJobsPerPoll > 0, "maxJobsPerPoll must be positive")
        var finals: [JobID] = [], regular: [JobID] = [], early: [JobID] = [], earlyFinals: [JobID] = []
        var completions: [JobID] = []
        var plan = EndpointPlan()
        for candidate in candidates.sorted(by: { ($0.nextDue, $0.jobID) < ($1.nextDue, $1.jobID) }) {
            if let allowed = schedule.earliestAllowed(lastPolledAt: candidate.lastPolledAt), allowed > now { continue }
            guard candidate.nextDue <= now else {
                // A live job due soon rides along: past its deadline in a final
                // poll, else in an ordinary one. An awaited final answer keeps its timer.
                let window = candidate.isCompletion
                    ? min(candidate.rideWindow ?? schedule.batchWindow.seconds, schedule.batchWindow.seconds)
                    : max(candidate.rideWindow ?? 0, schedule.batchWindow.seconds)
                if candidate.state == .tracking && candidate.nextDue <= now.addingTimeInterval(window)
                {
                    if candidate.deadline <= now { earlyFinals.append(candidate.jobID) } else { early.append(candidate.jobID) }
                }
                continue
            }
            switch timeout.dueAction(
                state: candidate.state, finalPolls: candidate.finalPolls, deadline: candidate.deadline, now: now)
            {
            case .poll:
                if candidate.isCompletion { completions.append(candidate.jobID) } else { regular.append(candidate.jobID) }
            case .finalPoll: finals.append(candidate.jobID)
            case .timeOut: plan.timeOuts.append(candidate.jobID)
            case nil: continue
            }
        }
        var remaining = max(0, allowance)
        for (isFinal, due, riders) in [(true, finals, earlyFinals), (false, completions + regular, early)] {
            var polls = chunks(due, size: maxJobsPerPoll)
            // Without a completion look due, the reserve stays for one.
            let usable = isFinal || !completions.isEmpty ? remaining : max(0, remaining - max(0, completionReserve))
            if polls.count > usable {
                plan.deferred += polls[usable...].flatMap { $0 }
                polls = Array(polls[..<usable])
            }
            remaining -= polls.count
            if !polls.isEmpty {
                // Fill the last poll's spare room with jobs due soon.
                polls[polls.count - 1] += riders.prefix(maxJobsPerPoll - polls[polls.count - 1].count)
            }
            plan.polls += polls.map { PlannedPoll(isFinal: isFinal, jobIDs: $0) }
        }
        return plan
    }

    static func chunks(_ ids: [JobID], size: Int) -> [[JobID]] {
        stride(from: 0, to: ids.count, by: size).map { Array(ids[$0..<min($0 + size, ids.count)]) }
    }
}

/// The ceiling on DescribeJobs calls per endpoint (DESIGN §6): at most
/// `maxPollsPerMinute` polls in any sliding 60-second window, shared by every
/// poller instance through the `endpoint_polls` log. Pure.
public struct EndpointBudget: Sendable, Equatable {
    /// The cap.
    public var maxPollsPerMinute: Int
    /// Polls of the minute only completion looks may use (see `Batching`):
    /// at most half the cap.
    public var completionReserve: Int

    /// A cap of `maxPollsPerMinute` (≥ 1), of which `completionReserve`
    /// (default a quarter, at most half) is kept for completion looks.
    public init(maxPollsPerMinute: Int, completionReserve: Int? = nil) {
        self.maxPollsPerMinute = max(1, maxPollsPerMinute)
        self.completionReserve = min(self.maxPollsPerMinute / 2, max(0, completionReserve ?? self.maxPollsPerMinute / 4))
    }

    /// The window the cap applies to.
    public static let window: TimeInterval = 60

    /// How many polls may be sent at `now` given the send times in the log.
    public func allowance(recentSends: [Date], now: Date) -> Int {
        let since = now.addingTimeInterval(-Self.window)
        return max(0, maxPollsPerMinute - recentSends.filter { $0 > since && $0 <= now }.count)
    }
}
