import Foundation
import Logging
import MusterHTTP
import MusterMessaging
import MusterPostgres
import PlannerApp
import PlannerBenchRig

// muster-bench-readiness: how long `POST /v1/plans/{id}/evaluate` takes for a
// plan of `servers` servers (in `waves` waves, one account), on the real
// PostgreSQL and real HTTP over loopback, with the planner's API in-process.
// The inventory rows are seeded as the launcher's inventory sweep leaves them
// (a quarter of the servers with a replication backlog, so the checks have
// findings to build). Prints min/p50/p95/max of `rounds` evaluations after
// `warmup` unmeasured ones. Usage:
//   MUSTER_DATABASE_URL=… muster-bench-readiness [servers=100] [rounds=200] [waves=4] [warmup=20]

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

let rig = try await PlannerBenchRig.start(databaseURL: url, poolSize: 4, logger: logger)
let (adminToken, schema, pool) = (rig.adminToken, rig.schema, rig.pool)

func call(_ method: String, _ path: String, token: String, json: [String: Any]? = nil) async throws -> [String: Any] {
    try await rig.call(method, path, token: token, json: json)
}

do {
    let team = try await call("POST", "/v1/teams", token: adminToken, json: ["name": "bench"])["id"] as! String
    let token = try await call("POST", "/v1/teams/\(team)/tokens", token: adminToken,
                               json: ["name": "op", "subject": "bench", "role": "admin"])["token"] as! String
    let account = "123456789012"
    _ = try await call("POST", "/v1/accounts", token: token, json: [
        "awsAccountId": account, "name": "bench", "regions": ["us-east-1"],
        "credentials": ["type": "ASSUME_ROLE", "roleArn": "arn:aws:iam::\(account):role/Muster"],
    ])
    let ids = (0..<serverCount).map { String(format: "s-%017x", $0 + 1) }
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
    let plan = try await call("POST", "/v1/plans", token: token, json: ["name": "bench", "waves": waves])["id"] as! String

    var samples: [Double] = []
    var verdict = ""
    let clock = ContinuousClock()
    for round in 0..<(warmup + rounds) {
        let start = clock.now
        let answer = try await call("POST", "/v1/plans/\(plan)/evaluate", token: token)
        let elapsed = start.duration(to: clock.now)
        verdict = answer["verdict"] as? String ?? "?"
        if round >= warmup {
            samples.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
    }
    samples.sort()
    func ms(_ p: Double) -> String {
        String(format: "%.1f ms", samples[min(samples.count - 1, Int(Double(samples.count) * p))] * 1000)
    }
    print("readiness evaluation, \(serverCount) servers in \(waves.count) waves, verdict \(verdict), \(rounds) rounds:")
    print("  min \(ms(0))  p50 \(ms(0.5))  p95 \(ms(0.95))  max \(ms(1))  (target: < 2000 ms)")
} catch {
    print("benchmark failed: \(error)")
}
await rig.stop()
