import MusterDRS

/// The seed estate file: accounts → regions → source servers, plus the access keys that map
/// to each account. Documented in `Services/DRSSim/README.md`.
public struct SeedDocument: Codable, Equatable, Sendable {
    /// The accounts to create.
    public var accounts: [SeedAccount]

    /// A document with `accounts`.
    public init(accounts: [SeedAccount] = []) {
        self.accounts = accounts
    }
}

/// One AWS account in a seed.
public struct SeedAccount: Codable, Equatable, Sendable {
    /// The 12-digit account id.
    public var accountID: String
    /// Access keys that authenticate as this account (SigV4).
    public var credentials: [SeedCredential]?
    /// Region name → estate. A region not listed answers `UninitializedAccountException`.
    public var regions: [String: SeedRegion]

    /// Memberwise initializer.
    public init(accountID: String, credentials: [SeedCredential]? = nil, regions: [String: SeedRegion]) {
        self.accountID = accountID
        self.credentials = credentials
        self.regions = regions
    }
}

/// An access key pair. The secret is used only to verify signatures and never logged:
/// every description (`print`, `dump`, string interpolation) redacts it.
public struct SeedCredential: Codable, Equatable, Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The access key id, e.g. `AKIDEXAMPLE`.
    public var accessKeyID: String
    /// The secret access key.
    public var secretAccessKey: String

    /// Memberwise initializer.
    public init(accessKeyID: String, secretAccessKey: String) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
    }

    /// The key id only.
    public var description: String { "SeedCredential(accessKeyID: \(accessKeyID), secretAccessKey: <redacted>)" }
    /// The key id only.
    public var debugDescription: String { description }
    /// The key id only (what `dump` and `Mirror` see).
    public var customMirror: Mirror {
        Mirror(self, children: ["accessKeyID": accessKeyID, "secretAccessKey": "<redacted>"])
    }
}

/// The DRS estate of one account in one region.
public struct SeedRegion: Codable, Equatable, Sendable {
    /// Source servers listed one by one.
    public var sourceServers: [SeedSourceServer]?
    /// Source servers generated in bulk (for load tests), after the listed ones.
    public var generatedServers: SeedServerGenerator?

    /// Memberwise initializer.
    public init(sourceServers: [SeedSourceServer]? = nil, generatedServers: SeedServerGenerator? = nil) {
        self.sourceServers = sourceServers
        self.generatedServers = generatedServers
    }
}

/// One source server in a seed. Only `sourceServerID` is required.
public struct SeedSourceServer: Codable, Equatable, Sendable {
    /// `s-` followed by 17 alphanumerics.
    public var sourceServerID: String
    /// The server's hostname (`sourceProperties.identificationHints.hostname`).
    public var hostname: String?
    /// The fully qualified name; defaults to the hostname.
    public var fqdn: String?
    /// Tags, e.g. `muster:launchGroup`.
    public var tags: [String: String]?
    /// `dataReplicationInfo.dataReplicationState`; defaults to `CONTINUOUS` (launchable).
    public var replicationState: String?
    /// Recommended EC2 instance type; defaults to `m5.large`.
    public var recommendedInstanceType: String?
    /// The OS description; defaults to a Linux string.
    public var os: String?
    /// The launch configuration; fields left out take DRS's defaults.
    public var launchConfiguration: LaunchConfiguration?
    /// Post-launch actions run for recovery (non-drill) launches when `postLaunchEnabled` is true.
    public var postLaunchActions: [LaunchAction]?
    /// Replication lag in seconds while the server replicates (`CONTINUOUS`);
    /// defaults to a stable 5…45 s per server. In any other state the lag grows
    /// with the simulated clock from the moment the server was seeded.
    public var lagSeconds: Double?

    /// Memberwise initializer.
    public init(
        sourceServerID: String, hostname: String? = nil, fqdn: String? = nil, tags: [String: String]? = nil,
        replicationState: String? = nil, recommendedInstanceType: String? = nil, os: String? = nil,
        launchConfiguration: LaunchConfiguration? = nil, postLaunchActions: [LaunchAction]? = nil, lagSeconds: Double? = nil
    ) {
        self.lagSeconds = lagSeconds
        self.sourceServerID = sourceServerID
        self.hostname = hostname
        self.fqdn = fqdn
        self.tags = tags
        self.replicationState = replicationState
        self.recommendedInstanceType = recommendedInstanceType
        self.os = os
        self.launchConfiguration = launchConfiguration
        self.postLaunchActions = postLaunchActions
    }
}

/// Generates `count` source servers with ids from the seeded random stream.
public struct SeedServerGenerator: Codable, Equatable, Sendable {
    /// How many servers.
    public var count: Int
    /// Hostnames are `<prefix>-<n>` (1-based); defaults to `server`.
    public var hostnamePrefix: String?
    /// Tags for every generated server.
    public var tags: [String: String]?
    /// Replication state for every generated server; defaults to `CONTINUOUS`.
    public var replicationState: String?

    /// Memberwise initializer.
    public init(count: Int, hostnamePrefix: String? = nil, tags: [String: String]? = nil, replicationState: String? = nil) {
        self.count = count
        self.hostnamePrefix = hostnamePrefix
        self.tags = tags
        self.replicationState = replicationState
    }
}
