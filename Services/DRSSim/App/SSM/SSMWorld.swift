import Foundation

/// How drs-sim runs one Automation document (issue 16): the outcome it ends
/// with and after how many simulated seconds (scaled by the time scale, like
/// every DRS job).
public struct SSMDocumentBehaviour: Codable, Sendable, Equatable {
    /// The terminal `AutomationExecutionStatus`: Success, Failed, TimedOut or Cancelled.
    public var outcome: String
    /// Simulated seconds from the start to the end.
    public var durationSeconds: Double
    /// Outputs reported on success (`Step.Output` → values).
    public var outputs: [String: [String]]?
    /// The `FailureMessage` reported when it does not succeed.
    public var failureMessage: String?

    /// The terminal outcomes a document may be set to.
    public static let outcomes = ["Success", "Failed", "TimedOut", "Cancelled"]

    /// Creates a behaviour.
    public init(outcome: String = "Success", durationSeconds: Double = 60, outputs: [String: [String]]? = nil,
                failureMessage: String? = nil) {
        self.outcome = outcome
        self.durationSeconds = durationSeconds
        self.outputs = outputs
        self.failureMessage = failureMessage
    }

    /// Checks the values; the error names the field.
    func validate(_ name: String) throws(DRSSimAdminError) {
        guard Self.outcomes.contains(outcome) else {
            throw DRSSimAdminError("ssmDocuments.\(name).outcome must be one of \(Self.outcomes.joined(separator: ", "))")
        }
        guard (0...604_800).contains(durationSeconds) else {
            throw DRSSimAdminError("ssmDocuments.\(name).durationSeconds must be 0…604800 simulated seconds")
        }
    }
}

/// One Automation execution drs-sim runs.
struct SimAutomation: Sendable, Equatable {
    var id: String
    var documentName: String
    var documentVersion: String
    var parameters: [String: [String]]
    var clientToken: String?
    var startedAt: Date
    var endsAt: Date
    var behaviour: SSMDocumentBehaviour
    /// Set by StopAutomationExecution.
    var stoppedAt: Date?

    /// Its `AutomationExecutionStatus` at simulated time `now`.
    func status(at now: Date) -> String {
        if let stoppedAt, stoppedAt <= now { return "Cancelled" }
        return now >= endsAt ? behaviour.outcome : "InProgress"
    }

    /// When it ended (nil: running at `now`).
    func endedAt(_ now: Date) -> Date? {
        if let stoppedAt, stoppedAt <= now { return stoppedAt }
        return now >= endsAt ? endsAt : nil
    }
}

/// The SSM side of drs-sim: Automation executions per estate.
struct SSMWorld: Sendable, Equatable {
    /// Executions by estate and id.
    var automations: [EstateKey: [String: SimAutomation]] = [:]
    /// Client tokens seen, by estate (lower-cased token → execution id).
    var clientTokens: [EstateKey: [String: String]] = [:]
}
