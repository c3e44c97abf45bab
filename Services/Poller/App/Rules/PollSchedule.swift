import Foundation
import MusterDomain

/// When a live job is next looked at (DESIGN §6): slower while PENDING, faster
/// while STARTED, a first look soon after creation, never twice within the
/// minimum gap, never later than the wave's deadline, and with jitter so that
/// endpoints created together do not poll in lock step. Pure: `now` and the
/// random source are inputs.
public struct PollSchedule: Sendable, Equatable {
    /// Delay from `job.created` to the first look.
    public var firstPollDelay: Duration
    /// Interval while DRS reports PENDING (a drill job spends ~13 min there).
    public var pendingInterval: Duration
    /// Interval while DRS reports STARTED (servers launching: worth watching closely).
    public var startedInterval: Duration
    /// The floor per job: never two polls of one job closer than this.
    public var minimumGap: Duration
    /// Jitter as a fraction of the interval, in `0..<1`: each interval is
    /// stretched or shrunk by up to this much.
    public var jitter: Double
    /// When an endpoint is polled anyway, jobs due within this window ride
    /// along, so an account's jobs converge on one poll per interval.
    public var batchWindow: Duration

    /// Defaults suited to real DRS.
    public init(
        firstPollDelay: Duration = .seconds(10), pendingInterval: Duration = .seconds(60),
        startedInterval: Duration = .seconds(15), minimumGap: Duration = .seconds(5), jitter: Double = 0.1,
        batchWindow: Duration = .seconds(10)
    ) {
        self.firstPollDelay = firstPollDelay
        self.pendingInterval = pendingInterval
        self.startedInterval = startedInterval
        self.minimumGap = minimumGap
        self.jitter = min(max(jitter, 0), 0.99)
        self.batchWindow = batchWindow
    }

    /// The base interval for a phase. A job is still tracked in COMPLETED
    /// only while its servers' post-launch runs are unfinished (AWS documents
    /// no order between JOB_END and the runs): it is polled at the STARTED
    /// cadence until they end or the wave times out.
    public func interval(for phase: DRSJobStatus) -> Duration? {
        switch phase {
        case .pending: pendingInterval
        case .started, .completed: startedInterval
        }
    }

    /// `base` stretched by `unit × jitter` where `unit` is in `-1...1`.
    public func jittered(_ base: Duration, unit: Double) -> TimeInterval {
        base.seconds * (1 + jitter * min(max(unit, -1), 1))
    }

    /// The earliest moment a job last polled at `lastPolledAt` may be polled again.
    public func earliestAllowed(lastPolledAt: Date?) -> Date? {
        lastPolledAt?.addingTimeInterval(minimumGap.seconds)
    }

    /// First due time of a job tracked at `now`.
    public func firstDue<R: RandomNumberGenerator>(trackedAt now: Date, deadline: Date, using random: inout R) -> Date {
        clamp(now.addingTimeInterval(jittered(firstPollDelay, unit: .random(in: -1...1, using: &random))),
              lastPolledAt: nil, deadline: deadline, now: now)
    }

    /// Next due time of a job in `phase` that was just polled at `polledAt`;
    /// nil when the phase is terminal.
    public func nextDue<R: RandomNumberGenerator>(
        polledAt: Date, phase: DRSJobStatus, deadline: Date, using random: inout R
    ) -> Date? {
        nextDue(polledAt: polledAt, phase: phase, deadline: deadline, jitterUnit: .random(in: -1...1, using: &random))
    }

    /// Next due time with a given jitter draw (`-1...1`). The scheduler draws
    /// once per poll, so the jobs of one poll stay together (one poll per
    /// interval per endpoint) while different endpoints drift apart.
    public func nextDue(polledAt: Date, phase: DRSJobStatus, deadline: Date, jitterUnit: Double) -> Date? {
        guard let base = interval(for: phase) else { return nil }
        let candidate = polledAt.addingTimeInterval(jittered(base, unit: jitterUnit))
        return clamp(candidate, lastPolledAt: polledAt, deadline: deadline, now: polledAt)
    }

    /// Due time after the job moved into `phase` (observed at `now`): the
    /// sooner of what was planned and a fresh interval of the new phase, so a
    /// job that just STARTED is watched closely at once.
    public func dueAfterPhaseChange<R: RandomNumberGenerator>(
        planned: Date?, phase: DRSJobStatus, lastPolledAt: Date?, deadline: Date, now: Date, using random: inout R
    ) -> Date? {
        guard let base = interval(for: phase) else { return nil }
        let fresh = now.addingTimeInterval(jittered(base, unit: .random(in: -1...1, using: &random)))
        let sooner = planned.map { min($0, fresh) } ?? fresh
        return clamp(sooner, lastPolledAt: lastPolledAt, deadline: deadline, now: now)
    }

    /// No later than the deadline (a job must be looked at when its wave
    /// times out) unless that has passed, and never inside the minimum gap.
    func clamp(_ candidate: Date, lastPolledAt: Date?, deadline: Date, now: Date) -> Date {
        var due = candidate
        if deadline > now { due = min(due, deadline) }
        if let floor = earliestAllowed(lastPolledAt: lastPolledAt) { due = max(due, floor) }
        return due
    }
}
