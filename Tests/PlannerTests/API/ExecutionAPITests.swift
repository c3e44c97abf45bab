import Foundation
import MusterEvents
import MusterPostgres
import PlannerApp
import TestSupport
import Testing

/// Executions over HTTP: start answers 202 and owes launch-group.requested in the same
/// transaction; commands, paging, report and audit.
@Suite("Planner API: executions")
struct ExecutionAPITests {
    /// A team with two groups in two waves (db → app) and a plan over them.
    func seed(_ app: PlannerTestApp) async throws -> (PlannerTestApp.TeamTokens, String) {
        let team = try await app.team()
        try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(),
                              servers: [("s-db1", [:]), ("s-db2", [:]), ("s-app1", [:])])
        let db = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": "db", "region": "us-east-1", "sourceServerIds": ["s-db1", "s-db2"]])["id"] as? String)
        let web = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": "app", "region": "us-east-1", "sourceServerIds": ["s-app1"]])["id"] as? String)
        let plan = try await app.call("POST", "/v1/plans", token: team.operator, json: [
            "name": "Payroll", "rtoTargetMinutes": 60,
            "waves": [["name": "db", "protectionGroupIds": [db]],
                      ["name": "app", "protectionGroupIds": [web], "dependsOn": ["db"], "pauseBefore": true]],
        ])
        #expect(plan.status == 201)
        return (team, try #require(plan["id"] as? String))
    }

    @Test func startOwesWaveStartedAndCommandsFollowTheStateMachine() async throws {
        try await PlannerTestApp.with { app in
            let (team, planID) = try await seed(app)
            let started = try await app.call("POST", "/v1/executions", token: team.operator,
                                             json: ["planId": planID, "type": "DRILL", "initiatedBy": "mallory"])
            #expect(started.status == 202)
            let id = try #require(started["id"] as? String)
            // Same transaction: the execution row and its owed launch-group.requested exist together.
            let owed = try await app.pool.query(
                "SELECT key, type FROM \(app.schema).outbox WHERE topic = $1", [app.topics.launchRequests]).rows
            #expect(owed.count == 1)
            let execution = try await app.call("GET", "/v1/executions/\(id)", token: team.viewer)
            #expect(execution["status"] as? String == "RUNNING")
            #expect(execution["initiatedBy"] as? String == "operator@\(try #require(try await teamName(app, team)))")
            let waves = try #require(execution["waves"] as? [[String: Any]])
            #expect(waves.map { $0["status"] as? String } == ["LAUNCHING", "WAITING"])
            #expect((waves[0]["servers"] as? [[String: Any]])?.count == 2)
            let rows = try await app.pool.query(
                "SELECT count(*) AS n FROM \(app.schema).execution_servers WHERE execution_id = $1", [UUID(uuidString: id)!]).rows
            #expect(try rows[0].decode(Int.self, "n") == 3, "server rows created with the execution")

            // The plan cannot change or go while it runs; a second start is refused.
            #expect(try await app.call("DELETE", "/v1/plans/\(planID)", token: team.operator).status == 409)
            #expect(try await app.call("POST", "/v1/executions", token: team.operator,
                                       json: ["planId": planID, "type": "DRILL"]).status == 409)
            // Commands.
            #expect(try await app.call("POST", "/v1/executions/\(id)/pause", token: team.viewer).status == 403)
            let paused = try await app.call("POST", "/v1/executions/\(id)/pause", token: team.operator)
            #expect(paused["status"] as? String == "PAUSED")
            #expect(try await app.call("POST", "/v1/executions/\(id)/pause", token: team.operator).status == 409)
            #expect(try await app.call("POST", "/v1/executions/\(id)/resume", token: team.operator)["status"] as? String
                    == "RUNNING")
            #expect(try await app.call("POST", "/v1/executions/\(id)/cleanup", token: team.operator).status == 409,
                    "clean-up waits for the drill to end")
            let cancelled = try await app.call("POST", "/v1/executions/\(id)/cancel", token: team.operator,
                                               json: ["terminateInstances": true])
            #expect(cancelled["status"] as? String == "CANCELLED")
            let report = try await app.call("GET", "/v1/executions/\(id)/report", token: team.viewer)
            #expect(report["status"] as? String == "CANCELLED")
            #expect(report["rtoMet"] as? Bool == false)
            let audit = try await app.call("GET", "/v1/executions/\(id)/audit", token: team.viewer)
            #expect(audit.items.map { $0["action"] as? String } == [
                "execution.start", "execution.pause", "execution.resume", "execution.cancel",
            ])
            #expect(audit.items.allSatisfy { ($0["actor"] as? String)?.hasPrefix("operator@") == true })
            // Events owed for every transition.
            let types = try await app.pool.query(
                "SELECT type FROM \(app.schema).outbox WHERE topic = $1 ORDER BY seq", [app.topics.executionEvents]
            ).rows.map { try $0.decode(String.self, "type") }
            #expect(types == ["execution.started", "wave.started", "execution.paused", "execution.resumed",
                              "wave.completed", "execution.cancelled"])
            // Now it is over, the plan can be edited.
            #expect(try await app.call("DELETE", "/v1/plans/\(planID)", token: team.operator).status == 204)
        }
    }

    @Test("a corrupt id in a stored execution answers 500, changes nothing, and the planner keeps serving")
    func corruptStoredIDIsA500() async throws {
        try await PlannerTestApp.with { app in
            let (team, planID) = try await seed(app)
            let started = try await app.call("POST", "/v1/executions", token: team.operator,
                                             json: ["planId": planID, "type": "DRILL"])
            let id = try #require(started["id"] as? String)
            // The state document's own id no longer parses (ExecutionStore used to force-unwrap it).
            try await app.pool.query(
                "UPDATE \(app.schema).executions SET state = jsonb_set(state, '{id}', '\"exec-corrupt\"') WHERE id = $1",
                [try #require(UUID(uuidString: id))])
            let paused = try await app.call("POST", "/v1/executions/\(id)/pause", token: team.operator, validate: false)
            #expect(paused.status == 500)
            #expect(paused.error["code"] as? String == "internal")
            #expect(!paused.text.contains("exec-corrupt"), "the 500 carries no internals; the log has the reason")
            let row = try await app.pool.query(
                "SELECT status FROM \(app.schema).executions WHERE id = $1", [try #require(UUID(uuidString: id))]).rows
            #expect(try row[0].decode(String.self, "status") == "RUNNING", "the refused command changed nothing")
            #expect(try await app.call("GET", "/v1/me", token: team.viewer).status == 200)
        }
    }

    @Test func listPagesWithACursorAndFilters() async throws {
        try await PlannerTestApp.with { app in
            let (team, planID) = try await seed(app)
            var ids: [String] = []
            for _ in 0..<5 {
                let started = try await app.call("POST", "/v1/executions", token: team.operator,
                                                 json: ["planId": planID, "type": "DRILL"])
                let id = try #require(started["id"] as? String)
                ids.append(id)
                _ = try await app.call("POST", "/v1/executions/\(id)/cancel", token: team.operator)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let query = "/v1/executions?limit=2&status=CANCELLED&type=DRILL&planId=\(planID)"
                    + (cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" } ?? "")
                let page = try await app.call("GET", query, token: team.viewer)
                #expect(page.items.count <= 2)
                seen += page.items.compactMap { $0["id"] as? String }
                cursor = page["nextCursor"] as? String
            } while cursor != nil
            #expect(seen == ids.reversed(), "newest first, each once")
            #expect(try await app.call("GET", "/v1/executions?status=RUNNING", token: team.viewer).items.isEmpty)
            #expect(try await app.call("GET", "/v1/executions?cursor=zzz", token: team.viewer).status == 400)
        }
    }

    func teamName(_ app: PlannerTestApp, _ team: PlannerTestApp.TeamTokens) async throws -> String? {
        try await app.call("GET", "/v1/teams", token: team.viewer).items.first?["name"] as? String
    }
}
