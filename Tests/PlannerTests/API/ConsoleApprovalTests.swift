import Foundation
import MusterHTTP
import TestSupport
import Testing

/// The console's execution page shows hook steps; an approval is decided from
/// it by someone the step allows (issue 16).
extension ConsoleHTTPTests {
    @Test func executionPageShowsStepsAndDecidesApprovals() async throws {
        try await PlannerTestApp.with { app in
            let team = try await app.team()
            try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [("s-1", [:])])
            let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "db", "region": "us-east-1", "sourceServerIds": ["s-1"]])["id"] as? String)
            let plan = try #require(try await app.call("POST", "/v1/plans", token: team.operator, json: [
                "name": "Gated", "waves": [["name": "db", "protectionGroupIds": [group],
                                            "before": [["name": "go", "kind": "APPROVAL", "approval": ["role": "admin"]]]]],
            ])["id"] as? String)
            let execution = try #require(try await app.call("POST", "/v1/executions", token: team.operator,
                                                            json: ["planId": plan, "type": "DRILL"])["id"] as? String)
            let path = "/console/executions/\(execution)"
            // The operator sees the waiting step but no form: the step needs an admin.
            let operatorPage = try await get(app, path, cookie: try await signIn(app, team.operator))
            #expect(operatorPage.html.contains("data-step=\"go\""))
            #expect(operatorPage.html.contains("data-step-status=\"RUNNING\""))
            #expect(!operatorPage.html.contains("id=\"approve-go\""))

            let admin = try await signIn(app, team.admin)
            let adminPage = try await get(app, path, cookie: admin)
            #expect(adminPage.html.contains("id=\"decline-go\""))
            let token = try #require(csrf(adminPage.html))
            let forged = try await post(app, "\(path)/approvals/go", cookie: admin, form: ["decision": "DECLINE"])
            #expect(forged.status == 403, "no CSRF token, no decision")
            let declined = try await post(app, "\(path)/approvals/go", cookie: admin,
                                          form: ["_csrf": token, "decision": "DECLINE", "comment": "not now"])
            #expect(declined.status == 303)
            let after = try await app.call("GET", "/v1/executions/\(execution)", token: team.viewer)
            #expect(after["status"] as? String == "FAILED")
            let page = try await get(app, path, cookie: admin)
            #expect(page.html.contains("data-step-status=\"DECLINED\""))
            #expect(page.html.contains("declined: not now"))
            #expect(!page.html.contains("id=\"decline-go\""))
        }
    }
}
