import Foundation
import MusterDomain
import MusterEvents

/// What starts an execution: the plan resolved to concrete servers, frozen.
public struct ExecutionBlueprint: Sendable, Equatable {
    /// A wave with its servers resolved from its protection groups.
    public struct Wave: Sendable, Equatable {
        /// The wave's name.
        public var name: String
        /// Numbers (1-based) of the waves it depends on.
        public var dependsOn: [Int]
        /// Approval gate before it starts.
        public var pauseBefore: Bool
        /// Its failure does not block its dependants.
        public var continueOnFailure: Bool
        /// Its timeout in seconds.
        public var timeoutSeconds: Int
        /// Its servers.
        public var servers: [Server]
        /// Hook steps run, in order, before its launch groups start.
        public var before: [HookStep] = []
        /// Hook steps run, in order, once every server of it is resolved.
        public var after: [HookStep] = []

        /// Creates a wave.
        public init(name: String, dependsOn: [Int] = [], pauseBefore: Bool = false, continueOnFailure: Bool = false,
                    timeoutSeconds: Int = 3600, servers: [Server]) {
            self.name = name
            self.dependsOn = dependsOn
            self.pauseBefore = pauseBefore
            self.continueOnFailure = continueOnFailure
            self.timeoutSeconds = timeoutSeconds
            self.servers = servers
        }
    }

    /// A source server and where it lives.
    public struct Server: Sendable, Equatable {
        /// `s-…`.
        public var id: String
        /// Its account.
        public var accountID: String
        /// Its region.
        public var region: String

        /// Creates a server.
        public init(id: String, accountID: String, region: String) {
            self.id = id
            self.accountID = accountID
            self.region = region
        }
    }

    /// The execution id.
    public var executionID: ExecutionID
    /// The owning team.
    public var teamID: TeamID
    /// The plan.
    public var planID: PlanID
    /// The plan's name.
    public var planName: String
    /// DRILL or RECOVERY.
    public var type: ExecutionType
    /// From the token.
    public var initiatedBy: String
    /// The plan's RTO target.
    public var rtoTargetMinutes: Int?
    /// The waves in plan order.
    public var waves: [Wave]
    /// The plan's launch-configuration overrides, copied into every `launch-group.requested`.
    public var launchOverrides: LaunchOverrides?
    /// Resolved launch settings per source server (issue 13).
    public var launchSettings: [String: ServerLaunchSettings]?
    /// The point in time to recover to (nil: latest).
    public var recoveryPoint: RecoveryPoint?
    /// The plan's RPO target.
    public var rpoTargetMinutes: Int?

    /// Creates a blueprint.
    public init(executionID: ExecutionID, teamID: TeamID, planID: PlanID, planName: String, type: ExecutionType,
                initiatedBy: String, rtoTargetMinutes: Int?, waves: [Wave], launchOverrides: LaunchOverrides? = nil) {
        self.executionID = executionID
        self.teamID = teamID
        self.planID = planID
        self.planName = planName
        self.type = type
        self.initiatedBy = initiatedBy
        self.rtoTargetMinutes = rtoTargetMinutes
        self.waves = waves
        self.launchOverrides = launchOverrides
    }
}

/// Something that happens to a running execution.
public enum ExecutionInput: Sendable, Equatable {
    /// `job.queued`.
    case jobQueued(JobQueued)
    /// `job.created`.
    case jobCreated(JobCreated)
    /// `job.launch-failed`.
    case jobLaunchFailed(JobLaunchFailed)
    /// `job.observed`.
    case jobObserved(JobObserved)
    /// `job.timed-out`.
    case jobTimedOut(JobTimedOut)
    /// `job.duplicate-detected`.
    case jobDuplicateDetected(JobDuplicateDetected)
    /// An operator pauses: no new wave starts.
    case pause(actor: String)
    /// An operator resumes (and approves any `pauseBefore` gate reached).
    case resume(actor: String)
    /// An operator cancels; optionally terminating a drill's instances.
    case cancel(actor: String, terminateInstances: Bool)
    /// An operator cleans up a finished drill.
    case cleanup(actor: String)
    /// An SSM or callout step reported its outcome.
    case stepFinished(StepResult)
    /// A person approved or declined an approval step.
    case decide(ApprovalDecision)
    /// Time passed: steps past their deadline time out.
    case tick
}

/// What the state machine asks the world to do; the store turns each into
/// an outbox row in the same transaction as the new state.
public enum ExecutionEffect: Sendable, Equatable {
    /// Publish `launch-group.requested` for one launch group.
    case startLaunchGroup(LaunchGroupRequested)
    /// Publish an `execution.events.v1` event.
    case publish(ExecutionEvent)
    /// Publish `instances.terminate` for one endpoint.
    case terminateInstances(InstancesTerminate)
    /// Run an SSM Automation or HTTP callout step.
    case runStep(StepRun)
    /// A running SSM Automation step ended without its result (timed out,
    /// or skipped by a cancel): stop the automation.
    case stopStep(StepRun)
}

/// Why an operator command is refused (HTTP 409).
public struct ExecutionCommandRefused: Error, Equatable, CustomStringConvertible {
    /// What the operator can do instead.
    public var reason: String
    /// Creates the refusal.
    public init(_ reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { reason }
}
