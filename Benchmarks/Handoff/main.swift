// muster-bench-handoff: the wave hand-off through the real poller, launcher,
// broker and PostgreSQL against drs-sim (in-process, timing jitter on). The
// benchmark plays the planner: when a chain's job is observed COMPLETED it
// publishes the chain's next wave. Figures come from DRS's own timestamps
// (job.created's creation time, job.observed's end time):
//   hand-off = StartRecovery of wave N+1 − completion of wave N (DRS time ÷ scale);
//   makespan ÷ bound = (last end − first creation) ÷ Σ of the chain's job durations;
//   DescribeJobs per live job per DRS-minute = calls ÷ Σ job durations in DRS minutes.
// Each scenario first runs one warm-up wave per endpoint (history for the model),
// then the measured chains. Scenarios (BENCH_ONLY=light|load|production, default all):
//   light: 1 endpoint, 1 chain × 3 waves, time scale 60, repeated BENCH_REPEATS (5) times;
//   load: 5 endpoints × 20 chains × 3 waves (100 concurrent jobs), time scale 60, BENCH_LOAD_REPEATS (3) times;
//   production: the poller's production defaults, time scale 1, a short job profile.
// BENCH_PREDICT=0 runs the same with the phase cadence only (the baseline).
// BENCH_SWEEP_PER_JOB_MS sets the stack-like scenarios' sweep step per live job (15 ms).
// BENCH_GATES=0 leaves `gatesNextStep` out of the requests (every job swept, as before round 8).
// BENCH_FETCH_WAIT=default keeps librdkafka's fetch.wait.max.ms (500 ms, the
// production setting) instead of the tests' 10 ms (docs/benchmarks.md "Idle stack").
// BENCH_KAFKA_PROPERTIES=k=v,… sets any librdkafka property over those (the fetch wait included).
// Needs MUSTER_DATABASE_URL and MUSTER_KAFKA_BROKERS (scripts/infra.sh start).
import DRSSimApp
import Foundation
import LauncherApp
import Logging
import MusterAWS
import MusterDomain
import MusterEvents
import MusterHTTP
import MusterKafka
import MusterMessaging
import MusterPostgres
import PollerApp

let environment = ProcessInfo.processInfo.environment
guard let databaseURL = environment["MUSTER_DATABASE_URL"], let brokers = environment["MUSTER_KAFKA_BROKERS"] else {
    print("muster-bench-handoff: set MUSTER_DATABASE_URL and MUSTER_KAFKA_BROKERS (eval \"$(scripts/infra.sh start)\")")
    exit(2)
}
let predict = environment["BENCH_PREDICT"] != "0"
/// BENCH_KAFKA_PROPERTIES (`k=v,k=v`): librdkafka properties over the above, to price a
/// production setting in hand-off latency (e.g. `heartbeat.interval.ms=10000`; docs/benchmarks.md).
let benchKafkaProperties: [String: String] = Dictionary(
    (environment["BENCH_KAFKA_PROPERTIES"] ?? "").split(separator: ",").compactMap { pair in
        let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        return parts.count == 2 ? (parts[0], parts[1]) : nil
    }, uniquingKeysWith: { _, new in new })
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .critical
    return logger
}()
let accountID = "111122223333"
let credentials = AWSCredentials(accessKeyID: "AKIDBENCH", secretAccessKey: "bench-secret")
@Sendable func sid(_ n: Int) -> String { "s-" + String(format: "%017d", n) }
func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return .nan }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

struct Scenario {
    var name: String
    var regions: Int
    var chains: Int
    var waves: Int
    var timeScale: Double
    var timing = JobTimingProfile()
    /// The poller's settings in local time.
    var poller: (inout PollerConfiguration) -> Void
}

struct Figures {
    var handoffs: [Double] = []  // seconds
    var waits: [Double] = []  // DRS completion → the launcher's look that saw it, seconds
    /// Per hand-off, its stages (seconds, local clock): DRS complete → the poller's last job.poll
    /// naming the job before the look that saw it complete (`requestedAt`; negative: sent before
    /// completion and served after it) → the launcher's look (`observedAt`) → the look recorded
    /// (`jobs.completed_at`: the log read and the transaction that frees the slot and owes the
    /// job.observed) → the relay's publish acknowledged (`outbox.published_at`) → the planner has the
    /// job.observed → the launcher has the next launch-group.requested (`launch_chunks.received_at`: the
    /// benchmark's produce, the broker, the inbox transaction) → admitted (`intent_at`) → request
    /// sent (`sent_at`) → StartRecovery (the next job's DRS creation). Rows are read from the
    /// launcher's schema after the run; the services write them anyway.
    var stages: [[Double]] = []
    var ratios: [Double] = []  // per chain makespan ÷ bound
    var overallRatio = 0.0
    var callsPerJobMinute = 0.0
    var jobs = 0
    /// The poller's `job.poll`s while the measured chains ran, and the ids they named.
    var polls = 0
    var polledIDs = 0
}

/// What the benchmark's planner saw of one job (DRS times).
struct JobSeen {
    var chain: ExecutionID; var wave: Int; var created: Date; var ended: Date?; var seenAt: Date?
    /// Warm-up chains are numbered from ``warmup`` up (``ExecutionID/fixture(_:)``), measured ones from 1.
    static let warmup: UInt32 = 0x8000_0000
    var isWarmup: Bool { (chain.fixtureNumber ?? 0) >= Self.warmup }
    /// Local time the planner received the COMPLETED job.observed.
    var receivedAt: Date?
}

actor Ledger {
    var jobs: [String: JobSeen] = [:]
    var completedGroups: Set<String> = []
    /// job.poll requestedAt times per job id (the poller's looks).
    var polls: [String: [Date]] = [:]
    /// Every poll's time and size.
    var pollSizes: [(at: Date, ids: Int)] = []
    func polled(_ poll: JobPoll) {
        for id in poll.jobIDs { polls[id.rawValue, default: []].append(poll.requestedAt) }
        pollSizes.append((poll.requestedAt, poll.jobIDs.count))
    }
    func pollsSince(_ start: Date) -> (polls: Int, ids: Int) {
        let measured = pollSizes.filter { $0.at >= start }
        return (measured.count, measured.map(\.ids).reduce(0, +))
    }
    func created(_ event: JobCreated) {
        jobs[event.jobID.rawValue] = JobSeen(
            chain: event.launchGroup.executionID, wave: event.launchGroup.waveNumber, created: event.createdAt)
    }
    /// True the first time a group's job is seen COMPLETED.
    func completed(_ event: JobObserved) -> Bool {
        if jobs[event.jobID.rawValue]?.ended == nil {
            jobs[event.jobID.rawValue]?.ended = event.endedAt ?? event.observedAt
            jobs[event.jobID.rawValue]?.seenAt = event.observedAt
            jobs[event.jobID.rawValue]?.receivedAt = Date()
        }
        return completedGroups.insert(event.launchGroup.description).inserted
    }
    func snapshot() -> [String: JobSeen] { jobs }
    func pollTimes() -> [String: [Date]] { polls }
}

func run(_ scenario: Scenario) async throws -> Figures {
    let regionNames = (1...scenario.regions).map { "bench-\($0)" }
    // Servers: the 8 warm-up jobs use 1…8; wave w of chain n uses chains × (w − 1) + n.
    let serversPerRegion = max(8, scenario.chains * scenario.waves)
    let simConfiguration = DRSSimConfiguration(
        port: 0, credentials: [credentials.accessKeyID: DRSSimCredential(secretAccessKey: credentials.secretAccessKey, accountID: accountID)],
        seed: UInt64.random(in: 1...UInt64.max), timeScale: scenario.timeScale,
        quotas: DRSSimQuotas(maxConcurrentJobs: 20, maxServersInActiveJobs: 200),
        rateLimit: DRSSimRateLimit(requestsPerSecond: 1000, burst: 1000), timing: scenario.timing,
        seedDocument: SeedDocument(accounts: [SeedAccount(accountID: accountID, regions: Dictionary(uniqueKeysWithValues:
            regionNames.map { ($0, SeedRegion(sourceServers: (1...serversPerRegion).map { SeedSourceServer(sourceServerID: sid($0)) })) }))]))
    let (ports, sink) = AsyncStream.makeStream(of: Int.self)
    let sim = try DRSSimServer(configuration: simConfiguration, logger: logger, onServerRunning: { sink.yield($0) })
    let simTask = Task { try await sim.run() }
    var portIterator = ports.makeAsyncIterator()
    guard let port = await portIterator.next() else { fatalError("drs-sim did not start") }

    let tag = UUID().uuidString.prefix(8).lowercased()
    let launcherSchema = "bench_hl_\(tag)", pollerSchema = "bench_hp_\(tag)"
    let topics = Topics(prefix: "\(launcherSchema).")
    let pool = PostgresPool(configuration: PostgresConfiguration(url: databaseURL, poolSize: 12), logger: logger)
    _ = try await Migrator.migrate(
        schema: launcherSchema,
        migrations: MessagingSchema.migrations(schema: launcherSchema) + LauncherSchema.migrations(schema: launcherSchema),
        pool: pool, logger: logger)
    _ = try await Migrator.migrate(
        schema: pollerSchema, migrations: MessagingSchema.migrations(schema: pollerSchema) + PollerSchema.migrations,
        pool: pool, logger: logger)
    let kafka = KafkaConfiguration(bootstrapServers: brokers, properties: [
        "session.timeout.ms": "2000", "heartbeat.interval.ms": "500",
        "topic.metadata.refresh.interval.ms": "1000",
    ].merging(environment["BENCH_FETCH_WAIT"] == "default" ? [:] : ["fetch.wait.max.ms": "10"]) { _, new in new }
        .merging(benchKafkaProperties) { _, new in new })
    try await KafkaAdmin.createTopics(
        [topics.launchRequests, topics.jobPoll, topics.instancesTerminate, topics.hookRequests].map { ($0, 4) }
            + [topics.accounts, topics.jobStatus, topics.inventory].map { ($0, 1) }, configuration: kafka, timeout: .seconds(30))
    let producer = try KafkaProducer(configuration: kafka, logger: logger)
    let launcherRelay = OutboxRelay(schema: launcherSchema, pool: pool, producer: producer, logger: logger)
    let pollerRelay = OutboxRelay(schema: pollerSchema, pool: pool, producer: producer, logger: logger)
    let http = HTTPClient(logger: logger)

    var configuration = LauncherConfiguration()
    configuration.drsEndpointTemplate = "http://127.0.0.1:\(port)"
    configuration.inventoryInterval = .zero
    configuration.limits.requestsPerSecond = 200
    configuration.limits.burst = 200
    configuration.accounts = [AccountConfiguration(accountId: accountID, regions: regionNames, keyPair: "BENCH")]
    let accounts = AccountDirectory(configuration: configuration, httpClient: http, logger: logger, environment: [
        "MUSTER_KEY_BENCH_AWS_ACCESS_KEY_ID": credentials.accessKeyID,
        "MUSTER_KEY_BENCH_AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
    ])
    let launcher = Launcher(
        schema: launcherSchema, topics: topics, configuration: configuration, pool: pool, consumerKafka: kafka,
        logger: logger, accounts: accounts, groupPrefix: "muster.\(launcherSchema)", wakeRelay: { launcherRelay.wake() })

    var pollerConfiguration = PollerConfiguration()
    scenario.poller(&pollerConfiguration)
    pollerConfiguration.prediction.enabled = predict
    pollerConfiguration.schema = pollerSchema
    pollerConfiguration.topics = topics
    let pollerConsumer = try KafkaConsumer(
        configuration: kafka, groupID: "muster.\(pollerSchema).status", topics: [topics.jobStatus], logger: logger)
    let poller = PollerService.components(
        configuration: pollerConfiguration, pool: pool, consumer: pollerConsumer, logger: logger,
        wakeRelay: { pollerRelay.wake() })

    // The planner: job.created / job.observed from job.status.
    let ledger = Ledger()
    let planner = try KafkaConsumer(
        configuration: kafka, groupID: "muster.\(pollerSchema).planner", topics: [topics.jobStatus], logger: logger)
    // A witness of the poller's looks (its own group on job.poll).
    let pollWatcher = try KafkaConsumer(
        configuration: kafka, groupID: "muster.\(pollerSchema).watch", topics: [topics.jobPoll], logger: logger)
    let watchTask = Task {
        for try await record in pollWatcher.records {
            guard let event = try? CloudEvent(record: record), let poll = try? event.decode(JobPoll.self) else { continue }
            await ledger.polled(poll)
        }
    }
    let measuredWaves = scenario.waves, chains = scenario.chains
    let sendGates = environment["BENCH_GATES"] != "0"
    // As the planner does: a wave another waits for gates a next step (BENCH_GATES=0 leaves the flag
    // out, as an older planner would, so every job counts as gating: the previous behaviour).
    @Sendable func publishWave(chain: ExecutionID, region: String, wave: Int, server: Int, gates: Bool) async throws {
        let endpoint = Endpoint(accountID: accountID, region: region)
        let request = LaunchGroupRequested(
            launchGroup: LaunchGroupID(executionID: chain, waveNumber: wave, endpoint: endpoint),
            executionType: .drill, planID: .fixture(1), planName: "bench", waveName: "w\(wave)", team: .fixture(1), initiatedBy: "bench",
            sourceServerIDs: [SourceServerID(rawValue: sid(server))], waveStartedAt: Date(), gatesNextStep: sendGates ? gates : nil)
        let event = try CloudEvent(source: "/bench", type: EventType.launchGroupRequested, payload: request)
        _ = try await producer.send(event.kafkaRecord(topic: topics.launchRequests, key: endpoint.key))
    }
    let plannerTask = Task {
        for try await record in planner.records {
            guard let event = try? CloudEvent(record: record) else { continue }
            if event.type == EventType.jobCreated, let created = try? event.decode(JobCreated.self) {
                await ledger.created(created)
            } else if event.type == EventType.jobObserved, let observed = try? event.decode(JobObserved.self),
                      observed.status == .completed, await ledger.completed(observed) {
                let group = observed.launchGroup
                // Measured chains are numbered k (unique over regions) with waves 1…waves; warm-ups have one.
                guard let k = group.executionID.fixtureNumber.map(Int.init), k < JobSeen.warmup,
                      group.waveNumber < measuredWaves else { continue }
                try await publishWave(
                    chain: group.executionID, region: group.endpoint.region, wave: group.waveNumber + 1,
                    server: chains * group.waveNumber + (k - 1) % chains + 1, gates: group.waveNumber + 1 < measuredWaves)
            }
        }
    }
    let tasks = ([launcherRelay, pollerRelay] + (try launcher.services()) + poller).map { service in
        Task { try await service.run() }
    }
    try await Task.sleep(for: .seconds(4))  // consumer groups form

    func waitUntil(_ done: @Sendable ([String: JobSeen]) -> Bool, limit: Duration) async throws {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if done(await ledger.snapshot()) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        print("  (gave up waiting after \(limit))")
    }
    let nominal = scenario.timing.nominalDrillSeconds / scenario.timeScale
    // Warm-up: one wave per endpoint so the model has history.
    let warmups = 8
    for (index, region) in regionNames.enumerated() {
        for n in 1...warmups {
            try await publishWave(chain: .fixture(JobSeen.warmup + UInt32(index * warmups + n)), region: region, wave: 1, server: n,
                                  gates: false)
        }
    }
    let warmCount = warmups * regionNames.count
    try await waitUntil({ jobs in jobs.values.filter { $0.isWarmup && $0.ended != nil }.count >= warmCount },
                        limit: .seconds(nominal * 3 + 30))
    try await Task.sleep(for: .milliseconds(500))
    let callsBefore = await sim.engine.withSimulation { simulation, _ in simulation.counters.calls("DescribeJobs") }
    let measuredStart = Date()
    for (index, region) in regionNames.enumerated() {
        for n in 1...scenario.chains {
            try await publishWave(chain: .fixture(UInt32(index * scenario.chains + n)), region: region, wave: 1, server: n,
                                  gates: measuredWaves > 1)
        }
    }
    let total = scenario.chains * regionNames.count * scenario.waves
    try await waitUntil({ jobs in jobs.values.filter { !$0.isWarmup && $0.ended != nil }.count >= total },
                        limit: .seconds(nominal * Double(scenario.waves) * 3 + 60))
    let calls = await sim.engine.withSimulation { simulation, _ in simulation.counters.calls("DescribeJobs") } - callsBefore
    let pollCounts = await ledger.pollsSince(measuredStart)
    // The launcher's own timestamps of each job and chunk (for the stages).
    try await Task.sleep(for: .milliseconds(500))  // the last job.observed rows are published
    var recordedAt: [String: Date] = [:], publishedAt: [String: Date] = [:]
    for row in try await pool.query("SELECT job_id, completed_at FROM \(launcherSchema).jobs WHERE completed_at IS NOT NULL").rows {
        recordedAt[try row.decode(String.self, "job_id")] = try row.decode(Date.self, "completed_at")
    }
    for row in try await pool.query(
        "SELECT data, published_at FROM \(launcherSchema).outbox WHERE type = $1 AND published_at IS NOT NULL",
        [EventType.jobObserved]).rows {
        guard let observed = try? EventCoding.decoder.decode(JobObserved.self, from: Data(try row.decode([UInt8].self, "data"))),
              observed.status == .completed else { continue }
        let at = try row.decode(Date.self, "published_at")
        publishedAt[observed.jobID.rawValue] = min(publishedAt[observed.jobID.rawValue] ?? at, at)
    }
    var chunkTimes: [String: (received: Date, intent: Date, sent: Date)] = [:]  // "chain/wave"
    for row in try await pool.query(
        "SELECT launch_group, received_at, intent_at, sent_at FROM \(launcherSchema).launch_chunks WHERE sent_at IS NOT NULL").rows {
        guard let group = LaunchGroupID(try row.decode(String.self, "launch_group")) else { continue }
        let sent = try row.decode(Date.self, "sent_at")
        chunkTimes["\(group.executionID)/\(group.waveNumber)"] =
            (try row.decode(Date.self, "received_at"), try row.decode(Date?.self, "intent_at") ?? sent, sent)
    }
    // drs-sim's clock now, to put DRS times on the local clock (the wait for the look).
    let (simNow, realNow) = await sim.engine.withSimulation { simulation, real in (simulation.clock.now(real: real), real) }
    func local(_ drs: Date) -> Date { realNow.addingTimeInterval(-simNow.timeIntervalSince(drs) / scenario.timeScale) }

    var figures = Figures()
    let allJobs = await ledger.snapshot(), pollTimes = await ledger.pollTimes()
    let measured = allJobs.filter { !$0.value.isWarmup }.values
    var idOf: [String: String] = [:]  // "chain/wave" → job id
    for (id, job) in allJobs { idOf["\(job.chain)/\(job.wave)"] = id }
    figures.jobs = measured.count
    (figures.polls, figures.polledIDs) = pollCounts
    var byChain: [ExecutionID: [JobSeen]] = [:]
    for job in measured { byChain[job.chain, default: []].append(job) }
    var bounds: [Double] = [], firstCreated = Date.distantFuture, lastEnded = Date.distantPast, jobSeconds = 0.0
    for (_, jobs) in byChain {
        let lane = jobs.sorted { $0.wave < $1.wave }
        guard lane.count == scenario.waves, lane.allSatisfy({ $0.ended != nil }) else { continue }
        var bound = 0.0
        for (index, job) in lane.enumerated() {
            bound += job.ended!.timeIntervalSince(job.created)
            if index > 0 {
                figures.handoffs.append(job.created.timeIntervalSince(lane[index - 1].ended!) / scenario.timeScale)
                let previous = lane[index - 1], ended = local(previous.ended!)
                if let seen = previous.seenAt { figures.waits.append(seen.timeIntervalSince(ended)) }
                if let id = idOf["\(previous.chain)/\(previous.wave)"], let seen = previous.seenAt,
                   let received = previous.receivedAt, let recorded = recordedAt[id], let published = publishedAt[id],
                   let next = chunkTimes["\(job.chain)/\(job.wave)"],
                   let poll = pollTimes[id]?.filter({ $0 <= seen }).max() {
                    figures.stages.append([
                        poll.timeIntervalSince(ended), seen.timeIntervalSince(poll), recorded.timeIntervalSince(seen),
                        published.timeIntervalSince(recorded), received.timeIntervalSince(published),
                        next.received.timeIntervalSince(received), next.intent.timeIntervalSince(next.received),
                        next.sent.timeIntervalSince(next.intent), local(job.created).timeIntervalSince(next.sent),
                    ])
                }
            }
        }
        let makespan = lane.last!.ended!.timeIntervalSince(lane[0].created)
        figures.ratios.append(makespan / bound)
        bounds.append(bound)
    }
    for job in measured {
        firstCreated = min(firstCreated, job.created)
        if let ended = job.ended {
            lastEnded = max(lastEnded, ended)
            jobSeconds += ended.timeIntervalSince(job.created)
        }
    }
    figures.overallRatio = lastEnded.timeIntervalSince(firstCreated) / (bounds.max() ?? .nan)
    figures.callsPerJobMinute = Double(calls) / (jobSeconds / 60)

    plannerTask.cancel()
    watchTask.cancel()
    await pollWatcher.close()
    for task in tasks { task.cancel() }
    for task in tasks { _ = try? await task.value }
    await planner.close()
    await producer.shutdown(timeout: .seconds(5))
    await http.shutdown()
    simTask.cancel()
    _ = try? await simTask.value
    _ = try? await pool.query("DROP SCHEMA \(launcherSchema) CASCADE")
    _ = try? await pool.query("DROP SCHEMA \(pollerSchema) CASCADE")
    await pool.close()
    return figures
}

func report(_ name: String, _ runs: [Figures]) {
    let handoffs = runs.flatMap(\.handoffs).map { $0 * 1000 }
    let ratios = runs.flatMap(\.ratios)
    print("== \(name) (prediction \(predict ? "on" : "off")) ==")
    print(String(format: "runs: %d, measured jobs: %d, hand-offs: %d", runs.count, runs.map(\.jobs).reduce(0, +), handoffs.count))
    print(String(format: "hand-off (DRS complete → next StartRecovery): p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                 percentile(handoffs, 0.5), percentile(handoffs, 0.99), handoffs.max() ?? .nan))
    let waits = runs.flatMap(\.waits).map { $0 * 1000 }
    print(String(format: "  of which waiting for the look (DRS complete → DescribeJobs that saw it): p50 %.0f ms, p99 %.0f ms",
                 percentile(waits, 0.5), percentile(waits, 0.99)))
    for (index, run) in runs.enumerated() where runs.count > 1 {
        print(String(format: "  run %d: hand-off p50 %.0f ms, max %.0f ms; makespan/bound max %.4f; calls/job/DRS-min %.3f",
                     index + 1, percentile(run.handoffs.map { $0 * 1000 }, 0.5), (run.handoffs.max() ?? .nan) * 1000,
                     run.ratios.max() ?? .nan, run.callsPerJobMinute))
    }
    let stages = runs.flatMap(\.stages)
    let names = ["DRS complete → job.poll", "job.poll → launcher's look", "look → recorded (log read, slot freed)",
                 "recorded → relay published job.observed", "published → planner has it (broker fetch)",
                 "planner → launcher has launch-group.requested (produce, fetch, inbox)", "received → admitted (intent)",
                 "admitted → request sent", "sent → DRS created the job"]
    print("  stages over \(stages.count) hand-offs (ms): p50 / p90 / p99 / max")
    for (index, name) in names.enumerated() {
        let values = stages.map { $0[index] * 1000 }
        print(String(format: "    %@: %.0f / %.0f / %.0f / %.0f", name, percentile(values, 0.5), percentile(values, 0.9),
                     percentile(values, 0.99), values.max() ?? .nan))
    }
    // Where the slowest hand-offs (top 5 %) spend their time.
    let slowest = stages.sorted { $0.reduce(0, +) > $1.reduce(0, +) }.prefix(max(1, stages.count / 20))
    if !slowest.isEmpty {
        print("  slowest 5 % (\(slowest.count)), mean per stage (ms): " + names.indices.map { index in
            String(format: "%.0f", slowest.map { $0[index] }.reduce(0, +) / Double(slowest.count) * 1000)
        }.joined(separator: " / "))
    }
    print(String(format: "makespan ÷ critical-path bound per chain: p50 %.4f, p99 %.4f, max %.4f (%d chains over 1.02); whole run ÷ longest chain: %.4f",
                 percentile(ratios, 0.5), percentile(ratios, 0.99), ratios.max() ?? .nan, ratios.filter { $0 > 1.02 }.count,
                 runs.map(\.overallRatio).max() ?? .nan))
    print(String(format: "DescribeJobs per live job per DRS-minute: %@",
                 runs.map { String(format: "%.3f", $0.callsPerJobMinute) }.joined(separator: ", ")))
    print("job.poll sent by the poller while measured (polls, mean ids per poll): " + runs.map {
        String(format: "%d, %.1f", $0.polls, Double($0.polledIDs) / Double(max(1, $0.polls)))
    }.joined(separator: "; "))
}

/// Stack-like settings at time scale 60 (DESIGN's fast cadence for the baseline).
func stackPoller(_ configuration: inout PollerConfiguration) {
    configuration.schedule = PollSchedule(
        firstPollDelay: .milliseconds(300), pendingInterval: .seconds(1), startedInterval: .milliseconds(500),
        minimumGap: .milliseconds(40), jitter: 0.1, batchWindow: .milliseconds(500))
    configuration.budget = EndpointBudget(maxPollsPerMinute: 6000)
    configuration.tickInterval = .milliseconds(200)
    configuration.prediction = PredictionSettings(
        drsTimeScale: 60, sweepStep: .milliseconds(50),
        sweepStepPerJob: .milliseconds(Int(environment["BENCH_SWEEP_PER_JOB_MS"] ?? "") ?? 15), watchInterval: .seconds(5))
}

do {
    let only = environment["BENCH_ONLY"]
    let repeats = Int(environment["BENCH_REPEATS"] ?? "") ?? 5
    if only == nil || only == "light" {
        var runs: [Figures] = []
        for _ in 0..<repeats {
            runs.append(try await run(Scenario(name: "light", regions: 1, chains: 1, waves: 3, timeScale: 60, poller: stackPoller)))
        }
        report("light load: 1 chain × 3 waves, time scale 60", runs)
    }
    if only == nil || only == "load" {
        var runs: [Figures] = []
        for _ in 0..<(Int(environment["BENCH_LOAD_REPEATS"] ?? "") ?? 3) {
            runs.append(try await run(Scenario(name: "load", regions: 5, chains: 20, waves: 3, timeScale: 60, poller: stackPoller)))
        }
        report("100 concurrent jobs: 5 endpoints × 20 chains × 3 waves, time scale 60", runs)
    }
    if only == nil || only == "production" {
        // Production defaults, DRS at time scale 1 with short phases (3 waves in under a minute). STARTED
        // (6 s) stays longer than the default 5 s minimum gap between looks, as real DRS's minutes do.
        let short = JobTimingProfile(
            jobStartDelay: 1, snapshotStartDelay: 1, snapshotDuration: 3, conversionStartDelay: 1, conversionDuration: 5,
            launchStartDelay: 1, launchDuration: 5, postLaunchActionDuration: 2, jobEndDelay: 1, terminateDuration: 2,
            jitter: 0.1)
        var runs: [Figures] = []
        for _ in 0..<max(1, repeats / 2) {
            runs.append(try await run(Scenario(name: "production", regions: 1, chains: 1, waves: 3, timeScale: 1, timing: short) { _ in }))
        }
        report("production defaults, time scale 1, short profile (18 s jobs: 12 s PENDING, 6 s STARTED)", runs)
    }
} catch {
    print("muster-bench-handoff failed: \(error)")
    exit(1)
}
