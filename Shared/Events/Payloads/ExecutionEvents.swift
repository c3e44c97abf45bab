import Foundation
import MusterDomain

// The public `execution.events.v1` stream (DESIGN §3), key = execution id.
// Outside consumers (the notifier, downstream systems) read it; its JSON
// Schema is docs/events/execution-events.schema.json. Versioned: fields are
// only ever added; a consumer must ignore fields it does not know.

/// The `ce_type` values of `execution.events.v1`.
public enum ExecutionEventType: String, Codable, Sendable, CaseIterable {
    /// The execution was accepted and its first waves are starting.
    case executionStarted = "execution.started"
    /// A wave's launch groups were handed to the launcher.
    case waveStarted = "wave.started"
    /// A server's recovery instance launched (and, for RECOVERY, its post-launch actions succeeded).
    case serverLaunched = "server.launched"
    /// A server's launch failed, timed out, or its post-launch actions failed.
    case serverFailed = "server.failed"
    /// A wave reached a terminal status (COMPLETED, PARTIAL, FAILED, SKIPPED or TIMED_OUT).
    case waveCompleted = "wave.completed"
    /// No new wave starts until resumed (operator pause or a `pauseBefore` gate).
    case executionPaused = "execution.paused"
    /// Waves start again.
    case executionResumed = "execution.resumed"
    /// Every wave ended; status COMPLETED or PARTIAL.
    case executionCompleted = "execution.completed"
    /// Every wave ended and no server launched.
    case executionFailed = "execution.failed"
    /// An operator cancelled it.
    case executionCancelled = "execution.cancelled"
    /// A wave timed out (DRS still reported its job live after the wave's timeout).
    case executionTimedOut = "execution.timed-out"
    /// A drill's recovery instances were terminated.
    case cleanupCompleted = "cleanup.completed"
    /// A wave hook step (SSM Automation, HTTP callout, approval) started.
    case stepStarted = "step.started"
    /// A wave hook step ended: SUCCEEDED, FAILED, TIMED_OUT, DECLINED or SKIPPED (`step.status`, `step.output`).
    case stepCompleted = "step.completed"
    /// An approval step waits for a person; `step.link` is where to approve or decline.
    case approvalRequested = "execution.approval-requested"
    /// A plan's readiness verdict changed. Not an execution event: its body is `PlanReadinessChanged`
    /// (key and `ce_subject`: the plan id), and it is not in the planner's execution event log.
    case planReadinessChanged = "plan.readiness-changed"

    /// The execution ended (completed, failed, cancelled, timed out): the event carries `objectives`.
    public var isTerminalExecutionEvent: Bool {
        [.executionCompleted, .executionFailed, .executionCancelled, .executionTimedOut].contains(self)
    }
}

/// The body of every `execution.events.v1` event: the execution's identity
/// and status after the transition, plus the wave or server it concerns.
public struct ExecutionEvent: Codable, Sendable, Equatable {
    /// The payload version; bumped only for incompatible changes (never so far).
    public static let currentVersion = 1

    /// Payload version (1).
    public var version: Int
    /// Same as `ce_type`, repeated so a body is self-describing.
    public var type: ExecutionEventType
    /// The execution.
    public var executionID: ExecutionID
    /// DRILL or RECOVERY.
    public var executionType: ExecutionType
    /// The execution's status after this transition.
    public var executionStatus: ExecutionStatus
    /// The recovery plan.
    public var planID: PlanID
    /// The plan's name when the execution started.
    public var planName: String
    /// The owning team's id.
    public var teamID: TeamID
    /// Who started the execution (from their token).
    public var initiatedBy: String
    /// Who caused this transition when it was a person (pause, resume, cancel, cleanup).
    public var actor: String?
    /// The wave concerned, for wave and server events.
    public var wave: WaveRef?
    /// The server concerned, for server events.
    public var server: ServerRef?
    /// Why (pause reason, failure reason), when there is one.
    public var reason: String?
    /// When the transition happened.
    public var occurredAt: Date
    /// Recovery-point and recovery-time evidence (`execution.completed` and the other terminal events).
    public var objectives: Objectives?
    /// The wave hook step concerned, for step events.
    public var step: StepRef?

    /// RTO and RPO of a finished execution (issue 13).
    public struct Objectives: Codable, Sendable, Equatable {
        /// The plan's RTO target, in minutes.
        public var rtoTargetMinutes: Int?
        /// From the start to the last server launched, in seconds.
        public var secondsToLastLaunch: Double?
        /// The plan's RPO target, in minutes.
        public var rpoTargetMinutes: Int?
        /// The oldest snapshot any server was recovered from, as its age at the start, in seconds.
        public var worstAchievedRpoSeconds: Double?

        /// Creates the evidence.
        public init(rtoTargetMinutes: Int?, secondsToLastLaunch: Double?, rpoTargetMinutes: Int?, worstAchievedRpoSeconds: Double?) {
            self.rtoTargetMinutes = rtoTargetMinutes
            self.secondsToLastLaunch = secondsToLastLaunch
            self.rpoTargetMinutes = rpoTargetMinutes
            self.worstAchievedRpoSeconds = worstAchievedRpoSeconds
        }
    }

    /// Creates the payload.
    public init(
        type: ExecutionEventType, executionID: ExecutionID, executionType: ExecutionType, executionStatus: ExecutionStatus,
        planID: PlanID, planName: String, teamID: TeamID, initiatedBy: String, actor: String? = nil,
        wave: WaveRef? = nil, server: ServerRef? = nil, reason: String? = nil, occurredAt: Date,
        version: Int = ExecutionEvent.currentVersion, objectives: Objectives? = nil, step: StepRef? = nil
    ) {
        self.objectives = objectives
        self.step = step
        self.version = version
        self.type = type
        self.executionID = executionID
        self.executionType = executionType
        self.executionStatus = executionStatus
        self.planID = planID
        self.planName = planName
        self.teamID = teamID
        self.initiatedBy = initiatedBy
        self.actor = actor
        self.wave = wave
        self.server = server
        self.reason = reason
        self.occurredAt = occurredAt
    }

    /// A wave as execution events describe it.
    public struct WaveRef: Codable, Sendable, Equatable {
        /// 1-based position in the plan.
        public var number: Int
        /// The wave's name.
        public var name: String
        /// Its status after the transition.
        public var status: WaveStatus

        /// Creates the reference.
        public init(number: Int, name: String, status: WaveStatus) {
            self.number = number
            self.name = name
            self.status = status
        }
    }

    /// A source server as execution events describe it.
    public struct ServerRef: Codable, Sendable, Equatable {
        /// `s-…`.
        public var sourceServerID: SourceServerID
        /// Its AWS account.
        public var accountID: String
        /// Its region.
        public var region: String
        /// Its status after the transition.
        public var status: ServerStatus
        /// The recovery instance, when one exists.
        public var recoveryInstanceID: String?

        /// Creates the reference.
        public init(sourceServerID: SourceServerID, accountID: String, region: String, status: ServerStatus,
                    recoveryInstanceID: String? = nil) {
            self.sourceServerID = sourceServerID
            self.accountID = accountID
            self.region = region
            self.status = status
            self.recoveryInstanceID = recoveryInstanceID
        }
    }

    /// A wave hook step as execution events describe it.
    public struct StepRef: Codable, Sendable, Equatable {
        /// The step's name (unique within the plan).
        public var name: String
        /// SSM_AUTOMATION, HTTP_CALLOUT or APPROVAL.
        public var kind: HookKind
        /// BEFORE or AFTER the wave's launch.
        public var phase: HookPhase
        /// PENDING, RUNNING, SUCCEEDED, FAILED, TIMED_OUT, DECLINED or SKIPPED after the transition.
        public var status: StepStatus
        /// What the step reported (SSM outputs, the callout's answer, the approver's comment), at most 4096 characters.
        public var output: String?
        /// Where to approve or decline (`execution.approval-requested`).
        public var link: String?

        /// Creates the reference.
        public init(name: String, kind: HookKind, phase: HookPhase, status: StepStatus, output: String? = nil, link: String? = nil) {
            self.name = name
            self.kind = kind
            self.phase = phase
            self.status = status
            self.output = output
            self.link = link
        }
    }
}
