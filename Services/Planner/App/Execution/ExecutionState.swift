import Foundation
import MusterDomain
import MusterEvents

/// Everything the planner knows about one execution: the plan snapshot it
/// runs, and the status of every wave, server and DRS job. The state machine
/// reads and returns it; the store keeps it as the execution's JSON document
/// and projects it into wave and server rows.
public struct ExecutionState: Codable, Sendable, Equatable {
    /// The execution id.
    public var id: ExecutionID
    /// The owning team.
    public var teamID: TeamID
    /// The plan it runs (snapshotted at start: later edits don't apply).
    public var planID: PlanID
    /// The plan's name at start.
    public var planName: String
    /// DRILL or RECOVERY.
    public var type: ExecutionType
    /// Who started it (from the token).
    public var initiatedBy: String
    /// The plan's RTO target, in minutes, if it has one.
    public var rtoTargetMinutes: Int?
    /// The plan's launch-configuration overrides at start (nil in documents
    /// written before the field existed, which decode as "no overrides").
    public var launchOverrides: LaunchOverrides?
    /// Resolved launch settings per source server, snapshotted at start (issue 13).
    public var launchSettings: [String: ServerLaunchSettings]?
    /// The point in time to recover to (nil: latest).
    public var recoveryPoint: RecoveryPoint?
    /// The plan's RPO target, in minutes.
    public var rpoTargetMinutes: Int?
    /// The execution's status.
    public var status: ExecutionStatus
    /// When it was created.
    public var createdAt: Date
    /// When it reached a terminal status.
    public var endedAt: Date?
    /// True while an operator's pause holds (as opposed to a `pauseBefore` gate).
    public var pausedByOperator: Bool
    /// The waves, in plan order (number = index + 1).
    public var waves: [WaveState]
    /// Every server, by source server id.
    public var servers: [String: ServerState]
    /// Every DRS job seen, by job id.
    public var jobs: [String: JobState]
    /// Cancelled with "terminate drill instances": instances that launch later are terminated too.
    public var terminateOnCancel: Bool
    /// Drill clean-up, once requested.
    public var cleanup: CleanupState?
    /// Extra DRS jobs carrying one chunk's tags (`job.duplicate-detected`), by
    /// job id; nil in documents written before the field existed.
    public var duplicateJobs: [String: DuplicateJobState]?

    /// The wave numbered `number` (1-based).
    func waveIndex(_ number: Int) -> Int? {
        waves.indices.contains(number - 1) ? number - 1 : nil
    }

    /// The oldest recovery point of any server, as its age at the start, in seconds.
    var worstAchievedRPO: Double? {
        servers.values.compactMap { $0.achievedRPO(executionStart: createdAt) }.max()
    }

    /// The servers of wave `number`.
    func servers(inWave number: Int) -> [ServerState] {
        servers.values.filter { $0.wave == number }.sorted { $0.id < $1.id }
    }
}

/// One wave of an execution.
public struct WaveState: Codable, Sendable, Equatable {
    /// 1-based position in the plan.
    public var number: Int
    /// The wave's name.
    public var name: String
    /// Numbers of the waves it depends on.
    public var dependsOn: [Int]
    /// An approval gate: the execution pauses before this wave starts.
    public var pauseBefore: Bool
    /// When this wave fails, its dependants still run.
    public var continueOnFailure: Bool
    /// The wave's timeout (the poller times its jobs out after it).
    public var timeoutSeconds: Int
    /// Its status.
    public var status: WaveStatus
    /// The gate was approved (resume).
    public var approved: Bool
    /// When its launch groups were handed to the launcher.
    public var startedAt: Date?
    /// When it reached a terminal status.
    public var endedAt: Date?
    /// Why a launch group waits (`job.queued`), while it does.
    public var queuedReason: String?
    /// A job of this wave timed out.
    public var timedOut: Bool
    /// Its hook steps, `before` ones first, each in plan order (nil in documents
    /// written before hooks existed: none).
    public var steps: [StepState]?
    /// The hook phase it is in, while it is in one.
    public var hookStage: HookPhase?
    /// The servers' verdict, held while `after` steps run.
    public var outcome: WaveStatus?

    /// Its steps of `phase`, with their indices in `steps`.
    func steps(_ phase: HookPhase) -> [(index: Int, step: StepState)] {
        (steps ?? []).enumerated().filter { $0.element.phase == phase }.map { ($0.offset, $0.element) }
    }
}

/// Whether a RECOVERY server's post-launch actions are done.
public enum PostLaunchStatus: String, Codable, Sendable, Equatable {
    /// Drills don't wait for post-launch actions; neither does a recovery
    /// whose launch configuration has them disabled.
    case notApplicable = "NOT_APPLICABLE"
    /// Still running or not started — before or after DRS ended the job.
    case pending = "PENDING"
    /// All succeeded.
    case succeeded = "SUCCEEDED"
    /// One failed, or they had not finished when the wave timed out.
    case failed = "FAILED"
}

/// One source server inside an execution.
public struct ServerState: Codable, Sendable, Equatable {
    /// `s-…`.
    public var id: String
    /// Its AWS account.
    public var accountID: String
    /// Its region.
    public var region: String
    /// The wave it launches in.
    public var wave: Int
    /// Its status.
    public var status: ServerStatus
    /// The DRS job launching it.
    public var jobID: String?
    /// Its recovery instance.
    public var recoveryInstanceID: String?
    /// When its wave handed it to the launcher.
    public var startedAt: Date?
    /// When DRS reported it LAUNCHED.
    public var launchedAt: Date?
    /// When it became resolved (success or failure).
    public var endedAt: Date?
    /// Why it failed.
    public var failureReason: String?
    /// Post-launch actions (RECOVERY only).
    public var postLaunch: PostLaunchStatus
    /// The snapshot it is launched from (`job.created`; nil: latest state).
    public var recoverySnapshotID: String?
    /// When that snapshot was taken.
    public var recoverySnapshotTime: Date?
    /// Launched from `latest`: the recovery point estimated from the inventory at launch.
    public var latestRecoveryPoint: LatestRecoveryPoint?
    /// DRS job-log items about it (and its job), oldest first, bounded (`JobLogBook`).
    public var logEvents: [JobLogEvent]?

    /// The achieved RPO in seconds, nil when unknown: a chosen snapshot's age
    /// at the execution's start; for `latest`, the data's age at launch.
    func achievedRPO(executionStart: Date) -> Double? {
        if let recoverySnapshotTime {
            return max(0, (executionStart.timeIntervalSince(recoverySnapshotTime) * 1000).rounded() / 1000)
        }
        return latestRecoveryPoint?.ageAtLaunchSeconds
    }

    /// The recovery point: the chosen snapshot's time, or the estimate for `latest`.
    var recoveryPointTime: Date? { recoverySnapshotTime ?? latestRecoveryPoint?.time }

    /// The DRS endpoint it lives in.
    public var endpoint: Endpoint { Endpoint(accountID: accountID, region: region) }

    /// True when its part of the wave is over: failed, or launched with
    /// post-launch actions done (or not applicable).
    public var isResolved: Bool {
        switch status {
        case .failed, .terminated: true
        case .launched: postLaunch != .pending
        case .pending, .launching, .inProgress: false
        }
    }

    /// True when it launched and (RECOVERY) its post-launch actions succeeded.
    public var succeeded: Bool {
        status == .launched && (postLaunch == .succeeded || postLaunch == .notApplicable)
    }

    /// Ordering used to refuse stale snapshots: a server never goes backwards.
    var rank: Int {
        switch status {
        case .pending: 0
        case .launching: 1
        case .inProgress: 2
        case .launched, .failed, .terminated: 3
        }
    }
}

/// One DRS job the execution owns (LAUNCH for waves, TERMINATE for clean-up).
public struct JobState: Codable, Sendable, Equatable {
    /// `drsjob-…`.
    public var jobID: String
    /// The wave (0 for clean-up jobs).
    public var wave: Int
    /// `accountId/region`.
    public var endpointKey: String
    /// Chunk of its launch group.
    public var chunk: Int
    /// How many jobs the launch group became.
    public var chunkCount: Int
    /// LAUNCH or TERMINATE.
    public var type: DRSJobType
    /// The servers in it.
    public var serverIDs: [String]
    /// The last status observed.
    public var status: DRSJobStatus
    /// When the newest applied snapshot was taken.
    public var lastObservedAt: Date?
    /// The poller declared it timed out.
    public var timedOut: Bool
}

/// A DRS job that duplicates a chunk's job (the design's invariant broken by
/// a DRS that acted later than the launcher could wait). It never moves a
/// server or a wave; its recovery instances are terminated with the drill's
/// clean-up (or at once, when a clean-up or a terminating cancel came first).
public struct DuplicateJobState: Codable, Sendable, Equatable {
    /// The chunk's recorded job.
    public var primaryJobID: String
    /// `accountId/region`.
    public var endpointKey: String
    /// Recovery instances the duplicate launched, as observed.
    public var instanceIDs: [String]
}

/// A drill's clean-up: `instances.terminate` per endpoint, tracked until
/// every TERMINATE job completed.
public struct CleanupState: Codable, Sendable, Equatable {
    /// Who asked.
    public var requestedBy: String
    /// When.
    public var requestedAt: Date
    /// Endpoints whose TERMINATE jobs are not all done.
    public var pendingEndpoints: [String]
    /// Per endpoint: chunks done (completed or failed to launch).
    public var doneChunks: [String: [Int]]
    /// Instances asked to terminate.
    public var instanceIDs: [String]
    /// When every TERMINATE job finished.
    public var completedAt: Date?
    /// Terminate chunks that failed to launch.
    public var failures: [String]
}
