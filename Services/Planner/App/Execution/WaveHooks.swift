import Foundation
import MusterAPI
import MusterDomain

/// What a failed (or timed-out) step does to its wave.
public enum HookFailurePolicy: String, Codable, Sendable, Equatable, CaseIterable {
    /// The wave fails: a `before` step's wave never launches; remaining steps are skipped.
    case failWave = "FAIL_WAVE"
    /// The next step runs as if this one had succeeded.
    case `continue` = "CONTINUE"
    /// The execution pauses; resume goes on with the next step, cancel ends it.
    case pause = "PAUSE"
}

/// What declining an approval does.
public enum DeclineAction: String, Codable, Sendable, Equatable, CaseIterable {
    /// The step fails and its `onFailure` policy applies.
    case fail = "FAIL"
    /// The execution is cancelled (as `POST …/cancel`).
    case cancel = "CANCEL"
}

/// One hook step as the plan defines it (validated) and the execution snapshots it.
public struct HookStep: Codable, Sendable, Equatable {
    /// SSM Automation settings.
    public struct SSMAutomation: Codable, Sendable, Equatable {
        /// The Automation runbook (`AWS-RestartEC2Instance`, an ARN, or the team's own).
        public var documentName: String
        /// A document version (`$DEFAULT`, `$LATEST` or a number); nil: the default.
        public var documentVersion: String?
        /// Runbook parameters (SSM takes a list of strings per name).
        public var parameters: [String: [String]]
        /// Where to run it; nil: the wave's only account and region (resolved at start).
        public var accountID: String?
        public var region: String?

        /// Creates the settings.
        public init(documentName: String, documentVersion: String? = nil, parameters: [String: [String]] = [:],
                    accountID: String? = nil, region: String? = nil) {
            self.documentName = documentName
            self.documentVersion = documentVersion
            self.parameters = parameters
            self.accountID = accountID
            self.region = region
        }
    }

    /// HTTP callout settings.
    public struct HTTPCallout: Codable, Sendable, Equatable {
        /// Where the signed POST goes (`https://…`, or `http://` where the planner allows it).
        public var url: String
        /// The team's webhook subscription whose secret signs the POST (the
        /// notifier holds it; the secret never leaves the notifier). nil only
        /// in executions snapshotted before callouts were sent: such a step fails.
        public var subscriptionID: String?

        /// Creates the settings.
        public init(url: String, subscriptionID: String? = nil) {
            self.url = url
            self.subscriptionID = subscriptionID
        }
    }

    /// Approval settings.
    public struct Approval: Codable, Sendable, Equatable {
        /// The least role that may decide (nil: operator, as every execution command).
        public var role: Role?
        /// Someone other than the person who started the execution must decide.
        public var notStarter: Bool
        /// What declining does.
        public var onDecline: DeclineAction

        /// Creates the settings.
        public init(role: Role? = nil, notStarter: Bool = false, onDecline: DeclineAction = .fail) {
            self.role = role
            self.notStarter = notStarter
            self.onDecline = onDecline
        }
    }

    /// Unique within the plan; the `{step}` of `POST /v1/executions/{id}/approvals/{step}`.
    public var name: String
    /// What it does.
    public var kind: HookKind
    /// After this long without an outcome the step is TIMED_OUT (a failure).
    public var timeoutSeconds: Int
    /// What a failure does to the wave.
    public var onFailure: HookFailurePolicy
    /// Set for SSM_AUTOMATION only.
    public var ssm: SSMAutomation?
    /// Set for HTTP_CALLOUT only.
    public var callout: HTTPCallout?
    /// Set for APPROVAL only (defaults apply when absent).
    public var approval: Approval?

    /// Creates a step.
    public init(name: String, kind: HookKind, timeoutSeconds: Int = 3600, onFailure: HookFailurePolicy = .failWave,
                ssm: SSMAutomation? = nil, callout: HTTPCallout? = nil, approval: Approval? = nil) {
        self.name = name
        self.kind = kind
        self.timeoutSeconds = timeoutSeconds
        self.onFailure = onFailure
        self.ssm = ssm
        self.callout = callout
        self.approval = approval
    }
}

/// One hook step inside an execution.
public struct StepState: Codable, Sendable, Equatable {
    /// The definition, snapshotted at start.
    public var step: HookStep
    /// BEFORE or AFTER.
    public var phase: HookPhase
    /// Its status.
    public var status: StepStatus
    /// When it started.
    public var startedAt: Date?
    /// When it times out (start + timeout).
    public var deadline: Date?
    /// When it ended.
    public var endedAt: Date?
    /// What it reported (SSM outputs, the callout's answer, the approver's comment), trimmed.
    public var output: String?
    /// Who approved or declined.
    public var decidedBy: String?
    /// Failed with the PAUSE policy and the execution waits for an operator's resume.
    public var holding: Bool

    /// Creates a pending step.
    init(step: HookStep, phase: HookPhase) {
        self.step = step
        self.phase = phase
        self.status = .pending
        self.holding = false
    }

    /// Where an approval step of `executionID` is decided.
    static func approvalLink(executionID: ExecutionID, step: String) -> String {
        "/v1/executions/\(executionID)/approvals/\(step)"
    }

    /// The most a step's output keeps.
    static let maxOutput = 4096

    /// `text` cut to `maxOutput` characters.
    static func trimmed(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text.count <= maxOutput ? text : String(text.prefix(maxOutput - 1)) + "…"
    }
}

/// The work an SSM or callout step asks for; the store turns it into an
/// outbox row (`aws.requested` / `callout.requested`).
public struct StepRun: Sendable, Equatable {
    /// The execution.
    public var executionID: ExecutionID
    /// The owning team.
    public var teamID: TeamID
    /// The wave (1-based) and its name.
    public var waveNumber: Int
    public var waveName: String
    /// BEFORE or AFTER.
    public var phase: HookPhase
    /// The step, as defined.
    public var step: HookStep
    /// When it must have ended.
    public var deadline: Date
}

/// An outcome reported for a running SSM or callout step (`aws.completed`,
/// or the callout's callback).
public struct StepResult: Sendable, Equatable {
    /// The step's name.
    public var stepName: String
    /// True for success.
    public var succeeded: Bool
    /// What it reported.
    public var output: String?

    /// Creates the result.
    public init(stepName: String, succeeded: Bool, output: String? = nil) {
        self.stepName = stepName
        self.succeeded = succeeded
        self.output = output
    }
}

/// A person's decision on an approval step.
public struct ApprovalDecision: Sendable, Equatable {
    /// The step's name.
    public var stepName: String
    /// Approve (true) or decline.
    public var approve: Bool
    /// Who decides (token subject) and their role.
    public var actor: String
    public var role: Role
    /// Why.
    public var comment: String?

    /// Creates the decision.
    public init(stepName: String, approve: Bool, actor: String, role: Role, comment: String? = nil) {
        self.stepName = stepName
        self.approve = approve
        self.actor = actor
        self.role = role
        self.comment = comment
    }
}

/// A decision refused because of who made it (HTTP 403).
public struct ExecutionCommandForbidden: Error, Equatable, CustomStringConvertible {
    /// Who may decide instead.
    public var reason: String
    /// Creates the refusal.
    public init(_ reason: String) { self.reason = reason }
    /// The reason.
    public var description: String { reason }
}
