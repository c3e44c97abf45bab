import Foundation
import MusterDomain

/// `readiness.check-requested` on `accounts.v1` (key: AWS account id): the
/// planner asks the launcher — the only AWS caller — for the readiness checks
/// only AWS can answer (issue 16) for one plan's servers in one account. The
/// launcher answers with `readiness.checked` on `inventory.v1`.
public struct ReadinessCheckRequested: Codable, Sendable, Equatable {
    /// What to look at in one region of the account.
    public struct Region: Codable, Sendable, Equatable {
        /// The region (`us-east-1`).
        public var region: String
        /// The plan's source servers there (`s-…`).
        public var sourceServerIDs: [SourceServerID]
        /// Subnets the plan's launch profiles name (`subnet-…`).
        public var subnetIDs: [String]
        /// Security groups the plan's launch profiles name (`sg-…`).
        public var securityGroupIDs: [String]
        /// Instance types the plan's launch profiles name (`m5.large`); reported, see docs/launcher.md.
        public var instanceTypes: [String]
        /// The largest wave's server count there (quota comparison).
        public var peakServers: Int
        /// The largest wave's job count there (quota comparison).
        public var peakJobs: Int

        /// Creates one region's request.
        public init(region: String, sourceServerIDs: [SourceServerID], subnetIDs: [String] = [], securityGroupIDs: [String] = [],
                    instanceTypes: [String] = [], peakServers: Int, peakJobs: Int) {
            self.region = region
            self.sourceServerIDs = sourceServerIDs
            self.subnetIDs = subnetIDs
            self.securityGroupIDs = securityGroupIDs
            self.instanceTypes = instanceTypes
            self.peakServers = peakServers
            self.peakJobs = peakJobs
        }
    }

    /// The quotas the planner is configured with (DRS's defaults unless raised).
    public struct Quotas: Codable, Sendable, Equatable {
        /// Concurrent jobs per account.
        public var concurrentJobs: Int
        /// Source servers in all active jobs of the account.
        public var serversInActiveJobs: Int

        /// Creates the quotas.
        public init(concurrentJobs: Int, serversInActiveJobs: Int) {
            self.concurrentJobs = concurrentJobs
            self.serversInActiveJobs = serversInActiveJobs
        }
    }

    /// An SSM Automation wave-hook step whose document the launcher looks up (`ssm:DescribeDocument`).
    public struct SSMDocument: Codable, Sendable, Equatable {
        /// The step's name (unique in the plan) and its wave's name, for the finding.
        public var stepName: String
        public var waveName: String
        /// Where the step runs (the request's account).
        public var region: String
        /// The runbook's name or ARN.
        public var documentName: String
        /// `$DEFAULT`, `$LATEST` or a number; nil: the default.
        public var documentVersion: String?

        /// Creates one document reference.
        public init(stepName: String, waveName: String, region: String, documentName: String, documentVersion: String?) {
            self.stepName = stepName
            self.waveName = waveName
            self.region = region
            self.documentName = documentName
            self.documentVersion = documentVersion
        }
    }

    /// The most regions and servers one request names (bounds the launcher's work per record).
    public static let maxServers = 10_000
    /// The most SSM documents one request names.
    public static let maxSSMDocuments = 1_000

    /// Payload version (1).
    public var version: Int
    /// The plan.
    public var planID: PlanID
    /// This evaluation (a UUID); the answer carries it back.
    public var evaluationID: String
    /// The AWS account.
    public var accountID: String
    /// Per region, what to check.
    public var regions: [Region]
    /// The quotas to compare DRS's live figures with.
    public var quotas: Quotas
    /// When the planner asked.
    public var requestedAt: Date
    /// The plan's SSM steps that run in this account (nil from a planner that predates the field: not checked).
    public var ssmDocuments: [SSMDocument]?

    /// Creates the payload.
    public init(planID: PlanID, evaluationID: String, accountID: String, regions: [Region], quotas: Quotas,
                requestedAt: Date, ssmDocuments: [SSMDocument]? = nil) {
        self.ssmDocuments = ssmDocuments
        self.version = 1
        self.planID = planID
        self.evaluationID = evaluationID
        self.accountID = accountID
        self.regions = regions
        self.quotas = quotas
        self.requestedAt = requestedAt
    }
}

/// `readiness.checked` on `inventory.v1` (key: plan id): the launcher's
/// answer to one `readiness.check-requested`.
public struct ReadinessChecked: Codable, Sendable, Equatable {
    /// One check (`account.credentials`, `servers.noLiveJob`,
    /// `servers.noRecoveryInstance`, `account.quotas`, `launch.settings`,
    /// `hooks.reachable`; status ok/warning/unknown/blocking; the message
    /// never holds a secret): the same shape as a finding of
    /// `plan.readiness-changed`, so the planner merges it as is.
    /// (name, status, servers, message, fix), so the planner merges it as is.
    public typealias Check = PlanReadinessChanged.Finding

    /// Payload version (1).
    public var version: Int
    /// The plan.
    public var planID: PlanID
    /// The evaluation asked for.
    public var evaluationID: String
    /// The AWS account.
    public var accountID: String
    /// The checks, in a fixed order.
    public var checks: [Check]
    /// When the launcher finished.
    public var checkedAt: Date

    /// Creates the payload.
    public init(planID: PlanID, evaluationID: String, accountID: String, checks: [Check], checkedAt: Date) {
        self.version = 1
        self.planID = planID
        self.evaluationID = evaluationID
        self.accountID = accountID
        self.checks = checks
        self.checkedAt = checkedAt
    }
}
