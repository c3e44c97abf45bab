import Foundation
import MusterHTTP
import MusterPostgres
import PlannerApp
import TestSupport
import Testing

/// The console over real HTTP: token sign-in and its cookie, CSRF refusal,
/// session expiry and sign-out ending the session server-side, roles
/// deciding which actions show, and another team's pages answering 404.
@Suite("Planner console")
struct ConsoleHTTPTests {
    struct Page {
        var status: Int
        var html: String
        var headers: [HTTPHeader]
        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
    }

    func get(_ app: PlannerTestApp, _ path: String, cookie: String?) async throws -> Page {
        var headers: [HTTPHeader] = []
        if let cookie { headers.append(HTTPHeader("Cookie", "muster_session=\(cookie)")) }
        let response = try await app.http.execute(HTTPRequest(method: "GET", url: app.baseURL + path, headers: headers))
        return Page(status: response.status, html: String(decoding: response.body, as: UTF8.self), headers: response.headers)
    }

    func post(_ app: PlannerTestApp, _ path: String, cookie: String?, form: [String: String]) async throws -> Page {
        var headers = [HTTPHeader("Content-Type", "application/x-www-form-urlencoded")]
        if let cookie { headers.append(HTTPHeader("Cookie", "muster_session=\(cookie)")) }
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            .joined(separator: "&")
        let response = try await app.http.execute(HTTPRequest(method: "POST", url: app.baseURL + path, headers: headers,
                                                              body: Array(body.utf8)))
        return Page(status: response.status, html: String(decoding: response.body, as: UTF8.self), headers: response.headers)
    }

    /// Signs in with `token`; returns the session cookie's value.
    func signIn(_ app: PlannerTestApp, _ token: String) async throws -> String {
        let reply = try await post(app, "/console/sign-in", cookie: nil, form: ["token": token])
        #expect(reply.status == 303)
        #expect(reply.header("Location") == "/console")
        let cookie = try #require(reply.header("Set-Cookie"))
        #expect(cookie.contains("HttpOnly"))
        #expect(cookie.contains("SameSite=Lax"))
        #expect(cookie.contains("Path=/console"))
        #expect(cookie.contains("Secure"), "secure by default; local http stacks turn it off explicitly")
        let value = cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)[1]
        return String(value)
    }

    func csrf(_ html: String) -> String? {
        guard let range = html.range(of: "name=\"_csrf\" value=\"") else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    /// A team with a single-wave plan and a running execution.
    func seed(_ app: PlannerTestApp) async throws -> (PlannerTestApp.TeamTokens, plan: String, execution: String) {
        let team = try await app.team()
        try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [("s-1", ["Name": "<b>db</b>"])])
        let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": "db<script>", "region": "us-east-1", "sourceServerIds": ["s-1"]])["id"] as? String)
        let plan = try #require(try await app.call("POST", "/v1/plans", token: team.operator, json: [
            "name": "Orders \"<img src=x onerror=alert(1)>\"", "rtoTargetMinutes": 30,
            "waves": [["name": "db", "protectionGroupIds": [group]]],
        ])["id"] as? String)
        let execution = try #require(try await app.call("POST", "/v1/executions", token: team.operator,
                                                        json: ["planId": plan, "type": "DRILL"])["id"] as? String)
        return (team, plan, execution)
    }

    @Test func tokenSignInSessionsCSRFAndSignOut() async throws {
        try await PlannerTestApp.with { app in
            let (team, _, execution) = try await seed(app)
            // Without a session every page sends to the sign-in page.
            let anonymous = try await get(app, "/console", cookie: nil)
            #expect(anonymous.status == 303)
            #expect(anonymous.header("Location") == "/console/sign-in")
            let refused = try await post(app, "/console/sign-in", cookie: nil, form: ["token": "mst_nope"])
            #expect(refused.status == 401)
            #expect(refused.html.contains("unknown or revoked"))
            let admin = try await post(app, "/console/sign-in", cookie: nil, form: ["token": PlannerTestApp.adminToken])
            #expect(admin.status == 401, "the bootstrap admin has no team to show")

            let session = try await signIn(app, team.operator)
            let dashboard = try await get(app, "/console", cookie: session)
            #expect(dashboard.status == 200)
            #expect(dashboard.html.contains("Running and paused"))
            #expect(dashboard.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
            let page = try await get(app, "/console/executions/\(execution)", cookie: session)
            #expect(page.html.contains("id=\"action-pause\""))
            #expect(!page.html.contains("<img src=x"), "the plan name is escaped")
            let token = try #require(csrf(page.html))

            // A state-changing request without the session's CSRF token is refused and changes nothing.
            for form in [[String: String](), ["_csrf": "forged"], ["_csrf": String(token.dropLast()) + "0"]] where form["_csrf"] != token {
                let forged = try await post(app, "/console/executions/\(execution)/pause", cookie: session, form: form)
                #expect(forged.status == 403)
            }
            #expect(try await app.call("GET", "/v1/executions/\(execution)", token: team.viewer)["status"] as? String == "RUNNING")
            // With it, the action runs through the state machine and the audit trail names the person.
            let paused = try await post(app, "/console/executions/\(execution)/pause", cookie: session, form: ["_csrf": token])
            #expect(paused.status == 303)
            #expect(try await app.call("GET", "/v1/executions/\(execution)", token: team.viewer)["status"] as? String == "PAUSED")
            let audit = try await get(app, "/console/audit", cookie: session)
            #expect(audit.html.contains("execution.pause"))
            #expect(audit.html.contains("operator@"))
            // Refused by the state machine: a page saying why, status 409.
            let again = try await post(app, "/console/executions/\(execution)/pause", cookie: session, form: ["_csrf": token])
            #expect(again.status == 409)

            // Sign-out ends the session server-side: the same cookie no longer opens anything.
            let out = try await post(app, "/console/sign-out", cookie: session, form: ["_csrf": token])
            #expect(out.status == 303)
            #expect(out.header("Set-Cookie")?.contains("Max-Age=0") == true)
            #expect(try await get(app, "/console", cookie: session).status == 303)
            #expect(try await get(app, "/console/dashboard/live", cookie: session).status == 401)
        }
    }

    @Test func anExpiredSessionIsSentToSignIn() async throws {
        try await PlannerTestApp.with { app in
            let team = try await app.team()
            let session = try await signIn(app, team.viewer)
            #expect(try await get(app, "/console/plans", cookie: session).status == 200)
            try await app.pool.query(
                "UPDATE \(app.schema).console_sessions SET expires_at = now() - interval '1 second'")
            let expired = try await get(app, "/console/plans", cookie: session)
            #expect(expired.status == 303)
            #expect(expired.header("Location") == "/console/sign-in")
        }
    }

    @Test func viewersSeeNoActionsAndOtherTeamsGet404() async throws {
        try await PlannerTestApp.with { app in
            let (team, plan, execution) = try await seed(app)
            let viewer = try await signIn(app, team.viewer)
            let page = try await get(app, "/console/executions/\(execution)", cookie: viewer)
            #expect(page.status == 200)
            #expect(!page.html.contains("action-"), "no action buttons for a viewer")
            #expect(!(try await get(app, "/console/plans/\(plan)", cookie: viewer)).html.contains("id=\"start\""))
            // A viewer's form post is refused even with a valid CSRF token.
            let token = try #require(csrf(page.html))
            #expect(try await post(app, "/console/executions/\(execution)/pause", cookie: viewer, form: ["_csrf": token]).status
                    == 403)

            let other = try await app.team()
            let outsider = try await signIn(app, other.operator)
            for path in ["/console/executions/\(execution)", "/console/plans/\(plan)", "/console/executions/\(execution)/live"] {
                #expect(try await get(app, path, cookie: outsider).status == 404, "\(path)")
            }
            let otherToken = try #require(csrf(try await get(app, "/console", cookie: outsider).html))
            #expect(try await post(app, "/console/executions/\(execution)/pause", cookie: outsider,
                                   form: ["_csrf": otherToken]).status == 404)
            // Unknown ids and malformed ids answer 404 too.
            #expect(try await get(app, "/console/executions/\(UUID())", cookie: outsider).status == 404)
            #expect(try await get(app, "/console/executions/not-a-uuid", cookie: outsider).status == 404)
        }
    }

    @Test func startingARecoveryNeedsThePlanNameTyped() async throws {
        try await PlannerTestApp.with { app in
            let team = try await app.team()
            try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [("s-9", [:])])
            let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "g", "region": "us-east-1", "sourceServerIds": ["s-9"]])["id"] as? String)
            let plan = try #require(try await app.call("POST", "/v1/plans", token: team.operator, json: [
                "name": "Payroll", "waves": [["name": "w", "protectionGroupIds": [group]]],
            ])["id"] as? String)
            let session = try await signIn(app, team.operator)
            let planPage = try await get(app, "/console/plans/\(plan)", cookie: session)
            #expect(planPage.html.contains("<svg class=\"dag\""))
            let token = try #require(csrf(planPage.html))
            let confirm = try await post(app, "/console/plans/\(plan)/start", cookie: session,
                                         form: ["_csrf": token, "type": "RECOVERY"])
            #expect(confirm.status == 200)
            #expect(confirm.html.contains("Start a <strong>RECOVERY</strong> of plan <strong>Payroll</strong>?"))
            let wrong = try await post(app, "/console/plans/\(plan)/start/confirm", cookie: session,
                                       form: ["_csrf": token, "type": "RECOVERY", "confirmation": "payroll"])
            #expect(wrong.status == 422)
            #expect(try await app.call("GET", "/v1/executions", token: team.viewer).items.isEmpty)
            let started = try await post(app, "/console/plans/\(plan)/start/confirm", cookie: session,
                                         form: ["_csrf": token, "type": "RECOVERY", "confirmation": "Payroll"])
            #expect(started.status == 303)
            let executions = try await app.call("GET", "/v1/executions", token: team.viewer).items
            #expect(executions.map { $0["type"] as? String } == ["RECOVERY"])
            #expect(started.header("Location") == "/console/executions/\(executions[0]["id"] as? String ?? "")")
        }
    }
}
