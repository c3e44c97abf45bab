import Foundation
import MusterService

/// A setting drs-sim cannot start with; the message names the setting and the fix.
public struct DRSSimConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong and how to fix it.
    public var message: String

    /// An error with `message`.
    public init(_ message: String) {
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

extension DRSSimConfiguration {
    /// The environment variables drs-sim reads, with what each means (for `--help` and the README).
    public static let environmentHelp: [(name: String, meaning: String)] = [
        ("DRS_SIM_HOST", "interface to listen on (default 127.0.0.1)"),
        ("DRS_SIM_PORT", "port to listen on; 0 picks a free one (default 8089)"),
        ("DRS_SIM_SEED_FILE", "path of the seed estate JSON (see README)"),
        ("DRS_SIM_TIME_SCALE", "simulated seconds per wall-clock second (default 1; 600 runs a 20-minute drill in 2 s)"),
        ("DRS_SIM_CREDENTIALS", "access keys, AKID:SECRET[:ACCOUNT] separated by commas"),
        ("DRS_SIM_DEFAULT_ACCOUNT", "account of keys given without one (default 123456789012)"),
        ("DRS_SIM_RANDOM_SEED", "seed for ids, timing jitter and fault rates (default 42)"),
        ("DRS_SIM_EPOCH", "simulated start time, ISO 8601 (default: now)"),
        ("DRS_SIM_MAX_CONCURRENT_JOBS", "active jobs per account and region (default 20)"),
        ("DRS_SIM_MAX_SERVERS_IN_ACTIVE_JOBS", "servers in all active jobs per account and region (default 200)"),
        ("DRS_SIM_MAX_SERVERS_PER_JOB", "servers per StartRecovery, at most 200 (default 200)"),
        ("DRS_SIM_RATE_LIMIT", "DRS requests per second per account and region (default 50)"),
        ("DRS_SIM_RATE_BURST", "burst of the rate limit (default 100)"),
        ("DRS_SIM_TIMING_JITTER", "relative jitter of job phase durations, 0…0.5 (default 0.1)"),
        ("DRS_SIM_MAX_CLOCK_SKEW", "seconds X-Amz-Date may differ from the clock (default 300)"),
        ("DRS_SIM_ADMIN_TOKEN", "if set, /admin requests need Authorization: Bearer <token>"),
        ("DRS_SIM_POST_LAUNCH_ORDER", "after-job (JOB_END before post-launch runs; default) or before-job"),
        ("DRS_SIM_LOG_ORDER", "DescribeJobLogItems order: oldest-first (default) or newest-first"),
        ("DRS_SIM_LOG_JITTER", "simulated seconds a log item may be listed late, 0…3600 (default 0)"),
        ("DRS_SIM_TIMESTAMP_FORMAT", "millis (…12.345Z, default) or aws (…12.345678+00:00, as real DRS)"),
        ("DRS_SIM_SSM_AGENT_DELAY", "simulated seconds until post-launch runs start, after launch or JOB_END (default 30)"),
        ("DRS_SIM_REPLICATION_INFO", "dataReplicationInfo freshness fields: lag-and-last-snapshot (default), lag-only, last-snapshot-only, none"),
        ("DRS_SIM_SSM_DOCUMENTS", #"SSM Automation documents as JSON: {"Name": {"outcome": "Failed", "durationSeconds": 120}} (outcome Success|Failed|TimedOut|Cancelled)"#),
        ("DRS_SIM_SSM_DEFAULT", #"how other documents run, JSON as above (default {"outcome": "Success", "durationSeconds": 60})"#),
        ("DRS_SIM_SSM_MISSING_DOCUMENTS", "documents SSM does not know (AutomationDefinitionNotFoundException), comma-separated"),
    ]

    /// Reads the configuration from the environment, then from command-line options
    /// (`--port N`, `--host H`, `--seed-file PATH`, `--time-scale X`), which win.
    ///
    /// - Throws: `DRSSimConfigurationError` naming the bad setting.
    public static func load(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        arguments: [String] = Array(CommandLine.arguments.dropFirst())
    ) throws(DRSSimConfigurationError) -> DRSSimConfiguration {
        var env = environment
        var index = 0
        let options = ["--port": "DRS_SIM_PORT", "--host": "DRS_SIM_HOST", "--seed-file": "DRS_SIM_SEED_FILE", "--time-scale": "DRS_SIM_TIME_SCALE"]
        while index < arguments.count {
            let argument = arguments[index]
            let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
            guard let variable = options[parts[0]] else {
                throw DRSSimConfigurationError(
                    "unknown option '\(argument)'; drs-sim accepts \(options.keys.sorted().joined(separator: ", ")) and DRS_SIM_* environment variables"
                )
            }
            if parts.count == 2 {
                env[variable] = parts[1]
            } else {
                guard index + 1 < arguments.count else { throw DRSSimConfigurationError("option \(argument) needs a value") }
                index += 1
                env[variable] = arguments[index]
            }
            index += 1
        }
        return try DRSSimConfiguration(environment: env)
    }

    /// Reads the configuration from `DRS_SIM_*` environment variables (see `environmentHelp`).
    ///
    /// - Throws: `DRSSimConfigurationError` naming the bad variable.
    public init(environment env: [String: String]) throws(DRSSimConfigurationError) {
        let reader = Reader(env: env)
        self.init()
        host = reader.string("DRS_SIM_HOST") ?? host
        port = try reader.int("DRS_SIM_PORT", range: 0...65535) ?? port
        timeScale = try reader.double("DRS_SIM_TIME_SCALE", range: 0.000_001...1_000_000) ?? timeScale
        defaultAccountID = reader.string("DRS_SIM_DEFAULT_ACCOUNT") ?? defaultAccountID
        guard defaultAccountID.count == 12, defaultAccountID.allSatisfy(\.isNumber) else {
            throw DRSSimConfigurationError("DRS_SIM_DEFAULT_ACCOUNT must be a 12-digit account id")
        }
        if let text = reader.string("DRS_SIM_RANDOM_SEED") {
            guard let value = UInt64(text) else { throw DRSSimConfigurationError("DRS_SIM_RANDOM_SEED must be an unsigned integer, got '\(text)'") }
            seed = value
        }
        if let text = reader.string("DRS_SIM_EPOCH") {
            guard let date = ISO8601DateFormatter().date(from: text) else {
                throw DRSSimConfigurationError("DRS_SIM_EPOCH must be an ISO 8601 date-time such as 2024-05-01T00:00:00Z, got '\(text)'")
            }
            epoch = date
        }
        quotas.maxConcurrentJobs = try reader.int("DRS_SIM_MAX_CONCURRENT_JOBS", range: 1...10_000) ?? quotas.maxConcurrentJobs
        quotas.maxServersInActiveJobs = try reader.int("DRS_SIM_MAX_SERVERS_IN_ACTIVE_JOBS", range: 1...100_000)
            ?? quotas.maxServersInActiveJobs
        quotas.maxServersPerJob = try reader.int("DRS_SIM_MAX_SERVERS_PER_JOB", range: 1...200) ?? quotas.maxServersPerJob
        rateLimit.requestsPerSecond = try reader.double("DRS_SIM_RATE_LIMIT", range: 0...1_000_000) ?? rateLimit.requestsPerSecond
        rateLimit.burst = try reader.double("DRS_SIM_RATE_BURST", range: 1...1_000_000) ?? rateLimit.burst
        timing.jitter = try reader.double("DRS_SIM_TIMING_JITTER", range: 0...0.5) ?? timing.jitter
        maxClockSkew = try reader.double("DRS_SIM_MAX_CLOCK_SKEW", range: 1...86_400) ?? maxClockSkew
        adminToken = reader.string("DRS_SIM_ADMIN_TOKEN")
        behaviour.postLaunchOrder = try reader.choice("DRS_SIM_POST_LAUNCH_ORDER") ?? behaviour.postLaunchOrder
        behaviour.logOrder = try reader.choice("DRS_SIM_LOG_ORDER") ?? behaviour.logOrder
        behaviour.logJitterSeconds = try reader.double("DRS_SIM_LOG_JITTER", range: 0...3600) ?? behaviour.logJitterSeconds
        behaviour.timestampFormat = try reader.choice("DRS_SIM_TIMESTAMP_FORMAT") ?? behaviour.timestampFormat
        behaviour.ssmAgentDelaySeconds = try reader.double("DRS_SIM_SSM_AGENT_DELAY", range: 0...86_400)
            ?? behaviour.ssmAgentDelaySeconds
        behaviour.replicationInfo = try reader.choice("DRS_SIM_REPLICATION_INFO") ?? behaviour.replicationInfo
        if let documents = reader.string("DRS_SIM_SSM_DOCUMENTS") {
            behaviour.ssmDocuments = try Self.json([String: SSMDocumentBehaviour].self, documents, "DRS_SIM_SSM_DOCUMENTS")
        }
        if let fallback = reader.string("DRS_SIM_SSM_DEFAULT") {
            behaviour.ssmDefault = try Self.json(SSMDocumentBehaviour.self, fallback, "DRS_SIM_SSM_DEFAULT")
        }
        if let missing = reader.string("DRS_SIM_SSM_MISSING_DOCUMENTS") {
            behaviour.ssmMissingDocuments = missing.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
        }
        do {
            try behaviour.validateSSM()
        } catch {
            throw DRSSimConfigurationError("DRS_SIM_SSM_DOCUMENTS / DRS_SIM_SSM_DEFAULT: \(error.message)")
        }
        credentials = try Self.parseCredentials(reader.string("DRS_SIM_CREDENTIALS") ?? "", defaultAccountID: defaultAccountID)
        if let path = reader.string("DRS_SIM_SEED_FILE") {
            seedDocument = try Self.loadSeed(path: path)
        }
    }

    /// Decodes a JSON setting; the error names the variable.
    static func json<T: Decodable>(_ type: T.Type, _ text: String, _ name: String) throws(DRSSimConfigurationError) -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw DRSSimConfigurationError("\(name) must be JSON: \(error)")
        }
    }

    /// Parses `AKID:SECRET[:ACCOUNT],…`.
    public static func parseCredentials(
        _ text: String, defaultAccountID: String
    ) throws(DRSSimConfigurationError) -> [String: DRSSimCredential] {
        var result: [String: DRSSimCredential] = [:]
        for entry in text.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            let parts = entry.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard (2...3).contains(parts.count), !parts[0].isEmpty, !parts[1].isEmpty else {
                // Only the key id is echoed: the entry holds a secret.
                throw DRSSimConfigurationError(
                    "DRS_SIM_CREDENTIALS entry for key '\(parts.first ?? "")' must be AKID:SECRET or AKID:SECRET:ACCOUNT"
                )
            }
            let account = parts.count == 3 ? parts[2] : defaultAccountID
            guard account.count == 12, account.allSatisfy(\.isNumber) else {
                throw DRSSimConfigurationError("DRS_SIM_CREDENTIALS: account of key '\(parts[0])' must be 12 digits")
            }
            result[parts[0]] = DRSSimCredential(secretAccessKey: parts[1], accountID: account)
        }
        return result
    }

    /// Loads a seed estate file.
    public static func loadSeed(path: String) throws(DRSSimConfigurationError) -> SeedDocument {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DRSSimConfigurationError("DRS_SIM_SEED_FILE: cannot read '\(path)': \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(SeedDocument.self, from: data)
        } catch {
            throw DRSSimConfigurationError(
                "DRS_SIM_SEED_FILE: '\(path)' is not a valid seed document (\(error)); see Services/DRSSim/README.md"
            )
        }
    }
}

/// The shared `EnvironmentSettings`'s typed reads, with its errors (which name the
/// variable and the rule) carried as `DRSSimConfigurationError`.
private struct Reader {
    let config: EnvironmentSettings

    init(env: [String: String]) {
        config = EnvironmentSettings(environment: env)
    }

    func string(_ name: String) -> String? {
        config.optionalString(name)
    }

    func int(_ name: String, range: ClosedRange<Int>) throws(DRSSimConfigurationError) -> Int? {
        guard string(name) != nil else { return nil }
        do { return try config.int(name, default: range.lowerBound, range: range) } catch {
            throw DRSSimConfigurationError("\(error)")
        }
    }

    func choice<T: RawRepresentable & CaseIterable>(_ name: String) throws(DRSSimConfigurationError) -> T?
    where T.RawValue == String {
        guard let text = string(name) else { return nil }
        guard let value = T(rawValue: text.lowercased()) else {
            throw DRSSimConfigurationError(
                "\(name) must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got '\(text)'")
        }
        return value
    }

    func double(_ name: String, range: ClosedRange<Double>) throws(DRSSimConfigurationError) -> Double? {
        guard string(name) != nil else { return nil }
        do { return try config.double(name, default: range.lowerBound, range: range) } catch {
            throw DRSSimConfigurationError("\(error)")
        }
    }
}
