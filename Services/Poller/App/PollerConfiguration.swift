import Foundation
import MusterEvents
import MusterService

/// The poller's own settings (docs/poller.md lists each variable), plus the
/// names it works under so tests can run isolated instances side by side.
public struct PollerConfiguration: Sendable {
    /// When jobs are looked at.
    public var schedule = PollSchedule()
    /// The predictive schedule (issue 14).
    public var prediction = PredictionSettings()
    /// How timeouts are decided.
    public var timeout = TimeoutPolicy()
    /// The per-endpoint ceiling on polls.
    public var budget = EndpointBudget(maxPollsPerMinute: 20)
    /// The longest the scheduler sleeps while jobs are live (it sleeps until the next planned
    /// look when that is sooner).
    public var tickInterval: Duration = .seconds(1)
    /// How long the scheduler sleeps when no job is live: every `job.created` it handles wakes it,
    /// so this only bounds how soon it takes over the jobs of another poller instance that stopped.
    public var idleInterval: Duration = .seconds(10)
    /// Endpoints claimed per scheduler transaction (more work → the next tick starts at once).
    public var maxEndpointsPerTick = 50
    /// Ids per `job.poll` (DescribeJobs takes at most 1000).
    public var maxJobsPerPoll = 1000
    /// Bounds a claim: PostgreSQL ends a scheduler transaction (and releases
    /// its row locks) that runs or idles longer than this.
    public var claimTimeout: Duration = .seconds(30)
    /// How often the tracked-jobs gauges are refreshed.
    public var gaugeInterval: Duration = .seconds(10)
    /// How long finished jobs are kept (late duplicates are recognised meanwhile).
    public var retention: Duration = .seconds(7 * 24 * 3600)
    /// The service's schema.
    public var schema = "poller"
    /// The topic names: `job.status.v1` carries `job.created` / `job.observed` and
    /// takes `job.timed-out`; `job.poll.v1` takes `job.poll` / `job.poll.final`.
    public var topics = Topics.standard
    /// The inbox name of the status consumer.
    public var consumerName = "poller.status"

    /// The defaults.
    public init() {}

    /// Reads the `MUSTER_POLLER_*` variables; unset ones keep their defaults.
    public init(reader: EnvironmentSettings) throws {
        schedule = PollSchedule(
            firstPollDelay: try reader.duration("MUSTER_POLLER_FIRST_POLL_DELAY", default: schedule.firstPollDelay),
            pendingInterval: try Self.positive(reader, "MUSTER_POLLER_PENDING_INTERVAL", schedule.pendingInterval),
            startedInterval: try Self.positive(reader, "MUSTER_POLLER_STARTED_INTERVAL", schedule.startedInterval),
            minimumGap: try reader.duration("MUSTER_POLLER_MIN_GAP", default: schedule.minimumGap),
            jitter: try reader.double("MUSTER_POLLER_JITTER", default: schedule.jitter, range: 0...0.9),
            batchWindow: try reader.duration("MUSTER_POLLER_BATCH_WINDOW", default: schedule.batchWindow))
        prediction = PredictionSettings(
            enabled: try reader.bool("MUSTER_POLLER_PREDICT", default: prediction.enabled),
            drsTimeScale: try reader.double(
                "MUSTER_POLLER_DRS_TIME_SCALE", default: prediction.drsTimeScale, range: 0.001...1_000_000),
            sweepStep: try Self.positive(reader, "MUSTER_POLLER_SWEEP_STEP", prediction.sweepStep),
            sweepStepPerJob: try reader.duration("MUSTER_POLLER_SWEEP_STEP_PER_JOB", default: prediction.sweepStepPerJob),
            watchInterval: try Self.positive(reader, "MUSTER_POLLER_WATCH_INTERVAL", prediction.watchInterval),
            minimumSamples: try reader.int(
                "MUSTER_POLLER_HISTORY_MIN_SAMPLES", default: prediction.minimumSamples, range: 1...10_000),
            historyWeight: try reader.int("MUSTER_POLLER_HISTORY_WEIGHT", default: prediction.historyWeight, range: 1...100_000),
            spread: try reader.double("MUSTER_POLLER_PREDICTION_SPREAD", default: prediction.spread, range: 0...10))
        timeout = TimeoutPolicy(
            finalAnswerGrace: try Self.positive(reader, "MUSTER_POLLER_FINAL_GRACE", timeout.finalAnswerGrace),
            maxFinalPolls: try reader.int("MUSTER_POLLER_FINAL_POLLS", default: timeout.maxFinalPolls, range: 1...20))
        let maxPolls = try reader.int(
            "MUSTER_POLLER_MAX_POLLS_PER_ENDPOINT_PER_MINUTE", default: budget.maxPollsPerMinute, range: 1...6000)
        let reserve = try reader.int("MUSTER_POLLER_COMPLETION_RESERVE", default: maxPolls / 4, range: 0...3000)
        guard reserve <= maxPolls / 2 else {
            throw ConfigurationError.invalid(
                key: "MUSTER_POLLER_COMPLETION_RESERVE", value: "\(reserve)",
                rule: "at most half of MUSTER_POLLER_MAX_POLLS_PER_ENDPOINT_PER_MINUTE (\(maxPolls / 2))")
        }
        budget = EndpointBudget(maxPollsPerMinute: maxPolls, completionReserve: reserve)
        tickInterval = try Self.positive(reader, "MUSTER_POLLER_TICK", tickInterval)
        idleInterval = try Self.positive(reader, "MUSTER_POLLER_IDLE_INTERVAL", idleInterval)
        maxEndpointsPerTick = try reader.int(
            "MUSTER_POLLER_MAX_ENDPOINTS_PER_TICK", default: maxEndpointsPerTick, range: 1...10_000)
        claimTimeout = try Self.positive(reader, "MUSTER_POLLER_CLAIM_TIMEOUT", claimTimeout)
        gaugeInterval = try Self.positive(reader, "MUSTER_POLLER_GAUGE_INTERVAL", gaugeInterval)
        retention = try Self.positive(reader, "MUSTER_POLLER_RETENTION", retention)
    }

    private static func positive(_ reader: EnvironmentSettings, _ key: String, _ defaultValue: Duration) throws -> Duration {
        let value = try reader.duration(key, default: defaultValue)
        guard value > .zero else {
            throw ConfigurationError.invalid(key: key, value: "\(value)", rule: "must be longer than zero")
        }
        return value
    }
}
