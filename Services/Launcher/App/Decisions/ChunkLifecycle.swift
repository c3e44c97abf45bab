import Foundation
import MusterDomain
import MusterEvents

/// Where a chunk (one DRS job to start) is in its life: the
/// `launch_chunks.state` column.
public enum ChunkState: String, Sendable, CaseIterable {
    /// Waiting for leases, quota, a back-off, or admission.
    case queued = "QUEUED"
    /// The launch intent: leases taken, the request about to leave or left.
    case submitting = "SUBMITTING"
    /// DRS has the job; its id is recorded.
    case submitted = "SUBMITTED"
    /// Given up; `job.launch-failed` was published.
    case failed = "FAILED"

    /// QUEUED or SUBMITTING: the chunk still needs work.
    public var isOpen: Bool { self == .queued || self == .submitting }
}

/// A chunk's lifecycle facts: everything the rules read and write.
public struct ChunkStatus: Sendable, Equatable {
    /// The state.
    public var state: ChunkState = .queued
    /// The wait reason last published as `job.queued` (published once per reason).
    public var queuedReason: JobQueued.Reason?
    /// Not admitted before this time (back-off after conflict, quota, throttling).
    public var notBefore: Date?
    /// Why `notBefore` is set.
    public var backoffReason: JobQueued.Reason?
    /// ConflictException answers so far.
    public var conflicts = 0
    /// The first of them.
    public var firstConflictAt: Date?
    /// When the launch intent was written.
    public var intentAt: Date?
    /// When the request left (nil: it never did, so it cannot land).
    public var sentAt: Date?
    /// The DRS job, once known.
    public var jobID: JobID?

    /// Creates a status.
    public init(
        state: ChunkState = .queued, queuedReason: JobQueued.Reason? = nil, notBefore: Date? = nil,
        backoffReason: JobQueued.Reason? = nil, conflicts: Int = 0, firstConflictAt: Date? = nil, intentAt: Date? = nil,
        sentAt: Date? = nil, jobID: JobID? = nil
    ) {
        self.state = state
        self.queuedReason = queuedReason
        self.notBefore = notBefore
        self.backoffReason = backoffReason
        self.conflicts = conflicts
        self.firstConflictAt = firstConflictAt
        self.intentAt = intentAt
        self.sentAt = sentAt
        self.jobID = jobID
    }
}

/// What happened to a chunk.
public enum ChunkEvent: Sendable, Equatable {
    /// `LaunchQueue` admitted it: take the leases, write the intent.
    case admitted(now: Date)
    /// `LaunchQueue` keeps it waiting.
    case waiting(JobQueued.Reason, blocking: [SourceServerID])
    /// The request is about to leave (written before it does, so a reconciler knows it may land).
    case sending(now: Date)
    /// DRS answered with the job.
    case created(jobID: JobID)
    /// The outcome is unknown (timeout, transport error, 5xx, an answer without a job): DRS may have the job.
    case ambiguous(now: Date)
    /// ConflictException: a job Muster did not start holds a server; certainly no job was created.
    case conflict(server: SourceServerID?, now: Date)
    /// ServiceQuotaExceededException: jobs Muster does not know use the quota; no job was created.
    case quotaExceeded(now: Date)
    /// Throttled (or another retryable refusal) before anything was created.
    case throttled(now: Date)
    /// A definite refusal (validation, access, unknown server, unregistered account).
    case rejected(code: String, reason: String)
    /// What `Reconciler` concluded about an intent left SUBMITTING.
    case reconciled(Reconciler.Verdict, now: Date)
}

/// What the store does, in the transaction that persists the new status.
public enum ChunkEffect: Sendable, Equatable {
    /// Lease the chunk's servers (fails the transition if one is leased).
    case takeLeases
    /// Release the leases not yet bound to a job.
    case releaseLeases
    /// Bind the leases to the job, record it, publish `job.created`.
    case recordJob(jobID: JobID)
    /// Publish `job.queued`.
    case publishQueued(JobQueued.Reason, blocking: [SourceServerID])
    /// Publish `job.launch-failed`.
    case publishLaunchFailed(code: String, reason: String)
    /// Record the extra jobs, count them, publish `job.duplicate-detected`.
    case recordDuplicates(jobIDs: [JobID])
    /// Look at the chunk again at this time (back-off end, recheck).
    case wakeAt(Date)
}

/// A transition the lifecycle does not allow (a stale row, a bug).
public struct ChunkTransitionError: Error, Equatable, CustomStringConvertible {
    /// The state the chunk was in.
    public var from: ChunkState
    /// The event that does not apply there.
    public var event: String
    /// What went wrong.
    public var description: String { "a \(from.rawValue) chunk cannot take \(event)" }
}

/// The rules of a chunk's life (DESIGN §4, §5, §12), pure: state and event
/// in, new state and effects out. The store persists both in one
/// transaction, guarded by the old state, so two actors can never both
/// apply a transition to one chunk.
///
/// | from | event | to | effects |
/// |---|---|---|---|
/// | QUEUED | admitted | SUBMITTING | take leases |
/// | QUEUED | waiting(reason) | QUEUED | job.queued when the reason changed |
/// | SUBMITTING | sending | SUBMITTING (sentAt) | — |
/// | SUBMITTING | created / reconciled found | SUBMITTED | record job, job.created |
/// | SUBMITTING | reconciled duplicate | SUBMITTED | record job + duplicates |
/// | SUBMITTING | ambiguous | SUBMITTING | reconcile now |
/// | SUBMITTING | reconciled notYet | SUBMITTING | reconcile at recheck |
/// | SUBMITTING | reconciled notFound | QUEUED | release leases |
/// | SUBMITTING | conflict (before deadline) | QUEUED (back-off) | release leases, job.queued(CONFLICT) |
/// | SUBMITTING | conflict (past deadline) | FAILED | release leases, job.launch-failed |
/// | SUBMITTING | quota / throttled | QUEUED (back-off) | release leases, job.queued |
/// | QUEUED, SUBMITTING | rejected | FAILED | release leases, job.launch-failed |
/// | SUBMITTED | created / found (same job) | SUBMITTED | — |
/// | SUBMITTED | reconciled duplicate | SUBMITTED | record duplicates |
public struct ChunkLifecycle: Sendable, Equatable {
    /// ConflictException back-off and deadline.
    public var conflict: ConflictPolicy
    /// Back-off after ServiceQuotaExceeded.
    public var quotaDelay: TimeInterval
    /// Back-off after a throttled or retryable refusal of a launch.
    public var throttleDelay: TimeInterval

    /// Creates the rules.
    public init(conflict: ConflictPolicy = ConflictPolicy(), quotaDelay: TimeInterval = 10, throttleDelay: TimeInterval = 1) {
        self.conflict = conflict
        self.quotaDelay = quotaDelay
        self.throttleDelay = throttleDelay
    }

    /// The new status and effects of `event` on `status`.
    public func apply(_ status: ChunkStatus, _ event: ChunkEvent) throws(ChunkTransitionError) -> (ChunkStatus, [ChunkEffect]) {
        var next = status
        switch (status.state, event) {
        case (.queued, .admitted(let now)):
            next.state = .submitting
            next.intentAt = now
            next.sentAt = nil
            next.notBefore = nil
            next.backoffReason = nil
            return (next, [.takeLeases])

        case (.queued, .waiting(let reason, let blocking)):
            guard status.queuedReason != reason else { return (status, []) }
            next.queuedReason = reason
            return (next, [.publishQueued(reason, blocking: blocking)])

        case (.submitting, .sending(let now)):
            next.sentAt = next.sentAt ?? now
            return (next, [])

        case (.submitting, .created(let jobID)), (.submitting, .reconciled(.found(let jobID), _)):
            next.state = .submitted
            next.jobID = jobID
            return (next, [.recordJob(jobID: jobID)])

        case (.submitting, .reconciled(.duplicate(let jobID, let extra), _)):
            next.state = .submitted
            next.jobID = jobID
            return (next, [.recordJob(jobID: jobID), .recordDuplicates(jobIDs: extra)])

        case (.submitting, .ambiguous(let now)):
            // Never relaunched here: the reconciler decides, within its window.
            next.sentAt = next.sentAt ?? now
            return (next, [.wakeAt(now)])

        case (.submitting, .reconciled(.notYet(let recheckAt), _)):
            return (status, [.wakeAt(recheckAt)])

        case (.submitting, .reconciled(.notFound, let now)):
            next.state = .queued
            next.intentAt = nil
            next.sentAt = nil
            return (next, [.releaseLeases, .wakeAt(now)])

        case (.submitting, .conflict(let server, let now)):
            next.conflicts = status.conflicts + 1
            let first = status.firstConflictAt ?? now
            next.firstConflictAt = first
            switch conflict.decide(conflicts: next.conflicts, firstConflictAt: first, now: now) {
            case .retry(let at):
                return backOff(next, reason: .conflict, until: at, blocking: server.map { [$0] } ?? [])
            case .giveUp:
                next.state = .failed
                return (next, [.releaseLeases, .publishLaunchFailed(
                    code: "ConflictException",
                    reason: "servers still held by a job Muster did not start after \(next.conflicts) attempts since "
                        + "\(EventCoding.formatTime(first))\(server.map { " (\($0))" } ?? "")")])
            }

        case (.submitting, .quotaExceeded(let now)):
            return backOff(next, reason: .quota, until: now.addingTimeInterval(quotaDelay), blocking: [])

        case (.submitting, .throttled(let now)):
            return backOff(next, reason: .throttled, until: now.addingTimeInterval(throttleDelay), blocking: [])

        case (.queued, .rejected(let code, let reason)), (.submitting, .rejected(let code, let reason)):
            next.state = .failed
            return (next, [.releaseLeases, .publishLaunchFailed(code: code, reason: reason)])

        case (.submitted, .created(let jobID)), (.submitted, .reconciled(.found(let jobID), _)):
            guard jobID == status.jobID else {
                return (status, [.recordDuplicates(jobIDs: [jobID])])
            }
            return (status, [])

        case (.submitted, .reconciled(.duplicate(let jobID, let extra), _)):
            let others = ([jobID] + extra).filter { $0 != status.jobID }
            return (status, others.isEmpty ? [] : [.recordDuplicates(jobIDs: others)])

        default:
            throw ChunkTransitionError(from: status.state, event: Self.name(of: event))
        }
    }

    private func backOff(
        _ status: ChunkStatus, reason: JobQueued.Reason, until: Date, blocking: [SourceServerID]
    ) -> (ChunkStatus, [ChunkEffect]) {
        var next = status
        next.state = .queued
        next.intentAt = nil
        next.sentAt = nil
        next.notBefore = until
        next.backoffReason = reason
        var effects: [ChunkEffect] = [.releaseLeases]
        if status.queuedReason != reason {
            next.queuedReason = reason
            effects.append(.publishQueued(reason, blocking: blocking))
        }
        effects.append(.wakeAt(until))
        return (next, effects)
    }

    static func name(of event: ChunkEvent) -> String {
        switch event {
        case .admitted: "admitted"
        case .waiting: "waiting"
        case .sending: "sending"
        case .created: "created"
        case .ambiguous: "ambiguous"
        case .conflict: "conflict"
        case .quotaExceeded: "quotaExceeded"
        case .throttled: "throttled"
        case .rejected: "rejected"
        case .reconciled(let verdict, _): "reconciled(\(verdict))"
        }
    }
}
