import Foundation
import MusterDomain
import MusterEvents
@testable import NotifierApp
import TestSupport
import Testing

@Suite("Notifier API (real PostgreSQL, broker and HTTP)")
struct NotifierAPITests {
    @Test("An oversized body with Connection: close gets 413 and the connection is closed, the client never blocked")
    func oversizedBodyIsRefusedAndClosed() async throws {
        try await NotifierTestApp.with { app in
            let token = try await app.team().operator
            let port = Int(app.baseURL.split(separator: ":").last!)!
            let (status, closed) = try await Task.detached {
                try OversizedBody.post(port: port, path: "/v1/subscriptions", bytes: 10 << 20, token: token)
            }.value
            #expect(status == 413)
            #expect(closed, "the server closed the connection")
        }
    }

    @Test("a token published on the teams topic authenticates; roles and revocation are honoured")
    func tokensFromTeamsTopic() async throws {
        try await NotifierTestApp.with { app in
            #expect(try await app.call("GET", "/v1/subscriptions", token: nil).status == 401)
            #expect(try await app.call("GET", "/v1/subscriptions", token: "mst_unknown").status == 401)
            let team = TeamID.random()
            let tokenID = UUID().uuidString
            let viewer = try await app.issueToken(team: team, role: "viewer", tokenID: tokenID)
            #expect(try await eventually { try await app.call("GET", "/v1/subscriptions", token: viewer).status == 200 })
            let forbidden = try await app.call("POST", "/v1/subscriptions", token: viewer,
                                               json: ["url": "https://example.com/hook"])
            #expect(forbidden.status == 403 && forbidden.error["code"] as? String == "forbidden")

            let revoked = TokenRevoked(tokenID: tokenID, teamID: team, revokedAt: Date())
            try await app.publish(topic: app.topics.teams, key: team.rawValue, CloudEvent(
                source: EventSource.planner, type: EventType.tokenRevoked, subject: team.rawValue, payload: revoked))
            #expect(try await eventually { try await app.call("GET", "/v1/subscriptions", token: viewer).status == 401 })
        }
    }

    @Test("subscription CRUD, paging, validation (nothing stored) and another team's ids answer 404")
    func crudValidationAndIsolation() async throws {
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let created = try await app.call("POST", "/v1/subscriptions", token: team.operator, json: [
                "url": "https://hooks.example.com/muster", "eventTypes": ["execution.completed", "server.failed"],
                "description": "ops channel",
            ])
            #expect(created.status == 201)
            let id = try #require(created["id"] as? String)
            let secret = try #require(created["secret"] as? String)
            #expect(secret.hasPrefix("whsec_"))
            #expect(created["eventTypes"] as? [String] == ["execution.completed", "server.failed"])

            let read = try await app.call("GET", "/v1/subscriptions/\(id)", token: team.viewer)
            #expect(read.status == 200 && read["secret"] == nil && !read.text.contains(secret))
            #expect(read["url"] as? String == "https://hooks.example.com/muster")

            let patched = try await app.call("PATCH", "/v1/subscriptions/\(id)", token: team.operator, json: [
                "url": "https://hooks.example.com/v2", "eventTypes": ["*"], "enabled": false,
            ])
            #expect(patched.status == 200 && patched["url"] as? String == "https://hooks.example.com/v2")
            #expect(patched["eventTypes"] as? [String] == ["*"] && patched["enabled"] as? Bool == false)
            #expect(patched["description"] as? String == "ops channel")

            // Validation: 4xx naming field and rule; nothing stored.
            let cases: [([String: Any], Int, String, String)] = [
                (["url": "ftp://example.com/x"], 422, "url", "scheme"),
                (["url": "https://example.com/x", "eventTypes": ["execution.exploded"]], 422, "eventTypes", "enum"),
                (["url": "https://example.com/x", "eventTypes": []], 422, "eventTypes", "minItems"),
                (["url": "https://example.com/x", "secret": "short"], 422, "secret", "length"),
                (["eventTypes": ["*"]], 422, "url", "required"),
                (["url": 42], 422, "url", "type"),
            ]
            for (body, status, field, rule) in cases {
                let reply = try await app.call("POST", "/v1/subscriptions", token: team.operator, json: body)
                #expect(reply.status == status, "\(body): \(reply.text)")
                #expect(reply.error["field"] as? String == field && reply.error["rule"] as? String == rule, "\(reply.text)")
            }
            let notJSON = try await app.call("POST", "/v1/subscriptions", token: team.operator, raw: Array("{nope".utf8))
            #expect(notJSON.status == 400 && notJSON.error["rule"] as? String == "json")
            let huge = try await app.call("POST", "/v1/subscriptions", token: team.operator, json: [
                "url": "https://example.com/x", "description": String(repeating: "d", count: 70_000),
            ])
            #expect(huge.status == 413 && huge.error["code"] as? String == "too_large")
            let badPatch = try await app.call("PATCH", "/v1/subscriptions/\(id)", token: team.operator,
                                              json: ["url": "gopher://x"])
            #expect(badPatch.status == 422)
            #expect(try await app.call("GET", "/v1/subscriptions/\(id)", token: team.viewer)["url"] as? String
                == "https://hooks.example.com/v2")
            #expect(try await app.call("GET", "/v1/subscriptions", token: team.viewer).items.count == 1)

            // Paging.
            for index in 0..<2 {
                _ = try await app.subscribe(team, url: "https://hooks.example.com/\(index)")
            }
            let first = try await app.call("GET", "/v1/subscriptions?limit=2", token: team.viewer)
            let cursor = try #require(first["nextCursor"] as? String)
            let second = try await app.call("GET", "/v1/subscriptions?limit=2&cursor=\(cursor)", token: team.viewer)
            #expect(first.items.count == 2 && second.items.count == 1 && second["nextCursor"] == nil)
            let ids = (first.items + second.items).compactMap { $0["id"] as? String }
            #expect(Set(ids).count == 3 && ids.first == id)

            // Another team: 404 everywhere, an empty list.
            let other = try await app.team()
            #expect(try await app.call("GET", "/v1/subscriptions/\(id)", token: other.admin).status == 404)
            #expect(try await app.call("PATCH", "/v1/subscriptions/\(id)", token: other.admin,
                                       json: ["enabled": true]).status == 404)
            #expect(try await app.call("DELETE", "/v1/subscriptions/\(id)", token: other.admin).status == 404)
            #expect(try await app.call("GET", "/v1/subscriptions/\(id)/deliveries", token: other.admin).status == 404)
            #expect(try await app.call("GET", "/v1/subscriptions", token: other.viewer).items.isEmpty)

            #expect(try await app.call("DELETE", "/v1/subscriptions/\(id)", token: team.viewer).status == 403)
            #expect(try await app.call("DELETE", "/v1/subscriptions/\(id)", token: team.operator).status == 204)
            #expect(try await app.call("GET", "/v1/subscriptions/\(id)", token: team.viewer).status == 404)
        }
    }

    @Test("a secret never appears in API responses after creation, nor in any log line")
    func secretsStaySecret() async throws {
        let receiver = try Receiver { _, index in .init(status: index == 1 ? 500 : 200) }
        defer { receiver.server.stop() }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let given = "given_secret_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
            let created = try await app.call("POST", "/v1/subscriptions", token: team.operator,
                                             json: ["url": receiver.url, "secret": given])
            #expect(created.status == 201 && created["secret"] == nil && !created.text.contains(given))
            let id = try #require(created["id"] as? String)
            let generated = try await app.call("POST", "/v1/subscriptions", token: team.operator,
                                               json: ["url": receiver.url + "/2"])
            let generatedSecret = try #require(generated["secret"] as? String)
            let rotated = "rotated_secret_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
            let patched = try await app.call("PATCH", "/v1/subscriptions/\(id)", token: team.operator,
                                             json: ["secret": rotated])
            #expect(patched.status == 200 && !patched.text.contains(rotated))

            try await app.publishExecutionEvent(team: team.id, execution: "exec-s", type: .executionStarted)
            #expect(try await eventually {
                try await app.deliveries(team, id).first?["status"] as? String == "DELIVERED"
            })
            let responses = [
                try await app.call("GET", "/v1/subscriptions", token: team.admin).text,
                try await app.call("GET", "/v1/subscriptions/\(id)", token: team.admin).text,
                try await app.call("GET", "/v1/subscriptions/\(id)/deliveries", token: team.admin).text,
            ].joined()
            let logs = app.logs.text
            #expect(!logs.isEmpty, "the app logged something (the failed first attempt at least)")
            for secret in [given, generatedSecret, rotated] {
                #expect(!responses.contains(secret))
                #expect(!logs.contains(secret))
            }
            // Signed with the rotated secret (the other subscription posts to …/hook/2).
            let request = try #require(receiver.requests.last { $0.path == "/hook" })
            let header = try #require(request.header("X-Muster-Signature"))
            #expect(WebhookSignature.verify(header: header, body: request.body, secret: WebhookSecret(rotated)))
        }
    }
}
