import Foundation
import MusterDomain
import MusterEvents
import MusterHTTP
import MusterKafka
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

// Shutdown benchmark (issue 11, docs/consumers.md "Prompt shutdown"): for
// each service process (planner, launcher, poller, notifier), the time from
// SIGTERM to exit
//   - under load: a burst of records on the topic its consumer reads is
//     being handled (and its relay publishing what that owes);
//   - with the broker paused (SIGSTOP) while the burst is being handled.
// Needs MUSTER_DATABASE_URL, MUSTER_KAFKA_BROKERS and built executables
// (MUSTER_BIN_DIR, default .build/debug); the broker's pid from
// BENCH_BROKER_PID or .local/run/kafka/pid (scripts/infra.sh).
//   muster-bench-shutdown [rounds=3] [records=2000]

let arguments = CommandLine.arguments.dropFirst().compactMap(Int.init)
let rounds = arguments.count > 0 ? arguments[0] : 3
let records = arguments.count > 1 ? arguments[1] : 2_000
let environment = ProcessInfo.processInfo.environment

guard let brokerPID = environment["BENCH_BROKER_PID"].flatMap({ Int32($0) })
    ?? (try? String(contentsOfFile: ".local/run/kafka/pid", encoding: .utf8))
        .flatMap({ Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
else {
    print("set BENCH_BROKER_PID (or run from the checkout whose scripts/infra.sh started the broker)")
    exit(2)
}
try KafkaLibrary.checkVersion()
let producer = try KafkaProducer(configuration: try TestEnvironment.kafka(), logger: TestEnvironment.logger)
let http = HTTPClient(logger: TestEnvironment.logger)

/// `count` records of what `service` consumes, each a distinct piece of work.
func burst(for service: String, count: Int) throws -> [KafkaOutgoingRecord] {
    let run = UUID().uuidString.prefix(8).lowercased()
    let endpoint = Endpoint(accountID: "111122223333", region: "us-east-1")
    return try (0..<count).map { index in
        switch service {
        case "planner":
            let id = "s-\(run)\(index)"
            return try CloudEvent(source: EventSource.launcher, type: EventType.sourceServerObserved, subject: id,
                                  payload: SourceServerObserved(
                endpoint: endpoint, sourceServerID: SourceServerID(rawValue: id), hostname: "host-\(index)", replicationState: "CONTINUOUS",
                lastLaunchResult: nil, tags: ["bench": "\(run)"], recoveryInstanceID: nil, observedAt: Date())
            ).kafkaRecord(topic: Topic.inventory.name, key: "\(endpoint.key)/\(id)")
        case "poller":
            let execution = ExecutionID.named("exec-\(run)-\(index % 50)")
            let created = JobCreated(
                launchGroup: LaunchGroupID(executionID: execution, waveNumber: 1, endpoint: endpoint), chunk: index,
                chunkCount: count, jobID: "drsjob-\(run)\(index)", isDrill: true, sourceServerIDs: ["s-\(index)"],
                createdAt: Date(), waveStartedAt: Date(), timeoutSeconds: 3600)
            return try CloudEvent(source: EventSource.launcher, type: EventType.jobCreated, subject: execution.rawValue,
                                  payload: created).kafkaRecord(topic: Topic.jobStatus.name, key: execution.rawValue)
        case "launcher":
            let account = String(format: "%012d", 100_000_000_000 + index)
            return try CloudEvent(source: EventSource.planner, type: EventType.accountRegistered, subject: account,
                                  payload: AccountRegistration(accountID: account, name: "bench-\(run)", regions: ["us-east-1"],
                                                               credentials: .keyPair(name: "bench")))
                .kafkaRecord(topic: Topic.accounts.name, key: account)
        default:  // notifier
            let team = TeamID.random()
            return try CloudEvent(source: EventSource.planner, type: EventType.tokenIssued, subject: team.rawValue,
                                  payload: TokenIssued(tokenID: UUID().uuidString, teamID: team, subject: "bench",
                                                       role: "viewer", tokenSHA256: (UUID().uuidString + UUID().uuidString)
                                                           .replacingOccurrences(of: "-", with: "").lowercased(),
                                                       issuedAt: Date()))
                .kafkaRecord(topic: Topic.teams.name, key: team.rawValue)
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    duration.seconds
}

/// Boots `service`, sends a burst, lets it work for a moment, optionally
/// pauses the broker, then times SIGTERM to exit.
func measure(_ service: String, pauseBroker: Bool) async throws -> (seconds: Double, status: Int32?) {
    let process = try ServiceProcess(
        name: service, environment: service == "launcher" ? ["MUSTER_LAUNCHER_INVENTORY_INTERVAL": "0"] : [:])
    let ready = await eventually(timeout: .seconds(90), every: .milliseconds(200)) {
        guard process.isRunning else { return true }
        let response = try? await http.execute(HTTPRequest(url: "http://127.0.0.1:\(process.port)/health/ready", timeout: .seconds(5)))
        return response?.status == 200
    }
    guard ready && process.isRunning else {
        throw BenchError("\(service) did not become ready:\n\(process.log.suffix(2000))")
    }
    _ = try await producer.sendBatch(try burst(for: service, count: records))
    try await Task.sleep(for: .milliseconds(500))  // its consumer is in the middle of the burst
    if pauseBroker { kill(brokerPID, SIGSTOP) }
    defer { if pauseBroker { kill(brokerPID, SIGCONT) } }
    if pauseBroker { try await Task.sleep(for: .milliseconds(300)) }
    let stopping = ContinuousClock.now
    let status = await process.stop(timeout: .seconds(60))
    return (seconds(ContinuousClock.now - stopping), status)
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

print("SIGTERM → exit, \(rounds) rounds per service and case, a burst of \(records) records before each")
for service in ["planner", "launcher", "poller", "notifier"] {
    for pause in [false, true] {
        var times: [Double] = []
        var statuses: [String] = []
        for _ in 0..<rounds {
            let (took, status) = try await measure(service, pauseBroker: pause)
            times.append(took)
            statuses.append(status.map { "\($0)" } ?? "killed")
        }
        let sorted = times.sorted()
        print(String(format: "%-9@ %-14@ min %.3f s  median %.3f s  max %.3f s  exit %@", service as NSString,
                     (pause ? "broker paused" : "under load") as NSString, sorted.first!, sorted[sorted.count / 2],
                     sorted.last!, statuses.joined(separator: ",") as NSString))
    }
}
await producer.shutdown(timeout: .seconds(5))
await http.shutdown()
