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
import TestSupport
import Testing

/// drs-sim in-process, a unique schema and topics on the real PostgreSQL and
/// broker, and launchers that can be started, crashed and replaced against
/// them: each one `LauncherService` started through ``ServiceUnderTest`` (its
/// own pool, producer, outbox relay and ops HTTP, as a process of its own), all
/// in one consumer group on the harness's schema and topics.
final class LauncherHarness: Sendable {
    static let accountID = "111122223333"
    static let region = "us-east-1"
    static let endpoint = Endpoint(accountID: accountID, region: region)
    static let credentials = AWSCredentials(accessKeyID: "AKIDLAUNCHER", secretAccessKey: "launcher-secret")

    static func sid(_ n: Int) -> String { "s-" + String(format: "%017d", n) }

    let schema: String
    let topics: Topics
    /// The test's own pool (queries); each launcher runs on its own.
    let pool: PostgresPool
    /// The test's own producer, publishing what the planner and poller would.
    let producer: KafkaProducer
    let sim: DRSSimServer
    let port: Int
    let http: HTTPClient
    let outcomes = Locked<[ConsumeOutcome]>([])
    /// What the launchers logged (for ``ParkingProbe``).
    let log = LogCapture()
    /// The launchers started so far, in order.
    let launchers = Locked<[ServiceUnderTest<LauncherService>]>([])
    private let simTask: Task<Void, any Error>
    private let groupPrefix: String

    var engine: DRSSimEngine { sim.engine }

    /// - Parameter servers: source servers `sid(1)…sid(servers)` seeded in the estate.
    static func start(
        servers: Int = 10, timeScale: Double = 600, quotas: DRSSimQuotas = DRSSimQuotas(),
        rateLimit: DRSSimRateLimit = DRSSimRateLimit(requestsPerSecond: 1000, burst: 1000)
    ) async throws -> LauncherHarness {
        var logger = Logger(label: "drs-sim")
        logger.logLevel = .critical
        let configuration = DRSSimConfiguration(
            port: 0, credentials: [credentials.accessKeyID: DRSSimCredential(
                secretAccessKey: credentials.secretAccessKey, accountID: accountID)],
            timeScale: timeScale, quotas: quotas, rateLimit: rateLimit,
            seedDocument: SeedDocument(accounts: [
                SeedAccount(accountID: accountID, regions: [region: SeedRegion(sourceServers: (1...servers).map {
                    SeedSourceServer(sourceServerID: sid($0), hostname: "host-\($0)")
                })]),
            ]))
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let sim = try DRSSimServer(configuration: configuration, logger: logger, onServerRunning: { sink.yield($0) })
        let simTask = Task { try await sim.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw HarnessError("drs-sim did not start") }
        return try await LauncherHarness(sim: sim, simTask: simTask, port: port)
    }

    private init(sim: DRSSimServer, simTask: Task<Void, any Error>, port: Int) async throws {
        self.sim = sim
        self.simTask = simTask
        self.port = port
        let name = TestEnvironment.uniqueName("launcher")
        schema = name
        groupPrefix = "muster.\(name)"
        topics = Topics(prefix: "\(name).")
        pool = try TestEnvironment.pool(size: 4)
        _ = try await Migrator.migrate(
            schema: schema, migrations: MessagingSchema.migrations(schema: schema) + LauncherSchema.migrations(schema: schema),
            pool: pool, logger: TestEnvironment.logger)
        let kafka = try TestEnvironment.kafka()
        try await KafkaAdmin.createTopics(
            [topics.launchRequests, topics.jobPoll, topics.instancesTerminate, topics.hookRequests, topics.accounts].map { ($0, 2) }
                + [topics.jobStatus, topics.inventory].map { ($0, 1) },
            configuration: kafka, timeout: TestEnvironment.topicCreationTimeout)
        producer = try KafkaProducer(configuration: kafka, logger: TestEnvironment.logger)
        http = HTTPClient(logger: TestEnvironment.logger)
    }

    /// A launcher configuration for tests: fast scheduler, sim endpoint, scaled conflict back-off.
    func configuration(_ adjust: (inout LauncherConfiguration) -> Void = { _ in }) -> LauncherConfiguration {
        var configuration = LauncherConfiguration()
        configuration.topics = topics
        configuration.drsEndpointTemplate = "http://127.0.0.1:\(port)"
        configuration.ec2EndpointTemplate = "http://127.0.0.1:\(port)"
        configuration.ssmEndpointTemplate = "http://127.0.0.1:\(port)"
        configuration.ssmPollInterval = .milliseconds(100)
        configuration.schedulerInterval = .milliseconds(100)
        configuration.inventoryInterval = .zero
        configuration.instanceStaleAfter = .seconds(1)
        configuration.limits.requestsPerSecond = 500
        configuration.limits.burst = 500
        configuration.conflict = ConflictPolicy(initialDelay: 30, deadline: 3600, scale: 0.01)
        configuration.accounts = [AccountConfiguration(accountId: Self.accountID, regions: [Self.region], keyPair: "SIM")]
        adjust(&configuration)
        return configuration
    }

    /// Starts a launcher (`LauncherService` through ``ServiceUnderTest``, in the harness's consumer
    /// group); returns it and the task running it, which ends with `LauncherCrash` when a hook
    /// crashes it (the crash is expected; any other early end fails the test).
    @discardableResult
    func startLauncher(
        _ configuration: LauncherConfiguration, hooks: LauncherHooks = LauncherHooks()
    ) async throws -> (launcher: Launcher, tasks: [Task<Void, any Error>]) {
        let service = try await startService(configuration, hooks: hooks)
        return (service.parts.launcher, [service.run.task])
    }

    /// ``startLauncher(_:hooks:)``, returning the whole service (to stop it gracefully or kill it).
    func startService(
        _ configuration: LauncherConfiguration, hooks: LauncherHooks = LauncherHooks()
    ) async throws -> ServiceUnderTest<LauncherService> {
        var configuration = configuration
        configuration.hooks = hooks
        let outcomes = self.outcomes
        let service = try await ServiceUnderTest.start(
            LauncherService.self, schema: schema, configuration: configuration,
            migrations: LauncherSchema.migrations(schema: schema), poolSize: 8, groupPrefix: groupPrefix,
            environment: [
                "MUSTER_KEY_SIM_AWS_ACCESS_KEY_ID": Self.credentials.accessKeyID,
                "MUSTER_KEY_SIM_AWS_SECRET_ACCESS_KEY": Self.credentials.secretAccessKey,
            ],
            logger: log.logger, expected: { $0 is LauncherCrash },
            onOutcome: { outcome, _ in outcomes.withLock { $0.append(outcome) } })
        launchers.withLock { $0.append(service) }
        return service
    }

    /// The consumers of the launchers started so far (for replaying what they parked).
    var consumers: [EventConsumer] { launchers.withLock { $0.flatMap(\.consumers) } }

    /// Publishes `payload` as a CloudEvent on `topic` under `key`.
    func publish<Payload: Encodable>(_ topic: String, key: String = LauncherHarness.endpoint.key, type: String, _ payload: Payload) async throws {
        let event = try CloudEvent(source: "/test", type: type, payload: payload)
        _ = try await producer.send(event.kafkaRecord(topic: topic, key: key))
    }

    /// A launch-group.requested for `servers` of the execution named `execution` (``ExecutionID/named(_:)``).
    func launchGroupRequested(_ execution: String, wave: Int = 1, servers: [String], type: ExecutionType = .drill) -> LaunchGroupRequested {
        LaunchGroupRequested(
            launchGroup: LaunchGroupID(executionID: .named(execution), waveNumber: wave, endpoint: Self.endpoint),
            executionType: type, planID: .named("plan-1"), planName: "Plan", waveName: "wave \(wave)", team: .named("team-a"),
            initiatedBy: "alice", sourceServerIDs: servers.map(SourceServerID.init(rawValue:)), waveStartedAt: Date(), timeoutSeconds: 600)
    }

    func launch(_ request: LaunchGroupRequested) async throws {
        try await publish(topics.launchRequests, type: EventType.launchGroupRequested, request)
    }

    /// Jobs the launcher recorded: job id → launch group and chunk.
    func jobs() async throws -> [(jobID: String, launchGroup: String, chunk: Int, completed: Date?, created: Date)] {
        try await pool.query(
            "SELECT job_id, launch_group, chunk, completed_at, created_at FROM \(schema).jobs ORDER BY created_at").rows.map {
            (try $0.decode(String.self, "job_id"), try $0.decode(String.self, "launch_group"), try $0.decode(Int.self, "chunk"),
             try $0.decode(Date?.self, "completed_at"), try $0.decode(Date.self, "created_at"))
        }
    }

    /// Event types in the outbox, in order, for the execution named `executionID` (nil: all).
    func outboxTypes(execution executionID: String? = nil) async throws -> [String] {
        try await pool.query(
            "SELECT type FROM \(schema).outbox WHERE ($1::text IS NULL OR subject = $1) ORDER BY seq", [executionID.map { ExecutionID.named($0).rawValue }]
        ).rows.map { try $0.decode(String.self, "type") }
    }

    func outboxPayloads<T: Decodable>(_ type: String, as: T.Type) async throws -> [T] {
        try await pool.query("SELECT data FROM \(schema).outbox WHERE type = $1 ORDER BY seq", [type]).rows.map {
            try EventCoding.decoder.decode(T.self, from: Data(try $0.decode([UInt8].self, "data")))
        }
    }

    func leaseCount() async throws -> Int {
        try await pool.query("SELECT count(*) AS n FROM \(schema).server_leases").rows[0].decode(Int.self, "n")
    }

    func counters() async -> DRSSimCounters {
        await engine.withSimulation { simulation, _ in simulation.counters }
    }

    /// Plays the poller: polls every live job the launcher recorded until
    /// `done` holds or `timeout` passes.
    func pollUntil(timeout: Duration = TestEnvironment.patience, _ done: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await done() { return true }
            let live = try await jobs().filter { $0.completed == nil }.map(\.jobID)
            if !live.isEmpty {
                try await publish(topics.jobPoll, type: EventType.jobPoll, JobPoll(endpoint: Self.endpoint, jobIDs: live.map(JobID.init(rawValue:))))
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return try await done()
    }

    /// Stops every launcher (killed, as the harness always ended them) and drs-sim, and drops the schema.
    func shutdown() async {
        for launcher in launchers.withLock({ $0 }) { await launcher.kill() }
        await producer.shutdown(timeout: .seconds(5))
        await http.shutdown()
        simTask.cancel()
        _ = try? await simTask.value
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension LauncherHarness {
    /// Starts a harness, runs `body`, and always shuts it down.
    static func with(
        servers: Int = 10, timeScale: Double = 600, quotas: DRSSimQuotas = DRSSimQuotas(),
        rateLimit: DRSSimRateLimit = DRSSimRateLimit(requestsPerSecond: 1000, burst: 1000),
        _ body: (LauncherHarness) async throws -> Void
    ) async throws {
        let harness = try await start(servers: servers, timeScale: timeScale, quotas: quotas, rateLimit: rateLimit)
        do {
            try await body(harness)
        } catch {
            await harness.shutdown()
            throw error
        }
        await harness.shutdown()
    }
}
