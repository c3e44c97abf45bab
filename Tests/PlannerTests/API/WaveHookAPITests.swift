import Foundation
import Logging
import MusterEvents
import MusterPostgres
@testable import PlannerApp
import TestSupport
import Testing

/// Wave hook steps over HTTP against PostgreSQL (issue 16): plans carry
/// them, executions show them, approvals are decided through the API, and
/// steps past their deadline time out.
@Suite("Planner API: wave hooks and approvals")
struct WaveHookAPITests {
    /// A plan db → app whose db wave waits for an approval before it launches
    /// ("go": someone other than the starter; declining fails the wave).
    func seed(_ app: PlannerTestApp) async throws -> (PlannerTestApp.TeamTokens, String) {
        let team = try await app.team()
        try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(),
                              servers: [("s-db1", [:]), ("s-app1", [:])])
        let db = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": "db", "region": "us-east-1", "sourceServerIds": ["s-db1"]])["id"] as? String)
        let web = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": "app", "region": "us-east-1", "sourceServerIds": ["s-app1"]])["id"] as? String)
        let broken = try await app.call("POST", "/v1/plans", token: team.operator, json: [
            "name": "Hooked", "waves": [["name": "db", "protectionGroupIds": [db],
                                         "before": [["name": "go", "kind": "APPROVAL", "approval": ["role": "root"]]]]],
        ])
        #expect(broken.status == 422)
        #expect(broken.error["field"] as? String == "waves[0].before[0].approval.role")
        let plan = try await app.call("POST", "/v1/plans", token: team.operator, json: [
            "name": "Hooked",
            "waves": [
                ["name": "db", "protectionGroupIds": [db],
                 "before": [["name": "go", "kind": "APPROVAL", "timeoutSeconds": 600,
                             "approval": ["notStarter": true, "onDecline": "FAIL"]]],
                 "after": [["name": "post", "kind": "SSM_AUTOMATION", "onFailure": "CONTINUE",
                            "ssm": ["documentName": "AWS-RunShellScript", "parameters": ["commands": ["true"]]]]]],
                ["name": "app", "protectionGroupIds": [web], "dependsOn": ["db"]],
            ],
        ])
        #expect(plan.status == 201)
        let waves = try #require(plan["waves"] as? [[String: Any]])
        #expect((waves[0]["before"] as? [[String: Any]])?.first?["kind"] as? String == "APPROVAL")
        #expect((waves[0]["after"] as? [[String: Any]])?.first?["onFailure"] as? String == "CONTINUE")
        return (team, try #require(plan["id"] as? String))
    }

    func start(_ app: PlannerTestApp, _ team: PlannerTestApp.TeamTokens, _ planID: String) async throws -> String {
        let started = try await app.call("POST", "/v1/executions", token: team.operator,
                                         json: ["planId": planID, "type": "DRILL"])
        #expect(started.status == 202)
        return try #require(started["id"] as? String)
    }

    func steps(_ execution: JSONReply, wave: Int = 0) -> [[String: Any]] {
        ((execution["waves"] as? [[String: Any]])?[wave]["steps"] as? [[String: Any]]) ?? []
    }

    func owedLaunches(_ app: PlannerTestApp, _ id: String) async throws -> Int {
        try await app.pool.query(
            "SELECT count(*) AS n FROM \(app.schema).outbox WHERE topic = $1 AND subject = $2",
            [app.topics.launchRequests, id]).rows[0].decode(Int.self, "n")
    }

    @Test func approvalGatesTheLaunchAndOnlyTheRightPersonDecides() async throws {
        try await PlannerTestApp.with { app in
            let (team, planID) = try await seed(app)
            let id = try await start(app, team, planID)
            var execution = try await app.call("GET", "/v1/executions/\(id)", token: team.viewer)
            let go = try #require(steps(execution).first)
            #expect(go["status"] as? String == "RUNNING")
            #expect(go["approvalLink"] as? String == "/v1/executions/\(id)/approvals/go")
            #expect(try await owedLaunches(app, id) == 0, "nothing launches before the approval")
            let requested = try await app.pool.query(
                "SELECT count(*) AS n FROM \(app.schema).outbox WHERE topic = $1 AND type = 'execution.approval-requested'",
                [app.topics.executionEvents]).rows[0].decode(Int.self, "n")
            #expect(requested == 1)

            let path = "/v1/executions/\(id)/approvals/go"
            // Bad input changes nothing and names the field.
            let bad = try await app.call("POST", path, token: team.admin, json: ["decision": "MAYBE"])
            #expect(bad.status == 422 && bad.error["field"] as? String == "decision")
            #expect(try await app.call("POST", path, token: team.viewer, json: ["decision": "APPROVE"]).status == 403)
            // The starter may not decide this one.
            let starter = try await app.call("POST", path, token: team.operator, json: ["decision": "APPROVE"])
            #expect(starter.status == 403)
            #expect(try await app.call("POST", "/v1/executions/\(id)/approvals/nope", token: team.admin,
                                       json: ["decision": "APPROVE"]).status == 409)
            execution = try await app.call("GET", "/v1/executions/\(id)", token: team.viewer)
            #expect(steps(execution).first?["status"] as? String == "RUNNING")

            let approved = try await app.call("POST", path, token: team.admin,
                                              json: ["decision": "APPROVE", "comment": "change window open"])
            #expect(approved.status == 200)
            #expect(steps(approved).first?["status"] as? String == "SUCCEEDED")
            #expect((steps(approved).first?["decidedBy"] as? String)?.hasPrefix("admin@") == true)
            #expect(try await owedLaunches(app, id) == 1, "approval released the launch")
            #expect(try await app.call("POST", path, token: team.admin, json: ["decision": "DECLINE"]).status == 409)

            let audit = try await app.call("GET", "/v1/executions/\(id)/audit", token: team.viewer)
            let actions = audit.items.compactMap { $0["action"] as? String }
            #expect(actions.contains("execution.approve"))
            #expect(actions.filter { $0 == "step.started" }.count == 1)
            let completed = try #require(audit.items.first { $0["action"] as? String == "step.completed" })
            #expect((completed["detail"] as? [String: Any])?["output"] as? String == "approved: change window open")
            #expect((completed["actor"] as? String)?.hasPrefix("admin@") == true)
        }
    }

    @Test func declineFailsTheExecutionAndStepsTimeOut() async throws {
        try await PlannerTestApp.with { app in
            let (team, planID) = try await seed(app)
            let first = try await start(app, team, planID)
            let declined = try await app.call("POST", "/v1/executions/\(first)/approvals/go", token: team.admin,
                                              json: ["decision": "DECLINE", "comment": "not during payroll"])
            #expect(declined.status == 200)
            #expect(declined["status"] as? String == "FAILED")
            #expect(steps(declined).map { $0["status"] as? String } == ["DECLINED", "SKIPPED"])
            #expect(try await owedLaunches(app, first) == 0)
            let report = try await app.call("GET", "/v1/executions/\(first)/report", token: team.viewer)
            let reportSteps = ((report["waves"] as? [[String: Any]])?.first?["steps"] as? [[String: Any]]) ?? []
            #expect(reportSteps.first?["output"] as? String == "declined: not during payroll")

            // The next run waits; nobody decides; the deadline service times the step out.
            let second = try await start(app, team, planID)
            let later = StepDeadlines(api: app.api, interval: .seconds(1), logger: TestEnvironment.logger,
                                      now: { Date().addingTimeInterval(601) })
            let onTime = StepDeadlines(api: app.api, interval: .seconds(1), logger: TestEnvironment.logger,
                                       now: { Date() })
            let ahead = try await onTime.tickDue()
            #expect(ahead.ticked == 0)
            let deadline = try #require(ahead.nextDeadline, "the waiting step's deadline is the next one to sleep until")
            #expect(deadline > Date() && deadline < Date().addingTimeInterval(601))
            #expect(try await later.tickDue().ticked == 1)
            let after = try await later.tickDue()
            #expect(after.ticked == 0, "a timed-out step is not ticked again")
            #expect(after.nextDeadline == nil, "no step runs any more: nothing to wake up for")
            let execution = try await app.call("GET", "/v1/executions/\(second)", token: team.viewer)
            #expect(steps(execution).first?["status"] as? String == "TIMED_OUT")
            #expect(execution["status"] as? String == "FAILED")
        }
    }
}

extension WaveHookAPITests {
    /// ServiceLifecycle logs each service's description: the deadline service's names nothing secret.
    @Test func theDeadlineServiceDescribesItselfWithoutTheConfiguration() async throws {
        try await PlannerTestApp.with { app in
            let service = StepDeadlines(api: app.api, interval: .seconds(1), logger: TestEnvironment.logger, now: { Date() })
            #expect(String(describing: service) == "StepDeadlines")
            #expect(!String(describing: service).contains(PlannerTestApp.adminToken))
        }
    }
}
