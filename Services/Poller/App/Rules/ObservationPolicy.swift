import Foundation
import MusterDomain

/// What the poller knows of one job when a snapshot arrives.
public struct JobSnapshotState: Sendable, Equatable {
    /// Tracking state.
    public var state: TrackingState
    /// Last DRS status accepted.
    public var phase: DRSJobStatus
    /// `observedAt` of the last accepted snapshot.
    public var observedAt: Date?
    /// Planned next look.
    public var nextDue: Date?
    /// Last poll sent.
    public var lastPolledAt: Date?
    /// The wave's deadline.
    public var deadline: Date

    /// Creates the state.
    public init(
        state: TrackingState, phase: DRSJobStatus, observedAt: Date?, nextDue: Date?, lastPolledAt: Date?,
        deadline: Date
    ) {
        self.state = state
        self.phase = phase
        self.observedAt = observedAt
        self.nextDue = nextDue
        self.lastPolledAt = lastPolledAt
        self.deadline = deadline
    }
}

/// The decision about one `job.observed`, applied by `JobTracker`.
public enum ObservationDecision: Sendable, Equatable {
    /// Why a snapshot changed nothing.
    public enum IgnoreReason: String, Sendable {
        /// Older than what is known: a job's phase never moves backwards.
        case stale
        /// The job is DONE or TIMED_OUT already.
        case finished
    }

    /// Change nothing.
    case ignore(IgnoreReason)
    /// Record the snapshot; `nextDue` nil keeps the planned look.
    case update(phase: DRSJobStatus, observedAt: Date, nextDue: Date?)
    /// Observed COMPLETED with no post-launch run left to wait for: stop tracking.
    case finish(observedAt: Date)
    /// The final answer is still not terminal: publish `job.timed-out`.
    case timeOut(lastStatus: DRSJobStatus)
}

/// Applies a snapshot to what is known (pure): terminal → finish, a final
/// answer past the deadline that is not terminal → time out, older than
/// known → ignore, a phase change → reschedule for the new phase.
///
/// Terminal means COMPLETED *and* no launched server of a RECOVERY job still
/// waiting for post-launch runs (`awaitingPostLaunch`, from
/// `JobObserved.awaitsPostLaunch`): DRS may end a job before or after those
/// runs, so a COMPLETED job that awaits them stays tracked, phase COMPLETED,
/// polled at the STARTED cadence until they end or the wave times out.
public enum ObservationPolicy {
    /// Decides what `status` observed at `observedAt` (answering a final poll
    /// when `isFinal`) does to `job`, at `now`.
    public static func decide<R: RandomNumberGenerator>(
        job: JobSnapshotState, status: DRSJobStatus, awaitingPostLaunch: Bool = false, observedAt: Date,
        isFinal: Bool, now: Date, schedule: PollSchedule, timeout: TimeoutPolicy, using random: inout R
    ) -> ObservationDecision {
        guard job.state.isActive else { return .ignore(.finished) }
        // COMPLETED is the last phase: a COMPLETED snapshot is never stale.
        if status == .completed && !awaitingPostLaunch { return .finish(observedAt: observedAt) }
        let known = job.phase.rank > status.rank ? job.phase : status
        // A stale non-COMPLETED answer cannot say whether post-launch runs are
        // still going, so only a COMPLETED snapshot decides that timeout.
        let live = status == .completed ? awaitingPostLaunch : known != .completed
        if live, timeout.isTimeout(isFinalAnswer: isFinal, status: status, awaitingPostLaunch: awaitingPostLaunch,
                                   deadline: job.deadline, now: now) {
            return .timeOut(lastStatus: known)
        }
        if status.rank < job.phase.rank { return .ignore(.stale) }
        if status == job.phase, let seen = job.observedAt, observedAt <= seen { return .ignore(.stale) }
        guard status != job.phase, job.state == .tracking else {
            // Same phase, or a final answer is awaited (its grace timer stands).
            return .update(phase: status, observedAt: observedAt, nextDue: nil)
        }
        let due = schedule.dueAfterPhaseChange(
            planned: job.nextDue, phase: status, lastPolledAt: job.lastPolledAt, deadline: job.deadline, now: now,
            using: &random)
        return .update(phase: status, observedAt: observedAt, nextDue: due)
    }
}
