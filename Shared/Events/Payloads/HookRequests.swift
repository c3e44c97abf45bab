import Foundation
import MusterDomain

/// `ssm.automation-requested` on `hook.requests.v1` (planner → launcher), key
/// `accountId/region`: run one SSM Automation wave-hook step
/// (`StartAutomationExecution`, then `GetAutomationExecution` until terminal).
/// Not a public event (docs/launcher.md "Wave hook steps").
public struct SSMAutomationRequested: Codable, Sendable, Equatable {
    /// The execution.
    public var executionID: ExecutionID
    /// The wave (1-based).
    public var waveNumber: Int
    /// The step's name (unique within the plan).
    public var stepName: String
    /// Which run of the step (1: the first; a step runs once per execution today).
    public var attempt: Int
    /// A UUID stable for (execution, step, attempt): SSM's `ClientToken`, so a
    /// repeated start never runs a second automation.
    public var idempotencyKey: String
    /// Where the automation runs.
    public var endpoint: Endpoint
    /// The Automation runbook.
    public var documentName: String
    /// `$DEFAULT`, `$LATEST` or a number (nil: the default).
    public var documentVersion: String?
    /// Runbook parameters.
    public var parameters: [String: [String]]
    /// When the step times out: a still-running automation is stopped then.
    public var deadline: Date
    /// When the planner asked.
    public var requestedAt: Date

    /// Creates the payload.
    public init(
        executionID: ExecutionID, waveNumber: Int, stepName: String, attempt: Int = 1, idempotencyKey: String,
        endpoint: Endpoint, documentName: String, documentVersion: String? = nil, parameters: [String: [String]] = [:],
        deadline: Date, requestedAt: Date = Date()
    ) {
        self.executionID = executionID
        self.waveNumber = waveNumber
        self.stepName = stepName
        self.attempt = attempt
        self.idempotencyKey = idempotencyKey
        self.endpoint = endpoint
        self.documentName = documentName
        self.documentVersion = documentVersion
        self.parameters = parameters
        self.deadline = deadline
        self.requestedAt = requestedAt
    }
}

/// `ssm.automation-stop-requested` on `hook.requests.v1` (planner → launcher),
/// key `accountId/region`: the step ended without its result (timed out, or
/// skipped by a cancel); a still-running automation is stopped
/// (`StopAutomationExecution`), one not started yet is never started.
public struct SSMAutomationStopRequested: Codable, Sendable, Equatable {
    /// The execution.
    public var executionID: ExecutionID
    /// The step's name.
    public var stepName: String
    /// The run's idempotency key (as in its `ssm.automation-requested`).
    public var idempotencyKey: String
    /// Where the automation runs.
    public var endpoint: Endpoint
    /// Why (the step's status).
    public var reason: String

    /// Creates the payload.
    public init(executionID: ExecutionID, stepName: String, idempotencyKey: String, endpoint: Endpoint, reason: String) {
        self.executionID = executionID
        self.stepName = stepName
        self.idempotencyKey = idempotencyKey
        self.endpoint = endpoint
        self.reason = reason
    }
}

/// `ssm.automation-status` on `job.status.v1` (launcher → planner), key
/// execution id: an SSM Automation step started (`automationExecutionID`
/// known, `terminal` false) or ended (`terminal` true with its status).
public struct SSMAutomationStatus: Codable, Sendable, Equatable {
    /// The execution.
    public var executionID: ExecutionID
    /// The wave (1-based).
    public var waveNumber: Int
    /// The step's name.
    public var stepName: String
    /// The run of the step.
    public var attempt: Int
    /// Where it runs.
    public var endpoint: Endpoint
    /// SSM's id of the automation (nil when it never started).
    public var automationExecutionID: String?
    /// SSM's `AutomationExecutionStatus` (Pending, InProgress, Success,
    /// Failed, TimedOut, Cancelled, …), or `StartFailed` when SSM refused the start.
    public var status: AutomationExecutionStatus
    /// True once the automation ended (or could not start).
    public var terminal: Bool
    /// The runbook's outputs (terminal only).
    public var outputs: [String: [String]]?
    /// Why it failed (terminal only).
    public var failureMessage: String?
    /// When the launcher saw it.
    public var observedAt: Date

    /// Creates the payload.
    public init(
        executionID: ExecutionID, waveNumber: Int, stepName: String, attempt: Int, endpoint: Endpoint,
        automationExecutionID: String?, status: AutomationExecutionStatus, terminal: Bool, outputs: [String: [String]]? = nil,
        failureMessage: String? = nil, observedAt: Date = Date()
    ) {
        self.executionID = executionID
        self.waveNumber = waveNumber
        self.stepName = stepName
        self.attempt = attempt
        self.endpoint = endpoint
        self.automationExecutionID = automationExecutionID
        self.status = status
        self.terminal = terminal
        self.outputs = outputs
        self.failureMessage = failureMessage
        self.observedAt = observedAt
    }

    /// True for a terminal `Success`.
    public var succeeded: Bool { terminal && status == .success }

    /// What the step's output shows: the automation id, status, outputs and failure.
    public var summary: String {
        var parts = ["automation \(automationExecutionID ?? "-") \(status)"]
        if let outputs, !outputs.isEmpty {
            parts.append("outputs: " + outputs.keys.sorted().map { "\($0)=\(outputs[$0]!.joined(separator: ","))" }
                .joined(separator: "; "))
        }
        if let failureMessage, !failureMessage.isEmpty { parts.append(failureMessage) }
        return parts.joined(separator: " — ")
    }
}
