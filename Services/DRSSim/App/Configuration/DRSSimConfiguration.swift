import Foundation

/// An access key drs-sim accepts, and the account it authenticates as.
public struct DRSSimCredential: Sendable, Equatable, CustomStringConvertible {
    /// The secret access key (used only to verify signatures; never printed).
    public var secretAccessKey: String
    /// The account the key belongs to.
    public var accountID: String

    /// Memberwise initializer.
    public init(secretAccessKey: String, accountID: String) {
        self.secretAccessKey = secretAccessKey
        self.accountID = accountID
    }

    /// The account only: secrets never appear in descriptions.
    public var description: String { "credential(account: \(accountID), secret: <redacted>)" }
}

/// Everything drs-sim needs to start. Defaults give a usable local simulator.
public struct DRSSimConfiguration: Sendable, CustomStringConvertible {
    /// Interface to listen on.
    public var host: String
    /// Port to listen on; 0 picks a free one (see `DRSSimServer.onServerRunning`).
    public var port: Int
    /// Access key id → secret and account. Keys in the seed document are added to these.
    public var credentials: [String: DRSSimCredential]
    /// The account of keys configured without one (`DRS_SIM_CREDENTIALS` entries `AKID:SECRET`).
    public var defaultAccountID: String
    /// The seed for every random decision (ids, timing jitter, fault rates).
    public var seed: UInt64
    /// Simulated seconds per wall-clock second (600: a 20-minute drill takes 2 s).
    public var timeScale: Double
    /// The simulated time at start-up; nil means the wall-clock time at start-up.
    public var epoch: Date?
    /// DRS's quotas, per account and region.
    public var quotas: DRSSimQuotas
    /// The request-rate limit per account and region.
    public var rateLimit: DRSSimRateLimit
    /// Phase durations of simulated jobs.
    public var timing: JobTimingProfile
    /// The estates to start with (and to return to on `POST /admin/reset`).
    public var seedDocument: SeedDocument
    /// How far a request's `X-Amz-Date` may be from the wall clock (AWS: 5 minutes).
    public var maxClockSkew: TimeInterval
    /// If set, admin requests must carry `Authorization: Bearer <token>`.
    public var adminToken: String?
    /// The choices real DRS leaves undocumented (post-launch order, log order, timestamps).
    public var behaviour = DRSSimBehaviour()

    /// A configuration; every parameter has a default.
    public init(
        host: String = "127.0.0.1", port: Int = 8089, credentials: [String: DRSSimCredential] = [:],
        defaultAccountID: String = "123456789012", seed: UInt64 = 42, timeScale: Double = 1, epoch: Date? = nil,
        quotas: DRSSimQuotas = DRSSimQuotas(), rateLimit: DRSSimRateLimit = DRSSimRateLimit(),
        timing: JobTimingProfile = JobTimingProfile(), seedDocument: SeedDocument = SeedDocument(),
        maxClockSkew: TimeInterval = 300, adminToken: String? = nil
    ) {
        self.host = host
        self.port = port
        self.credentials = credentials
        self.defaultAccountID = defaultAccountID
        self.seed = seed
        self.timeScale = timeScale
        self.epoch = epoch
        self.quotas = quotas
        self.rateLimit = rateLimit
        self.timing = timing
        self.seedDocument = seedDocument
        self.maxClockSkew = maxClockSkew
        self.adminToken = adminToken
    }

    /// A one-line summary for the start-up log: key ids and counts, never a
    /// secret or the admin token.
    public var description: String {
        let seeded = seedDocument.accounts.flatMap { $0.credentials ?? [] }.map(\.accessKeyID)
        let keys = (Array(credentials.keys) + seeded).sorted()
        return "drs-sim(host: \(host), port: \(port), timeScale: \(timeScale), seed: \(seed), "
            + "accounts: \(seedDocument.accounts.map(\.accountID).sorted()), accessKeys: \(keys) (secrets redacted), "
            + "adminToken: \(adminToken == nil ? "none" : "<redacted>"), quotas: \(quotas), rateLimit: \(rateLimit), "
            + "postLaunchOrder: \(behaviour.postLaunchOrder.rawValue), logOrder: \(behaviour.logOrder.rawValue), "
            + "logJitterSeconds: \(behaviour.logJitterSeconds), timestampFormat: \(behaviour.timestampFormat.rawValue), "
            + "ssmAgentDelaySeconds: \(behaviour.ssmAgentDelaySeconds))"
    }
}
