import Foundation
import Testing

@testable import PlannerApp

/// Issue 13 through the planner's API: profiles are validated with errors
/// naming the field, snapshotted with the execution and carried, resolved
/// per server, in `launch-group.requested`, with the start's recovery point.
@Suite("Planner: launch profiles and recovery points")
struct LaunchProfileAPITests {
    @Test func profilesValidateResolveAndReachWaveStarted() async throws {
        try await PlannerTestApp.with() { app in
            let team = try await app.team()
            try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [("s-1", [:]), ("s-2", [:])])
            let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "g", "region": "us-east-1", "sourceServerIds": ["s-1", "s-2"]])["id"] as? String)
            let drill: [String: Any] = [
                "subnetId": "subnet-0d1e2f3a4b5c60002", "subnetCidr": "10.99.0.0/24",
                "securityGroupIds": ["sg-0d1e2f3a4b5c60002"], "instanceType": "t3.small", "copyPrivateIp": false,
            ]
            func plan(servers: [String: Any], drillProfile: String = "drill", profile: [String: Any] = drill) -> [String: Any] {
                ["name": "p", "waves": [["name": "w", "protectionGroupIds": [group]]],
                 "launchProfiles": ["drill": profile, "recovery": ["launchDisposition": "STARTED"]],
                 "drillProfile": drillProfile, "recoveryProfile": "recovery", "servers": servers, "rpoTargetMinutes": 15]
            }
            // Errors name the field and the rule; nothing is stored.
            let outside = try await app.call("POST", "/v1/plans", token: team.operator,
                                             json: plan(servers: ["s-1": ["privateIp": "10.0.0.5"]]))
            #expect(outside.status == 422 && outside.error["field"] as? String == "servers.s-1.privateIp"
                && outside.error["rule"] as? String == "subnet")
            let twice = try await app.call("POST", "/v1/plans", token: team.operator,
                json: plan(servers: ["s-1": ["privateIp": "10.99.0.5"], "s-2": ["privateIp": "10.99.0.5"]]))
            #expect(twice.status == 422 && twice.error["rule"] as? String == "unique")
            let unknown = try await app.call("POST", "/v1/plans", token: team.operator,
                                             json: plan(servers: [:], drillProfile: "nope"))
            #expect(unknown.status == 422 && unknown.error["field"] as? String == "drillProfile"
                && unknown.error["rule"] as? String == "reference")
            var badSubnet = drill
            badSubnet["subnetId"] = "sub-1"
            let malformed = try await app.call("POST", "/v1/plans", token: team.operator,
                                               json: plan(servers: [:], profile: badSubnet))
            #expect(malformed.status == 422 && malformed.error["field"] as? String == "launchProfiles.drill.subnetId")
            #expect(try await app.pool.query("SELECT count(*) AS n FROM \(app.schema).plans").rows[0].decode(Int.self, "n") == 0)

            let created = try await app.call("POST", "/v1/plans", token: team.operator,
                json: plan(servers: ["s-1": ["privateIp": "10.99.0.5"]]))
            #expect(created.status == 201)
            #expect(created["drillIsolated"] as? Bool == true)
            #expect(created["rpoTargetMinutes"] as? Int == 15)
            let planID = try #require(created["id"] as? String)

            let badPoint = try await app.call("POST", "/v1/executions", token: team.operator, json: [
                "planId": planID, "type": "DRILL", "recoveryPoint": ["snapshots": ["s-9": "pit-00000000000000001"]]])
            #expect(badPoint.status == 422 && badPoint.error["field"] as? String == "recoveryPoint.snapshots.s-9")

            #expect(try await app.call("POST", "/v1/executions", token: team.operator, json: [
                "planId": planID, "type": "DRILL", "recoveryPoint": ["before": "2026-01-01T10:00:00Z"]]).status == 202)
            let owed = try await app.pool.query(
                "SELECT data FROM \(app.schema).outbox WHERE topic = $1", [app.topics.launchRequests]).rows
            #expect(owed.count == 1)
            let payload = try JSONSerialization.jsonObject(with: Data(try owed[0].decode([UInt8].self, "data"))) as? [String: Any]
            let settings = payload?["launchSettings"] as? [String: [String: Any]]
            #expect(settings?["s-1"]?["profile"] as? String == "drill")
            #expect(settings?["s-1"]?["privateIp"] as? String == "10.99.0.5")
            #expect((settings?["s-2"]?["settings"] as? [String: Any])?["subnetId"] as? String == "subnet-0d1e2f3a4b5c60002")
            #expect(settings?["s-2"]?["privateIp"] == nil)
            #expect(settings?["s-1"]?["keep"] as? Bool == false)
            #expect(((payload?["recoveryPoint"] as? [String: Any])?["before"] as? String)?.hasPrefix("2026-01-01T10:00:00") == true)
        }
    }

    @Test func resolutionPrecedenceServerThenWaveThenPlan() {
        var profiles = PlanLaunchProfiles()
        profiles.profiles = ["a": .init(subnetId: "subnet-0000000a"), "b": .init(subnetId: "subnet-0000000b"),
                             "r": .init(subnetId: "subnet-0000000a")]
        profiles.drillProfile = "a"
        profiles.recoveryProfile = "r"
        profiles.waves = [1: .init(drillProfile: "b")]
        profiles.servers = ["s-3": .init(privateIp: "10.0.0.9", drillProfile: "b")]
        #expect(profiles.resolve(server: "s-1", wave: 0, type: .drill)?.profile == "a")
        #expect(profiles.resolve(server: "s-1", wave: 1, type: .drill)?.profile == "b")
        #expect(profiles.resolve(server: "s-3", wave: 0, type: .drill)?.privateIp == "10.0.0.9")
        #expect(profiles.resolve(server: "s-3", wave: 0, type: .recovery)?.profile == "r")
        #expect(profiles.resolve(server: "s-3", wave: 0, type: .recovery)?.keep == false)
        profiles.keepRecoverySettings = true
        #expect(profiles.resolve(server: "s-3", wave: 0, type: .recovery)?.keep == true)
        // Isolated only where the drill subnet differs from the recovery one.
        #expect(!profiles.drillIsIsolated(wave: 0) && profiles.drillIsIsolated(wave: 1))
    }

    @Test func precedenceServerThenGroupThenWaveThenPlan() {
        let g1 = UUID(), g2 = UUID()
        var profiles = PlanLaunchProfiles()
        profiles.profiles = ["plan": .init(subnetId: "subnet-0000000a"), "wave": .init(subnetId: "subnet-0000000b"),
                             "group": .init(subnetId: "subnet-0000000c"), "server": .init(subnetId: "subnet-0000000d")]
        profiles.drillProfile = "plan"
        profiles.recoveryProfile = "plan"
        profiles.waves = [0: .init(drillProfile: "wave")]
        profiles.groups = [g1.uuidString: .init(drillProfile: "group", recoveryProfile: "group")]
        profiles.servers = ["s-9": .init(drillProfile: "server")]
        #expect(profiles.resolve(server: "s-1", group: g1, wave: 0, type: .drill)?.profile == "group")
        #expect(profiles.resolve(server: "s-1", group: g1, wave: 0, type: .recovery)?.profile == "group")
        #expect(profiles.resolve(server: "s-9", group: g1, wave: 0, type: .drill)?.profile == "server")
        #expect(profiles.resolve(server: "s-9", group: g1, wave: 0, type: .recovery)?.profile == "group")
        #expect(profiles.resolve(server: "s-1", group: g2, wave: 0, type: .drill)?.profile == "wave")
        #expect(profiles.resolve(server: "s-1", group: g2, wave: 1, type: .drill)?.profile == "plan")
        // g1 drills and recovers in the same subnet: wave 0 is isolated for g2 only, so not as a whole.
        #expect(profiles.drillIsIsolated(wave: 0, groups: [g2]))
        #expect(!profiles.drillIsIsolated(wave: 0, groups: [g1, g2]))
    }

    @Test func groupOverridesValidateAndReachWaveStarted() async throws {
        try await PlannerTestApp.with() { app in
            let team = try await app.team()
            try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(),
                                  servers: [("s-1", [:]), ("s-2", [:]), ("s-3", [:]), ("s-4", [:])])
            func group(_ name: String, _ servers: [String]) async throws -> String {
                try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                    json: ["name": name, "region": "us-east-1", "sourceServerIds": servers])["id"] as? String)
            }
            let db = try await group("db", ["s-1", "s-2"]), cache = try await group("cache", ["s-3"])
            let other = try await group("unused", ["s-4"])
            func plan(_ groups: [String: Any]) -> [String: Any] {
                ["name": "p", "waves": [["name": "w", "protectionGroupIds": [db, cache], "drillProfile": "wave"]],
                 "launchProfiles": [
                     "plan": ["launchDisposition": "STOPPED"], "wave": ["instanceType": "t3.small"],
                     "isolated": ["subnetId": "subnet-0d1e2f3a4b5c60002", "securityGroupIds": ["sg-0d1e2f3a4b5c60002"]],
                     "pinned": ["instanceType": "m5.large"]],
                 "drillProfile": "plan", "servers": ["s-2": ["drillProfile": "pinned"]], "protectionGroups": groups]
            }
            // Each bad override is a 422 naming the field and the rule; nothing is stored.
            for (groups, field, rule) in [
                ([db: ["drillProfile": "nope"]], "protectionGroups.\(db).drillProfile", "reference"),
                ([db: ["recoveryProfile": "nope"]], "protectionGroups.\(db).recoveryProfile", "reference"),
                ([other: ["drillProfile": "isolated"]], "protectionGroups.\(other)", "reference"),
                (["db": ["drillProfile": "isolated"]], "protectionGroups.db", "format"),
                ([db: [String: Any]()], "protectionGroups.\(db)", "minProperties"),
            ] as [([String: Any], String, String)] {
                let refused = try await app.call("POST", "/v1/plans", token: team.operator, json: plan(groups))
                #expect(refused.status == 422, "\(field)")
                #expect(refused.error["field"] as? String == field && refused.error["rule"] as? String == rule)
            }
            #expect(try await app.pool.query("SELECT count(*) AS n FROM \(app.schema).plans").rows[0].decode(Int.self, "n") == 0)

            let created = try await app.call("POST", "/v1/plans", token: team.operator,
                                             json: plan([db: ["drillProfile": "isolated"]]))
            #expect(created.status == 201)
            #expect((created["protectionGroups"] as? [String: [String: Any]])?[db]?["drillProfile"] as? String == "isolated")
            let planID = try #require(created["id"] as? String)
            #expect(try await app.call("POST", "/v1/executions", token: team.operator,
                                       json: ["planId": planID, "type": "DRILL"]).status == 202)
            let owed = try await app.pool.query(
                "SELECT data FROM \(app.schema).outbox WHERE topic = $1", [app.topics.launchRequests]).rows
            #expect(owed.count == 1)
            let payload = try JSONSerialization.jsonObject(with: Data(try owed[0].decode([UInt8].self, "data"))) as? [String: Any]
            let settings = payload?["launchSettings"] as? [String: [String: Any]]
            #expect(settings?["s-1"]?["profile"] as? String == "isolated", "group beats wave and plan")
            #expect(settings?["s-2"]?["profile"] as? String == "pinned", "server beats group")
            #expect(settings?["s-3"]?["profile"] as? String == "wave", "a group without an override takes the wave's")
        }
    }
}
