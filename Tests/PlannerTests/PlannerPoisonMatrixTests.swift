import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import PlannerApp
import TestSupport
import Testing

/// `planner.job-status`, `planner.inventory` and `planner.callout-results` × every poison class (issue
/// 11, docs/consumers.md "The poison-record matrix"): one planner with its
/// consumers for all rows; each poison on partition 0, valid records after it
/// on partition 0 and 1, seen through the API.
@Suite("Planner poison-record matrix", .serialized)
struct PlannerPoisonMatrixTests {
    /// The shared planner, its team and account (`@unchecked`: the test app is a class of `let`s that does
    /// not declare Sendable), the executions each row made, and a reader of `launch-group.requested`.
    struct App: @unchecked Sendable {
        let planner: PlannerTestApp
        let team: PlannerTestApp.TeamTokens
        let aws: String
        let waves: KafkaTopicWatch
        let executions = Locked<[String: String]>([:])

        var endpoint: Endpoint { Endpoint(accountID: aws, region: "us-east-1") }

        /// Starts a drill of source server `s-<name>` (seeded with tag `n: <name>`) and waits for its launch-group.requested.
        func start(_ name: String) async throws {
            let group = try #require(try await planner.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "g-\(name)", "region": "us-east-1", "tagSelector": ["n": name]])["id"] as? String)
            let plan = try #require(try await planner.call("POST", "/v1/plans", token: team.operator, json: [
                "name": "p-\(name)", "waves": [["name": "w", "protectionGroupIds": [group]]],
            ])["id"] as? String)
            let id = try #require(try await planner.call("POST", "/v1/executions", token: team.operator,
                                                         json: ["planId": plan, "type": "DRILL"])["id"] as? String)
            executions.withLock { $0[name] = id }
            _ = try await eventually {
                try waves.records.contains { try CloudEvent(record: $0).decode(LaunchGroupRequested.self).launchGroup.executionID.rawValue == id }
            }
        }

        /// Starts a drill of server `s-<name>` whose wave first waits for callout step `tell`; waits until it does.
        func startCallout(_ name: String) async throws {
            let group = try #require(try await planner.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "g-\(name)", "region": "us-east-1", "tagSelector": ["n": name]])["id"] as? String)
            let plan = try #require(try await planner.call("POST", "/v1/plans", token: team.operator, json: [
                "name": "p-\(name)", "waves": [["name": "w", "protectionGroupIds": [group],
                                                "before": [["name": "tell", "kind": "HTTP_CALLOUT", "timeoutSeconds": 3600,
                                                            "callout": ["url": "https://hooks.example/dr",
                                                                        "subscriptionId": "3f1e6c2a-9b7d-4e21-8a55-0c4d2b1e9f70"]]]]],
            ])["id"] as? String)
            let id = try #require(try await planner.call("POST", "/v1/executions", token: team.operator,
                                                         json: ["planId": plan, "type": "DRILL"])["id"] as? String)
            executions.withLock { $0[name] = id }
            _ = try await eventually { try await step(name) == "RUNNING" }
        }

        /// The status of the callout step of execution `name`.
        func step(_ name: String) async throws -> String? {
            let id = try id(name)
            let execution = try await planner.call("GET", "/v1/executions/\(id)", token: team.viewer)
            return ((execution["waves"] as? [[String: Any]])?.first?["steps"] as? [[String: Any]])?.first?["status"] as? String
        }

        /// `callout.completed` from the notifier for the step of execution `name`.
        func calloutCompleted(_ name: String, step: String = "tell", delivered: Bool = true, statusCode: Int? = nil) throws -> PoisonRecord {
            let id = try id(name)
            let completed = CalloutCompleted(executionID: try ExecutionID(parsing: id), stepName: step, delivered: delivered, statusCode: statusCode,
                                             error: delivered ? nil : "refused", answer: delivered ? #"{"status":"SUCCEEDED"}"# : nil,
                                             attempts: 1)
            return PoisonRecord(try CloudEvent(source: EventSource.notifier, type: EventType.calloutCompleted, subject: id,
                                               payload: completed), key: id)
        }

        /// launch-group.requested the planner owes for execution `name` (its outbox).
        func launches(_ name: String) async throws -> Int {
            let id = try id(name)
            return try await planner.pool.query(
                "SELECT count(*) AS n FROM \(planner.schema).outbox WHERE topic = $1 AND subject = $2", [planner.topics.launchRequests, id]
            ).rows[0].decode(Int.self, "n")
        }

        func id(_ name: String) throws -> String { try #require(executions.value[name], "execution \(name)") }

        func status(_ name: String) async throws -> String? {
            let id = try id(name)
            return try await planner.call("GET", "/v1/executions/\(id)", token: team.viewer)["status"] as? String
        }

        func group(_ name: String) throws -> LaunchGroupID {
            LaunchGroupID(executionID: try ExecutionID(parsing: id(name)), waveNumber: 1, endpoint: endpoint)
        }

        /// `job.observed`: the job of execution `name` completed, its server launched.
        func completed(_ name: String, wave: Int = 1) throws -> PoisonRecord {
            var launchGroup = try group(name)
            launchGroup.waveNumber = wave
            let observed = JobObserved(
                launchGroup: launchGroup, chunk: 0, jobID: "drsjob-\(name)", status: .completed,
                servers: [ObservedServer(sourceServerID: "s-\(name)", launchStatus: .launched, recoveryInstanceID: "i-\(name)")],
                observedAt: Date())
            return try record(EventType.jobObserved, name, observed)
        }

        func record(_ type: String, _ name: String, _ payload: some Encodable) throws -> PoisonRecord {
            let id = try id(name)
            return PoisonRecord(try CloudEvent(source: EventSource.launcher, type: type, subject: id, payload: payload), key: id)
        }

        /// Events of `type` the planner owes for execution `name` (its outbox, which the relay publishes).
        func owed(_ type: String, _ name: String) async throws -> Int {
            let id = try id(name)
            return try await planner.pool.query(
                "SELECT count(*) AS n FROM \(planner.schema).outbox WHERE type = $1 AND key = $2", [type, id]
            ).rows[0].decode(Int.self, "n")
        }

        func observed(_ server: String, hostname: String, lagSeconds: Double? = nil) throws -> PoisonRecord {
            var observed = SourceServerObserved(
                endpoint: endpoint, sourceServerID: SourceServerID(rawValue: server), hostname: hostname, replicationState: "CONTINUOUS",
                lastLaunchResult: nil, tags: [:], recoveryInstanceID: nil, observedAt: Date())
            observed.lagSeconds = lagSeconds
            return PoisonRecord(try CloudEvent(source: EventSource.launcher, type: EventType.sourceServerObserved,
                                               subject: server, payload: observed), key: endpoint.key)
        }

        /// Source servers the API lists, id → hostname.
        func listed() async throws -> [String: String] {
            var servers: [String: String] = [:]
            for item in try await planner.call("GET", "/v1/source-servers", token: team.viewer).items {
                if let id = item["sourceServerId"] as? String { servers[id] = item["hostname"] as? String ?? "" }
            }
            return servers
        }
    }

    typealias Cell = PoisonCell<App>

    /// Names of the executions (and their servers) the job-status rows use.
    static let names = ["nul", "dup", "range", "cb-nul", "cb-dup", "cb-range"].flatMap { ["\($0)-p", "\($0)-same", "\($0)-other"] }

    /// How one consumer's rows are built: what each row starts first (for its names `<row>-p`, `<row>-same`,
    /// `<row>-other`), the valid record for a name, and whether that record was handled.
    struct Rows: Sendable {
        var consumer: String
        var topic: @Sendable (App) -> String
        var start: @Sendable (App, String) async throws -> Void = { _, _ in }
        var valid: @Sendable (App, String) throws -> PoisonRecord
        var handled: @Sendable (App, String) async throws -> Bool

        func cell(
            _ kind: PoisonClass, _ outcome: PoisonOutcome, row: String,
            prepare: @escaping @Sendable (App) async throws -> Void = { _ in },
            poison: @escaping @Sendable (App) throws -> PoisonRecord,
            effects: @escaping @Sendable (App) async throws -> Int
        ) -> Cell {
            let start = self.start, valid = self.valid, handled = self.handled
            return Cell(consumer, kind, outcome, topic: topic,
                        prepare: { app in
                            for name in ["\(row)-p", "\(row)-same", "\(row)-other"] { try await start(app, name) }
                            try await prepare(app)
                        },
                        poison: { try poison($0) },
                        later: { app in [try valid(app, "\(row)-same"), try valid(app, "\(row)-other")] },
                        laterHandled: { app in
                            let same = try await handled(app, "\(row)-same"), other = try await handled(app, "\(row)-other")
                            return same && other
                        },
                        effects: effects)
        }
    }

    static let jobStatus = Rows(
        consumer: "planner.job-status", topic: { $0.planner.topics.jobStatus }, start: { try await $0.start($1) },
        valid: { try $0.completed($1) }, handled: { try await $0.status($1) == "COMPLETED" })

    static let inventory = Rows(
        consumer: "planner.inventory", topic: { $0.planner.topics.inventory },
        valid: { try $0.observed("inv-\($1)", hostname: $1) }, handled: { try await $0.listed()["inv-\($1)"] == $1 })

    static let calloutResults = Rows(
        consumer: "planner.callout-results", topic: { $0.planner.topics.calloutResults }, start: { try await $0.startCallout($1) },
        valid: { try $0.calloutCompleted($1) }, handled: { try await $0.step($1) == "SUCCEEDED" })

    static let cells: [Cell] = [
        // `reason` is free text (kept as received), so the NUL reaches PostgreSQL, which refuses it in the
        // execution's state (22P05): deterministic. The cause is the record itself: a replay fails again.
        jobStatus.cell(.nul, .parked(.deterministic, error: "22P05", replay: .refused), row: "nul",
                       poison: { app in
                           try app.record(EventType.jobLaunchFailed, "nul-p", JobLaunchFailed(
                               launchGroup: try app.group("nul-p"), chunk: 0, chunkCount: 1, sourceServerIDs: ["s-nul-p"],
                               errorCode: "ValidationException", reason: "bad\u{0}request"))
                       },
                       effects: { app in try await app.status("nul-p") == "RUNNING" ? 0 : 1 }),
        // Job events upsert the execution's rows (execution_waves, execution_servers: ON CONFLICT DO UPDATE)
        // and the state machine ignores a job it already saw: the same job.observed again (another ce_id)
        // is a no-op by design, never a clash — the execution completed once.
        jobStatus.cell(.uniqueClash, .handled, row: "dup",
                       prepare: { app in
                           let first = try app.completed("dup-p")
                           _ = try await app.planner.producer.send(first.event.kafkaRecord(topic: app.planner.topics.jobStatus, key: first.key))
                           _ = try await eventually { try await app.status("dup-p") == "COMPLETED" }
                       },
                       poison: { app in try app.completed("dup-p") },
                       effects: { app in
                           let status = try await app.status("dup-p"), completed = try await app.owed("execution.completed", "dup-p")
                           return status == "COMPLETED" ? completed : -1
                       }),
        // No number of a job event reaches an INTEGER column: chunk, counts and timeouts go into the state
        // document; the wave number picks a wave. A wave number out of range (3·10⁹) names no wave of the
        // execution: the job is noted, nothing moves, nothing is parked.
        jobStatus.cell(.outOfRange, .handled, row: "range",
                       poison: { app in try app.completed("range-p", wave: 3_000_000_000) },
                       effects: { app in
                           let status = try await app.status("range-p"), completed = try await app.owed("execution.completed", "range-p")
                           return status == "RUNNING" && completed == 0 ? 1 : 0
                       }),
        // A hostname is a name: a control character makes the event unprocessable (ConsumedText).
        inventory.cell(.nul, .parked(.malformed, error: "hostname must not contain control characters", replay: .refused), row: "nul",
                       poison: { app in try app.observed("inv-nul-p", hostname: "evil\u{0}host") },
                       effects: { app in try await app.listed()["inv-nul-p"] == nil ? 0 : 1 }),
        // source_servers is keyed (account, region, server) and an observation is an upsert (newer wins): a
        // second observation of a known server updates it, never a clash.
        inventory.cell(.uniqueClash, .handled, row: "dup",
                       prepare: { app in
                           let first = try app.observed("inv-dup-p", hostname: "first")
                           _ = try await app.planner.producer.send(first.event.kafkaRecord(topic: app.planner.topics.inventory, key: first.key))
                           _ = try await eventually { try await app.listed()["inv-dup-p"] == "first" }
                       },
                       poison: { app in try app.observed("inv-dup-p", hostname: "second") },
                       effects: { app in try await app.listed()["inv-dup-p"] == "second" ? 1 : 0 }),
        // The one number that reaches PostgreSQL, lagSeconds, is DOUBLE PRECISION: every double JSON can
        // carry fits (the largest finite one here); the server is stored and listed.
        inventory.cell(.outOfRange, .handled, row: "range",
                       poison: { app in try app.observed("inv-range-p", hostname: "range", lagSeconds: .greatestFiniteMagnitude) },
                       effects: { app in try await app.listed()["inv-range-p"] == "range" ? 1 : 0 }),
        // A step name is a name: a control character makes the result unprocessable (ConsumedText).
        calloutResults.cell(.nul, .parked(.malformed, error: "stepName must not contain control characters", replay: .refused),
                            row: "cb-nul",
                            poison: { app in try app.calloutCompleted("cb-nul-p", step: "tell\u{0}") },
                            effects: { app in try await app.step("cb-nul-p") == "RUNNING" ? 0 : 1 }),
        // A result changes only a RUNNING step: the same callout.completed again (another ce_id) is a no-op
        // by design, never a clash — the wave launched once.
        calloutResults.cell(.uniqueClash, .handled, row: "cb-dup",
                            prepare: { app in
                                let first = try app.calloutCompleted("cb-dup-p")
                                _ = try await app.planner.producer.send(
                                    first.event.kafkaRecord(topic: app.planner.topics.calloutResults, key: first.key))
                                _ = try await eventually { try await app.step("cb-dup-p") == "SUCCEEDED" }
                            },
                            poison: { app in try app.calloutCompleted("cb-dup-p") },
                            effects: { app in
                                let step = try await app.step("cb-dup-p"), launches = try await app.launches("cb-dup-p")
                                return step == "SUCCEEDED" ? launches : -1
                            }),
        // No number of a result reaches an INTEGER column: an HTTP status beyond any (3·10⁹) only becomes
        // text of the step's output; the undelivered callout fails its step, handled.
        calloutResults.cell(.outOfRange, .handled, row: "cb-range",
                            poison: { app in try app.calloutCompleted("cb-range-p", delivered: false, statusCode: 3_000_000_000) },
                            effects: { app in try await app.step("cb-range-p") == "FAILED" ? 1 : 0 }),
    ]

    @Test("planner.job-status, planner.inventory and planner.callout-results: NUL, unique clash and out-of-range records are parked (or handled by design) while later records on the same and another partition are handled")
    func matrix() async throws {
        try await PlannerTestApp.with(consumers: true) { planner in
            let team = try await planner.team()
            let aws = PlannerTestApp.awsAccountID()
            try await planner.account(team, awsAccountID: aws, servers: Self.names.map { ("s-\($0)", ["n": $0]) })
            let waves = try KafkaTopicWatch(topic: planner.topics.launchRequests)
            let app = App(planner: planner, team: team, aws: aws, waves: waves)
            let matrix = PoisonMatrix(app: app, pool: planner.pool, schema: planner.schema, log: planner.consumerLog,
                                      producer: planner.producer, consumers: planner.consumers)
            for consumer in ["planner.job-status", "planner.inventory", "planner.callout-results"] {
                #expect(Set(Self.cells.filter { $0.consumer == consumer }.map(\.kind)) == Set(PoisonClass.allCases))
            }
            for cell in Self.cells {
                try await matrix.check(cell)
            }
            await waves.stop()
        }
    }
}
