// muster-bench-launcher: the launcher against drs-sim (in-process) with its
// request-rate limit set, the real broker and PostgreSQL. Prints:
//  1. launch throughput and launch-group.requested → StartRecovery latency;
//  2. DRS calls per job over a drill's life (launch, polls, log reads).
//  3. the hand-off at 100 concurrent jobs (5 endpoints × 20 slots): the
//     launcher's share, slot freed → next StartRecovery, slots busy while
//     work is queued (`BENCH_ONLY=handoff` runs only this);
//  4. a launcher replaced while its StartRecovery answers are outstanding:
//     how soon the successor records every job (`BENCH_ONLY=restart`).
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

func seconds(_ d: Duration) -> Double { d.seconds }
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

/// What every scenario runs on: drs-sim in-process, a fresh schema and
/// topics, the outbox relay's producer, and launchers built on them.
final class BenchRig: Sendable {
    let sim: DRSSimServer
    let simTask: Task<Void, any Error>
    let port: Int
    let schema: String
    let topics: Topics
    let pool: PostgresPool
    let kafka: KafkaConfiguration
    let producer: KafkaProducer
    let relay: OutboxRelay
    let http: HTTPClient

    private init(sim: DRSSimServer, simTask: Task<Void, any Error>, port: Int, schema: String, topics: Topics,
                 pool: PostgresPool, kafka: KafkaConfiguration, producer: KafkaProducer) {
        self.sim = sim
        self.simTask = simTask
        self.port = port
        self.schema = schema
        self.topics = topics
        self.pool = pool
        self.kafka = kafka
        self.producer = producer
        self.relay = OutboxRelay(schema: schema, pool: pool, producer: producer, logger: logger)
        self.http = HTTPClient(logger: logger)
    }

    /// Starts drs-sim, migrates a schema named `<prefix>_<random>` and creates
    /// its topics (`inputPartitions` for the co-partitioned inputs).
    static func start(prefix: String, simConfiguration: DRSSimConfiguration, inputPartitions: Int32, poolSize: Int, databaseURL: String, brokers: String) async throws
        -> BenchRig
    {
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let sim = try DRSSimServer(configuration: simConfiguration, logger: logger, onServerRunning: { sink.yield($0) })
        let simTask = Task { try await sim.run() }
        var portIterator = ports.makeAsyncIterator()
        guard let port = await portIterator.next() else { fatalError("drs-sim did not start") }
        let schema = "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
        let topics = Topics(prefix: "\(schema).")
        let pool = PostgresPool(configuration: PostgresConfiguration(url: databaseURL, poolSize: poolSize), logger: logger)
        _ = try await Migrator.migrate(
            schema: schema, migrations: MessagingSchema.migrations(schema: schema) + LauncherSchema.migrations(schema: schema),
            pool: pool, logger: logger)
        let kafka = KafkaConfiguration(bootstrapServers: brokers, properties: [
            "session.timeout.ms": "2000", "heartbeat.interval.ms": "500", "fetch.wait.max.ms": "10",
            "topic.metadata.refresh.interval.ms": "1000",
        ])
        try await KafkaAdmin.createTopics(
            [topics.launchRequests, topics.jobPoll, topics.instancesTerminate, topics.hookRequests].map { ($0, inputPartitions) }
                + [topics.accounts, topics.jobStatus, topics.inventory].map { ($0, 1) }, configuration: kafka, timeout: .seconds(30))
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        return BenchRig(sim: sim, simTask: simTask, port: port, schema: schema, topics: topics, pool: pool, kafka: kafka,
                        producer: producer)
    }

    /// A launcher calling this drs-sim with the bench key pair.
    func launcher(_ configuration: LauncherConfiguration) -> Launcher {
        let accounts = AccountDirectory(configuration: configuration, httpClient: http, logger: logger, environment: [
            "MUSTER_KEY_BENCH_AWS_ACCESS_KEY_ID": credentials.accessKeyID,
            "MUSTER_KEY_BENCH_AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
        ])
        let relay = self.relay
        return Launcher(
            schema: schema, topics: topics, configuration: configuration, pool: pool, consumerKafka: kafka, logger: logger,
            accounts: accounts, groupPrefix: "muster.\(schema)", wakeRelay: { relay.wake() })
    }

    /// Stops `tasks`, the producer and drs-sim, and drops the schema.
    func stop(_ tasks: [Task<Void, any Error>]) async {
        for task in tasks { task.cancel() }
        for task in tasks { _ = try? await task.value }
        await producer.shutdown(timeout: .seconds(5))
        await http.shutdown()
        simTask.cancel()
        _ = try? await simTask.value
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }
}

/// One isolated run: drs-sim, schema, topics, relay and a launcher.
func run(name: String, timeScale: Double, rate: Double, groups: Int, pollInterval: Duration?) async throws {
    let simConfiguration = DRSSimConfiguration(
        port: 0, credentials: [credentials.accessKeyID: DRSSimCredential(secretAccessKey: credentials.secretAccessKey, accountID: accountID)],
        timeScale: timeScale, quotas: DRSSimQuotas(maxConcurrentJobs: 20, maxServersInActiveJobs: 200),
        rateLimit: DRSSimRateLimit(requestsPerSecond: rate, burst: rate),
        seedDocument: SeedDocument(accounts: [SeedAccount(accountID: accountID, regions: [region: SeedRegion(
            sourceServers: (1...groups).map { SeedSourceServer(sourceServerID: sid($0)) })])]))
    let rig = try await BenchRig.start(
        prefix: "bench_launcher", simConfiguration: simConfiguration, inputPartitions: 1, poolSize: 8, databaseURL: databaseURL, brokers: brokers)
    let (sim, port, schema, topics, pool, producer, relay) =
        (rig.sim, rig.port, rig.schema, rig.topics, rig.pool, rig.producer, rig.relay)

    var configuration = LauncherConfiguration()
    configuration.drsEndpointTemplate = "http://127.0.0.1:\(port)"
    configuration.schedulerInterval = .milliseconds(100)
    configuration.inventoryInterval = .zero
    configuration.limits.requestsPerSecond = rate
    configuration.limits.burst = rate
    configuration.accounts = [AccountConfiguration(accountId: accountID, regions: [region], keyPair: "BENCH")]
    let launcher = rig.launcher(configuration)
    let tasks = try ([relay] + launcher.services()).map { service in Task { try await service.run() } }

    // Wait for the consumer group to form before timing anything.
    try await Task.sleep(for: .seconds(3))
    var published: [String: Date] = [:]
    let start = ContinuousClock.now
    for n in 1...groups {
        let group = LaunchGroupID(executionID: .fixture(UInt32(n)), waveNumber: 1, endpoint: endpoint)
        let request = LaunchGroupRequested(
            launchGroup: group, executionType: .drill, planID: .fixture(1), planName: "bench", waveName: "w1", team: .fixture(1),
            initiatedBy: "bench", sourceServerIDs: [SourceServerID(rawValue: sid(n))], waveStartedAt: Date())
        let event = try CloudEvent(source: "/bench", type: EventType.launchGroupRequested, payload: request)
        published[group.description] = Date()
        _ = try await producer.send(event.kafkaRecord(topic: topics.launchRequests, key: endpoint.key))
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
            let poll = try CloudEvent(source: "/bench", type: EventType.jobPoll, payload: JobPoll(endpoint: endpoint, jobIDs: live.map(JobID.init(rawValue:))))
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

    await rig.stop(tasks)
}

/// Chains of single-server waves over `regions` endpoints with their 20-job
/// quota: each completed job (seen by the launcher) immediately releases the
/// chain's next wave, as the planner would. Prints the launcher's share of
/// the hand-off (launch-group.requested received → StartRecovery sent), slot freed →
/// next StartRecovery, and how busy the job slots were while work was queued.
func handoff(name: String, regions: Int, chainsPerRegion: Int, waves: Int, timeScale: Double) async throws {
    let regionNames = (1...regions).map { "bench-\($0)" }
    let serversPerRegion = chainsPerRegion * waves
    let simConfiguration = DRSSimConfiguration(
        port: 0, credentials: [credentials.accessKeyID: DRSSimCredential(secretAccessKey: credentials.secretAccessKey, accountID: accountID)],
        timeScale: timeScale, quotas: DRSSimQuotas(maxConcurrentJobs: 20, maxServersInActiveJobs: 200),
        rateLimit: DRSSimRateLimit(requestsPerSecond: 1000, burst: 1000),
        seedDocument: SeedDocument(accounts: [SeedAccount(accountID: accountID, regions: Dictionary(uniqueKeysWithValues:
            regionNames.map { ($0, SeedRegion(sourceServers: (1...serversPerRegion).map { SeedSourceServer(sourceServerID: sid($0)) })) }))]))
    let rig = try await BenchRig.start(
        prefix: "bench_handoff", simConfiguration: simConfiguration, inputPartitions: 4, poolSize: 10, databaseURL: databaseURL, brokers: brokers)
    let (sim, port, schema, topics, pool, producer, relay) =
        (rig.sim, rig.port, rig.schema, rig.topics, rig.pool, rig.producer, rig.relay)
    var configuration = LauncherConfiguration()
    configuration.drsEndpointTemplate = "http://127.0.0.1:\(port)"
    configuration.inventoryInterval = .zero
    configuration.limits.requestsPerSecond = 200
    configuration.limits.burst = 200
    configuration.accounts = [AccountConfiguration(accountId: accountID, regions: regionNames, keyPair: "BENCH")]
    let launcher = rig.launcher(configuration)
    let tasks = try ([relay] + launcher.services()).map { service in Task { try await service.run() } }
    try await Task.sleep(for: .seconds(3))

    func publishWave(chain: Int, region: String, wave: Int) async throws {
        let endpoint = Endpoint(accountID: accountID, region: region)
        let request = LaunchGroupRequested(
            launchGroup: LaunchGroupID(executionID: .fixture(UInt32(chain)), waveNumber: wave, endpoint: endpoint),
            executionType: .drill, planID: .fixture(1), planName: "bench", waveName: "w\(wave)", team: .fixture(1), initiatedBy: "bench",
            sourceServerIDs: [SourceServerID(rawValue: sid((wave - 1) * chainsPerRegion + chain))], waveStartedAt: Date())
        let event = try CloudEvent(source: "/bench", type: EventType.launchGroupRequested, payload: request)
        _ = try await producer.send(event.kafkaRecord(topic: topics.launchRequests, key: endpoint.key))
    }
    for region in regionNames {
        for chain in 1...chainsPerRegion { try await publishWave(chain: chain, region: region, wave: 1) }
    }
    var advanced = Set<String>()
    let total = regions * chainsPerRegion * waves
    let deadline = ContinuousClock.now + .seconds(900)
    let started = ContinuousClock.now
    while ContinuousClock.now < deadline {
        // Play the poller (every 100 ms) and the planner (the next wave as soon as the launcher saw the job end).
        for region in regionNames {
            let live = try await pool.query(
                "SELECT job_id FROM \(schema).jobs WHERE completed_at IS NULL AND region = $1", [region]).rows
                .map { try $0.decode(String.self, "job_id") }
            if !live.isEmpty {
                let endpoint = Endpoint(accountID: accountID, region: region)
                let poll = try CloudEvent(source: "/bench", type: EventType.jobPoll, payload: JobPoll(endpoint: endpoint, jobIDs: live.map(JobID.init(rawValue:))))
                _ = try await producer.send(poll.kafkaRecord(topic: topics.jobPoll, key: endpoint.key))
            }
        }
        let done = try await pool.query("SELECT launch_group FROM \(schema).jobs WHERE completed_at IS NOT NULL").rows
            .map { try $0.decode(String.self, "launch_group") }
        for text in done where !advanced.contains(text) {
            advanced.insert(text)
            guard let group = LaunchGroupID(text), group.waveNumber < waves,
                  let chain = group.executionID.fixtureNumber.map(Int.init) else { continue }
            try await publishWave(chain: chain, region: group.endpoint.region, wave: group.waveNumber + 1)
        }
        if done.count >= total { break }
        try await Task.sleep(for: .milliseconds(100))
    }
    let wall = seconds(ContinuousClock.now - started)
    let rows = try await pool.query(
        """
        SELECT c.region, c.received_at, c.intent_at, c.sent_at, j.completed_at FROM \(schema).launch_chunks c
        JOIN \(schema).jobs j ON j.chunk_id = c.id WHERE c.sent_at IS NOT NULL
        """).rows
    // The stages come from the launcher's own rows: received_at (the inbox transaction of
    // wave.started), intent_at (admission: leases and intent), sent_at (the request leaves),
    // completed_at (the transaction recording the look that saw the job end, which frees the slot).
    struct Span { var region: String; var received: Date; var intent: Date; var sent: Date; var completed: Date? }
    let spans = try rows.map { Span(region: try $0.decode(String.self, "region"), received: try $0.decode(Date.self, "received_at"),
                                    intent: try $0.decode(Date?.self, "intent_at") ?? $0.decode(Date.self, "sent_at"),
                                    sent: try $0.decode(Date.self, "sent_at"), completed: try $0.decode(Date?.self, "completed_at")) }
    let share = spans.map { $0.sent.timeIntervalSince($0.received) * 1000 }
    let shareStages = [spans.map { $0.intent.timeIntervalSince($0.received) * 1000 },
                       spans.map { $0.sent.timeIntervalSince($0.intent) * 1000 }]
    var freedToNext: [Double] = [], freedStages: [[Double]] = [[], []]
    // Two readings of "slots busy while work is queued": of all 20 slots (idle slots count even
    // when fewer chunks wait than slots are free, e.g. while the last chains finish), and of the
    // slots the waiting work could fill (min(20, active + queued)): only an idle slot that a
    // waiting chunk could have taken counts against the launcher.
    var busy = 0.0, capacity = 0.0, fillable = 0.0
    // Idle slot-seconds while work was queued, split at each endpoint's first completion: before it
    // is the ramp-up (the first wave.started records being consumed and admitted), after it the
    // hand-offs (a slot freed → the next StartRecovery).
    var idleRamp = 0.0, idleAfter = 0.0
    for region in regionNames {
        let mine = spans.filter { $0.region == region }
        let sends = mine.sorted { $0.sent < $1.sent }
        // Each completion frees a slot; the next StartRecovery sent after it reuses it.
        for freed in mine.compactMap(\.completed) {
            if let next = sends.first(where: { $0.sent >= freed }) {
                freedToNext.append(next.sent.timeIntervalSince(freed) * 1000)
                freedStages[0].append(next.intent.timeIntervalSince(freed) * 1000)
                freedStages[1].append(next.sent.timeIntervalSince(next.intent) * 1000)
            }
        }
        // Slot occupancy while work was queued: sweep the endpoint's events and integrate
        // busy slots over the time at least one chunk was received but not yet sent.
        var events: [(at: Date, queued: Int, active: Int)] = []
        for span in mine {
            events.append((span.received, 1, 0))
            events.append((span.sent, -1, 1))
            if let completed = span.completed { events.append((completed, 0, -1)) }
        }
        events.sort { $0.at < $1.at }
        var queued = 0, active = 0
        var previous: Date?
        let firstCompletion = mine.compactMap(\.completed).min() ?? .distantFuture
        for event in events {
            if let previous, queued > 0 {
                let interval = event.at.timeIntervalSince(previous)
                capacity += 20 * interval
                fillable += Double(min(20, active + queued)) * interval
                busy += Double(min(active, 20)) * interval
                if previous < firstCompletion {
                    idleRamp += Double(20 - min(active, 20)) * interval
                } else {
                    idleAfter += Double(20 - min(active, 20)) * interval
                }
            }
            queued += event.queued
            active += event.active
            previous = event.at
        }
    }
    print("== \(name) ==")
    print(String(format: "%d endpoints × 20 job slots, %d chains per endpoint × %d waves, time scale %.0f: %d jobs in %.1f s",
                 regions, chainsPerRegion, waves, timeScale, spans.count, wall))
    print(String(format: "launcher share (launch-group.requested received → StartRecovery sent): p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                 percentile(share, 0.5), percentile(share, 0.99), share.max() ?? .nan))
    func stage(_ label: String, _ values: [Double]) {
        print(String(format: "    %@: p50 %.0f ms, p99 %.0f ms", label, percentile(values, 0.5), percentile(values, 0.99)))
    }
    stage("received → admitted (intent_at)", shareStages[0])
    stage("admitted → request sent (sent_at)", shareStages[1])
    print(String(format: "slot freed (job seen complete) → next StartRecovery: p50 %.0f ms, p99 %.0f ms",
                 percentile(freedToNext, 0.5), percentile(freedToNext, 0.99)))
    stage("freed (completed_at) → next admitted (intent_at)", freedStages[0])
    stage("admitted → request sent (sent_at)", freedStages[1])
    print(String(format: "job slots busy while work was queued: %.1f %% of all slots, %.1f %% of the slots the queued work could fill",
                 capacity > 0 ? busy / capacity * 100 : .nan, fillable > 0 ? busy / fillable * 100 : .nan))
    print(String(format: "  idle slot time while work was queued: %.1f %% of all slots before each endpoint's first completion (ramp-up), %.1f %% after (hand-offs)",
                 capacity > 0 ? idleRamp / capacity * 100 : .nan, capacity > 0 ? idleAfter / capacity * 100 : .nan))
    let counters = await sim.engine.withSimulation { simulation, _ in simulation.counters }
    print("duplicate jobs: \(counters.jobsByLaunchGroup.values.filter { $0 > 1 }.count), conflicts: \(counters.conflicts)")

    await rig.stop(tasks)
}

/// A launcher stopped while its StartRecovery calls are unanswered (DRS
/// acted, the answers are 3 s late), replaced by a second one: how long
/// the successor takes to record every affected launch group's job, and
/// that each still has exactly one.
func restart(name: String, regions: Int, groupsPerRegion: Int) async throws {
    let regionNames = (1...regions).map { "restart-\($0)" }
    let simConfiguration = DRSSimConfiguration(
        port: 0, credentials: [credentials.accessKeyID: DRSSimCredential(secretAccessKey: credentials.secretAccessKey, accountID: accountID)],
        timeScale: 60, quotas: DRSSimQuotas(maxConcurrentJobs: 20, maxServersInActiveJobs: 200),
        rateLimit: DRSSimRateLimit(requestsPerSecond: 1000, burst: 1000),
        seedDocument: SeedDocument(accounts: [SeedAccount(accountID: accountID, regions: Dictionary(uniqueKeysWithValues:
            regionNames.map { ($0, SeedRegion(sourceServers: (1...groupsPerRegion).map { SeedSourceServer(sourceServerID: sid($0)) })) }))]))
    let rig = try await BenchRig.start(
        prefix: "bench_restart", simConfiguration: simConfiguration, inputPartitions: 4, poolSize: 10, databaseURL: databaseURL, brokers: brokers)
    let (sim, port, schema, topics, pool, producer, relay) =
        (rig.sim, rig.port, rig.schema, rig.topics, rig.pool, rig.producer, rig.relay)
    let relayTask = Task { try await relay.run() }
    _ = try await sim.engine.withSimulation { simulation, now in
        try simulation.addFault(DRSSimFault(type: .latency, operations: ["StartRecovery"], milliseconds: 3000, phase: .after), realNow: now)
    }
    var configuration = LauncherConfiguration()
    configuration.drsEndpointTemplate = "http://127.0.0.1:\(port)"
    configuration.inventoryInterval = .zero
    configuration.drsTimeout = .seconds(10)
    configuration.reconcileInterval = .milliseconds(250)
    configuration.accounts = [AccountConfiguration(accountId: accountID, regions: regionNames, keyPair: "BENCH")]
    func launcher() -> Launcher { rig.launcher(configuration) }
    let first = try launcher().services().map { service in Task { try await service.run() } }
    try await Task.sleep(for: .seconds(3))
    for region in regionNames {
        let endpoint = Endpoint(accountID: accountID, region: region)
        for n in 1...groupsPerRegion {
            let request = LaunchGroupRequested(
                launchGroup: LaunchGroupID(executionID: .fixture(UInt32(n)), waveNumber: 1, endpoint: endpoint),
                executionType: .drill, planID: .fixture(1), planName: "bench", waveName: "w1", team: .fixture(1), initiatedBy: "bench",
                sourceServerIDs: [SourceServerID(rawValue: sid(n))], waveStartedAt: Date())
            let event = try CloudEvent(source: "/bench", type: EventType.launchGroupRequested, payload: request)
            _ = try await producer.send(event.kafkaRecord(topic: topics.launchRequests, key: endpoint.key))
        }
    }
    let total = regions * groupsPerRegion
    func count(_ sql: String) async throws -> Int { try await pool.query(sql).rows[0].decode(Int.self, "n") }
    let sentBy = ContinuousClock.now + .seconds(60)
    while try await count("SELECT count(*) AS n FROM \(schema).launch_chunks WHERE sent_at IS NOT NULL") < total,
          ContinuousClock.now < sentBy {
        try await Task.sleep(for: .milliseconds(20))
    }
    // Every request has left and DRS has acted; no answer has come back. Stop this launcher.
    for task in first { task.cancel() }
    let replaced = ContinuousClock.now
    let second = try launcher().services().map { service in Task { try await service.run() } }
    let deadline = ContinuousClock.now + .seconds(120)
    while try await count("SELECT count(*) AS n FROM \(schema).jobs") < total, ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
    }
    let resumed = seconds(ContinuousClock.now - replaced)
    let counters = await sim.engine.withSimulation { simulation, _ in simulation.counters }
    let created = try await count("SELECT count(*) AS n FROM \(schema).outbox WHERE type = 'job.created'")
    print("== \(name) ==")
    print(String(format: "%d launch groups over %d endpoints, stopped with every StartRecovery unanswered (answers 3 s late)",
                 total, regions))
    print(String(format: "successor recorded every job %.2f s after it started (jobs %d, job.created %d, DRS jobs %d, duplicates %d)",
                 resumed, try await count("SELECT count(*) AS n FROM \(schema).jobs"), created, counters.jobsStarted,
                 counters.jobsByLaunchGroup.values.filter { $0 > 1 }.count))
    await rig.stop(first + second + [relayTask])
}

do {
    if environment["BENCH_ONLY"] == "restart" {
        try await restart(name: "launcher replaced mid-launch", regions: 5, groupsPerRegion: 4)
        exit(0)
    }
    if environment["BENCH_ONLY"] == "handoff" {
        try await handoff(name: "hand-off at 100 concurrent jobs", regions: 5, chainsPerRegion: 20, waves: 3, timeScale: 600)
        try await handoff(name: "slots with work queued", regions: 5, chainsPerRegion: 30, waves: 3, timeScale: 600)
        exit(0)
    }
    try await run(name: "launch throughput", timeScale: 600, rate: simRate, groups: groups, pollInterval: nil)
    try await run(name: "DRS calls per job over a drill's life", timeScale: 600, rate: simRate, groups: 20,
                  pollInterval: .milliseconds(500))
    try await handoff(name: "hand-off at 100 concurrent jobs", regions: 5, chainsPerRegion: 20, waves: 3, timeScale: 600)
    try await handoff(name: "slots with work queued", regions: 5, chainsPerRegion: 30, waves: 3, timeScale: 600)
    try await restart(name: "launcher replaced mid-launch", regions: 5, groupsPerRegion: 4)
} catch {
    print("muster-bench-launcher failed: \(error)")
    exit(1)
}
