import Foundation
import MusterPostgres
@testable import PlannerApp
import TestSupport
import Testing

/// Readiness over HTTP: evaluate, the start gate with `force` and its audit
/// row; the compliance view; the history export.
@Suite("Planner API: readiness, compliance, history")
struct ReadinessAPITests {
    /// A team, an account with three continuous servers, and a plan over them (db: 2, app: 1).
    func seed(_ app: PlannerTestApp, planExtra: [String: Any] = [:]) async throws
        -> (team: PlannerTestApp.TeamTokens, account: String, planID: String)
    {
        let team = try await app.team()
        let account = PlannerTestApp.awsAccountID()
        try await app.account(team, awsAccountID: account, servers: [("s-db1", [:]), ("s-db2", [:]), ("s-app1", [:])])
        let db = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": "db", "region": "us-east-1", "sourceServerIds": ["s-db1", "s-db2"]])["id"] as? String)
        let web = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": "app", "region": "us-east-1", "sourceServerIds": ["s-app1"]])["id"] as? String)
        var body: [String: Any] = [
            "name": "Payroll", "rtoTargetMinutes": 60,
            "waves": [["name": "db", "protectionGroupIds": [db]],
                      ["name": "app", "protectionGroupIds": [web], "dependsOn": ["db"]]],
        ]
        body.merge(planExtra) { $1 }
        let plan = try await app.call("POST", "/v1/plans", token: team.operator, json: body)
        #expect(plan.status == 201, "\(String(decoding: plan.body, as: UTF8.self))")
        return (team, account, try #require(plan["id"] as? String))
    }

    func checks(_ reply: JSONReply) -> [String: [String: Any]] {
        var byName: [String: [String: Any]] = [:]
        for check in (reply["checks"] as? [[String: Any]]) ?? [] { byName[check["name"] as? String ?? ""] = check }
        return byName
    }

    @Test func aBlockingPlanIsRefusedWithItsReasonsAndStartsWhenForced() async throws {
        // No launcher runs here: evaluate waits its bounded time, then reports the launcher's checks unknown.
        try await PlannerTestApp.with(configure: { $0.readinessLauncherWait = .milliseconds(300) }) { app in
            let (team, account, planID) = try await seed(app)
            let healthy = try await app.call("POST", "/v1/plans/\(planID)/evaluate", token: team.viewer)
            #expect(healthy.status == 200)
            #expect(healthy["verdict"] as? String == "unknown")
            #expect(checks(healthy)["hooks.reachable"]?["message"] as? String == "no hooks")
            #expect(checks(healthy)["servers.replicating"]?["status"] as? String == "ok")
            for name in ["account.credentials", "launch.settings"] {
                #expect(checks(healthy)[name]?["status"] as? String == "unknown")
                #expect((checks(healthy)[name]?["message"] as? String)?.contains("did not answer within 300 ms") == true)
            }
            // The request went out all the same, one per account, for the launcher to answer when it can.
            let asked = try await app.pool.query(
                "SELECT count(*) AS n FROM \(app.schema).outbox WHERE type = 'readiness.check-requested'").rows
            #expect(try asked[0].decode(Int.self, "n") == 1)

            // A server stops replicating; another keeps the recovery instance of an earlier drill.
            try await app.pool.query(
                "UPDATE \(app.schema).source_servers SET replication_state = 'STALLED' WHERE account_id = $1 AND server_id = 's-db2'",
                [account])
            try await app.pool.query(
                "UPDATE \(app.schema).source_servers SET recovery_instance_id = 'i-0123456789abcdef0' WHERE account_id = $1 AND server_id = 's-app1'",
                [account])
            let blocked = try await app.call("POST", "/v1/plans/\(planID)/evaluate", token: team.viewer)
            #expect(blocked["verdict"] as? String == "blocking")
            #expect(checks(blocked)["servers.replicating"]?["servers"] as? [String] == ["s-db2"])
            #expect(checks(blocked)["servers.noRecoveryInstance"]?["servers"] as? [String] == ["s-app1"])
            #expect(checks(blocked)["servers.replicating"]?["fix"] is String)

            let refused = try await app.call("POST", "/v1/executions", token: team.operator,
                                             json: ["planId": planID, "type": "DRILL"])
            #expect(refused.status == 409)
            let error = try #require(refused["error"] as? [String: Any])
            #expect(error["rule"] as? String == "readiness")
            #expect(error["field"] as? String == "planId")
            let message = try #require(error["message"] as? String)
            #expect(message.contains("s-db2") && message.contains("s-app1") && message.contains("force"))
            let none = try await app.pool.query(
                "SELECT count(*) AS n FROM \(app.schema).executions WHERE plan_id = $1", [UUID(uuidString: planID)!]).rows
            #expect(try none[0].decode(Int.self, "n") == 0, "a refused start changes nothing")

            let forced = try await app.call("POST", "/v1/executions", token: team.operator,
                                            json: ["planId": planID, "type": "DRILL", "force": true])
            #expect(forced.status == 202)
            let id = try #require(forced["id"] as? String)
            let audit = try await app.call("GET", "/v1/executions/\(id)/audit", token: team.viewer)
            let start = try #require(audit.items.first)
            #expect(start["action"] as? String == "execution.start")
            let detail = try #require(start["detail"] as? [String: String])
            #expect(detail["forced"] == "true")
            #expect(detail["readiness"] == "blocking")
            #expect(detail["readinessReasons"]?.contains("s-db2") == true)

            // While it runs, its servers are in a live launch for any other evaluation.
            let during = try await app.call("POST", "/v1/plans/\(planID)/evaluate", token: team.viewer)
            #expect(Set(checks(during)["servers.noLiveJob"]?["servers"] as? [String] ?? []) == ["s-db1", "s-db2", "s-app1"])
        }
    }

    @Test func hookStepsAreAskedAboutPerAccountAndCalloutsAreNotProbed() async throws {
        try await PlannerTestApp.with(configure: { $0.readinessLauncherWait = .milliseconds(200) }) { app in
            let far = "999988887777"
            let (team, account, planID) = try await seed(app)
            let groups = try await app.pool.query(
                "SELECT id, name FROM \(app.schema).protection_groups ORDER BY name").rows
                .map { (try $0.decode(String.self, "name"), try $0.decode(UUID.self, "id").uuidString.lowercased()) }
            let byName = Dictionary(groups, uniquingKeysWith: { first, _ in first })
            let ssmWaves: [[String: Any]] = [
                ["name": "db", "protectionGroupIds": [byName["db"] ?? ""],
                 "before": [["name": "prep", "kind": "SSM_AUTOMATION",
                             "ssm": ["documentName": "Muster-Prepare", "documentVersion": "3"]]]],
                ["name": "app", "protectionGroupIds": [byName["app"] ?? ""], "dependsOn": ["db"],
                 "after": [["name": "dns", "kind": "SSM_AUTOMATION",
                            "ssm": ["documentName": "Muster-Dns", "accountId": far, "region": "eu-west-1"]]]],
            ]
            let updated = try await app.call("PUT", "/v1/plans/\(planID)", token: team.operator, json: [
                "name": "Payroll", "waves": ssmWaves])
            #expect(updated.status == 200, "\(String(decoding: updated.body, as: UTF8.self))")
            let evaluated = try await app.call("POST", "/v1/plans/\(planID)/evaluate", token: team.viewer)
            let hooks = try #require(checks(evaluated)["hooks.reachable"])
            #expect(hooks["status"] as? String == "unknown", "no launcher answers here")
            #expect((hooks["message"] as? String)?.contains("did not answer") == true)
            let rows = try await app.pool.query(
                "SELECT data FROM \(app.schema).outbox WHERE type = 'readiness.check-requested'").rows
            let requests = try rows.map {
                try #require(try JSONSerialization.jsonObject(with: Data(try $0.decode([UInt8].self, "data"))) as? [String: Any])
            }
            let byAccount = Dictionary(requests.map { ($0["accountId"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
            #expect(Set(byAccount.keys) == [account, far], "the SSM step's own account is asked too")
            let near = (byAccount[account]?["ssmDocuments"] as? [[String: Any]]) ?? []
            #expect(near.count == 1 && near.first?["documentName"] as? String == "Muster-Prepare")
            #expect(near.first?["documentVersion"] as? String == "3" && near.first?["stepName"] as? String == "prep")
            #expect(near.first?["region"] as? String == "us-east-1", "resolved from the wave's only endpoint")
            #expect((byAccount[far]?["regions"] as? [Any])?.isEmpty == true)
            #expect(((byAccount[far]?["ssmDocuments"] as? [[String: Any]])?.first)?["region"] as? String == "eu-west-1")

            // A callout's target is not probed: unknown with the reason, never ok.
            var withCallout = ssmWaves
            withCallout[1]["after"] = [["name": "tell", "kind": "HTTP_CALLOUT",
                                        "callout": ["url": "https://hooks.example.com/drill",
                                                    "subscriptionId": UUID().uuidString]]]
            withCallout[0]["before"] = nil
            #expect(try await app.call("PUT", "/v1/plans/\(planID)", token: team.operator, json: [
                "name": "Payroll", "waves": withCallout]).status == 200)
            let callout = try await app.call("POST", "/v1/plans/\(planID)/evaluate", token: team.viewer)
            let unprobed = try #require(checks(callout)["hooks.reachable"])
            #expect(unprobed["status"] as? String == "unknown")
            #expect((unprobed["message"] as? String)?.contains("callout targets are not probed: step tell (wave app) → hooks.example.com") == true)
        }
    }

    @Test func evaluateAnswers404ForAnotherTeamsPlan() async throws {
        try await PlannerTestApp.with { app in
            let (_, _, planID) = try await seed(app)
            let other = try await app.team()
            #expect(try await app.call("POST", "/v1/plans/\(planID)/evaluate", token: other.admin).status == 404)
            #expect(try await app.call("POST", "/v1/plans/not-a-uuid/evaluate", token: other.admin).status == 404)
            #expect(try await app.call("POST", "/v1/plans/\(planID)/evaluate", token: nil).status == 401)
        }
    }

    @Test func complianceShowsAnOverduePlanAndHistoryExports() async throws {
        try await PlannerTestApp.with { app in
            let (team, _, planID) = try await seed(app, planExtra: ["drillFrequencyDays": 7, "rpoTargetMinutes": 15])
            // Never drilled under a 7-day policy: overdue.
            let before = try await app.call("GET", "/v1/compliance", token: team.viewer)
            let first = try #require((before["items"] as? [[String: Any]])?.first)
            #expect(first["overdue"] as? Bool == true)
            #expect(first["lastSuccessfulDrill"] == nil)
            #expect(first["drillFrequencyDays"] as? Int == 7)

            // A drill that completed ten days ago: still overdue, with its figures.
            let started = try await app.call("POST", "/v1/executions", token: team.operator,
                                             json: ["planId": planID, "type": "DRILL"])
            let id = try #require(started["id"] as? String)
            try await app.complete(id, endedAt: Date().addingTimeInterval(-10 * 86_400))
            let late = try #require(try await app.call("GET", "/v1/compliance", token: team.viewer)["items"] as? [[String: Any]])
            #expect(late.first?["overdue"] as? Bool == true)
            #expect(late.first?["daysSince"] as? Int == 10)
            let drill = try #require(late.first?["lastSuccessfulDrill"] as? [String: Any])
            #expect(drill["executionId"] as? String == id)
            #expect(drill["rtoMet"] as? Bool == true)

            // A second drill two days ago: no longer overdue.
            let again = try await app.call("POST", "/v1/executions", token: team.operator,
                                           json: ["planId": planID, "type": "DRILL"])
            try await app.complete(try #require(again["id"] as? String), endedAt: Date().addingTimeInterval(-2 * 86_400))
            let fresh = try #require(try await app.call("GET", "/v1/compliance", token: team.viewer)["items"] as? [[String: Any]])
            #expect(fresh.first?["overdue"] as? Bool == false)
            #expect(fresh.first?["daysSince"] as? Int == 2)

            // History export.
            let csv = try await app.call("GET", "/v1/executions?format=csv", token: team.viewer, validate: false)
            #expect(csv.status == 200)
            let lines = String(decoding: csv.body, as: UTF8.self).split(separator: "\r\n")
            #expect(lines.count == 3)
            #expect(lines.first?.hasPrefix("id,planId,planName,type,status") == true)
            #expect(lines.dropFirst().allSatisfy { $0.contains(",Payroll,DRILL,COMPLETED,") })
            let json = try await app.call("GET", "/v1/executions?format=json&type=DRILL", token: team.viewer)
            #expect(json.items.count == 2)
            #expect(json.items.first?["rtoMet"] as? Bool == true)
            let bad = try await app.call("GET", "/v1/executions?format=xml", token: team.viewer)
            #expect(bad.status == 400)
            #expect((bad["error"] as? [String: Any])?["field"] as? String == "format")
        }
    }
}
