import Foundation
import MusterDomain

/// `job.poll` / `job.poll.final` on `job.poll.v1`, key `accountId/region`:
/// look at these jobs with one DescribeJobs call (≤ 1000 ids).
public struct JobPoll: Codable, Sendable, Equatable {
    /// The most job ids one DescribeJobs filter takes.
    public static let maxJobIDs = 1000

    /// The DRS endpoint.
    public var endpoint: Endpoint
    /// The jobs (1…1000).
    public var jobIDs: [JobID]
    /// True for the last look before a timeout (`job.poll.final`).
    public var isFinal: Bool
    /// When the poller sent it (lag metrics).
    public var requestedAt: Date

    /// Creates the payload.
    public init(endpoint: Endpoint, jobIDs: [JobID], isFinal: Bool = false, requestedAt: Date = Date()) {
        self.endpoint = endpoint
        self.jobIDs = jobIDs
        self.isFinal = isFinal
        self.requestedAt = requestedAt
    }
}

/// `instances.terminate` on `instances.terminate.v1`, key `accountId/region`:
/// terminate a drill's recovery instances (TerminateRecoveryInstances, ≤ 200
/// ids per call); the TERMINATE job is tracked like any other.
public struct InstancesTerminate: Codable, Sendable, Equatable {
    /// The execution being cleaned up (`launchGroup` of the TERMINATE job uses wave 0).
    public var executionID: ExecutionID
    /// The DRS endpoint.
    public var endpoint: Endpoint
    /// Recovery instance ids (`i-…`).
    public var recoveryInstanceIDs: [String]
    /// Who asked.
    public var requestedBy: String

    /// Creates the payload.
    public init(executionID: ExecutionID, endpoint: Endpoint, recoveryInstanceIDs: [String], requestedBy: String) {
        self.executionID = executionID
        self.endpoint = endpoint
        self.recoveryInstanceIDs = recoveryInstanceIDs
        self.requestedBy = requestedBy
    }
}

/// `source-server.observed` on `inventory.v1`, key
/// `accountId/region/serverId`: one source server as DRS describes it.
public struct SourceServerObserved: Codable, Sendable, Equatable {
    /// The DRS endpoint.
    public var endpoint: Endpoint
    /// `s-…`.
    public var sourceServerID: SourceServerID
    /// The source machine's hostname, if DRS knows it.
    public var hostname: String?
    /// `dataReplicationInfo.dataReplicationState` (e.g. CONTINUOUS).
    public var replicationState: String?
    /// `lastLaunchResult` (NOT_STARTED, PENDING, SUCCEEDED, FAILED).
    public var lastLaunchResult: String?
    /// The server's tags.
    public var tags: [String: String]
    /// The current recovery instance, if any.
    public var recoveryInstanceID: String?
    /// When the launcher saw it.
    public var observedAt: Date
    /// `dataReplicationInfo.lagDuration` in seconds: how far the staging
    /// area's copy was behind the source at `observedAt` (nil: DRS did not say).
    public var lagSeconds: Double?
    /// `dataReplicationInfo.lastSnapshotDateTime`: the newest point-in-time
    /// snapshot (nil: DRS did not say; botocore's model does not list it).
    public var lastSnapshotAt: Date?

    /// Creates the payload.
    public init(
        endpoint: Endpoint, sourceServerID: SourceServerID, hostname: String?, replicationState: String?,
        lastLaunchResult: String?, tags: [String: String], recoveryInstanceID: String?, observedAt: Date,
        lagSeconds: Double? = nil, lastSnapshotAt: Date? = nil
    ) {
        self.lagSeconds = lagSeconds
        self.lastSnapshotAt = lastSnapshotAt
        self.endpoint = endpoint
        self.sourceServerID = sourceServerID
        self.hostname = hostname
        self.replicationState = replicationState
        self.lastLaunchResult = lastLaunchResult
        self.tags = tags
        self.recoveryInstanceID = recoveryInstanceID
        self.observedAt = observedAt
    }
}

/// `account.registered` / `account.updated` on `accounts.v1`, key
/// `accountId`: an AWS account the launcher may call. Carries a credentials
/// *reference*, never a secret.
public struct AccountRegistration: Codable, Sendable, Equatable {
    /// The 12-digit account id.
    public var accountID: String
    /// A display name.
    public var name: String
    /// Regions Muster may use in it.
    public var regions: [String]
    /// How the launcher gets credentials for it.
    public var credentials: CredentialsReference

    /// Creates the payload.
    public init(accountID: String, name: String, regions: [String], credentials: CredentialsReference) {
        self.accountID = accountID
        self.name = name
        self.regions = regions
        self.credentials = credentials
    }
}

/// Where the launcher finds an account's credentials: never the secret itself.
public enum CredentialsReference: Codable, Sendable, Equatable {
    /// `sts:AssumeRole` from the launcher's base credentials.
    case assumeRole(roleARN: String, externalID: String?)
    /// A key pair the launcher holds under this name (environment or file).
    case keyPair(name: String)
}

/// `account.removed` on `accounts.v1`.
public struct AccountRemoved: Codable, Sendable, Equatable {
    /// The account no longer to be called.
    public var accountID: String

    /// Creates the payload.
    public init(accountID: String) {
        self.accountID = accountID
    }
}
