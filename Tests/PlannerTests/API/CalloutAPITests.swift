import Foundation
import MusterAPI
import MusterDomain
import MusterEvents
import MusterPostgres
@testable import PlannerApp
import TestSupport
import Testing

/// HTTP callout steps over HTTP against PostgreSQL and the broker (issue 16):
/// starting one owes a `callout.requested` on the private topic with a
/// one-time callback URL whose token is stored only as a digest; the
/// callback ends the step once (404 unknown/expired, 409 used, 422 bad body);
/// the notifier's report of a failed POST fails the step.
@Suite("Planner API: HTTP callout steps and callbacks")
struct CalloutAPITests {
    static let subscription = "3f1e6c2a-9b7d-4e21-8a55-0c4d2b1e9f70"

    /// A one-wave plan whose wave waits for callout `tell` (FAIL_WAVE) before it launches.
    func seed(_ app: PlannerTestApp, timeout: Int = 600) async throws -> (PlannerTestApp.TeamTokens, String) {
        let team = try await app.team()
        try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [("s-db1", [:])])
        let db = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": "db", "region": "us-east-1", "sourceServerIds": ["s-db1"]])["id"] as? String)
        let unsigned = try await app.call("POST", "/v1/plans", token: team.operator, json: [
            "name": "Called", "waves": [["name": "db", "protectionGroupIds": [db],
                                         "before": [["name": "tell", "kind": "HTTP_CALLOUT",
                                                     "callout": ["url": "https://hooks.example/dr"]]]]],
        ])
        #expect(unsigned.status == 422)
        #expect(unsigned.error["field"] as? String == "waves[0].before[0].callout.subscriptionId")
        let plan = try await app.call("POST", "/v1/plans", token: team.operator, json: [
            "name": "Called", "waves": [["name": "db", "protectionGroupIds": [db],
                                         "before": [["name": "tell", "kind": "HTTP_CALLOUT", "timeoutSeconds": timeout,
                                                     "callout": ["url": "https://hooks.example/dr",
                                                                 "subscriptionId": Self.subscription]]]]],
        ])
        #expect(plan.status == 201)
        return (team, try #require(plan["id"] as? String))
    }

    /// Starting executions and counting owed launches: as the approval tests do.
    let hooks = WaveHookAPITests()

    func start(_ app: PlannerTestApp, _ team: PlannerTestApp.TeamTokens, _ planID: String) async throws -> String {
        try await hooks.start(app, team, planID)
    }

    /// The `callout.requested` owed for execution `id` (from the outbox).
    func request(_ app: PlannerTestApp, _ id: String) async throws -> CalloutRequested {
        let rows = try await app.pool.query(
            "SELECT type, data FROM \(app.schema).outbox WHERE topic = $1 AND subject = $2",
            [app.topics.callouts, id]).rows
        try #require(rows.count == 1)
        #expect(try rows[0].decode(String.self, "type") == EventType.calloutRequested)
        return try EventCoding.decoder.decode(CalloutRequested.self, from: Data(try rows[0].decode([UInt8].self, "data")))
    }

    func step(_ app: PlannerTestApp, _ team: PlannerTestApp.TeamTokens, _ id: String) async throws -> [String: Any] {
        let execution = try await app.call("GET", "/v1/executions/\(id)", token: team.viewer)
        return try #require(((execution["waves"] as? [[String: Any]])?.first?["steps"] as? [[String: Any]])?.first)
    }

    func owedLaunches(_ app: PlannerTestApp, _ id: String) async throws -> Int {
        try await hooks.owedLaunches(app, id)
    }

    @Test func aCallbackEndsTheStepOnceAndBadOnesChangeNothing() async throws {
        try await PlannerTestApp.with(configure: { $0.callbackBaseURL = "https://muster.example" }) { app in
            let (team, planID) = try await seed(app)
            let id = try await start(app, team, planID)
            let request = try await request(app, id)
            #expect(request.url == "https://hooks.example/dr" && request.subscriptionID == Self.subscription)
            #expect(request.body.executionID.rawValue == id && request.body.stepName == "tell" && request.body.phase == "BEFORE")
            #expect(request.body.planName == "Called" && request.body.waveName == "db" && request.body.waveNumber == 1)
            let prefix = "https://muster.example/v1/callbacks/"
            #expect(request.body.callbackURL.hasPrefix(prefix))
            let token = String(request.body.callbackURL.dropFirst(prefix.count))
            #expect(token.wholeMatch(of: CalloutToken.pattern) != nil)
            // Only the digest is stored; no execution event carries the token.
            let stored = try await app.pool.query(
                "SELECT token_sha256 FROM \(app.schema).callout_tokens WHERE execution_id = $1", [UUID(uuidString: id)!]).rows
            #expect(try stored.map { try $0.decode(String.self, "token_sha256") } == [BearerToken.digestHex(token)])
            let leaked = try await app.pool.query(
                "SELECT count(*) AS n FROM \(app.schema).outbox WHERE topic <> $1 AND position($2::bytea IN data) > 0",
                [app.topics.callouts, Array(token.utf8)]).rows[0].decode(Int.self, "n")
            #expect(leaked == 0)
            #expect(try await step(app, team, id)["status"] as? String == "RUNNING")
            #expect(try await owedLaunches(app, id) == 0)

            let path = "/v1/callbacks/\(token)"
            let missing = try await app.call("POST", path, token: nil, json: ["output": ["a": 1]])
            #expect(missing.status == 422 && missing.error["field"] as? String == "status")
            let wrong = try await app.call("POST", path, token: nil, json: ["status": "DONE"])
            #expect(wrong.status == 422 && wrong.error["field"] as? String == "status" && wrong.error["rule"] as? String == "enum")
            let extra = try await app.call("POST", path, token: nil, json: ["status": "SUCCEEDED", "colour": "red"])
            #expect(extra.status == 422 && extra.error["field"] as? String == "colour")
            let shape = try await app.call("POST", path, token: nil, json: ["status": "SUCCEEDED", "output": "fine"])
            #expect(shape.status == 422 && shape.error["field"] as? String == "output")
            let unknown = try await app.call("POST", "/v1/callbacks/\(String(repeating: "A", count: 43))", token: nil,
                                             json: ["status": "SUCCEEDED"])
            #expect(unknown.status == 404)
            #expect(try await app.call("POST", "/v1/callbacks/short", token: nil, json: ["status": "SUCCEEDED"]).status == 404)
            #expect(try await step(app, team, id)["status"] as? String == "RUNNING", "refusals change nothing")

            let done = try await app.call("POST", path, token: nil,
                                          json: ["status": "SUCCEEDED", "output": ["ticket": "CHG-42"]])
            #expect(done.status == 200)
            #expect(done["executionId"] as? String == id && done["step"] as? String == "tell")
            #expect(done["status"] as? String == "SUCCEEDED")
            let ended = try await step(app, team, id)
            #expect(ended["status"] as? String == "SUCCEEDED")
            #expect(ended["output"] as? String == #"{"ticket":"CHG-42"}"#)
            #expect(try await owedLaunches(app, id) == 1, "the callout released the launch")
            let again = try await app.call("POST", path, token: nil, json: ["status": "FAILED"])
            #expect(again.status == 409)
            #expect(try await step(app, team, id)["status"] as? String == "SUCCEEDED")
        }
    }

    @Test func aFailedCallbackFailsTheWaveAndAnExpiredTokenIsUnknown() async throws {
        try await PlannerTestApp.with { app in
            let (team, planID) = try await seed(app)
            let failing = try await start(app, team, planID)
            let token = try #require(try await request(app, failing).body.callbackURL.split(separator: "/").last)
            let failed = try await app.call("POST", "/v1/callbacks/\(token)", token: nil,
                                            json: ["status": "FAILED", "output": ["reason": "cmdb locked"]])
            #expect(failed.status == 200 && failed["status"] as? String == "FAILED")
            let execution = try await app.call("GET", "/v1/executions/\(failing)", token: team.viewer)
            #expect(execution["status"] as? String == "FAILED")
            #expect(try await owedLaunches(app, failing) == 0, "a failed before step launches nothing")

            // A step that timed out no longer takes its callback.
            let late = try await start(app, team, planID)
            let lateToken = try #require(try await request(app, late).body.callbackURL.split(separator: "/").last)
            let deadlines = StepDeadlines(api: app.api, interval: .seconds(1), logger: TestEnvironment.logger,
                                          now: { Date().addingTimeInterval(601) })
            #expect(try await deadlines.tickDue().ticked == 1)
            #expect(try await step(app, team, late)["status"] as? String == "TIMED_OUT")
            let expired = try await app.call("POST", "/v1/callbacks/\(lateToken)", token: nil, json: ["status": "SUCCEEDED"])
            #expect(expired.status == 404)
            #expect(try await step(app, team, late)["status"] as? String == "TIMED_OUT")
        }
    }

    @Test func theNotifiersReportEndsTheStep() async throws {
        try await PlannerTestApp.with(consumers: true) { app in
            // One plan per execution: a plan runs one execution at a time.
            var runs: [(PlannerTestApp.TeamTokens, String)] = []
            for _ in 0..<3 {
                let (team, planID) = try await seed(app)
                runs.append((team, try await start(app, team, planID)))
            }
            let (dead, answered, waiting) = (runs[0].1, runs[1].1, runs[2].1)
            func report(_ id: String, _ completed: CalloutCompleted) async throws {
                let event = try CloudEvent(source: EventSource.notifier, type: EventType.calloutCompleted, subject: id,
                                           payload: completed)
                _ = try await app.producer.send(event.kafkaRecord(topic: app.topics.calloutResults, key: id))
            }
            try await report(dead, CalloutCompleted(executionID: try ExecutionID(parsing: dead), stepName: "tell", delivered: false, statusCode: 503,
                                                    error: "HTTP 503: maintenance", attempts: 7))
            try await report(answered, CalloutCompleted(executionID: try ExecutionID(parsing: answered), stepName: "tell", delivered: true,
                                                        statusCode: 200, answer: #"{"status":"SUCCEEDED"}"#, attempts: 1))
            try await report(waiting, CalloutCompleted(executionID: try ExecutionID(parsing: waiting), stepName: "tell", delivered: true,
                                                       statusCode: 202, answer: "accepted", attempts: 1))
            let settled = try await eventually {
                let failed = try await step(app, runs[0].0, dead)["status"] as? String == "FAILED"
                let succeeded = try await step(app, runs[1].0, answered)["status"] as? String == "SUCCEEDED"
                return failed && succeeded
            }
            #expect(settled)
            #expect((try await step(app, runs[0].0, dead)["output"] as? String)?.contains("HTTP 503: maintenance") == true)
            #expect(try await owedLaunches(app, answered) == 1)
            // A 2xx without a final result leaves the step waiting for its callback.
            let handled = await eventually {
                app.outcomes.withLock { $0.filter { $0 == .handled }.count } >= 3
            }
            #expect(handled)
            #expect(try await step(app, runs[2].0, waiting)["status"] as? String == "RUNNING")
        }
    }
}
