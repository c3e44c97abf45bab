import Foundation
import MusterDomain

// HTTP callout hook steps (issue 16). `callouts.v1` and `callout.results.v1`
// are private planner ↔ notifier topics, key execution id: a request carries
// the one-time callback URL, a capability, so it never travels on the public
// `execution.events.v1`. No signing secret travels at all: the notifier signs
// with the secret of the team's subscription the step names.

/// The JSON body the notifier POSTs to the step's URL.
public struct CalloutBody: Codable, Sendable, Equatable {
    /// Always `callout`, so a receiver also subscribed to webhooks tells them apart.
    public var kind: String
    /// The execution, its type (DRILL / RECOVERY) and who started it.
    public var executionID: ExecutionID
    public var executionType: String
    public var initiatedBy: String
    /// The plan and the team.
    public var planID: PlanID
    public var planName: String
    public var teamID: TeamID
    /// The wave (1-based number and name).
    public var waveNumber: Int
    public var waveName: String
    /// The step: name, phase (BEFORE / AFTER) and when it times out.
    public var stepName: String
    public var phase: String
    public var deadline: Date
    /// Where to report the outcome, once: `POST` `{"status": "SUCCEEDED"|"FAILED", "output": {…}}`.
    public var callbackURL: String

    /// Creates the body.
    public init(executionID: ExecutionID, executionType: String, initiatedBy: String, planID: PlanID, planName: String,
                teamID: TeamID, waveNumber: Int, waveName: String, stepName: String, phase: String, deadline: Date,
                callbackURL: String) {
        self.kind = "callout"
        self.executionID = executionID
        self.executionType = executionType
        self.initiatedBy = initiatedBy
        self.planID = planID
        self.planName = planName
        self.teamID = teamID
        self.waveNumber = waveNumber
        self.waveName = waveName
        self.stepName = stepName
        self.phase = phase
        self.deadline = deadline
        self.callbackURL = callbackURL
    }
}

/// `callout.requested` on `callouts.v1`: POST `body` to `url`, signed with the
/// secret of subscription `subscriptionID` of team `body.teamID`, retrying
/// until `body.deadline`.
public struct CalloutRequested: Codable, Sendable, Equatable {
    /// The receiver's URL.
    public var url: String
    /// The team's webhook subscription whose secret signs the POST.
    public var subscriptionID: String
    /// What is POSTed.
    public var body: CalloutBody

    /// Creates the request.
    public init(url: String, subscriptionID: String, body: CalloutBody) {
        self.url = url
        self.subscriptionID = subscriptionID
        self.body = body
    }
}

/// `callout.completed` on `callout.results.v1`: the POST was answered 2xx
/// (`delivered`, with the start of the answer, which may hold a final
/// result), or failed for good (retries exhausted by the step's deadline or
/// the retry window, or it could not be signed).
public struct CalloutCompleted: Codable, Sendable, Equatable {
    /// The execution and step.
    public var executionID: ExecutionID
    public var stepName: String
    /// True when the receiver answered 2xx.
    public var delivered: Bool
    /// The receiver's last HTTP status, if it answered.
    public var statusCode: Int?
    /// Why it failed (no secrets, no callback URL).
    public var error: String?
    /// The start of a 2xx answer's body (at most 4096 bytes of UTF-8).
    public var answer: String?
    /// Attempts made.
    public var attempts: Int

    /// Creates the outcome.
    public init(executionID: ExecutionID, stepName: String, delivered: Bool, statusCode: Int? = nil, error: String? = nil,
                answer: String? = nil, attempts: Int) {
        self.executionID = executionID
        self.stepName = stepName
        self.delivered = delivered
        self.statusCode = statusCode
        self.error = error
        self.answer = answer
        self.attempts = attempts
    }
}
