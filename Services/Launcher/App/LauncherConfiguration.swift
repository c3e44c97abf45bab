import Foundation
import MusterAWS
import MusterDomain
import MusterEvents
import MusterService

/// The launcher's own settings (docs/launcher.md mirrors this list), read
/// from environment variables with `EnvironmentSettings`; every error names the
/// variable. Durations take `250ms`, `5s`, `2m`, `1h`.
public struct LauncherConfiguration: Sendable {
    /// The topics it consumes and produces (a test prefixes them; a process uses the standard names).
    public var topics = Topics.standard
    /// Crash seams for tests (none in a process): called at the steps where a killed launcher
    /// must leave recoverable state.
    public var hooks = LauncherHooks()
    /// Rate, burst and quotas per (account, region).
    public var limits = EndpointLimits()
    /// ConflictException back-off and deadline.
    public var conflict = ConflictPolicy()
    /// ThrottlingException / 5xx handling.
    public var throttle = ThrottlePolicy()
    /// DRS base URL; `{region}` and `{dnsSuffix}` (the region's partition:
    /// `amazonaws.com`, `amazonaws.com.cn`, …) are replaced. The default
    /// resolves as botocore does, FIPS when `useFIPS`.
    public var drsEndpointTemplate = LauncherConfiguration.defaultDRSEndpointTemplate
    /// EC2 base URL (launch templates, issue 13); `{region}` and `{dnsSuffix}`
    /// are replaced (drs-sim serves it too). The default is partition-aware.
    public var ec2EndpointTemplate = LauncherConfiguration.defaultEC2EndpointTemplate
    /// The partition-aware default EC2 endpoint.
    public static let defaultEC2EndpointTemplate = "https://ec2.{region}.{dnsSuffix}"
    /// SSM base URL (Automation wave hooks, issue 16); `{region}` and
    /// `{dnsSuffix}` are replaced (drs-sim serves it too). The default is partition-aware.
    public var ssmEndpointTemplate = LauncherConfiguration.defaultSSMEndpointTemplate
    /// The partition-aware default SSM endpoint.
    public static let defaultSSMEndpointTemplate = "https://ssm.{region}.{dnsSuffix}"
    /// How often a running SSM Automation is looked at (GetAutomationExecution).
    public var ssmPollInterval: Duration = .seconds(10)
    /// STS base URL for AssumeRole (nil: the region's partition-aware STS
    /// endpoint, FIPS when `useFIPS`); `{region}` and `{dnsSuffix}` replaced.
    public var stsEndpointTemplate: String?
    /// Use the FIPS endpoints of DRS and STS (`MUSTER_AWS_USE_FIPS`, or the
    /// SDKs' `AWS_USE_FIPS_ENDPOINT`).
    public var useFIPS = false
    /// The partition-aware default DRS endpoint.
    public static let defaultDRSEndpointTemplate = "https://drs.{region}.{dnsSuffix}"
    /// Limit for one DRS call.
    public var drsTimeout: Duration = .seconds(30)
    /// What DRS may take beyond `drsTimeout` to act on a request the client gave up
    /// on: an ambiguous StartRecovery is not relaunched before `sent + drsTimeout + this`.
    public var ambiguityMargin: Duration = .seconds(60)
    /// How often an unresolved launch intent is looked for again in DRS.
    public var reconcileInterval: Duration = .seconds(2)
    /// How often an endpoint's loops look at their work when nothing wakes them and nothing is due
    /// (`endpointLoopTiming`): a safety net, since the events that concern them wake them.
    public var schedulerInterval: Duration = .seconds(5)
    /// How often each registered (account, region) is inventoried; zero = never.
    public var inventoryInterval: Duration = .seconds(300)
    /// Inventory publishes only changed servers; every server is published again this often.
    public var inventoryFullRefresh: Duration = .seconds(3600)
    /// A launcher instance whose heartbeat is older than this is presumed dead:
    /// its endpoints are adopted and its SUBMITTING intents reconciled.
    public var instanceStaleAfter: Duration = .seconds(30)
    /// Read each server's launch configuration (cached) before launching.
    public var checkLaunchConfiguration = true
    /// Give a server whose launch configuration is empty DRS's usual defaults.
    public var repairEmptyLaunchConfiguration = false
    /// How long a launch configuration read stays cached.
    public var launchConfigurationTTL: Duration = .seconds(600)
    /// At most this many launch configurations stay cached (docs/launcher.md "Memory").
    public var launchConfigurationCacheSize = 2048
    /// Accounts registered by configuration (more arrive on `accounts.v1`).
    public var accounts: [AccountConfiguration] = []

    /// The defaults.
    public init() {}

    /// Reads the `MUSTER_LAUNCHER_*` / `MUSTER_DRS_*` variables.
    public init(reader: EnvironmentSettings) throws {
        limits = EndpointLimits(
            requestsPerSecond: try reader.double("MUSTER_LAUNCHER_REQUESTS_PER_SECOND", default: 10, range: 0.01...10_000),
            burst: try reader.double("MUSTER_LAUNCHER_REQUEST_BURST", default: 20, range: 1...100_000),
            maxConcurrentJobs: try reader.int("MUSTER_LAUNCHER_MAX_CONCURRENT_JOBS", default: 20, range: 1...10_000),
            maxServersInActiveJobs: try reader.int("MUSTER_LAUNCHER_MAX_SERVERS_IN_ACTIVE_JOBS", default: 200, range: 1...100_000),
            maxServersPerJob: try reader.int("MUSTER_LAUNCHER_MAX_SERVERS_PER_JOB", default: 100, range: 1...200))
        conflict = ConflictPolicy(
            initialDelay: Self.seconds(try reader.duration("MUSTER_LAUNCHER_CONFLICT_INITIAL_BACKOFF", default: .seconds(30))),
            multiplier: try reader.double("MUSTER_LAUNCHER_CONFLICT_MULTIPLIER", default: 2, range: 1...10),
            maxDelay: Self.seconds(try reader.duration("MUSTER_LAUNCHER_CONFLICT_MAX_BACKOFF", default: .seconds(480))),
            deadline: Self.seconds(try reader.duration("MUSTER_LAUNCHER_CONFLICT_DEADLINE", default: .seconds(3600))),
            scale: try reader.double("MUSTER_LAUNCHER_CONFLICT_SCALE", default: 1, range: 0.0001...1000))
        throttle.maxRetryAfter = try reader.duration("MUSTER_LAUNCHER_MAX_RETRY_AFTER", default: .seconds(60))
        drsEndpointTemplate = reader.string("MUSTER_DRS_ENDPOINT", default: drsEndpointTemplate)
        stsEndpointTemplate = reader.optionalString("MUSTER_STS_ENDPOINT")
        useFIPS = try reader.bool("MUSTER_AWS_USE_FIPS", default: try reader.bool("AWS_USE_FIPS_ENDPOINT", default: false))
        ec2EndpointTemplate = reader.string("MUSTER_EC2_ENDPOINT", default: ec2EndpointTemplate)
        ssmEndpointTemplate = reader.string("MUSTER_SSM_ENDPOINT", default: ssmEndpointTemplate)
        ssmPollInterval = try reader.duration("MUSTER_LAUNCHER_SSM_POLL_INTERVAL", default: ssmPollInterval)
        drsTimeout = try reader.duration("MUSTER_DRS_TIMEOUT", default: drsTimeout)
        schedulerInterval = try reader.duration("MUSTER_LAUNCHER_SCHEDULER_INTERVAL", default: schedulerInterval)
        ambiguityMargin = try reader.duration("MUSTER_LAUNCHER_AMBIGUITY_MARGIN", default: ambiguityMargin)
        reconcileInterval = try reader.duration("MUSTER_LAUNCHER_RECONCILE_INTERVAL", default: reconcileInterval)
        inventoryFullRefresh = try reader.duration("MUSTER_LAUNCHER_INVENTORY_FULL_REFRESH", default: inventoryFullRefresh)
        inventoryInterval = try reader.duration("MUSTER_LAUNCHER_INVENTORY_INTERVAL", default: inventoryInterval)
        instanceStaleAfter = try reader.duration("MUSTER_LAUNCHER_INSTANCE_STALE_AFTER", default: instanceStaleAfter)
        checkLaunchConfiguration = try reader.bool("MUSTER_LAUNCHER_CHECK_LAUNCH_CONFIGURATION", default: true)
        repairEmptyLaunchConfiguration = try reader.bool("MUSTER_LAUNCHER_REPAIR_LAUNCH_CONFIGURATION", default: false)
        launchConfigurationTTL = try reader.duration("MUSTER_LAUNCHER_LAUNCH_CONFIGURATION_TTL", default: launchConfigurationTTL)
        launchConfigurationCacheSize = try reader.int(
            "MUSTER_LAUNCHER_LAUNCH_CONFIGURATION_CACHE", default: launchConfigurationCacheSize, range: 1...1_000_000)
        if let raw = reader.optionalString("MUSTER_LAUNCHER_ACCOUNTS") {
            accounts = try AccountConfiguration.parse(raw, variable: "MUSTER_LAUNCHER_ACCOUNTS")
        }
    }

    /// The DRS base URL of `region`: `https://drs.us-east-1.amazonaws.com`,
    /// `https://drs.cn-north-1.amazonaws.com.cn`, `https://drs-fips.…` with `useFIPS`.
    public func drsEndpoint(region: String) -> String {
        if drsEndpointTemplate == Self.defaultDRSEndpointTemplate {
            return AWSEndpoints.url(service: "drs", region: region, fips: useFIPS)
        }
        return AWSEndpoints.expand(drsEndpointTemplate, region: region)
    }

    /// The STS base URL of `region` (for AssumeRole).
    public func stsEndpoint(region: String) -> String {
        stsEndpointTemplate.map { AWSEndpoints.expand($0, region: region) }
            ?? AWSEndpoints.url(service: "sts", region: region, fips: useFIPS)
    }

    /// The EC2 base URL of `region`.
    public func ec2Endpoint(region: String) -> String {
        if ec2EndpointTemplate == Self.defaultEC2EndpointTemplate {
            return AWSEndpoints.url(service: "ec2", region: region, fips: useFIPS)
        }
        return AWSEndpoints.expand(ec2EndpointTemplate, region: region)
    }

    /// The SSM base URL of `region`.
    public func ssmEndpoint(region: String) -> String {
        if ssmEndpointTemplate == Self.defaultSSMEndpointTemplate {
            return AWSEndpoints.url(service: "ssm", region: region, fips: useFIPS)
        }
        return AWSEndpoints.expand(ssmEndpointTemplate, region: region)
    }

    static func seconds(_ duration: Duration) -> TimeInterval {
        duration.seconds
    }
}

/// One account registered in configuration: `{"accountId": "111122223333",
/// "regions": ["us-east-1"], "keyPair": "PROD"}` or with `"roleArn"` and
/// optional `"externalId"` instead of `"keyPair"`. Never holds a secret: a
/// key pair is named, and read from `MUSTER_KEY_<NAME>_AWS_ACCESS_KEY_ID` /
/// `…_AWS_SECRET_ACCESS_KEY` / `…_AWS_SESSION_TOKEN`.
public struct AccountConfiguration: Codable, Sendable, Equatable {
    /// The 12-digit account id.
    public var accountId: String
    /// A display name.
    public var name: String?
    /// Regions Muster may use.
    public var regions: [String]
    /// Name of a key pair the launcher holds.
    public var keyPair: String?
    /// Role to assume with the launcher's base credentials.
    public var roleArn: String?
    /// External id the role's trust policy requires.
    public var externalId: String?

    /// Creates an entry.
    public init(accountId: String, name: String? = nil, regions: [String], keyPair: String? = nil,
                roleArn: String? = nil, externalId: String? = nil) {
        self.accountId = accountId
        self.name = name
        self.regions = regions
        self.keyPair = keyPair
        self.roleArn = roleArn
        self.externalId = externalId
    }

    /// Parses a JSON array, or `file:<path>` naming a file holding one.
    public static func parse(_ raw: String, variable: String) throws -> [AccountConfiguration] {
        var text = raw
        if raw.hasPrefix("file:") {
            let path = String(raw.dropFirst("file:".count))
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConfigurationError.invalid(key: variable, value: raw, rule: "the file cannot be read")
            }
            text = String(decoding: data, as: UTF8.self)
        }
        let entries: [AccountConfiguration]
        do {
            entries = try JSONDecoder().decode([AccountConfiguration].self, from: Data(text.utf8))
        } catch {
            throw ConfigurationError.invalid(
                key: variable, value: nil,
                rule: "must be a JSON array of {accountId, regions, keyPair | roleArn [, externalId]} (or file:<path>)")
        }
        for entry in entries {
            let validID = entry.accountId.count == 12 && entry.accountId.allSatisfy(\.isNumber)
            guard validID, !entry.regions.isEmpty, (entry.keyPair == nil) != (entry.roleArn == nil) else {
                throw ConfigurationError.invalid(
                    key: variable, value: nil,
                    rule: "account \(entry.accountId): needs a 12-digit accountId, at least one region, "
                        + "and exactly one of keyPair or roleArn")
            }
        }
        return entries
    }
}
