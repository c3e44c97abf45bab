import Foundation
import MusterDomain

// The `job.status.v1` family, key = execution id, so everything about one
// execution reaches the planner in order. Launch groups larger than the
// servers-per-job limit are split into chunks 0..<chunkCount, one DRS job each.

/// `job.queued`: the launch group waits — for another execution's server
/// leases, for a quota, or in ConflictException back-off — and will start by
/// itself; it is not a failure.
public struct JobQueued: Codable, Sendable, Equatable {
    /// Why it waits.
    public enum Reason: String, Codable, Sendable, CaseIterable {
        /// Servers leased by another execution's live job.
        case leases = "LEASES"
        /// Concurrent-jobs or servers-in-active-jobs quota full.
        case quota = "QUOTA"
        /// DRS answered ConflictException (a job Muster did not start).
        case conflict = "CONFLICT"
        /// ThrottlingException / 5xx back-off.
        case throttled = "THROTTLED"
    }

    /// The launch group.
    public var launchGroup: LaunchGroupID
    /// The servers waiting.
    public var sourceServerIDs: [SourceServerID]
    /// Why.
    public var reason: Reason
    /// The servers blocking it, when known (leases, conflict).
    public var blockingServerIDs: [SourceServerID]
    /// When it was queued.
    public var queuedAt: Date

    /// Creates the payload.
    public init(
        launchGroup: LaunchGroupID, sourceServerIDs: [SourceServerID], reason: Reason, blockingServerIDs: [SourceServerID] = [],
        queuedAt: Date = Date()
    ) {
        self.launchGroup = launchGroup
        self.sourceServerIDs = sourceServerIDs
        self.reason = reason
        self.blockingServerIDs = blockingServerIDs
        self.queuedAt = queuedAt
    }
}

/// `job.created`: a DRS job exists. Carries what the poller needs to track
/// it and time it out, and what the planner needs to attribute it.
public struct JobCreated: Codable, Sendable, Equatable {
    /// The launch group.
    public var launchGroup: LaunchGroupID
    /// This job's chunk of the launch group (0-based).
    public var chunk: Int
    /// How many jobs the launch group became.
    public var chunkCount: Int
    /// The DRS job id (`drsjob-…`).
    public var jobID: JobID
    /// LAUNCH, or TERMINATE for drill cleanup.
    public var jobType: DRSJobType
    /// Whether it is a drill.
    public var isDrill: Bool
    /// The servers in this job.
    public var sourceServerIDs: [SourceServerID]
    /// When DRS created it.
    public var createdAt: Date
    /// When the wave started; the timeout counts from here.
    public var waveStartedAt: Date
    /// The wave's timeout in seconds.
    public var timeoutSeconds: Int
    /// The snapshot each server is launched from (LAUNCH jobs; for the RPO report).
    public var recoverySnapshots: [RecoverySnapshotUsed]?
    /// Whether another step of the execution waits for this job's launch group
    /// (`LaunchGroupRequested.gatesNextStep`); nil counts as true.
    public var gatesNextStep: Bool?

    /// Creates the payload.
    public init(
        launchGroup: LaunchGroupID, chunk: Int, chunkCount: Int, jobID: JobID, jobType: DRSJobType = .launch,
        isDrill: Bool, sourceServerIDs: [SourceServerID], createdAt: Date, waveStartedAt: Date, timeoutSeconds: Int,
        recoverySnapshots: [RecoverySnapshotUsed]? = nil, gatesNextStep: Bool? = nil
    ) {
        self.recoverySnapshots = recoverySnapshots
        self.gatesNextStep = gatesNextStep
        self.launchGroup = launchGroup
        self.chunk = chunk
        self.chunkCount = chunkCount
        self.jobID = jobID
        self.jobType = jobType
        self.isDrill = isDrill
        self.sourceServerIDs = sourceServerIDs
        self.createdAt = createdAt
        self.waveStartedAt = waveStartedAt
        self.timeoutSeconds = timeoutSeconds
    }

    /// When the job times out.
    public var deadline: Date { waveStartedAt.addingTimeInterval(TimeInterval(timeoutSeconds)) }
}

/// `job.launch-failed`: a chunk could not be launched (validation, access,
/// a ConflictException past its deadline…). Its servers are FAILED.
public struct JobLaunchFailed: Codable, Sendable, Equatable {
    /// The launch group.
    public var launchGroup: LaunchGroupID
    /// The chunk that failed.
    public var chunk: Int
    /// How many jobs the launch group became.
    public var chunkCount: Int
    /// The servers of that chunk.
    public var sourceServerIDs: [SourceServerID]
    /// The DRS error type (e.g. `ConflictException`) or a Muster reason code.
    public var errorCode: String
    /// A human-readable reason (never a secret).
    public var reason: String
    /// When it was given up.
    public var failedAt: Date

    /// Creates the payload.
    public init(
        launchGroup: LaunchGroupID, chunk: Int, chunkCount: Int, sourceServerIDs: [SourceServerID], errorCode: String,
        reason: String, failedAt: Date = Date()
    ) {
        self.launchGroup = launchGroup
        self.chunk = chunk
        self.chunkCount = chunkCount
        self.sourceServerIDs = sourceServerIDs
        self.errorCode = errorCode
        self.reason = reason
        self.failedAt = failedAt
    }
}

/// `job.duplicate-detected`: DRS holds several jobs carrying one chunk's
/// tags (launch group, chunk, attempt). The first is the chunk's job; the
/// others are tracked by the launcher and their recovery instances are
/// terminated with the execution's cleanup.
public struct JobDuplicateDetected: Codable, Sendable, Equatable {
    /// The launch group.
    public var launchGroup: LaunchGroupID
    /// The chunk.
    public var chunk: Int
    /// The attempt whose tags the jobs carry.
    public var attempt: Int
    /// The job recorded for the chunk (announced by `job.created`).
    public var jobID: JobID
    /// The other jobs with the same tags.
    public var duplicateJobIDs: [JobID]
    /// When the launcher saw them.
    public var detectedAt: Date

    /// Creates the payload.
    public init(
        launchGroup: LaunchGroupID, chunk: Int, attempt: Int, jobID: JobID, duplicateJobIDs: [JobID],
        detectedAt: Date = Date()
    ) {
        self.launchGroup = launchGroup
        self.chunk = chunk
        self.attempt = attempt
        self.jobID = jobID
        self.duplicateJobIDs = duplicateJobIDs
        self.detectedAt = detectedAt
    }
}

/// `job.observed`: a full snapshot of one DRS job.
public struct JobObserved: Codable, Sendable, Equatable {
    /// The launch group.
    public var launchGroup: LaunchGroupID
    /// The chunk.
    public var chunk: Int
    /// The DRS job id.
    public var jobID: JobID
    /// LAUNCH or TERMINATE.
    public var jobType: DRSJobType
    /// PENDING, STARTED or COMPLETED.
    public var status: DRSJobStatus
    /// Each participating server.
    public var servers: [ObservedServer]
    /// Job-log events not reported in an earlier snapshot.
    public var newLogEvents: [JobLogEvent]
    /// When DRS ended the job, if it did.
    public var endedAt: Date?
    /// When the launcher looked.
    public var observedAt: Date
    /// True when this answers a `job.poll.final`.
    public var isFinal: Bool

    /// Creates the payload.
    public init(
        launchGroup: LaunchGroupID, chunk: Int, jobID: JobID, jobType: DRSJobType = .launch, status: DRSJobStatus,
        servers: [ObservedServer], newLogEvents: [JobLogEvent] = [], endedAt: Date? = nil, observedAt: Date,
        isFinal: Bool = false
    ) {
        self.launchGroup = launchGroup
        self.chunk = chunk
        self.jobID = jobID
        self.jobType = jobType
        self.status = status
        self.servers = servers
        self.newLogEvents = newLogEvents
        self.endedAt = endedAt
        self.observedAt = observedAt
        self.isFinal = isFinal
    }
}

/// One server inside a `job.observed` snapshot.
public struct ObservedServer: Codable, Sendable, Equatable {
    /// The source server.
    public var sourceServerID: SourceServerID
    /// Its launch status in the job.
    public var launchStatus: DRSLaunchStatus
    /// The recovery instance, once DRS created one.
    public var recoveryInstanceID: String?
    /// Post-launch action runs (RECOVERY jobs).
    public var launchActionRuns: [LaunchActionRun]
    /// Overall post-launch status (``PostLaunchActionStatus/overall(_:)`` of the runs), if any.
    public var postLaunchActionsStatus: PostLaunchActionStatus?
    /// Whether the server's DRS launch configuration has post-launch actions
    /// enabled (`postLaunchEnabled`), as the launcher last read it; nil when
    /// unknown, which consumers treat as enabled (they wait for runs).
    public var postLaunchEnabled: Bool?

    /// Creates the server snapshot.
    public init(
        sourceServerID: SourceServerID, launchStatus: DRSLaunchStatus, recoveryInstanceID: String? = nil,
        launchActionRuns: [LaunchActionRun] = [], postLaunchActionsStatus: PostLaunchActionStatus? = nil,
        postLaunchEnabled: Bool? = nil
    ) {
        self.sourceServerID = sourceServerID
        self.launchStatus = launchStatus
        self.recoveryInstanceID = recoveryInstanceID
        self.launchActionRuns = launchActionRuns
        self.postLaunchActionsStatus = postLaunchActionsStatus
        self.postLaunchEnabled = postLaunchEnabled
    }
}

/// One post-launch action run.
public struct LaunchActionRun: Codable, Sendable, Equatable {
    /// The action's id.
    public var actionID: String
    /// The action's name, if known.
    public var actionName: String?
    /// DRS's run status: IN_PROGRESS, SUCCEEDED, FAILED or one AWS added later.
    public var status: PostLaunchActionStatus
    /// Why it failed, if it did.
    public var failureReason: String?

    /// Creates the run.
    public init(
        actionID: String, actionName: String? = nil, status: PostLaunchActionStatus, failureReason: String? = nil
    ) {
        self.actionID = actionID
        self.actionName = actionName
        self.status = status
        self.failureReason = failureReason
    }
}

/// One DRS job-log event (JOB_START, LAUNCH_FAILED, …).
public struct JobLogEvent: Codable, Sendable, Equatable {
    /// The event name in DRS's vocabulary.
    public var event: String
    /// When it happened.
    public var time: Date
    /// The server it concerns, if any.
    public var sourceServerID: SourceServerID?
    /// DRS's raw error text, if any.
    public var rawError: String?

    /// Creates the event.
    public init(event: String, time: Date, sourceServerID: SourceServerID? = nil, rawError: String? = nil) {
        self.event = event
        self.time = time
        self.sourceServerID = sourceServerID
        self.rawError = rawError
    }
}

/// `job.timed-out`: published by the poller, once per job, when the wave's
/// timeout passed and a final look still found the job live.
public struct JobTimedOut: Codable, Sendable, Equatable {
    /// The launch group.
    public var launchGroup: LaunchGroupID
    /// The chunk.
    public var chunk: Int
    /// The DRS job id.
    public var jobID: JobID
    /// The status DRS last reported.
    public var lastStatus: DRSJobStatus
    /// The timeout that passed, in seconds.
    public var timeoutSeconds: Int
    /// When the poller gave up.
    public var timedOutAt: Date

    /// Creates the payload.
    public init(
        launchGroup: LaunchGroupID, chunk: Int, jobID: JobID, lastStatus: DRSJobStatus, timeoutSeconds: Int,
        timedOutAt: Date = Date()
    ) {
        self.launchGroup = launchGroup
        self.chunk = chunk
        self.jobID = jobID
        self.lastStatus = lastStatus
        self.timeoutSeconds = timeoutSeconds
        self.timedOutAt = timedOutAt
    }
}
