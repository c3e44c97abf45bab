// muster-bench-storm: "the region-wide outage" against the five real
// processes (drs-sim, planner, launcher, poller, notifier), treated as black
// boxes: driven through the planner's REST API, observed through drs-sim's
// admin API and DRS API, Kafka (committed offsets, a tail consumer), the
// launcher's PostgreSQL outbox, /proc and the services' /metrics.
//
// It seeds drs-sim with one account over BENCH_REGIONS regions
// (`generatedServers`), starts the stack with scripts/stack.sh (time scale
// 600, launcher inventory every 5 min), registers the account, creates one
// plan of 3 chained waves × 2 servers per execution, starts BENCH_EXECUTIONS
// DRILLs within seconds and waits, at most BENCH_TIMEOUT seconds, until all
// are terminal. Then it prints the figures, one `storm:` summary line each.
//
// Run it with `scripts/bench.sh storm` (fresh PostgreSQL and broker, release
// build). Settings (environment):
//   BENCH_EXECUTIONS   executions (1000)
//   BENCH_REGIONS      regions of the account, 1…20 (20)
//   BENCH_TIMEOUT      seconds to wait for all executions to be terminal (900)
//   BENCH_STACK        `start` (default: run scripts/stack.sh start/stop) or
//                      `external` (a running stack: MUSTER_API, MUSTER_ADMIN_TOKEN,
//                      MUSTER_DRS_SIM, BENCH_LAUNCHER_URL, BENCH_LAUNCHER_PID)
//   MUSTER_DATABASE_URL, MUSTER_KAFKA_BROKERS  (scripts/infra.sh start)
//   MUSTER_BIN_DIR     the services' binaries (default: this executable's folder)
//   MUSTER_STACK_PORT_BASE  the stack's ports (scripts/stack.sh; default 18180 here)
// Only 127.0.0.1 is contacted.
import Foundation
import Logging
import MusterAWS
import MusterDRS
import MusterDomain
import MusterHTTP
import MusterKafka
import MusterPostgres
import Synchronization

@main
struct StormBenchmark {
    static func main() async {
        let settings: Settings
        do { settings = try Settings(environment: ProcessInfo.processInfo.environment) } catch {
            say("muster-bench-storm: \(error)")
            exit(2)
        }
        let stack = Stack(settings: settings)
        var status: Int32 = 0
        do {
            let endpoints = try await stack.start()
            try await Storm(settings: settings, endpoints: endpoints).run()
        } catch {
            say("muster-bench-storm failed: \(error)")
            status = 1
        }
        await stack.stop()
        exit(status)
    }
}

/// Writes a line to standard output at once (`print` buffers when the output is a file).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Settings

struct Settings: Sendable {
    static let allRegions = [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
        "eu-north-1", "eu-south-1", "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ap-northeast-2",
        "ap-northeast-3", "ap-south-1", "ca-central-1", "sa-east-1", "me-south-1", "af-south-1",
    ]
    static let account = "111122223333"
    static let accessKeyID = "AKIDMUSTERDEMO000001"
    static let secret = "muster-demo-drs-sim-secret-not-a-real-key"  // drs-sim's throwaway demo key (scripts/stack.sh)
    static let serversPerWave = 2
    static let waves = 3
    static let timeScale = 600.0
    /// The launcher's input topics (the consumer lag measured) and partitions each.
    static let inputTopics = ["launch.requests.v1", "job.poll.v1", "instances.terminate.v1"]
    static let jobStatusTopic = "job.status.v1"
    static let partitions: Int32 = 12

    var executions: Int
    var regions: [String]
    var timeout: Duration
    var externalStack: Bool
    var databaseURL: String
    var brokers: String
    var root: String
    var binDir: String
    var environment: [String: String]
    var launcherGroups: [String]

    init(environment: [String: String]) throws {
        self.environment = environment
        executions = Int(environment["BENCH_EXECUTIONS"] ?? "") ?? 1000
        let regionCount = min(max(Int(environment["BENCH_REGIONS"] ?? "") ?? 20, 1), Self.allRegions.count)
        regions = Array(Self.allRegions.prefix(regionCount))
        timeout = .seconds(Int(environment["BENCH_TIMEOUT"] ?? "") ?? 900)
        externalStack = environment["BENCH_STACK"] == "external"
        guard let databaseURL = environment["MUSTER_DATABASE_URL"], let brokers = environment["MUSTER_KAFKA_BROKERS"] else {
            throw BenchError("set MUSTER_DATABASE_URL and MUSTER_KAFKA_BROKERS (eval \"$(scripts/infra.sh start)\")")
        }
        guard Self.isLoopback(databaseURL), brokers.split(separator: ",").allSatisfy({ $0.hasPrefix("127.0.0.1:") }) else {
            throw BenchError("MUSTER_DATABASE_URL and MUSTER_KAFKA_BROKERS must point at 127.0.0.1")
        }
        self.databaseURL = databaseURL
        self.brokers = brokers
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        binDir = environment["MUSTER_BIN_DIR"] ?? executable.deletingLastPathComponent().path
        root = environment["MUSTER_ROOT"] ?? FileManager.default.currentDirectoryPath
        launcherGroups = (environment["BENCH_LAUNCHER_GROUPS"] ?? "muster.launcher")
            .split(separator: ",").map(String.init)
    }

    static func isLoopback(_ url: String) -> Bool { url.contains("@127.0.0.1:") || url.contains("//127.0.0.1:") }
    var serversPerRegion: Int {
        let perExecution = Self.waves * Self.serversPerWave
        return (executions + regions.count - 1) / regions.count * perExecution
    }
}

// MARK: - The stack (scripts/stack.sh)

struct Endpoints: Sendable {
    var api: String
    var adminToken: String
    var drsSim: String
    var launcher: String
    var launcherPID: Int32?
    var stackDir: String?
}

final class Stack: Sendable {
    let settings: Settings
    private let started = Mutex(false)

    init(settings: Settings) { self.settings = settings }

    var stackDir: String { settings.root + "/.local/run/storm-stack" }

    private var environment: [String: String] {
        var environment = settings.environment
        let accounts = "[{\"accountId\":\"\(Settings.account)\",\"regions\":[\(settings.regions.map { "\"\($0)\"" }.joined(separator: ","))],\"keyPair\":\"DEMO\"}]"
        environment["MUSTER_STACK_DIR"] = stackDir
        environment["MUSTER_BIN_DIR"] = settings.binDir
        environment["MUSTER_DEMO_SEED"] = stackDir + "/storm-seed.json"
        environment["DRS_SIM_TIME_SCALE"] = "600"
        environment["MUSTER_STACK_PORT_BASE"] = settings.environment["MUSTER_STACK_PORT_BASE"] ?? "18180"
        environment["MUSTER_STACK_LAUNCHER_ACCOUNTS"] = accounts
        environment["MUSTER_STACK_INVENTORY_INTERVAL"] = "5m"
        return environment
    }

    func start() async throws -> Endpoints {
        let env = settings.environment
        if settings.externalStack {
            guard let api = env["MUSTER_API"], let token = env["MUSTER_ADMIN_TOKEN"], let sim = env["MUSTER_DRS_SIM"],
                  let launcher = env["BENCH_LAUNCHER_URL"] else {
                throw BenchError("BENCH_STACK=external needs MUSTER_API, MUSTER_ADMIN_TOKEN, MUSTER_DRS_SIM, BENCH_LAUNCHER_URL")
            }
            for url in [api, sim, launcher] where !url.hasPrefix("http://127.0.0.1:") {
                throw BenchError("\(url) is not on 127.0.0.1")
            }
            return Endpoints(api: api, adminToken: token, drsSim: sim, launcher: launcher,
                             launcherPID: env["BENCH_LAUNCHER_PID"].flatMap { Int32($0) }, stackDir: nil)
        }
        try FileManager.default.createDirectory(atPath: stackDir, withIntermediateDirectories: true)
        try seedDocument().write(to: URL(fileURLWithPath: stackDir + "/storm-seed.json"))
        started.withLock { $0 = true }
        let output = try await Self.runScript(settings.root + "/scripts/stack.sh", ["start"], environment: environment)
        var exports: [String: String] = [:]
        for line in output.split(separator: "\n") where line.hasPrefix("export ") {
            let parts = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            if parts.count == 2 { exports[String(parts[0])] = parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "'")) }
        }
        guard let api = exports["MUSTER_API"], let token = exports["MUSTER_ADMIN_TOKEN"], let sim = exports["MUSTER_DRS_SIM"] else {
            throw BenchError("scripts/stack.sh start printed no MUSTER_API / MUSTER_ADMIN_TOKEN / MUSTER_DRS_SIM")
        }
        let base = Int(environment["MUSTER_STACK_PORT_BASE"] ?? "") ?? 18180
        let pid = (try? String(contentsOfFile: stackDir + "/launcher.pid", encoding: .utf8))
            .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        return Endpoints(api: api, adminToken: token, drsSim: sim, launcher: "http://127.0.0.1:\(base + 1)",
                         launcherPID: pid, stackDir: stackDir)
    }

    func stop() async {
        guard started.withLock({ $0 }) else { return }
        _ = try? await Self.runScript(settings.root + "/scripts/stack.sh", ["stop"], environment: environment)
    }

    /// drs-sim's estate: one account, `serversPerRegion` generated servers in each region.
    func seedDocument() throws -> Data {
        var regions: [String: Any] = [:]
        for region in settings.regions {
            regions[region] = ["generatedServers": [
                "count": settings.serversPerRegion, "hostnamePrefix": "storm-\(region)", "replicationState": "CONTINUOUS",
            ]]
        }
        let document: [String: Any] = ["accounts": [[
            "accountID": Settings.account,
            "credentials": [["accessKeyID": Settings.accessKeyID, "secretAccessKey": Settings.secret]],
            "regions": regions,
        ]]]
        return try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys])
    }

    /// Runs a script to completion (bounded: 5 minutes) and returns its standard output.
    ///
    /// posix_spawn + waitpid rather than Foundation's `Process`, whose exit monitoring missed the script's exit
    /// here; standard output goes to a file, so services the script leaves running cannot hold a pipe open.
    static func runScript(_ path: String, _ arguments: [String], environment: [String: String]) async throws -> String {
        let output = NSTemporaryDirectory() + "muster-storm-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw BenchError("could not start \(path): error \(spawned)") }
        var status: Int32 = 0
        let deadline = ContinuousClock.now + .seconds(300)
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard ContinuousClock.now < deadline else {
                kill(pid, SIGTERM)
                throw BenchError("\(path) \(arguments.joined(separator: " ")) did not finish within 5 minutes")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        let exitCode = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exitCode == 0 else {
            throw BenchError("\(path) \(arguments.joined(separator: " ")) exited with \(exitCode)")
        }
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }
}

// MARK: - JSON over HTTP

struct JSONAPI: Sendable {
    let http: HTTPClient
    let base: String
    var token: String?

    func call(_ method: String, _ path: String, _ body: Any? = nil, expect: Set<Int> = [200, 201, 202, 204]) async throws -> Any? {
        var headers = [HTTPHeader(name: "Accept", value: "application/json")]
        if let token { headers.append(HTTPHeader(name: "Authorization", value: "Bearer \(token)")) }
        var bytes: [UInt8] = []
        if let body {
            headers.append(HTTPHeader(name: "Content-Type", value: "application/json"))
            bytes = Array(try JSONSerialization.data(withJSONObject: body))
        }
        let response = try await http.execute(HTTPRequest(method: method, url: base + path, headers: headers, body: bytes,
                                                          timeout: .seconds(60)))
        guard expect.contains(response.status) else {
            throw BenchError("\(method) \(path) → \(response.status): \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        return response.body.isEmpty ? nil : try JSONSerialization.jsonObject(with: Data(response.body))
    }

    func text(_ path: String) async throws -> String {
        let response = try await http.execute(HTTPRequest(url: base + path, timeout: .seconds(10)))
        guard response.isSuccess else { throw BenchError("GET \(path) → \(response.status)") }
        return String(decoding: response.body, as: UTF8.self)
    }
}

extension Optional where Wrapped == Any {
    subscript(key: String) -> Any? { (self as? [String: Any])?[key] ?? nil }
    var string: String? { self as? String }
}

// MARK: - Observation

/// One sample of the system, taken about every second.
struct Sample: Sendable {
    var at: ContinuousClock.Instant
    var lag: Int64?
    var outboxBacklog: Int?
    var rssKB: Int?
    var activeJobs: Int?
    var launcherAlive: Bool
}

/// Reads every partition of the launcher's inputs and job.status from the start (a group of its own, never
/// committing): the highest offset seen corrects brokers that under-report high watermarks, and job.status
/// records are counted.
final class TailObserver: Sendable {
    private struct State {
        var nextOffset: [String: [Int32: Int64]] = [:]
        var jobStatusRecords = 0
    }
    private let state = Mutex(State())
    let consumer: KafkaConsumer

    init(settings: Settings, logger: Logger) throws {
        let kafka = KafkaConfiguration(bootstrapServers: settings.brokers, properties: KafkaConfiguration.fastGroupProperties)
        consumer = try KafkaConsumer(configuration: kafka, groupID: "storm-observer-\(UUID().uuidString.prefix(8))",
                                     topics: Settings.inputTopics + [Settings.jobStatusTopic], logger: logger)
    }

    func run() async {
        do {
            for try await record in consumer.records {
                state.withLock { state in
                    let next = record.offset + 1
                    if next > state.nextOffset[record.topic]?[record.partition] ?? 0 {
                        state.nextOffset[record.topic, default: [:]][record.partition] = next
                    }
                    if record.topic == Settings.jobStatusTopic { state.jobStatusRecords += 1 }
                }
            }
        } catch {
            say("storm: tail consumer stopped: \(error)")
        }
    }

    var seen: [String: [Int32: Int64]] { state.withLock { $0.nextOffset } }
    var jobStatusRecords: Int { state.withLock { $0.jobStatusRecords } }
}

actor Samples {
    private(set) var all: [Sample] = []
    func add(_ sample: Sample) { all.append(sample) }
    var last: Sample? { all.last }
}

// MARK: - The run

struct Storm: Sendable {
    let settings: Settings
    let endpoints: Endpoints
    let logger: Logger = {
        var logger = Logger(label: "storm")
        logger.logLevel = .critical
        return logger
    }()

    func run() async throws {
        let http = HTTPClient(logger: logger, maxConnectionsPerHost: 16)
        let pool = PostgresPool(configuration: PostgresConfiguration(url: settings.databaseURL, poolSize: 4), logger: logger)
        defer { Task { await http.shutdown(); await pool.close() } }
        let kafka = KafkaConfiguration(bootstrapServers: settings.brokers)
        let admin = JSONAPI(http: http, base: endpoints.api, token: endpoints.adminToken)
        let sim = JSONAPI(http: http, base: endpoints.drsSim)
        let launcherOps = JSONAPI(http: http, base: endpoints.launcher)
        let setupStart = ContinuousClock.now

        // Team, token, account; wait for the launcher's inventory.
        let team = try await admin.call("POST", "/v1/teams", ["name": "storm-\(UUID().uuidString.prefix(8))"])["id"].string
        guard let team else { throw BenchError("POST /v1/teams returned no id") }
        let token = try await admin.call("POST", "/v1/teams/\(team)/tokens",
                                         ["name": "storm", "subject": "storm-operator", "role": "admin"])["token"].string
        guard let token else { throw BenchError("POST /v1/teams/…/tokens returned no token") }
        let api = JSONAPI(http: http, base: endpoints.api, token: token)
        _ = try await api.call("POST", "/v1/accounts", [
            "awsAccountId": Settings.account, "name": "storm", "regions": settings.regions,
            "credentials": ["type": "KEY_PAIR", "keyPairName": "DEMO"],
        ])
        let servers = try await waitForInventory(api)
        say("storm: inventory of \(servers.values.map(\.count).reduce(0, +)) servers in \(servers.count) regions")

        // One plan per execution: 3 chained waves of 2 servers, one protection group per wave.
        let plans = try await createPlans(api, servers: servers)
        say(String(format: "storm: %d plans (%d protection groups) created; setup took %.0f s",
                     plans.count, plans.count * Settings.waves, seconds(ContinuousClock.now - setupStart)))

        // Observers.
        let tail = try TailObserver(settings: settings, logger: logger)
        let tailTask = Task { await tail.run() }
        let samples = Samples()
        let groupPartitions = Dictionary(uniqueKeysWithValues: Settings.inputTopics.map { ($0, Settings.partitions) })
        let sampler = Task {
            while !Task.isCancelled {
                let started = ContinuousClock.now
                let sample = await takeSample(kafka: kafka, topics: groupPartitions, tail: tail, pool: pool, sim: sim)
                await samples.add(sample)
                try? await Task.sleep(until: started + .seconds(1))
            }
        }
        try await Task.sleep(for: .seconds(3))  // the tail consumer joins its group

        // The storm: every execution started within seconds.
        let stormStart = ContinuousClock.now
        let started = try await startExecutions(api, plans: plans)
        let startedIn = ContinuousClock.now - stormStart
        say(String(format: "storm: %d DRILL executions started in %.1f s", started, seconds(startedIn)))

        // Wait (bounded) until every execution is terminal, or the launcher is gone.
        let deadline = stormStart + settings.timeout
        var statuses: [String: Int] = [:]
        var lastProgress = ContinuousClock.now
        var launcherDiedAt: ContinuousClock.Instant?
        while ContinuousClock.now < deadline {
            statuses = try await executionStatuses(pool: pool, team: team)
            let terminal = statuses.filter { Self.terminal.contains($0.key) }.values.reduce(0, +)
            if terminal >= started { break }
            if let pid = endpoints.launcherPID, !Self.alive(pid) {
                launcherDiedAt = .now
                say("storm: the launcher process (pid \(pid)) is gone")
                break
            }
            if ContinuousClock.now - lastProgress >= .seconds(15) {
                lastProgress = .now
                let last = await samples.last
                say(String(format: "storm: t=%.0f s terminal %d/%d %@ lag %@ outbox %@ rss %@", seconds(ContinuousClock.now - stormStart),
                             terminal, started, statuses.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
                             last?.lag.map(String.init) ?? "?", last?.outboxBacklog.map(String.init) ?? "?",
                             last?.rssKB.map { "\($0 / 1024) MB" } ?? "?"))
            }
            try await Task.sleep(for: .seconds(1))
        }
        let stormEnd = ContinuousClock.now
        let wall = stormEnd - stormStart
        let terminal = statuses.filter { Self.terminal.contains($0.key) }.values.reduce(0, +)

        // Drain: until the launcher's lag is 0 (bounded), then a steady-state RSS window.
        var lagZeroAt: ContinuousClock.Instant?
        if launcherDiedAt == nil {
            let drainDeadline = ContinuousClock.now + .seconds(180)
            while ContinuousClock.now < drainDeadline {
                if let last = await samples.last, last.at > stormEnd, last.lag == 0 { lagZeroAt = last.at; break }
                try await Task.sleep(for: .milliseconds(500))
            }
            try await Task.sleep(for: .seconds(15))
        }
        sampler.cancel()
        _ = await sampler.value
        let all = await samples.all

        // DRS's view: counters, and every job with its muster:* tags.
        let counters = try await sim.call("GET", "/admin/counters")
        let (jobs, simAnchor) = try await describeAllJobs(http: http, sim: sim)
        let launcherMetrics = (try? await launcherOps.text("/metrics")) ?? ""
        let jobStatusRecords = tail.jobStatusRecords
        await tail.consumer.close()
        tailTask.cancel()
        _ = await tailTask.value

        report(Report(
            executions: started, startedIn: startedIn, wall: wall, statuses: statuses, terminal: terminal,
            launcherDiedAt: launcherDiedAt.map { $0 - stormStart }, samples: all, stormStart: stormStart,
            stormEnd: stormEnd, lagZeroAt: lagZeroAt, counters: counters, jobs: jobs, simAnchor: simAnchor,
            launcherMetrics: launcherMetrics, jobStatusRecords: jobStatusRecords))
    }

    static let terminal: Set<String> = ["COMPLETED", "PARTIAL", "FAILED", "CANCELLED", "TIMED_OUT"]

    static func alive(_ pid: Int32) -> Bool {
        // A zombie or a reused pid would fool kill(0); /proc/<pid>/stat tells the state.
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !stat.contains(") Z ")
    }

    func waitForInventory(_ api: JSONAPI) async throws -> [String: [String]] {
        let wanted = settings.serversPerRegion * settings.regions.count
        let deadline = ContinuousClock.now + .seconds(240)
        while ContinuousClock.now < deadline {
            let page = try await api.call("GET", "/v1/source-servers?accountId=\(Settings.account)")
            let items = (page["items"] as? [[String: Any]]) ?? []
            if items.count >= wanted {
                var byRegion: [String: [String]] = [:]
                for item in items {
                    if let region = item["region"] as? String, let id = item["sourceServerId"] as? String {
                        byRegion[region, default: []].append(id)
                    }
                }
                return byRegion.mapValues { $0.sorted() }
            }
            try await Task.sleep(for: .seconds(2))
        }
        throw BenchError("the launcher's inventory did not reach \(wanted) servers within 240 s")
    }

    /// Plan ids in execution order; execution i uses region i mod R and that region's next 6 servers.
    func createPlans(_ api: JSONAPI, servers: [String: [String]]) async throws -> [String] {
        let perExecution = Settings.waves * Settings.serversPerWave
        return try await withThrowingTaskGroup(of: (Int, String).self) { group in
            var plans = [String?](repeating: nil, count: settings.executions)
            var next = 0
            func add(_ index: Int) {
                let region = settings.regions[index % settings.regions.count]
                let slot = index / settings.regions.count
                let ids = Array((servers[region] ?? []).dropFirst(slot * perExecution).prefix(perExecution))
                group.addTask {
                    guard ids.count == perExecution else { throw BenchError("not enough servers in \(region)") }
                    var waves: [[String: Any]] = []
                    for wave in 0..<Settings.waves {
                        let members = Array(ids[(wave * Settings.serversPerWave)..<((wave + 1) * Settings.serversPerWave)])
                        let created = try await api.call("POST", "/v1/protection-groups", [
                            "name": "storm-\(index)-w\(wave + 1)", "region": region, "sourceServerIds": members,
                        ])
                        guard let id = created["id"].string else { throw BenchError("protection group without id") }
                        var body: [String: Any] = ["name": "w\(wave + 1)", "protectionGroupIds": [id], "timeoutMinutes": 600]
                        if wave > 0 { body["dependsOn"] = ["w\(wave)"] }
                        waves.append(body)
                    }
                    let plan = try await api.call("POST", "/v1/plans", ["name": "storm-\(index)", "rtoTargetMinutes": 600, "waves": waves])
                    guard let id = plan["id"].string else { throw BenchError("plan without id") }
                    return (index, id)
                }
            }
            while next < min(4, settings.executions) { add(next); next += 1 }
            while let (index, id) = try await group.next() {
                plans[index] = id
                if next < settings.executions { add(next); next += 1 }
            }
            return plans.compactMap { $0 }
        }
    }

    func startExecutions(_ api: JSONAPI, plans: [String]) async throws -> Int {
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            var started = 0
            func add(_ plan: String) { group.addTask { _ = try await api.call("POST", "/v1/executions", ["planId": plan, "type": "DRILL"]) } }
            while next < min(16, plans.count) { add(plans[next]); next += 1 }
            while try await group.next() != nil {
                started += 1
                if next < plans.count { add(plans[next]); next += 1 }
            }
            return started
        }
    }

    func executionStatuses(pool: PostgresPool, team: String) async throws -> [String: Int] {
        let rows = try await pool.query(
            "SELECT status, count(*) AS n FROM planner.executions WHERE team_id = $1::uuid GROUP BY status", [team]).rows
        var result: [String: Int] = [:]
        for row in rows { result[try row.decode(String.self, "status")] = Int(try row.decode(Int64.self, "n")) }
        return result
    }

    func takeSample(kafka: KafkaConfiguration, topics: [String: Int32], tail: TailObserver, pool: PostgresPool,
                    sim: JSONAPI) async -> Sample {
        var lag: Int64?
        do {
            let reported = try await KafkaAdmin.highWatermarks(topics: topics, configuration: kafka, timeout: .seconds(5))
            let seen = tail.seen
            var total: Int64 = 0
            for group in settings.launcherGroups {
                let committed = try await KafkaAdmin.committedOffsets(groupID: group, topics: topics, configuration: kafka,
                                                                      timeout: .seconds(5))
                for (topic, count) in topics {
                    for partition in 0..<count {
                        let end = max(reported[topic]?[partition] ?? 0, seen[topic]?[partition] ?? 0)
                        total += max(0, end - (committed[topic]?[partition] ?? 0))
                    }
                }
            }
            lag = total
        } catch {}
        let backlog = try? await pool.query("SELECT count(*) AS n FROM launcher.outbox WHERE published_at IS NULL")
            .rows.first.map { Int(try $0.decode(Int64.self, "n")) }
        let rss = endpoints.launcherPID.flatMap(Self.rssKB)
        let active = (try? await sim.text("/metrics")).flatMap { Prometheus.value(of: "drs_sim_active_jobs", in: $0) }.map { Int($0) }
        let alive = endpoints.launcherPID.map(Self.alive) ?? true
        return Sample(at: .now, lag: lag, outboxBacklog: backlog ?? nil, rssKB: rss, activeJobs: active, launcherAlive: alive)
    }

    static func rssKB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        }
        return nil
    }

    /// Every job in every region, through the DRS API (signed with the demo key), and a sim-clock anchor:
    /// drs-sim's simulated now at a known wall-clock instant.
    func describeAllJobs(http: HTTPClient, sim: JSONAPI) async throws -> ([Job], (simulated: Date, wall: Date)?) {
        let state = try await sim.call("GET", "/admin/state")
        let anchor = state["simulatedNow"].string.flatMap(DRSDateTime.date(from:)).map { (simulated: $0, wall: Date()) }
        var jobs: [Job] = []
        let credentials = StaticCredentialsProvider(AWSCredentials(accessKeyID: Settings.accessKeyID, secretAccessKey: Settings.secret))
        for region in settings.regions {
            let client = DRSClient(region: region, endpoint: endpoints.drsSim, credentials: credentials, httpClient: http, logger: logger)
            var attempts = 0
            while true {
                do {
                    var regionJobs: [Job] = []
                    for try await page in client.jobPages(DescribeJobsRequest(maxResults: 1000)) { regionJobs += page.items ?? [] }
                    jobs += regionJobs
                    break
                } catch {
                    attempts += 1
                    if attempts >= 10 { throw error }
                    try await Task.sleep(for: .seconds(1))  // throttled: drs-sim's token bucket refills
                }
            }
        }
        return (jobs, anchor)
    }
}

// MARK: - Prometheus text

enum Prometheus {
    /// The value of an unlabelled sample `name`.
    static func value(of name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// p-quantile of histogram `name` (all label sets summed), linearly interpolated within buckets; nil when empty
    /// or absent.
    static func quantile(_ p: Double, histogram name: String, in text: String) -> Double? {
        var buckets: [Double: Double] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix(name + "_bucket{") {
            guard let leRange = line.range(of: "le=\""), let end = line[leRange.upperBound...].firstIndex(of: "\"") else { continue }
            let le = String(line[leRange.upperBound..<end])
            let bound = le == "+Inf" ? Double.infinity : Double(le) ?? .nan
            buckets[bound, default: 0] += Double(line.split(separator: " ").last ?? "") ?? 0
        }
        let sorted = buckets.sorted { $0.key < $1.key }
        guard let total = sorted.last?.value, total > 0 else { return nil }
        let rank = p * total
        var previousBound = 0.0, previousCount = 0.0
        for (bound, count) in sorted {
            if count >= rank {
                if bound.isInfinite { return previousBound }
                let within = count - previousCount
                return within > 0 ? previousBound + (bound - previousBound) * (rank - previousCount) / within : bound
            }
            previousBound = bound
            previousCount = count
        }
        return previousBound
    }
}

// MARK: - Report

struct Report {
    var executions: Int
    var startedIn: Duration
    var wall: Duration
    var statuses: [String: Int]
    var terminal: Int
    var launcherDiedAt: Duration?
    var samples: [Sample]
    var stormStart: ContinuousClock.Instant
    var stormEnd: ContinuousClock.Instant
    var lagZeroAt: ContinuousClock.Instant?
    var counters: Any?
    var jobs: [Job]
    var simAnchor: (simulated: Date, wall: Date)?
    var launcherMetrics: String
    var jobStatusRecords: Int
}

func seconds(_ d: Duration) -> Double { d.seconds }

func percentile(_ values: [Double], _ p: Double) -> Double? {
    guard !values.isEmpty else { return nil }
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

func format(_ value: Double?, _ spec: String = "%.1f") -> String { value.map { String(format: spec, $0) } ?? "n/a" }

func report(_ r: Report) {
    var summary: [String] = []
    func line(_ name: String, _ value: String) {
        say("  \(name): \(value)")
        summary.append("storm: \(name) = \(value)")
    }
    let completed = r.statuses["COMPLETED"] ?? 0
    let minutes = seconds(r.wall) / 60
    let during = r.samples.filter { $0.at >= r.stormStart }
    let peakLag = during.compactMap(\.lag).max()
    let finalLag = r.samples.last?.lag
    let peakOutbox = during.compactMap(\.outboxBacklog).max()
    let peakRSS = during.compactMap(\.rssKB).max()
    let steadyRSS = r.samples.filter { $0.at > (r.lagZeroAt ?? r.stormEnd) }.compactMap(\.rssKB).last
    let launchJobs = r.jobs.filter { $0.tags?["muster:launchGroup"] != nil }

    // Duplicates: more than one job for the same launch group, chunk and attempt.
    var perChunk: [String: Int] = [:]
    for job in launchJobs {
        let tags = job.tags ?? [:]
        perChunk["\(tags["muster:launchGroup"] ?? "")|\(tags["muster:chunk"] ?? "")|\(tags["muster:attempt"] ?? "")", default: 0] += 1
    }
    let duplicates = perChunk.values.reduce(0) { $0 + max(0, $1 - 1) }

    // Time from the last job completed in DRS (simulated end time mapped to wall clock) to lag 0.
    var lastJobToLagZero: Double?
    if let anchor = r.simAnchor, let lagZero = r.lagZeroAt {
        let ends = launchJobs.compactMap { $0.endDateTime.flatMap(DRSDateTime.date(from:)) }
        if let lastEnd = ends.max() {
            let lastEndWall = anchor.wall.addingTimeInterval(-anchor.simulated.timeIntervalSince(lastEnd) / Settings.timeScale)
            let lagZeroWall = Date().addingTimeInterval(-seconds(ContinuousClock.now - lagZero))
            lastJobToLagZero = lagZeroWall.timeIntervalSince(lastEndWall)
        }
    }

    // Wave hand-off: last job of wave n ended in DRS → first job of wave n+1 created, in wall seconds.
    var waves: [String: [Int: (start: Date, end: Date?)]] = [:]
    for job in launchJobs {
        guard let execution = job.tags?["muster:executionId"], let wave = job.tags?["muster:waveNumber"].flatMap({ Int($0) }),
              let created = job.creationDateTime.flatMap(DRSDateTime.date(from:)) else { continue }
        let end = job.endDateTime.flatMap(DRSDateTime.date(from:))
        var entry = waves[execution]?[wave] ?? (start: created, end: end)
        entry.start = min(entry.start, created)
        if let end { entry.end = max(entry.end ?? end, end) }
        waves[execution, default: [:]][wave] = entry
    }
    var handoffs: [Double] = []
    for byWave in waves.values {
        for (wave, entry) in byWave {
            if let next = byWave[wave + 1], let end = entry.end {
                handoffs.append(next.start.timeIntervalSince(end) / Settings.timeScale)
            }
        }
    }
    let queueWait = "muster_launcher_queue_wait_seconds"
    let conflicts = (r.counters["conflicts"] as? Int).map(String.init) ?? "n/a"
    let counterJobs = r.counters["jobsStarted"] as? Int

    say("== storm: \(r.executions) DRILL executions × \(Settings.waves) waves × \(Settings.serversPerWave) servers ==")
    line("executions", "\(r.executions) started in \(format(seconds(r.startedIn))) s")
    line("wall time", "\(format(seconds(r.wall))) s\(r.terminal < r.executions ? " (NOT all terminal: \(r.terminal)/\(r.executions))" : "")")
    line("executions/min", format(minutes > 0 ? Double(r.terminal) / minutes : nil))
    line("COMPLETED", "\(completed)")
    let others = r.statuses.filter { $0.key != "COMPLETED" }.sorted { $0.key < $1.key }
    line("other", others.isEmpty ? "0" : others.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
    if let died = r.launcherDiedAt { line("launcher died", "at t=\(format(seconds(died))) s (see its log)") }
    line("DRS launch jobs", "\(launchJobs.count) (drs-sim jobsStarted \(counterJobs.map(String.init) ?? "n/a"))")
    line("duplicate jobs", "\(duplicates) (same muster:launchGroup+chunk+attempt)")
    line("conflicts", conflicts)
    line("launcher lag peak", peakLag.map(String.init) ?? "n/a")
    line("launcher lag final", finalLag.map(String.init) ?? "n/a")
    line("last job completed → lag 0", lastJobToLagZero.map { String(format: "%.1f s", $0) } ?? "n/a (lag never reached 0)")
    line("outbox backlog peak", peakOutbox.map(String.init) ?? "n/a")
    line("events per job", launchJobs.isEmpty ? "n/a"
         : String(format: "%.1f (%d job.status records / %d jobs)", Double(r.jobStatusRecords) / Double(launchJobs.count),
                  r.jobStatusRecords, launchJobs.count))
    line("launcher RSS peak", peakRSS.map { "\($0 / 1024) MB" } ?? "n/a")
    line("launcher RSS steady", steadyRSS.map { "\($0 / 1024) MB" } ?? "n/a")
    line("wave hand-off (DRS end → next StartRecovery)",
         "p50 \(format(percentile(handoffs, 0.5), "%.2f")) s, p99 \(format(percentile(handoffs, 0.99), "%.2f")) s (n=\(handoffs.count))")
    line("launcher share (launch-group.requested → StartRecovery, \(queueWait))",
         "p50 \(format(Prometheus.quantile(0.5, histogram: queueWait, in: r.launcherMetrics), "%.3f")) s, "
            + "p99 \(format(Prometheus.quantile(0.99, histogram: queueWait, in: r.launcherMetrics), "%.3f")) s")
    say("== summary (paste) ==")
    for entry in summary { say(entry) }
}
