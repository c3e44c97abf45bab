import Foundation
import MusterDomain

/// Settings of the predictive schedule (docs/poller.md, "Predictive schedule").
public struct PredictionSettings: Sendable, Equatable {
    /// Off: every job follows the phase cadence of `PollSchedule`.
    public var enabled: Bool
    /// DRS seconds per poller second: 1 against AWS, drs-sim's time scale otherwise.
    public var drsTimeScale: Double
    /// The tightest spacing of looks at a job expected to complete.
    public var sweepStep: Duration
    /// The spacing grows by this much per live job of the endpoint, so a busy
    /// endpoint's overlapping sweeps cost a bounded number of calls per job.
    public var sweepStepPerJob: Duration
    /// The longest wait between looks at a job whose transition is far off
    /// (a job still converting is looked at this rarely, to catch failures).
    public var watchInterval: Duration
    /// Samples a phase needs before it is predicted (fewer → the cadence).
    public var minimumSamples: Int
    /// Samples after which older history fades (see `PhaseStats.adding`).
    public var historyWeight: Int
    /// The likely window is mean ± `spread` deviations (inside the range seen,
    /// widened by `PhaseStats.extremeMargin`).
    public var spread: Double

    /// How early a watch look may ride along on a poll its endpoint sends anyway:
    /// half the watch interval (`Batching`); 0 when the schedule is off.
    public var watchRideWindow: TimeInterval { enabled ? watchInterval.seconds / 2 : 0 }

    /// Defaults suited to real DRS (a drill job: ~13 min PENDING, a few minutes STARTED).
    public init(
        enabled: Bool = true, drsTimeScale: Double = 1, sweepStep: Duration = .seconds(2),
        sweepStepPerJob: Duration = .milliseconds(250), watchInterval: Duration = .seconds(300),
        minimumSamples: Int = 3, historyWeight: Int = 50, spread: Double = 2
    ) {
        self.enabled = enabled
        self.drsTimeScale = drsTimeScale > 0 ? drsTimeScale : 1
        self.sweepStep = sweepStep
        self.sweepStepPerJob = sweepStepPerJob
        self.watchInterval = watchInterval
        self.minimumSamples = max(1, minimumSamples)
        self.historyWeight = max(1, historyWeight)
        self.spread = max(0, spread)
    }
}

/// What the poller knows of a live job's timeline.
public struct JobTimelineFacts: Sendable, Equatable {
    /// PENDING or STARTED.
    public var phase: DRSJobStatus
    /// DRS's creation time of the job.
    public var createdAt: Date
    /// When the poller started tracking it (its clock's anchor).
    public var trackedAt: Date
    /// DRS time the job turned STARTED (`LAUNCH_START`), once seen.
    public var startedAt: Date?
    /// Whether another step of the execution (a later wave, a hook) waits for the job.
    /// Only such a job's completion is swept; the others get one look at their window's end.
    public var gatesNextStep: Bool

    /// Creates the facts.
    public init(phase: DRSJobStatus, createdAt: Date, trackedAt: Date, startedAt: Date?, gatesNextStep: Bool = true) {
        self.gatesNextStep = gatesNextStep
        self.phase = phase
        self.createdAt = createdAt
        self.trackedAt = trackedAt
        self.startedAt = startedAt
    }
}

/// A planned look.
public struct NextLook: Sendable, Equatable {
    /// Why the look is at that moment; stored as `poller.jobs.look_kind`.
    public enum Kind: String, Sendable, Codable {
        /// The phase cadence (no usable history).
        case cadence
        /// Transition far off, or the job is waiting to turn STARTED: may ride
        /// along early on any poll of its endpoint within the batch window.
        case watch
        /// Completion expected: a sweep step; rides along only within one step.
        case completion
    }

    /// When.
    public var at: Date
    /// Why.
    public var kind: Kind
    /// The transition the model expects next (its mean), poller time, for
    /// the prediction metrics.
    public var expected: Date?
    /// For a completion look, the sweep step (also how early it may ride along).
    public var step: TimeInterval?
}

/// When to look at a live job next, from its phase, its log's timestamps and
/// the endpoint's history (DESIGN §6, issue 14). Pure.
///
/// - STARTED, with `LAUNCH_START` known: completion is likely within
///   `LAUNCH_START` + the STARTED window. Looks fall on a grid anchored at the
///   window's end and stepping back to its start, so a step wider than the
///   window means one look just after the latest likely moment, and a narrow
///   step sweeps the whole window. Past the window, looks back off
///   (the gap is half the overrun, at least one step) up to `watchInterval`.
///   A job nothing waits for (`gatesNextStep` false: the execution's last wave
///   without an after-hook) is not swept: its step is the window's width plus
///   one step, so it gets one look at the window's end and backs off from
///   there (at least that step apart) — a wave
///   hand-off never shares the call budget with a completion nobody waits on.
/// - PENDING: the job is looked at when it has most likely turned STARTED
///   (the high end of the PENDING window, or the earliest likely completion
///   if that is sooner), so its `LAUNCH_START` is known before completion is
///   due; until then only every `watchInterval`. Past that moment, backing
///   off as above.
/// - A phase without enough history returns nil: the caller uses `PollSchedule`.
///
/// Every look stays within the job's minimum gap and deadline (`PollSchedule.clamp`).
public enum NextLookPolicy {
    /// The sweep step on an endpoint with `endpointJobs` live jobs that gate a next step.
    public static func step(settings: PredictionSettings, schedule: PollSchedule, endpointJobs: Int) -> TimeInterval {
        max(settings.sweepStep.seconds, Double(max(1, endpointJobs)) * settings.sweepStepPerJob.seconds,
            schedule.minimumGap.seconds)
    }

    /// The next look at `job` after `now` (nil: no prediction, use the cadence).
    ///
    /// `served` is the planned look the poll sent at `now` stood for: a job that
    /// rode along on another job's poll before its own look was due has had
    /// that look, so the next one is planned from it, not from `now`. (Planned
    /// from `now`, the rider's own grid point came due again within a step:
    /// jobs whose sweeps overlap took turns triggering polls, one per job per
    /// step instead of one per step for all of them.)
    public static func next(
        job: JobTimelineFacts, history: PhaseHistory, now: Date, served: Date? = nil, lastPolledAt: Date?,
        deadline: Date, endpointJobs: Int, settings: PredictionSettings, schedule: PollSchedule
    ) -> NextLook? {
        guard settings.enabled else { return nil }
        let history = history.usable(minimumSamples: settings.minimumSamples)
        let clock = DRSClock(createdAt: job.createdAt, trackedAt: job.trackedAt, timeScale: settings.drsTimeScale)
        let step = step(settings: settings, schedule: schedule, endpointJobs: endpointJobs)
        let watch = max(settings.watchInterval.seconds, step)
        // Plan from the look that was served (a rider's, later than `now`).
        let from = max(now, served ?? now)
        var look: NextLook
        switch job.phase {
        case .completed:
            return nil
        case .started:
            guard let started = history.started, let launchStart = job.startedAt else { return nil }
            let window = started.window(spread: settings.spread)
            let begin = clock.local(launchStart).addingTimeInterval(clock.localSeconds(window.lowerBound))
            let end = clock.local(launchStart).addingTimeInterval(clock.localSeconds(window.upperBound))
            let expected = clock.local(launchStart).addingTimeInterval(clock.localSeconds(started.mean))
            let step = job.gatesNextStep ? step : step + end.timeIntervalSince(begin)
            let at = sweep(begin: begin, end: end, now: from, step: step, watch: watch)
            look = at.timeIntervalSince(from) > watch
                ? NextLook(at: from.addingTimeInterval(watch), kind: .watch, expected: expected, step: nil)
                : NextLook(at: at, kind: .completion, expected: expected, step: step)
        case .pending:
            guard let pending = history.pending else { return nil }
            let pendingWindow = pending.window(spread: settings.spread)
            var target = pendingWindow.upperBound
            if let started = history.started {
                target = min(target, pendingWindow.lowerBound + started.window(spread: settings.spread).lowerBound)
            }
            let due = clock.local(afterCreation: target)
            let at = from < due
                ? min(due, from.addingTimeInterval(watch)) : backOff(after: due, now: from, step: step, watch: watch)
            look = NextLook(at: at, kind: .watch, expected: clock.local(afterCreation: pending.mean), step: nil)
        }
        look.at = schedule.clamp(look.at, lastPolledAt: lastPolledAt, deadline: deadline, now: now)
        return look
    }

    /// The first grid point after `now` (grid: `end`, `end − step`, … ≥ `begin`),
    /// or a backing-off look once `end` has passed.
    static func sweep(begin: Date, end: Date, now: Date, step: TimeInterval, watch: TimeInterval) -> Date {
        guard now < end else { return backOff(after: end, now: now, step: step, watch: watch) }
        let span = max(0, end.timeIntervalSince(begin))
        let stepsBack = min((end.timeIntervalSince(now) / step).rounded(.down), (span / step).rounded(.down))
        var at = end.addingTimeInterval(-stepsBack * step)
        if at <= now { at = at.addingTimeInterval(step) }
        return at
    }

    /// Past the expected moment: the gap is half the overrun (looks 1.5× further out each
    /// time), from one step up to `watch`.
    static func backOff(after expected: Date, now: Date, step: TimeInterval, watch: TimeInterval) -> Date {
        now.addingTimeInterval(min(watch, max(step, now.timeIntervalSince(expected) / 2)))
    }
}
