// muster-bench-launcher: the launcher against drs-sim (in-process) with its
// request-rate limit set, the real broker and PostgreSQL. Prints:
//  1. launch throughput and wave.started → StartRecovery latency;
//  2. DRS calls per job over a drill's life (launch, polls, log reads).
// Needs MUSTER_DATABASE_URL and MUSTER_KAFKA_BROKERS (scripts/infra.sh start).
import DRSSimApp
import Foundation
import LauncherApp
import Logging
import MusterAWS
import MusterDRS
import MusterDomain
import MusterEvents
import MusterHTTP
import MusterKafka
import MusterMessaging
import MusterPostgres

let environment = ProcessInfo.processInfo.environment
guard let databaseURL = environment["MUSTER_DATABASE_URL"], let brokers = environment["MUSTER_KAFKA_BROKERS"] else {
    print("muster-bench-launcher: set MUSTER_DATABASE_URL and MUSTER_KAFKA_BROKERS (eval \"$(scripts/infra.sh start)\")")
    exit(2)
}
let groups = Int(environment["BENCH_GROUPS"] ?? "") ?? 100
let simRate = Double(environment["BENCH_DRS_RATE"] ?? "") ?? 20
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()

let accountID = "111122223333", region = "us-east-1"
let endpoint = Endpoint(accountID: accountID, region: region)
let credentials = AWSCredentials(accessKeyID: "AKIDBENCH", secretAccessKey: "bench-secret")
func sid(_ n: Int) -> String { "s-" + String(format: "%017d", n) }

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

/// One isolated run: drs-sim, schema, topics, relay and a launcher.
func run(name: String, timeScale: Double, rate: Double, groups: Int, pollInterval: Duration?) async throws {
    let simConfiguration = DRSSimConfiguration(
        port: 0, credentials: [credentials.accessKeyID: DRSSimCredential(secretAccessKey: credentials.secretAccessKey, accountID: accountID)],
        timeScale: timeScale, quotas: DRSSimQuotas(maxConcurrentJobs: 20, maxServersInActiveJobs: 200),
        rateLimit: DRSSimRateLimit(requestsPerSecond: rate, burst: rate),
        seedDocument: SeedDocument(accounts: [SeedAccount(accountID: accountID, regions: [region: SeedRegion(
            sourceServers: (1...groups).map { SeedSourceServer(sourceServerID: sid($0)) })])]))
    let (ports, sink) = AsyncStream.makeStream(of: Int.self)
    let sim = try DRSSimServer(configuration: simConfiguration, logger: logger, onServerRunning: { sink.yield($0) })
    let simTask = Task { try await sim.run() }
    var portIterator = ports.makeAsyncIterator()
    guard let port = await portIterator.next() else { fatalError("drs-sim did not start") }

    let schema = "bench_launcher_\(UUID().uuidString.prefix(8).lowercased())"
    let topics = LauncherTopics(
        waveStarted: "\(schema).wave.started", jobPoll: "\(schema).job.poll", instancesTerminate: "\(schema).terminate",
        accounts: "\(schema).accounts", jobStatus: "\(schema).job.status", inventory: "\(schema).inventory")
    let pool = PostgresPool(configuration: PostgresConfiguration(url: databaseURL, poolSize: 8), logger: logger)
    _ = try await Migrator.migrate(
        schema: schema, migrations: MessagingSchema.migrations(schema: schema) + LauncherSchema.migrations(schema: schema),
        pool: pool, logger: logger)
    let kafka = KafkaConfiguration(bootstrapServers: brokers, properties: [
        "session.timeout.ms": "2000", "heartbeat.interval.ms": "500", "fetch.wait.max.ms": "10",
        "topic.metadata.refresh.interval.ms": "1000",
    ])
    try await KafkaAdmin.createTopics(
        [topics.waveStarted, topics.jobPoll, topics.instancesTerminate, topics.accounts, topics.jobStatus, topics.inventory]
            .map { ($0, 1) }, configuration: kafka, timeout: .seconds(30))
    let producer = try KafkaProducer(configuration: kafka, logger: logger)
    let relay = OutboxRelay(schema: schema, pool: pool, producer: producer, logger: logger)
    let http = HTTPClient(logger: logger)

    var configuration = LauncherConfiguration()
    configuration.drsEndpointTemplate = "http://127.0.0.1:\(port)"
    configuration.schedulerInterval = .milliseconds(100)
    configuration.inventoryInterval = .zero
    configuration.limits.requestsPerSecond = rate
    configuration.limits.burst = rate
    configuration.accounts = [AccountConfiguration(accountId: accountID, regions: [region], keyPair: "BENCH")]
    let accounts = AccountDirectory(configuration: configuration, httpClient: http, logger: logger, environment: [
        "MUSTER_KEY_BENCH_AWS_ACCESS_KEY_ID": credentials.accessKeyID,
        "MUSTER_KEY_BENCH_AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
    ])
    let launcher = Launcher(
        schema: schema, topics: topics, configuration: configuration, pool: pool, consumerKafka: kafka, logger: logger,
        accounts: accounts, groupPrefix: "muster.\(schema)", wakeRelay: { relay.wake() })
    let tasks = try ([relay] + launcher.services()).map { service in Task { try await service.run() } }

    // Wait for the consumer group to form before timing anything.
    try await Task.sleep(for: .seconds(3))
    var published: [String: Date] = [:]
    let start = ContinuousClock.now
    for n in 1...groups {
        let group = LaunchGroupID(executionID: "bench-\(n)", waveNumber: 1, endpoint: endpoint)
        let request = WaveStarted(
            launchGroup: group, executionType: .drill, planID: "p", planName: "bench", waveName: "w1", team: "t",
            initiatedBy: "bench", sourceServerIDs: [sid(n)], waveStartedAt: Date())
        let event = try CloudEvent(source: "/bench", type: EventType.waveStarted, payload: request)
        published[group.description] = Date()
        _ = try await producer.send(event.kafkaRecord(topic: topics.waveStarted, key: endpoint.key))
    }
    // Jobs are limited to 20 concurrent: play the poller so completed jobs free the quota.
    var launched: [(group: String, at: Date)] = []
    var lastPoll = ContinuousClock.now - .seconds(60)
    let deadline = ContinuousClock.now + .seconds(600)
    while ContinuousClock.now < deadline {
        let rows = try await pool.query(
            "SELECT launch_group, started_at FROM \(schema).launch_chunks WHERE started_at IS NOT NULL").rows
        launched = try rows.map { (try $0.decode(String.self, "launch_group"), try $0.decode(Date.self, "started_at")) }
        let live = try await pool.query("SELECT job_id FROM \(schema).jobs WHERE completed_at IS NULL").rows
            .map { try $0.decode(String.self, "job_id") }
        let allLaunched = launched.count == groups
        if allLaunched && (pollInterval == nil || live.isEmpty) { break }
        let interval = pollInterval ?? .seconds(1)
        if ContinuousClock.now - lastPoll >= interval, !live.isEmpty {
            let poll = try CloudEvent(source: "/bench", type: EventType.jobPoll, payload: JobPoll(endpoint: endpoint, jobIDs: live))
            _ = try await producer.send(poll.kafkaRecord(topic: topics.jobPoll, key: endpoint.key))
            lastPoll = .now
        }
        try await Task.sleep(for: .milliseconds(50))
    }
    let elapsed = seconds(ContinuousClock.now - start)
    let counters = await sim.engine.withSimulation { simulation, _ in simulation.counters }

    print("== \(name) ==")
    if pollInterval == nil {
        let latencies = launched.compactMap { entry in published[entry.group].map { entry.at.timeIntervalSince($0) * 1000 } }
        let lastLaunch = launched.map(\.at).max() ?? Date()
        let firstPublish = published.values.min() ?? Date()
        print(String(format: "launch groups: %d, drs-sim rate limit: %.0f req/s, launcher budget: %.0f req/s", groups, rate, rate))
        print(String(format: "launch throughput: %.1f jobs/s (%d jobs in %.2f s, first publish → last StartRecovery)",
                     Double(launched.count) / max(lastLaunch.timeIntervalSince(firstPublish), 0.001), launched.count,
                     lastLaunch.timeIntervalSince(firstPublish)))
        print(String(format: "wave.started → StartRecovery returned: p50 %.0f ms, p95 %.0f ms, max %.0f ms",
                     percentile(latencies, 0.5), percentile(latencies, 0.95), latencies.max() ?? .nan))
    } else {
        let jobs = max(counters.jobsStarted, 1)
        let total = counters.calls.values.flatMap(\.values).reduce(0, +)
        print(String(format: "drills: %d single-server jobs at time scale %.0f, poll every %.1f s, all terminal in %.1f s",
                     counters.jobsStarted, timeScale, seconds(pollInterval!), elapsed))
        print(String(format: "DRS calls per job over its life: %.2f (total %d)", Double(total) / Double(jobs), total))
        for operation in counters.calls.keys.sorted() {
            print(String(format: "  %@: %.2f per job", operation, Double(counters.calls(operation)) / Double(jobs)))
        }
    }
    print("throttled: \(counters.throttles), conflicts: \(counters.conflicts), quota refusals: \(counters.quotaExceeded)")

    for task in tasks { task.cancel() }
    for task in tasks { _ = try? await task.value }
    await producer.shutdown(timeout: .seconds(5))
    await http.shutdown()
    simTask.cancel()
    _ = try? await simTask.value
    _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
    await pool.close()
}

do {
    try await run(name: "launch throughput", timeScale: 600, rate: simRate, groups: groups, pollInterval: nil)
    try await run(name: "DRS calls per job over a drill's life", timeScale: 600, rate: simRate, groups: 20,
                  pollInterval: .milliseconds(500))
} catch {
    print("muster-bench-launcher failed: \(error)")
    exit(1)
}
