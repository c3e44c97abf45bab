import Foundation
import MusterPostgres
import PlannerApp
import TestSupport
import Testing

/// Teams, tokens, roles, isolation and every validation rule, over HTTP,
/// each response checked against openapi.json.
@Suite("Planner API: auth, isolation and validation")
struct ValidationAndAuthTests {
    @Test func tokensRolesAndBootstrapAdmin() async throws {
        try await PlannerTestApp.with() { app in
            #expect(try await app.call("GET", "/v1/plans", token: nil).status == 401)
            #expect(try await app.call("GET", "/v1/plans", token: "nope").error["code"] as? String == "unauthenticated")
            #expect(try await app.call("GET", "/v1/plans", token: PlannerTestApp.adminToken).status == 403)
            let team = try await app.team()
            let me = try await app.call("GET", "/v1/me", token: team.operator)
            #expect(me["role"] as? String == "operator")
            #expect(try await app.call("POST", "/v1/teams", token: team.admin, json: ["name": "x"]).status == 403)
            #expect(try await app.call("POST", "/v1/plans", token: team.viewer, json: ["name": "p", "waves": []]).status == 403)
            #expect(try await app.call("POST", "/v1/accounts", token: team.operator, json: [:]).status == 403)
            // Tokens are stored hashed: the secret is not in the table.
            let stored = try await app.pool.query("SELECT token_hash FROM \(app.schema).tokens").rows
            #expect(stored.count == 3)
            for row in stored { #expect(try row.decode([UInt8].self, "token_hash").count == 32) }
            let everything = try await app.pool.query("SELECT string_agg(t::text, ' ') AS s FROM \(app.schema).tokens t").rows[0]
            #expect(try everything.decode(String.self, "s").contains(team.admin) == false)
            // Revoked tokens stop working.
            let listed = try await app.call("GET", "/v1/teams/\(team.id)/tokens", token: team.admin)
            let viewerID = try #require(listed.items.first { $0["role"] as? String == "viewer" }?["id"] as? String)
            #expect(try await app.call("DELETE", "/v1/teams/\(team.id)/tokens/\(viewerID)", token: team.admin).status == 204)
            #expect(try await app.call("GET", "/v1/plans", token: team.viewer).status == 401)
            // teams.v1 carries each token's digest (never the token) for other services.
            let owed = try await app.pool.query(
                "SELECT type, encode(data, 'escape') AS body FROM \(app.schema).outbox WHERE topic = $1 ORDER BY seq",
                [app.topics.teams]).rows
            #expect(try owed.map { try $0.decode(String.self, "type") } == [
                "token.issued", "token.issued", "token.issued", "token.revoked",
            ])
            #expect(try owed.allSatisfy { !(try $0.decode(String.self, "body")).contains(team.admin) })
            #expect(try await app.call("POST", "/v1/teams", token: PlannerTestApp.adminToken,
                                       json: ["name": "\(team.id)"]).status == 201)
        }
    }

    @Test func anotherTeamsIdsAnswer404() async throws {
        try await PlannerTestApp.with() { app in
            let a = try await app.team(), b = try await app.team()
            try await app.account(a, awsAccountID: PlannerTestApp.awsAccountID(), servers: [("s-a1", [:])])
            let group = try await app.call("POST", "/v1/protection-groups", token: a.operator,
                                           json: ["name": "db", "region": "us-east-1", "sourceServerIds": ["s-a1"]])
            let groupID = try #require(group["id"] as? String)
            let plan = try await app.call("POST", "/v1/plans", token: a.operator,
                                          json: ["name": "p", "waves": [["name": "w", "protectionGroupIds": [groupID]]]])
            let planID = try #require(plan["id"] as? String)
            let started = try await app.call("POST", "/v1/executions", token: a.operator, json: ["planId": planID, "type": "DRILL"])
            let executionID = try #require(started["id"] as? String)
            let account = try #require(try await app.call("GET", "/v1/accounts", token: a.viewer).items.first?["id"] as? String)

            for (method, path) in [
                ("GET", "/v1/plans/\(planID)"), ("DELETE", "/v1/plans/\(planID)"), ("GET", "/v1/protection-groups/\(groupID)"),
                ("DELETE", "/v1/protection-groups/\(groupID)"), ("GET", "/v1/accounts/\(account)"),
                ("GET", "/v1/executions/\(executionID)"), ("POST", "/v1/executions/\(executionID)/pause"),
                ("POST", "/v1/executions/\(executionID)/cancel"), ("GET", "/v1/executions/\(executionID)/report"),
                ("GET", "/v1/teams/\(a.id)/tokens"),
            ] {
                let reply = try await app.call(method, path, token: b.admin)
                #expect(reply.status == 404, "\(method) \(path)")
            }
            #expect(try await app.call("PUT", "/v1/plans/\(planID)", token: b.operator,
                                       json: ["name": "p", "waves": [["name": "w", "protectionGroupIds": [groupID]]]]).status == 404,
                    "another team's plan id is not found")
            #expect(try await app.call("GET", "/v1/plans", token: b.viewer).items.isEmpty)
            #expect(try await app.call("GET", "/v1/executions", token: b.viewer).items.isEmpty)
            #expect(try await app.call("GET", "/v1/source-servers", token: b.viewer).items.isEmpty)
            #expect(try await app.call("POST", "/v1/executions", token: b.operator,
                                       json: ["planId": planID, "type": "DRILL"]).error["rule"] as? String == "reference")
            #expect(try await app.call("GET", "/v1/executions/\(executionID)", token: a.viewer).status == 200)
        }
    }

    @Test func badBodiesAnswer4xxNamingFieldAndRuleAndStoreNothing() async throws {
        var limits = PlannerLimits()
        limits.maxBodyBytes = 4096
        limits.maxWaves = 3
        try await PlannerTestApp.with(limits: limits) { app in
            let team = try await app.team()
            try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [("s-1", [:]), ("s-2", [:])])
            let g1 = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "g1", "region": "us-east-1", "sourceServerIds": ["s-1"]])["id"] as? String)
            let g2 = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "g2", "region": "us-east-1", "sourceServerIds": ["s-2"]])["id"] as? String)
            func wave(_ name: String, _ groups: [String], _ deps: [String] = []) -> [String: Any] {
                ["name": name, "protectionGroupIds": groups, "dependsOn": deps]
            }
            let cases: [(String, [UInt8], Int, String, String)] = try [
                ("malformed", Array("{\"name\": ".utf8), 400, "", "json"),
                ("utf8", [0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D], 400, "", "utf8"),
                ("wrong type", json(["name": 5, "waves": []]), 422, "name", "type"),
                ("missing", json(["waves": []]), 422, "name", "required"),
                ("uuid", json(["name": "p", "waves": [wave("a", ["nope"])]]), 422, "waves[0].protectionGroupIds[0]", "format"),
                ("cycle", json(["name": "p", "waves": [wave("a", [g1], ["b"]), wave("b", [g2], ["a"])]]), 422, "waves", "acyclic"),
                ("unknown wave", json(["name": "p", "waves": [wave("a", [g1], ["zzz"])]]), 422, "waves[0].dependsOn[0]", "reference"),
                ("unknown group", json(["name": "p", "waves": [wave("a", [UUID().uuidString])]]), 422,
                 "waves[0].protectionGroupIds[0]", "reference"),
                ("empty wave", json(["name": "p", "waves": [wave("a", [])]]), 422, "waves[0].protectionGroupIds", "minItems"),
                ("too many waves", json(["name": "p", "waves": (0..<4).map { wave("w\($0)", [UUID().uuidString]) }]), 422,
                 "waves", "maxItems"),
                ("oversize", json(["name": String(repeating: "x", count: 5000), "waves": []]), 413, "", "maxBytes"),
            ]
            for (name, body, status, field, rule) in cases {
                let reply = try await app.call("POST", "/v1/plans", token: team.operator, raw: body)
                #expect(reply.status == status, "\(name): \(String(decoding: reply.body, as: UTF8.self))")
                #expect(reply.error["field"] as? String == field, "\(name)")
                #expect(reply.error["rule"] as? String == rule, "\(name)")
                #expect((reply.error["message"] as? String)?.isEmpty == false, "\(name)")
            }
            let enumReply = try await app.call("POST", "/v1/executions", token: team.operator,
                                               json: ["planId": UUID().uuidString, "type": "PRACTICE"])
            #expect(enumReply.status == 422)
            #expect(enumReply.error["field"] as? String == "type" && enumReply.error["rule"] as? String == "enum")
            let badQuery = try await app.call("GET", "/v1/executions?status=DONE", token: team.viewer)
            #expect(badQuery.status == 400 && badQuery.error["field"] as? String == "status")
            let plans = try await app.pool.query("SELECT count(*) AS n FROM \(app.schema).plans").rows[0]
            #expect(try plans.decode(Int.self, "n") == 0, "nothing stored")
        }
    }

    @Test func planLaunchOverridesRoundTripAndReachWaveStarted() async throws {
        try await PlannerTestApp.with() { app in
            let team = try await app.team()
            try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [("s-1", [:])])
            let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "g", "region": "us-east-1", "sourceServerIds": ["s-1"]])["id"] as? String)
            func plan(_ overrides: [String: Any]) -> [String: Any] {
                ["name": "p", "waves": [["name": "w", "protectionGroupIds": [group]]], "launchOverrides": overrides]
            }
            // Unknown keys inside are ignored, like everywhere else in the API.
            let created = try await app.call("POST", "/v1/plans", token: team.operator, json: plan([
                "copyPrivateIp": true, "launchDisposition": "STOPPED", "osByol": false, "futureSetting": 1,
            ]))
            #expect(created.status == 201)
            let planID = try #require(created["id"] as? String)
            let read = try await app.call("GET", "/v1/plans/\(planID)", token: team.viewer)
            #expect(read["launchOverrides"] as? NSDictionary == [
                "copyPrivateIp": true, "launchDisposition": "STOPPED", "osByol": false,
            ] as NSDictionary)

            let bad = try await app.call("PUT", "/v1/plans/\(planID)", token: team.operator,
                                         json: plan(["launchDisposition": "stopped", "copyTags": true]))
            #expect(bad.status == 422)
            #expect(bad.error["field"] as? String == "launchOverrides.launchDisposition")
            #expect(bad.error["rule"] as? String == "enum")
            #expect((bad.error["message"] as? String)?.contains("STOPPED, STARTED") == true)
            let sizing = try await app.call("POST", "/v1/plans", token: team.operator,
                                            json: plan(["targetInstanceTypeRightSizingMethod": "LARGE"]))
            #expect(sizing.status == 422
                && sizing.error["field"] as? String == "launchOverrides.targetInstanceTypeRightSizingMethod")
            let stored = try await app.pool.query(
                "SELECT count(*) AS n, max(version) AS v FROM \(app.schema).plans").rows[0]
            #expect(try stored.decode(Int.self, "n") == 1 && stored.decode(Int.self, "v") == 1, "nothing stored")

            let updated = try await app.call("PUT", "/v1/plans/\(planID)", token: team.operator,
                                             json: plan(["launchDisposition": "STARTED", "copyTags": true,
                                                         "targetInstanceTypeRightSizingMethod": "BASIC"]))
            #expect(updated.status == 200)
            #expect(updated["launchOverrides"] as? NSDictionary == [
                "launchDisposition": "STARTED", "copyTags": true, "targetInstanceTypeRightSizingMethod": "BASIC",
            ] as NSDictionary)

            // The execution's launch-group.requested carries the overrides it snapshotted.
            #expect(try await app.call("POST", "/v1/executions", token: team.operator,
                                       json: ["planId": planID, "type": "DRILL"]).status == 202)
            let owed = try await app.pool.query(
                "SELECT data FROM \(app.schema).outbox WHERE topic = $1", [app.topics.launchRequests]).rows
            #expect(owed.count == 1)
            let payload = try JSONSerialization.jsonObject(with: Data(try owed[0].decode([UInt8].self, "data")))
            let overrides = (payload as? [String: Any])?["launchOverrides"]
            #expect(overrides as? NSDictionary == [
                "launchDisposition": "STARTED", "copyTags": true, "targetInstanceTypeRightSizingMethod": "BASIC",
            ] as NSDictionary)
        }
    }

    @Test func accountsAndProtectionGroupRules() async throws {
        try await PlannerTestApp.with() { app in
            let team = try await app.team()
            let aws = PlannerTestApp.awsAccountID()
            try await app.account(team, awsAccountID: aws, servers: [
                ("s-db1", ["tier": "db"]), ("s-db2", ["tier": "db"]), ("s-web1", ["tier": "web"]),
            ])
            // Accounts: secrets are refused; the registration is owed on accounts.v1.
            let secret = try await app.call("POST", "/v1/accounts", token: team.admin, json: [
                "awsAccountId": PlannerTestApp.awsAccountID(), "name": "a", "regions": ["us-east-1"],
                "credentials": ["type": "KEY_PAIR", "keyPairName": "k", "secretAccessKey": "abc"],
            ])
            #expect(secret.status == 422 && secret.error["field"] as? String == "credentials.secretAccessKey")
            let badID = try await app.call("POST", "/v1/accounts", token: team.admin, json: [
                "awsAccountId": "12", "name": "a", "regions": ["us-east-1"], "credentials": ["type": "KEY_PAIR", "keyPairName": "k"],
            ])
            #expect(badID.error["field"] as? String == "awsAccountId" && badID.error["rule"] as? String == "format")
            let owed = try await app.pool.query(
                "SELECT key, type FROM \(app.schema).outbox WHERE topic = $1", [app.topics.accounts]).rows
            #expect(try owed.map { try $0.decode(String.self, "key") } == [aws])
            #expect(try owed.first?.decode(String.self, "type") == "account.registered")

            // Tag selector resolves against the inventory.
            let db = try await app.call("POST", "/v1/protection-groups", token: team.operator,
                                        json: ["name": "Database", "region": "us-east-1", "tagSelector": ["tier": "db"]])
            #expect(db.status == 201)
            #expect((db["servers"] as? [[String: Any]])?.compactMap { $0["sourceServerId"] as? String } == ["s-db1", "s-db2"])
            let dbID = try #require(db["id"] as? String)
            // Names unique per team, case-insensitively.
            let duplicate = try await app.call("POST", "/v1/protection-groups", token: team.operator,
                                               json: ["name": "DATABASE", "region": "us-east-1", "sourceServerIds": ["s-web1"]])
            #expect(duplicate.status == 409 && duplicate.error["field"] as? String == "name")
            // One protection group per server.
            let taken = try await app.call("POST", "/v1/protection-groups", token: team.operator,
                                           json: ["name": "other", "region": "us-east-1", "sourceServerIds": ["s-db1"]])
            #expect(taken.status == 409 && taken.error["rule"] as? String == "assigned")
            #expect((taken.error["message"] as? String)?.contains("Database") == true)
            // Servers must exist in the inventory.
            let missing = try await app.call("POST", "/v1/protection-groups", token: team.operator,
                                             json: ["name": "ghost", "region": "us-east-1", "sourceServerIds": ["s-web1", "s-nope"]])
            #expect(missing.status == 422 && missing.error["field"] as? String == "sourceServerIds[1]")
            #expect(missing.error["rule"] as? String == "inventory")
            // Exactly one way of selecting.
            let both = try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "b", "region": "us-east-1", "sourceServerIds": ["s-web1"], "tagSelector": ["a": "b"]])
            #expect(both.error["rule"] as? String == "exclusive")
            // Region is immutable.
            let moved = try await app.call("PUT", "/v1/protection-groups/\(dbID)", token: team.operator,
                                           json: ["name": "Database", "region": "eu-west-1", "tagSelector": ["tier": "db"]])
            #expect(moved.status == 422 && moved.error["rule"] as? String == "immutable")
            // The inventory shows the assignment and filters.
            let servers = try await app.call("GET", "/v1/source-servers?accountId=\(aws)&region=us-east-1&state=CONTINUOUS",
                                             token: team.viewer)
            #expect(servers.items.count == 3)
            #expect(servers.items.first { $0["sourceServerId"] as? String == "s-db1" }?["protectionGroupName"] as? String == "Database")
            #expect(servers.items.first { $0["sourceServerId"] as? String == "s-web1" }?["protectionGroupId"] == nil)
            #expect(try await app.call("GET", "/v1/source-servers?region=eu-west-1", token: team.viewer).items.isEmpty)
            // A group used by a plan cannot be deleted; the plan is named.
            _ = try await app.call("POST", "/v1/plans", token: team.operator,
                                   json: ["name": "Payroll", "waves": [["name": "w", "protectionGroupIds": [dbID]]]])
            let refused = try await app.call("DELETE", "/v1/protection-groups/\(dbID)", token: team.operator)
            #expect(refused.status == 409 && (refused.error["message"] as? String)?.contains("Payroll") == true)
        }
    }

    func json(_ value: Any) throws -> [UInt8] { Array(try JSONSerialization.data(withJSONObject: value)) }
}
