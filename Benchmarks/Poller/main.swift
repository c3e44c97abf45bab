import Foundation
import Logging
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres
import PollerApp

// muster-bench-poller: how many jobs the poller tracks, polls per second and
// the due→sent lag with 10,000 tracked jobs, on the real PostgreSQL.
// Scheduling ends at the outbox commit (the relay's publishing rate is the
// foundation benchmark's). Usage:
//   MUSTER_DATABASE_URL=… muster-bench-poller [jobs=10000] [endpoints=20] [seconds=10] [instances=2]

let arguments = CommandLine.arguments.dropFirst().compactMap(Int.init)
let jobCount = arguments.first ?? 10_000
let endpointCount = arguments.dropFirst().first ?? 20
let seconds = arguments.dropFirst(2).first ?? 10
let instances = arguments.dropFirst(3).first ?? 2
guard let url = ProcessInfo.processInfo.environment["MUSTER_DATABASE_URL"] else {
    print("MUSTER_DATABASE_URL is not set: run `eval \"$(scripts/infra.sh start)\"` first")
    exit(2)
}
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    return logger
}()

func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }

func elapsed(since start: ContinuousClock.Instant) -> Double {
    let d = ContinuousClock.now - start
    return d.seconds
}

func created(_ index: Int, endpoints: Int, timeout: Int = 3600) -> JobCreated {
    JobCreated(
        launchGroup: LaunchGroupID(
            executionID: .fixture(UInt32(index % 50)), waveNumber: 1,
            endpoint: Endpoint(accountID: String(format: "%012d", index % endpoints), region: "us-east-1")),
        chunk: 0, chunkCount: 1, jobID: "drsjob-\(index)", isDrill: true, sourceServerIDs: ["s-\(index)"],
        createdAt: Date(), waveStartedAt: Date(), timeoutSeconds: timeout)
}

/// A fresh schema with the poller's tables.
func makeSchema(_ pool: PostgresPool, _ configuration: PollerConfiguration) async throws {
    try await Migrator.migrate(
        schema: configuration.schema,
        migrations: MessagingSchema.migrations(schema: configuration.schema) + PollerSchema.migrations,
        pool: pool, logger: logger)
}

/// Runs `instances` scheduler loops for `duration`, returning every tick's summary.
func runSchedulers(
    _ configuration: PollerConfiguration, instances: Int, for duration: Duration, until: (@Sendable ([TickSummary]) -> Bool)? = nil
) async throws -> [TickSummary] {
    try await withThrowingTaskGroup(of: [TickSummary].self) { group in
        for _ in 0..<instances {
            group.addTask {
                let pool = PostgresPool(configuration: PostgresConfiguration(url: url, poolSize: 2), logger: logger)
                let scheduler = PollScheduler(
                    tracker: JobTracker(configuration: configuration), pool: pool, logger: logger, onCommit: {})
                var summaries: [TickSummary] = []
                let end = ContinuousClock.now + duration
                while ContinuousClock.now < end {
                    let summary = try await scheduler.tick()
                    summaries.append(summary)
                    if let until, until(summaries) { break }
                    if !summary.moreWork { try await Task.sleep(for: configuration.tickInterval) }
                }
                await pool.close()
                return summaries
            }
        }
        var all: [TickSummary] = []
        for try await summaries in group { all += summaries }
        return all
    }
}

func report(_ summaries: [TickSummary], seconds: Double) {
    let polls = summaries.flatMap(\.polls)
    let jobs = polls.reduce(0) { $0 + $1.jobIDs.count }
    let lags = summaries.flatMap(\.dueLags)
    var seen: [String: Int] = [:]
    for poll in polls { for id in poll.jobIDs { seen[id.rawValue, default: 0] += 1 } }
    print(String(format: "  polls sent: %d (%.1f polls/s), jobs polled: %d (%.0f jobs/s), %.1f jobs per poll",
                 polls.count, Double(polls.count) / seconds, jobs, Double(jobs) / seconds,
                 polls.isEmpty ? 0 : Double(jobs) / Double(polls.count)))
    print("  due→sent lag: p50 \(ms(percentile(lags, 0.5))), p99 \(ms(percentile(lags, 0.99))), "
          + "max \(ms(lags.max() ?? .nan)) over \(lags.count) due jobs; ticks: \(summaries.count)")
    print("  distinct jobs polled: \(seen.count)")
}

let pool = PostgresPool(configuration: PostgresConfiguration(url: url, poolSize: 4), logger: logger)
let suffix = UUID().uuidString.prefix(8).lowercased()
var configuration = PollerConfiguration()
configuration.schema = "bench_poller_\(suffix)"
configuration.schedule = PollSchedule(
    firstPollDelay: .seconds(1), pendingInterval: .seconds(2), startedInterval: .seconds(1), minimumGap: .milliseconds(500),
    jitter: 0.1, batchWindow: .milliseconds(500))
configuration.budget = EndpointBudget(maxPollsPerMinute: 6000)
configuration.tickInterval = .milliseconds(50)
try await makeSchema(pool, configuration)
let tracker = JobTracker(configuration: configuration)

print("muster-bench-poller: \(jobCount) jobs over \(endpointCount) endpoints, \(instances) poller instances")

// 1. Tracking: job.created → row, as the status consumer does it.
var start = ContinuousClock.now
for batch in stride(from: 0, to: jobCount, by: 500) {
    try await pool.transaction { connection in
        for index in batch..<min(batch + 500, jobCount) {
            try await tracker.track(created(index, endpoints: endpointCount), on: connection)
        }
    }
}
var took = elapsed(since: start)
print(String(format: "track: %d jobs in %.2f s (%.0f jobs/s)", jobCount, took, Double(jobCount) / took))

// Half the jobs STARTED (applied through the tracker like job.observed).
start = ContinuousClock.now
let startedCount = jobCount / 2
for batch in stride(from: 0, to: startedCount, by: 500) {
    try await pool.transaction { connection in
        for index in batch..<min(batch + 500, startedCount) {
            let job = created(index, endpoints: endpointCount)
            _ = try await tracker.observe(
                JobObserved(launchGroup: job.launchGroup, chunk: 0, jobID: job.jobID, status: .started, servers: [],
                            observedAt: Date()), on: connection)
        }
    }
}
took = elapsed(since: start)
print(String(format: "observe: %d snapshots in %.2f s (%.0f/s)", startedCount, took, Double(startedCount) / took))

// 2. Steady state: PENDING every 2 s, STARTED every 1 s. Tracking took longer
// than the first-look delay, so spread the first looks over one interval as
// if the jobs had been created over time (else the set-up shows up as lag).
try await pool.query(
    "UPDATE \(configuration.schema).jobs SET next_due = clock_timestamp() + random() * interval '2 seconds'")
print("steady state for \(seconds) s (PENDING 2 s, STARTED 1 s, tick 50 ms):")
start = ContinuousClock.now
let steady = try await runSchedulers(configuration, instances: instances, for: .seconds(seconds))
report(steady, seconds: elapsed(since: start))
print(String(format: "  expected demand ≈ %.0f jobs/s", Double(jobCount - startedCount) / 2 + Double(startedCount)))

// 3. Burst: every job due at once, one endpoint per 10 jobs; how long until
// each was looked at once (long intervals, so none comes due twice).
var burst = configuration
burst.schedule.pendingInterval = .seconds(600)
burst.schedule.startedInterval = .seconds(600)
burst.schema = "bench_poller_burst_\(suffix)"
try await makeSchema(pool, burst)
let burstEndpoints = max(1, jobCount / 10)
let burstTracker = JobTracker(configuration: burst)
for batch in stride(from: 0, to: jobCount, by: 500) {
    try await pool.transaction { connection in
        for index in batch..<min(batch + 500, jobCount) {
            try await burstTracker.track(created(index, endpoints: burstEndpoints), on: connection)
        }
    }
}
try await pool.query("UPDATE \(burst.schema).jobs SET next_due = clock_timestamp()")
print("burst: \(jobCount) jobs due at once over \(burstEndpoints) endpoints:")
start = ContinuousClock.now
let drained = try await runSchedulers(burst, instances: instances, for: .seconds(60)) { summaries in
    summaries.last.map { $0.polls.isEmpty && !$0.moreWork } ?? false
}
report(drained, seconds: elapsed(since: start))

for schema in [configuration.schema, burst.schema] { _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE") }
await pool.close()
