import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres
@testable import PollerApp
import TestSupport

/// An isolated poller schema on the test database, with fast intervals.
struct PollerFixture {
    let schema: String
    let pool: PostgresPool
    var configuration: PollerConfiguration

    /// Intervals of a few hundred milliseconds so tests run in seconds.
    static func fastConfiguration(schema: String) -> PollerConfiguration {
        var configuration = PollerConfiguration()
        configuration.schema = schema
        configuration.schedule = PollSchedule(
            firstPollDelay: .milliseconds(100), pendingInterval: .milliseconds(300),
            startedInterval: .milliseconds(150), minimumGap: .milliseconds(100), jitter: 0.1,
            batchWindow: .milliseconds(150))
        configuration.timeout = TimeoutPolicy(finalAnswerGrace: .milliseconds(300), maxFinalPolls: 2)
        configuration.budget = EndpointBudget(maxPollsPerMinute: 6000)
        configuration.tickInterval = .milliseconds(20)
        configuration.idleInterval = .milliseconds(20)
        configuration.gaugeInterval = .milliseconds(200)
        configuration.topics = Topics(prefix: "\(schema).")
        return configuration
    }

    init(poolSize: Int = 6, configure: (inout PollerConfiguration) -> Void = { _ in }) async throws {
        schema = TestEnvironment.uniqueName("poller")
        pool = try TestEnvironment.pool(size: poolSize)
        configuration = Self.fastConfiguration(schema: schema)
        configure(&configuration)
        try await Migrator.migrate(
            schema: schema, migrations: MessagingSchema.migrations(schema: schema) + PollerSchema.migrations,
            pool: pool, logger: TestEnvironment.logger)
    }

    var tracker: JobTracker { JobTracker(configuration: configuration) }

    /// A scheduler on its own pool (a separate "poller instance").
    func scheduler(pool: PostgresPool? = nil) -> PollScheduler {
        PollScheduler(tracker: tracker, pool: pool ?? self.pool, logger: TestEnvironment.logger, onCommit: {})
    }

    static func created(
        job: String, execution: String = "exec-1", account: String = "111122223333", region: String = "us-east-1",
        waveStartedAt: Date = Date(), timeoutSeconds: Int = 3600, isDrill: Bool = true
    ) -> JobCreated {
        JobCreated(
            launchGroup: LaunchGroupID(
                executionID: .named(execution), waveNumber: 1, endpoint: Endpoint(accountID: account, region: region)),
            chunk: 0, chunkCount: 1, jobID: JobID(rawValue: job), isDrill: isDrill, sourceServerIDs: ["s-\(job)"], createdAt: Date(),
            waveStartedAt: waveStartedAt, timeoutSeconds: timeoutSeconds)
    }

    static func observed(
        _ created: JobCreated, _ status: DRSJobStatus, at observedAt: Date = Date(), isFinal: Bool = false,
        runs: [LaunchActionRun] = []
    ) -> JobObserved {
        JobObserved(
            launchGroup: created.launchGroup, chunk: created.chunk, jobID: created.jobID, status: status,
            servers: [ObservedServer(sourceServerID: created.sourceServerIDs[0],
                                     launchStatus: status == .completed ? .launched : .pending, launchActionRuns: runs)],
            observedAt: observedAt, isFinal: isFinal)
    }

    /// Tracks `jobs` in batches of 500 per transaction.
    func track(_ jobs: [JobCreated]) async throws {
        let tracker = self.tracker
        for start in stride(from: 0, to: jobs.count, by: 500) {
            let batch = Array(jobs[start..<min(start + 500, jobs.count)])
            try await pool.transaction { connection in
                for job in batch { try await tracker.track(job, on: connection) }
            }
        }
    }

    func observe(_ observed: JobObserved) async throws -> ObservationOutcome {
        let tracker = self.tracker
        return try await pool.transaction { try await tracker.observe(observed, on: $0) }
    }

    /// One committed outbox event, decoded.
    struct Sent {
        var type: String
        var key: String
        var time: Date
        var event: CloudEvent
    }

    /// The outbox, in commit order.
    func outbox() async throws -> [Sent] {
        let rows = try await pool.query(
            "SELECT key, type, source, subject, event_id, event_time, data FROM \(schema).outbox ORDER BY seq").rows
        return try rows.map { row in
            let event = CloudEvent(
                id: try row.decode(UUID.self, "event_id"), source: try row.decode(String.self, "source"),
                type: try row.decode(String.self, "type"), time: try row.decode(Date.self, "event_time"),
                subject: try row.decode(String?.self, "subject"), data: try row.decode([UInt8].self, "data"))
            return Sent(type: event.type, key: try row.decode(String.self, "key"), time: event.time, event: event)
        }
    }

    /// Every `job.poll` / `job.poll.final` in the outbox.
    func polls() async throws -> [JobPoll] {
        try await outbox().filter { $0.type == EventType.jobPoll || $0.type == EventType.jobPollFinal }
            .map { try $0.event.decode(JobPoll.self) }
    }

    func state(of job: String) async throws -> TrackingState {
        try await pool.query("SELECT state FROM \(schema).jobs WHERE job_id = $1", [job]).rows[0]
            .decode(TrackingState.self, "state")
    }

    func tearDown() async {
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }
}

/// Runs `scheduler` ticks for `duration`.
func runTicks(_ scheduler: PollScheduler, for duration: Duration, every interval: Duration = .milliseconds(20))
    async throws
{
    let end = ContinuousClock.now + duration
    while ContinuousClock.now < end {
        try await scheduler.tick()
        try await Task.sleep(for: interval)
    }
}
