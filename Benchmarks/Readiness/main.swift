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
import PlannerApp
import PlannerBenchRig

// muster-bench-readiness: how long `POST /v1/plans/{id}/evaluate` takes for a
// plan of `servers` servers (in `waves` waves, one account), on the real
// PostgreSQL and real HTTP over loopback, with the planner's API in-process.
// The inventory rows are seeded as the launcher's inventory sweep leaves them
// (a quarter of the servers with a replication backlog, so the checks have
// findings to build). Prints min/p50/p95/p99/max of `rounds` evaluations after
// `warmup` unmeasured ones, twice:
// - "planner only": no launcher; evaluate's wait for it is 0 ms, so this is
//   the planner's own part;
// - "end to end" (when MUSTER_KAFKA_BROKERS is set): the planner with its
//   relay and consumers, a launcher and drs-sim in-process, over the real
//   broker: planner → accounts topic → launcher → drs-sim (DescribeJobs,
//   DescribeRecoveryInstances, DescribeSubnets, DescribeSecurityGroups) →
//   inventory topic → planner, with the launcher's default request budget.
// Usage:
//   MUSTER_DATABASE_URL=… [MUSTER_KAFKA_BROKERS=…] muster-bench-readiness [servers=100] [rounds=200] [waves=4] [warmup=20]

let arguments = CommandLine.arguments.dropFirst().compactMap(Int.init)
let serverCount = max(1, arguments.first ?? 100)
let rounds = max(1, arguments.dropFirst().first ?? 200)
let waveCount = max(1, min(arguments.dropFirst(2).first ?? 4, serverCount))
let warmup = arguments.dropFirst(3).first ?? 20
guard let url = ProcessInfo.processInfo.environment["MUSTER_DATABASE_URL"] else {
    print("MUSTER_DATABASE_URL is not set: run `eval \"$(scripts/infra.sh start)\"` first")
    exit(2)
}
let logger: Logger = {
    var logger = Logger(label: "bench")
    logger.logLevel = .error
    return logger
}()

let credentials = AWSCredentials(accessKeyID: "AKIDREADINESSBENCH", secretAccessKey: "readiness-bench-secret")
let account = "123456789012"
let ids = (0..<serverCount).map { String(format: "s-%017x", $0 + 1) }

/// Seeds the plan through the API (and the inventory rows directly), then times `rounds` evaluations.
func measure(_ rig: PlannerBenchRig, label: String, accountCredentials: [String: Any],
             ready: @escaping @Sendable ([String: Any]) -> Bool = { _ in true }) async throws {
    let (adminToken, schema, pool) = (rig.adminToken, rig.schema, rig.pool)
    func call(_ method: String, _ path: String, token: String, json: [String: Any]? = nil) async throws -> [String: Any] {
        try await rig.call(method, path, token: token, json: json)
    }
    let team = try await call("POST", "/v1/teams", token: adminToken, json: ["name": "bench"])["id"] as! String
    let token = try await call("POST", "/v1/teams/\(team)/tokens", token: adminToken,
                               json: ["name": "op", "subject": "bench", "role": "admin"])["token"] as! String
    _ = try await call("POST", "/v1/accounts", token: token, json: [
        "awsAccountId": account, "name": "bench", "regions": ["us-east-1"], "credentials": accountCredentials,
    ])
    for (index, id) in ids.enumerated() {
        try await pool.query(
            """
            INSERT INTO \(schema).source_servers (account_id, region, server_id, hostname, replication_state, tags, observed_at)
            VALUES ($1, 'us-east-1', $2, $2, $3, '{}', now())
            """, [account, id, index % 4 == 0 ? "BACKLOG" : "CONTINUOUS"])
    }
    var waves: [[String: Any]] = []
    let perWave = (serverCount + waveCount - 1) / waveCount
    for wave in 0..<waveCount {
        let members = Array(ids[min(ids.count, wave * perWave)..<min(ids.count, (wave + 1) * perWave)])
        guard !members.isEmpty else { continue }
        let group = try await call("POST", "/v1/protection-groups", token: token, json: [
            "name": "g\(wave)", "region": "us-east-1", "sourceServerIds": members,
        ])["id"] as! String
        waves.append(["name": "w\(wave)", "protectionGroupIds": [group]] as [String: Any])
    }
    let plan = try await call("POST", "/v1/plans", token: token, json: [
        "name": "bench", "waves": waves,
        "launchProfiles": ["drill": ["subnetId": "subnet-0d1e2f3a4b5c60002", "securityGroupIds": ["sg-0d1e2f3a4b5c60002"]]],
        "drillProfile": "drill",
    ])["id"] as! String

    // Until the other services answer (consumer groups joined), nothing is measured.
    let deadline = ContinuousClock.now + .seconds(120)
    while !ready(try await call("POST", "/v1/plans/\(plan)/evaluate", token: token)) {
        guard ContinuousClock.now < deadline else { throw BenchmarkError(text: "\(label): the launcher never answered") }
    }
    var samples: [Double] = []
    var verdict = "", unanswered = 0
    let clock = ContinuousClock()
    for round in 0..<(warmup + rounds) {
        let start = clock.now
        let answer = try await call("POST", "/v1/plans/\(plan)/evaluate", token: token)
        let elapsed = start.duration(to: clock.now)
        verdict = answer["verdict"] as? String ?? "?"
        if round >= warmup {
            samples.append(elapsed.seconds)
            if !ready(answer) { unanswered += 1 }
        }
    }
    samples.sort()
    func ms(_ p: Double) -> String {
        String(format: "%.1f ms", samples[min(samples.count - 1, Int(Double(samples.count) * p))] * 1000)
    }
    print("readiness evaluation (\(label)), \(serverCount) servers in \(waves.count) waves, verdict \(verdict), \(rounds) rounds:")
    print("  min \(ms(0))  p50 \(ms(0.5))  p95 \(ms(0.95))  p99 \(ms(0.99))  max \(ms(1))  (target: < 2000 ms)"
        + (unanswered > 0 ? "  — \(unanswered) round(s) without the launcher's answer" : ""))
}

/// True when the launcher's checks are in and answered (not unknown).
@Sendable func launcherAnswered(_ answer: [String: Any]) -> Bool {
    let checks = (answer["checks"] as? [[String: Any]]) ?? []
    return checks.contains { $0["name"] as? String == "account.credentials" && $0["status"] as? String == "ok" }
}

do {
    let rig = try await PlannerBenchRig.start(databaseURL: url, poolSize: 4, logger: logger) {
        $0.readinessLauncherWait = .zero
    }
    do {
        try await measure(rig, label: "planner only",
                          accountCredentials: ["type": "ASSUME_ROLE", "roleArn": "arn:aws:iam::\(account):role/Muster"])
    } catch {
        print("benchmark failed: \(error)")
    }
    await rig.stop()
}

if let brokers = ProcessInfo.processInfo.environment["MUSTER_KAFKA_BROKERS"] {
    do {
        try await endToEnd(brokers: brokers)
    } catch {
        print("end-to-end benchmark failed: \(error)")
    }
}

/// drs-sim, a launcher and the planner with its consumers, in-process, on fresh topics and schemas.
func endToEnd(brokers: String) async throws {
    let (ports, sink) = AsyncStream.makeStream(of: Int.self)
    let sim = try DRSSimServer(configuration: DRSSimConfiguration(
        port: 0, credentials: [credentials.accessKeyID: DRSSimCredential(
            secretAccessKey: credentials.secretAccessKey, accountID: account)],
        timeScale: 600, rateLimit: DRSSimRateLimit(requestsPerSecond: 1000, burst: 1000),
        seedDocument: SeedDocument(accounts: [SeedAccount(accountID: account, regions: ["us-east-1": SeedRegion(
            sourceServers: ids.map { SeedSourceServer(sourceServerID: $0, hostname: $0) })])])),
        logger: logger, onServerRunning: { sink.yield($0) })
    let simTask = Task { try await sim.run() }
    var portIterator = ports.makeAsyncIterator()
    guard let simPort = await portIterator.next() else { throw BenchmarkError(text: "drs-sim did not start") }

    let name = "readiness_bench_\(UInt32.random(in: 0...UInt32.max))"
    let kafka = KafkaConfiguration(bootstrapServers: brokers, properties: [
        "session.timeout.ms": "2000", "heartbeat.interval.ms": "500", "fetch.wait.max.ms": "10",
        "topic.metadata.refresh.interval.ms": "1000",
    ])
    // One prefix: the planner and the launcher agree on every name.
    let plannerTopics = Topics(prefix: "\(name)."), launcherTopics = plannerTopics
    try await KafkaAdmin.createTopics(
        [plannerTopics.launchRequests, plannerTopics.instancesTerminate, plannerTopics.accounts, plannerTopics.executionEvents,
         plannerTopics.jobStatus, plannerTopics.inventory, plannerTopics.teams, launcherTopics.jobPoll,
         launcherTopics.hookRequests].map { ($0, 1) },
        configuration: kafka, timeout: .seconds(30))

    // The launcher on its own schema, with its relay; its request budget is the default one.
    let launcherSchema = "\(name)_launcher"
    let launcherPool = PostgresPool(configuration: PostgresConfiguration(url: url, poolSize: 4), logger: logger)
    _ = try await Migrator.migrate(
        schema: launcherSchema,
        migrations: MessagingSchema.migrations(schema: launcherSchema) + LauncherSchema.migrations(schema: launcherSchema),
        pool: launcherPool, logger: logger)
    let producer = try KafkaProducer(configuration: kafka, logger: logger)
    let relay = OutboxRelay(schema: launcherSchema, pool: launcherPool, producer: producer, logger: logger)
    var configuration = LauncherConfiguration()
    configuration.drsEndpointTemplate = "http://127.0.0.1:\(simPort)"
    configuration.ec2EndpointTemplate = "http://127.0.0.1:\(simPort)"
    configuration.inventoryInterval = .zero
    configuration.accounts = [AccountConfiguration(accountId: account, regions: ["us-east-1"], keyPair: "BENCH")]
    let http = HTTPClient(logger: logger)
    let launcher = Launcher(
        schema: launcherSchema, topics: launcherTopics, configuration: configuration, pool: launcherPool,
        consumerKafka: kafka, logger: logger,
        accounts: AccountDirectory(configuration: configuration, httpClient: http, logger: logger, environment: [
            "MUSTER_KEY_BENCH_AWS_ACCESS_KEY_ID": credentials.accessKeyID,
            "MUSTER_KEY_BENCH_AWS_SECRET_ACCESS_KEY": credentials.secretAccessKey,
        ]),
        groupPrefix: "muster.\(name)", wakeRelay: { relay.wake() })
    var tasks = [Task { try await relay.run() }]
    for service in try launcher.services() { tasks.append(Task { try await service.run() }) }

    let rig = try await PlannerBenchRig.start(databaseURL: url, poolSize: 4, logger: logger, kafka: kafka) {
        $0.topics = plannerTopics
    }
    do {
        try await measure(rig, label: "end to end: planner → launcher → drs-sim → planner",
                          accountCredentials: ["type": "KEY_PAIR", "keyPairName": "BENCH"], ready: launcherAnswered)
    } catch {
        print("end-to-end benchmark failed: \(error)")
    }
    await rig.stop()
    for task in tasks { task.cancel() }
    for task in tasks { _ = try? await task.value }
    await producer.shutdown(timeout: .seconds(5))
    await http.shutdown()
    simTask.cancel()
    _ = try? await simTask.value
    _ = try? await launcherPool.query("DROP SCHEMA \(launcherSchema) CASCADE")
    await launcherPool.close()
}
