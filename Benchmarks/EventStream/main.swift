import Foundation
import Logging
import MusterCLIKit
import MusterDomain
import MusterHTTP
import MusterMessaging
import MusterPostgres
import PlannerApp
import PlannerBenchRig
import Synchronization
import ServiceLifecycle

// muster-bench-events: how long an execution event takes from the planner's
// commit to a client of `GET /v1/events/stream` (what the console's
// EventSource and `muster watch` hold open), on the real PostgreSQL and real
// HTTP over loopback. It runs the planner's API in-process, opens `clients`
// streams, then alternates pause/resume `commands` times; each command
// commits one event. Latency is measured from just before the command's
// request is sent (an upper bound of commit → received, since the commit
// happens inside that request) to the frame's arrival at each client; the
// `watch` figure adds the GET of the execution that `muster watch` does to
// redraw. Usage:
//   MUSTER_DATABASE_URL=… muster-bench-events [clients=5] [commands=200] [pollMs=50]

let arguments = CommandLine.arguments.dropFirst().compactMap(Int.init)
let clientCount = arguments.first ?? 5
let commandCount = arguments.dropFirst().first ?? 200
let pollMs = arguments.dropFirst(2).first ?? 50
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

func ms(_ seconds: Double) -> String { String(format: "%6.1f ms", seconds * 1000) }

func seconds(_ duration: Duration) -> Double {
    duration.seconds
}

let rig = try await PlannerBenchRig.start(databaseURL: url, poolSize: 8, logger: logger) {
    $0.stream.pollInterval = .milliseconds(pollMs)
}
let (adminToken, schema, pool, base, http) = (rig.adminToken, rig.schema, rig.pool, rig.base, rig.http)

func call(_ method: String, _ path: String, token: String, json: [String: Any]? = nil) async throws -> [String: Any] {
    try await rig.call(method, path, token: token, json: json)
}

// A team, an account with one inventoried server, a group, a plan, a running execution.
let team = try await call("POST", "/v1/teams", token: adminToken, json: ["name": "bench"])["id"] as! String
let token = try await call("POST", "/v1/teams/\(team)/tokens", token: adminToken,
                           json: ["name": "op", "subject": "bench", "role": "admin"])["token"] as! String
_ = try await call("POST", "/v1/accounts", token: token, json: [
    "awsAccountId": "123456789012", "name": "a", "regions": ["us-east-1"],
    "credentials": ["type": "ASSUME_ROLE", "roleArn": "arn:aws:iam::123456789012:role/M"]])
try await pool.query(
    """
    INSERT INTO \(schema).source_servers (account_id, region, server_id, replication_state, observed_at)
    VALUES ('123456789012', 'us-east-1', 's-1', 'CONTINUOUS', now())
    """)
let group = try await call("POST", "/v1/protection-groups", token: token,
                           json: ["name": "g", "region": "us-east-1", "sourceServerIds": ["s-1"]])["id"] as! String
let plan = try await call("POST", "/v1/plans", token: token,
                          json: ["name": "p", "waves": [["name": "w", "protectionGroupIds": [group]]]])["id"] as! String
let execution = try await call("POST", "/v1/executions", token: token, json: ["planId": plan, "type": "DRILL"])["id"] as! String

/// Arrival times per event id, per client.
let arrivals = Mutex<[Int: [ContinuousClock.Instant]]>([:])
let watchDone = Mutex<[Int: ContinuousClock.Instant]>([:])
let api = APIClient(endpoint: base, token: token, http: http)
var streams: [EventStreamClient.Connection] = []
var readers: [Task<Void, any Error>] = []
for index in 0..<clientCount {
    let stream = try api.eventStream(query: ["executionId": execution], lastEventID: "2")  // after start's two events
    streams.append(stream)
    readers.append(Task {
        for try await item in stream.items {
            guard case .message(let message) = item, let id = message.id.flatMap(Int.init) else { continue }
            let now = ContinuousClock.now
            arrivals.withLock { $0[id, default: []].append(now) }
            if index == 0 {  // one client redraws like `muster watch`: a GET per event
                let _: ExecutionView = try await api.get("/v1/executions/\(execution)")
                let drawn = ContinuousClock.now
                watchDone.withLock { $0[id] = drawn }
            }
        }
    })
}
try await Task.sleep(for: .milliseconds(300))  // let every stream open before the first command

var sent: [Int: ContinuousClock.Instant] = [:]
for index in 0..<commandCount {
    let id = 3 + index  // the team's event ids: 1, 2 from the start; then one per command
    let before = ContinuousClock.now
    _ = try await call("POST", "/v1/executions/\(execution)/\(index % 2 == 0 ? "pause" : "resume")", token: token)
    sent[id] = before
    // Wait until every client has it, so the commands do not queue behind each other.
    while arrivals.withLock({ $0[id]?.count ?? 0 }) < clientCount || watchDone.withLock({ $0[id] == nil }) {
        try await Task.sleep(for: .milliseconds(1))
    }
}

let latencies = arrivals.withLock { all in
    sent.flatMap { id, start in (all[id] ?? []).map { seconds($0 - start) } }
}
let watch = watchDone.withLock { all in sent.compactMap { id, start in all[id].map { seconds($0 - start) } } }
print("event stream: \(clientCount) clients, \(commandCount) events, stream poll \(pollMs) ms, PostgreSQL + HTTP on loopback")
print("  commit → stream client    p50 \(ms(percentile(latencies, 0.5)))  p90 \(ms(percentile(latencies, 0.9)))  p99 \(ms(percentile(latencies, 0.99)))  max \(ms(latencies.max() ?? .nan))  (n=\(latencies.count))")
print("  commit → `muster watch`   p50 \(ms(percentile(watch, 0.5)))  p90 \(ms(percentile(watch, 0.9)))  p99 \(ms(percentile(watch, 0.99)))  max \(ms(watch.max() ?? .nan))  (n=\(watch.count), event + GET)")

for stream in streams { stream.close() }
for reader in readers { reader.cancel() }
await rig.stop()
