import Foundation
import MusterDomain

/// The body of `plan.readiness-changed` on `execution.events.v1` (key: plan
/// id): a plan's readiness verdict changed, on a change to the plan or its
/// servers or on the periodic re-evaluation. JSON Schema:
/// docs/events/plan-readiness-changed.schema.json.
public struct PlanReadinessChanged: Codable, Sendable, Equatable {
    /// One readiness check (in this event, one that is not ok; the
    /// launcher's `readiness.checked` carries the same shape, ok included).
    public struct Finding: Codable, Sendable, Equatable {
        /// The check (`servers.replicating`, `account.quotas`, …).
        public var name: String
        /// `ok`, `warning`, `unknown` or `blocking` (never `ok` in this event).
        public var status: ReadinessStatus
        /// The servers concerned.
        public var servers: [String]
        /// What was found.
        public var message: String
        /// What to do.
        public var fix: String?

        /// Creates a finding.
        public init(name: String, status: ReadinessStatus, servers: [String] = [], message: String, fix: String? = nil) {
            self.name = name
            self.status = status
            self.servers = servers
            self.message = message
            self.fix = fix
        }
    }

    /// Payload version (1).
    public var version: Int
    /// Always `plan.readiness-changed` (as `ce_type`).
    public var type: String
    /// The owning team.
    public var teamID: TeamID
    /// The plan.
    public var planID: PlanID
    /// Its name now.
    public var planName: String
    /// `ok`, `warning`, `unknown` or `blocking`.
    public var verdict: ReadinessStatus
    /// The verdict before (nil on the first evaluation).
    public var previousVerdict: ReadinessStatus?
    /// Every check that is not ok.
    public var findings: [Finding]
    /// When it was evaluated.
    public var occurredAt: Date

    /// Creates the payload.
    public init(teamID: TeamID, planID: PlanID, planName: String, verdict: ReadinessStatus, previousVerdict: ReadinessStatus?,
                findings: [Finding], occurredAt: Date) {
        self.version = 1
        self.type = ExecutionEventType.planReadinessChanged.rawValue
        self.teamID = teamID
        self.planID = planID
        self.planName = planName
        self.verdict = verdict
        self.previousVerdict = previousVerdict
        self.findings = findings
        self.occurredAt = occurredAt
    }
}
