import Foundation
import MusterDomain
import MusterEvents
import MusterService

/// The planner's own settings (the shared ones are in `ServiceConfiguration`
/// and `InfrastructureConfiguration`).
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `MUSTER_PLANNER_ADMIN_TOKEN` | unset | bootstrap admin bearer token (≥ 32 characters); unset = no bootstrap admin |
/// | `MUSTER_PLANNER_MAX_BODY_BYTES` | `1048576` | largest request body |
/// | `MUSTER_PLANNER_MAX_WAVES` | `50` | most waves per plan |
/// | `MUSTER_PLANNER_MAX_SERVERS_PER_PLAN` | `1000` | most servers per plan |
/// | `MUSTER_PLANNER_STREAM_POLL_MS` | `50` | how often open event streams look for new events |
/// | `MUSTER_PLANNER_STREAM_HEARTBEAT_SECONDS` | `15` | comment sent on an idle event stream |
/// | `MUSTER_PLANNER_STEP_DEADLINE_MS` | `30000` | the longest the step-deadline loop sleeps: it sleeps until the earliest deadline of a running hook step, and every commit that starts a step wakes it, so this only bounds how late a step started by another planner instance (that then stopped) times out |
/// | `MUSTER_PLANNER_QUOTA_CONCURRENT_JOBS` | `20` | DRS concurrent jobs per account, for readiness |
/// | `MUSTER_PLANNER_QUOTA_SERVERS_PER_JOB` | `100` | DRS source servers per job, for readiness |
/// | `MUSTER_PLANNER_QUOTA_SERVERS_IN_ACTIVE_JOBS` | `500` | DRS source servers in all active jobs, for readiness |
/// | `MUSTER_PLANNER_SCHEDULER_INTERVAL_SECONDS` | `15` | how often due drill schedules and clean-ups are looked for |
/// | `MUSTER_PLANNER_MAX_SCHEDULED_DRILLS_PER_ACCOUNT` | `1` | scheduled drills running at once per AWS account |
/// | `MUSTER_PLANNER_READINESS_INTERVAL_MINUTES` | `30` | re-evaluate each plan's readiness at least this often |
/// | `MUSTER_PLANNER_CALLBACK_BASE_URL` | `http://localhost:8080` | the planner's address as callout receivers reach it (callback URLs start with it) |
/// | `MUSTER_PLANNER_READINESS_WAIT_MS` | `3000` | how long `evaluate` waits for the launcher's AWS checks |
public struct PlannerConfiguration: Sendable {
    /// The database schema (the service name in production; unique in tests).
    public var schema: String
    /// Topic names.
    public var topics: Topics
    /// The bootstrap admin token, if configured. Never logged (redacted in the description).
    @Secret public var adminToken: String?
    /// Documented API limits.
    public var limits: PlannerLimits
    /// Event stream timing.
    public var stream = EventStreamSettings()
    /// The console's sessions and sign-in.
    public var console = ConsoleSettings()
    /// OpenID Connect sign-in and provider tokens on the API; nil = off.
    public var oidc: OIDCSettings?
    /// How often wave hook steps past their deadline are timed out.
    public var stepDeadlineInterval: Duration = .seconds(30)
    /// The account quotas readiness evaluation checks plans against.
    public var quotas = ReadinessQuotas()
    /// Drill schedules.
    public var schedules = ScheduleSettings()
    /// The time drill schedules fire and readiness re-evaluations fall due by (a test moves it; executions and
    /// the API use real time).
    public var clock: @Sendable () -> Date = { Date() }
    /// How old a plan's readiness verdict may get before the next pass re-evaluates it.
    public var readinessInterval: Duration = .seconds(1800)
    /// Where callout receivers reach the planner: `<base>/v1/callbacks/<token>`.
    public var callbackBaseURL = "http://localhost:8080"
    /// How long `POST /v1/plans/{id}/evaluate` waits for the launcher's answer before its checks are `unknown`.
    public var readinessLauncherWait: Duration = .seconds(3)

    /// Creates a configuration.
    public init(schema: String = "planner", topics: Topics = .standard, adminToken: String?,
                limits: PlannerLimits = PlannerLimits()) {
        self.schema = schema
        self.topics = topics
        self.adminToken = adminToken
        self.limits = limits
    }

    /// Reads the planner's variables.
    public init(reader: EnvironmentSettings) throws {
        let token = reader.optionalString("MUSTER_PLANNER_ADMIN_TOKEN")
        if let token, token.count < 32 {
            throw ConfigurationError.invalid(
                key: "MUSTER_PLANNER_ADMIN_TOKEN", value: nil,
                rule: "must be at least 32 characters (generate one with `openssl rand -hex 32`)")
        }
        var limits = PlannerLimits()
        limits.maxBodyBytes = try reader.int("MUSTER_PLANNER_MAX_BODY_BYTES", default: limits.maxBodyBytes,
                                             range: 1024...64 * 1_048_576)
        limits.maxWaves = try reader.int("MUSTER_PLANNER_MAX_WAVES", default: limits.maxWaves, range: 1...500)
        limits.maxServersPerPlan = try reader.int(
            "MUSTER_PLANNER_MAX_SERVERS_PER_PLAN", default: limits.maxServersPerPlan, range: 1...100_000)
        self.init(adminToken: token, limits: limits)
        stream.pollInterval = .milliseconds(try reader.int("MUSTER_PLANNER_STREAM_POLL_MS", default: 50, range: 5...5000))
        stream.heartbeatInterval = .seconds(
            try reader.int("MUSTER_PLANNER_STREAM_HEARTBEAT_SECONDS", default: 15, range: 1...300))
        stepDeadlineInterval = .milliseconds(
            try reader.int("MUSTER_PLANNER_STEP_DEADLINE_MS", default: 30_000, range: 10...300_000))
        quotas.concurrentJobs = try reader.int(
            "MUSTER_PLANNER_QUOTA_CONCURRENT_JOBS", default: quotas.concurrentJobs, range: 1...10_000)
        quotas.serversPerJob = try reader.int(
            "MUSTER_PLANNER_QUOTA_SERVERS_PER_JOB", default: quotas.serversPerJob, range: 1...10_000)
        quotas.serversInActiveJobs = try reader.int(
            "MUSTER_PLANNER_QUOTA_SERVERS_IN_ACTIVE_JOBS", default: quotas.serversInActiveJobs, range: 1...100_000)
        schedules.tickInterval = .seconds(
            try reader.int("MUSTER_PLANNER_SCHEDULER_INTERVAL_SECONDS", default: 15, range: 1...3600))
        schedules.maxConcurrentPerAccount = try reader.int(
            "MUSTER_PLANNER_MAX_SCHEDULED_DRILLS_PER_ACCOUNT", default: 1, range: 1...100)
        readinessInterval = .seconds(
            60 * (try reader.int("MUSTER_PLANNER_READINESS_INTERVAL_MINUTES", default: 30, range: 1...1440)))
        let base = reader.string("MUSTER_PLANNER_CALLBACK_BASE_URL", default: callbackBaseURL)
        guard let url = URL(string: base), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil,
              url.query == nil, url.fragment == nil else {
            throw ConfigurationError.invalid(
                key: "MUSTER_PLANNER_CALLBACK_BASE_URL", value: base,
                rule: "must be an absolute http(s) URL without query or fragment, e.g. https://muster.example.com")
        }
        callbackBaseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        readinessLauncherWait = .milliseconds(
            try reader.int("MUSTER_PLANNER_READINESS_WAIT_MS", default: 3000, range: 0...30_000))
        console.secureCookies = try reader.bool("MUSTER_CONSOLE_SECURE_COOKIES", default: true)
        console.sessionLifetime = .seconds(
            60 * (try reader.int("MUSTER_CONSOLE_SESSION_MINUTES", default: 480, range: 1...7 * 24 * 60)))
        if let issuer = reader.optionalString("MUSTER_OIDC_ISSUER") {
            let help = "set it when MUSTER_OIDC_ISSUER is set (see docs/console.md)"
            var settings = OIDCSettings(
                issuer: issuer, clientID: try reader.requiredString("MUSTER_OIDC_CLIENT_ID", help: help),
                clientSecret: reader.optionalString("MUSTER_OIDC_CLIENT_SECRET"),
                redirectURL: try reader.requiredString("MUSTER_OIDC_REDIRECT_URL", help: help),
                groupMap: try reader.requiredString("MUSTER_OIDC_GROUP_MAP", help: help),
                apiAudience: reader.optionalString("MUSTER_OIDC_API_AUDIENCE"))
            settings.groupsClaim = reader.string("MUSTER_OIDC_GROUPS_CLAIM", default: settings.groupsClaim)
            settings.scopes = reader.string("MUSTER_OIDC_SCOPES", default: settings.scopes)
            do {
                _ = try GroupMapping(settings.groupMap)
            } catch {
                throw ConfigurationError.invalid(key: "MUSTER_OIDC_GROUP_MAP", value: settings.groupMap, rule: "\(error)")
            }
            oidc = settings
        }
    }
}

/// How `GET /v1/events/stream` paces itself.
public struct EventStreamSettings: Sendable {
    /// How often the open streams' team heads are read.
    public var pollInterval: Duration = .milliseconds(50)
    /// How long a stream stays silent before a heartbeat comment.
    public var heartbeatInterval: Duration = .seconds(15)
    /// The defaults.
    public init() {}
}

/// Drill schedules: how often the scheduler looks, and how many scheduled
/// drills may run at once in one AWS account.
public struct ScheduleSettings: Sendable {
    /// Time between scheduler passes.
    public var tickInterval: Duration = .seconds(15)
    /// Most scheduled drills running at once per AWS account (a recovery never waits for a drill's job slots).
    public var maxConcurrentPerAccount = 1
    /// The defaults.
    public init() {}
}
