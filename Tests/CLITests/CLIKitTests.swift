import Foundation
import MusterCLIKit
import Testing

@Suite("muster CLI logic")
struct CLIKitTests {
    static let yaml = """
        protectionGroups:
          - name: Database
            region: us-east-1
            tagSelector: {Tier: database}
        plans:
          - name: Three tier
            rtoTargetMinutes: 30
            waves:
              - name: Database
                protectionGroups: [Database]
              - name: Web
                protectionGroups: [database]
                dependsOn: [Database]
        """

    @Test func parsesYAMLAndResolvesGroupNamesCaseInsensitively() throws {
        let document = try ApplyDocument(text: Self.yaml)
        #expect(document.protectionGroups.count == 1)
        #expect(document.protectionGroups[0]["tagSelector"]?["Tier"]?.string == "database")
        let body = try ApplyDocument.planBody(document.plans[0], groupIDs: ["database": "g-1"])
        let waves = body["waves"]?.array ?? []
        #expect(waves.count == 2)
        #expect(waves[1]["protectionGroupIds"] == .array([.string("g-1")]))
        #expect(waves[1]["protectionGroups"] == nil)
        #expect(waves[1]["dependsOn"] == .array([.string("Database")]))
        #expect(body["rtoTargetMinutes"]?.number == 30)
    }

    @Test func launchProfilesInYAMLReachThePlanBody() throws {
        let yaml = """
            plans:
              - name: payments
                drillProfile: drill
                rpoTargetMinutes: 15
                launchProfiles:
                  drill: { subnetId: subnet-0d1e2f3a4b5c60002, securityGroupIds: [sg-0d1e2f3a4b5c60002] }
                servers:
                  s-1: { privateIp: 10.99.0.5 }
                protectionGroups:
                  databases: { recoveryProfile: drill }
                waves:
                  - name: db
                    drillProfile: drill
                    protectionGroups: [Databases]
            """
        let document = try ApplyDocument(text: yaml)
        let body = try ApplyDocument.planBody(try #require(document.plans.first), groupIDs: ["databases": "g-1"])
        #expect(body["protectionGroups"]?["g-1"]?["recoveryProfile"]?.string == "drill", "group overrides name groups too")
        #expect(throws: CLIError.notFound("protection group 'databases' in protectionGroups of plan payments")) {
            var plan = try #require(document.plans.first)
            plan["waves"] = .array([])
            _ = try ApplyDocument.planBody(plan, groupIDs: [:])
        }
        #expect(body["drillProfile"]?.string == "drill")
        #expect(body["launchProfiles"]?["drill"]?["subnetId"]?.string == "subnet-0d1e2f3a4b5c60002")
        #expect(body["servers"]?["s-1"]?["privateIp"]?.string == "10.99.0.5")
        #expect(body["waves"]?.array?.first?["drillProfile"]?.string == "drill")
        #expect(body["waves"]?.array?.first?["protectionGroupIds"]?.array?.first?.string == "g-1")
    }

    @Test func jsonIsAcceptedToo() throws {
        let document = try ApplyDocument(text: #"{"plans": [{"name": "p", "waves": []}]}"#)
        #expect(document.plans.count == 1)
    }

    @Test func badFilesAreRejectedNamingTheProblem() throws {
        #expect(throws: CLIError.invalidFile("unknown top-level key 'plan'; expected accounts, protectionGroups, plans")) {
            try ApplyDocument(text: "plan: []")
        }
        #expect(throws: CLIError.invalidFile("plans[0] must be a mapping with a name")) {
            try ApplyDocument(text: "plans: [{waves: []}]")
        }
        let document = try ApplyDocument(text: Self.yaml)
        #expect(throws: CLIError.notFound("protection group 'Database' in wave Database")) {
            try ApplyDocument.planBody(document.plans[0], groupIDs: [:])
        }
    }

    @Test func progressBarsAndExitCodes() throws {
        #expect(ProgressRenderer.bar(done: 0, total: 4, width: 8) == "[--------]")
        #expect(ProgressRenderer.bar(done: 2, total: 4, width: 8) == "[####----]")
        #expect(ProgressRenderer.bar(done: 4, total: 4, width: 8) == "[########]")
        let json = """
            {"id": "e1", "planName": "p", "type": "DRILL", "status": "PARTIAL", "waves": [
              {"number": 1, "name": "Database", "status": "PARTIAL", "servers": [
                {"sourceServerId": "s-1", "status": "LAUNCHED"},
                {"sourceServerId": "s-2", "status": "FAILED", "failureReason": "LAUNCH_FAILED"}]}]}
            """
        let view = try JSONDecoder().decode(ExecutionView.self, from: Data(json.utf8))
        #expect(view.isFinished)
        #expect(view.exitCode == 2)
        let lines = ProgressRenderer.lines(view)
        #expect(lines[1].contains("1/2 launched, 1 failed"))
        #expect(lines.contains("      s-2 FAILED: LAUNCH_FAILED"))
        #expect(!lines.contains { $0.contains("s-1") })
    }

    @Test func reportTextNamesFailuresAndRTO() throws {
        let report = try JSONDecoder().decode(JSONValue.self, from: Data("""
            {"executionId": "e1", "planName": "p", "type": "DRILL", "status": "PARTIAL", "initiatedBy": "ana",
             "durationSeconds": 12.5, "secondsToLastLaunch": 10, "rtoTargetMinutes": 1, "rtoMet": true,
             "waves": [{"number": 1, "name": "Web", "status": "PARTIAL", "durationSeconds": 10, "serversLaunched": 1,
               "serversFailed": 1, "servers": [{"sourceServerId": "s-9", "status": "FAILED", "failureReason": "boom"}]}]}
            """.utf8))
        let text = ReportRenderer.text(report)
        #expect(text.contains("RTO target 1 min: met"))
        #expect(text.contains("s-9 FAILED: boom"))
        #expect(text.contains("1 launched, 1 failed"))
    }

    @Test func reportTextShowsRecoveryPointsAndRPOAgainstTheTarget() throws {
        let report = try JSONDecoder().decode(JSONValue.self, from: Data("""
            {"executionId": "e1", "planName": "p", "type": "RECOVERY", "status": "COMPLETED", "initiatedBy": "ana",
             "rpoTargetMinutes": 5, "worstAchievedRpoSeconds": 3725, "rpoMet": false,
             "waves": [{"number": 1, "name": "db", "status": "COMPLETED", "serversLaunched": 3, "serversFailed": 0,
               "servers": [
                 {"sourceServerId": "s-1", "status": "LAUNCHED", "achievedRpoSeconds": 42,
                  "recoveryPointTime": "2026-11-30T01:59:18Z", "recoveryPointBasis": "replication-lag"},
                 {"sourceServerId": "s-2", "status": "LAUNCHED", "achievedRpoSeconds": 3725, "recoverySnapshotId": "pit-1",
                  "recoveryPointTime": "2026-11-30T00:57:55Z", "recoveryPointBasis": "snapshot"},
                 {"sourceServerId": "s-3", "status": "LAUNCHED"}]}]}
            """.utf8))
        let lines = ReportRenderer.text(report).split(separator: "\n").map(String.init)
        #expect(lines.contains("RPO target 5 min: MISSED, worst achieved 1 h 2 min"))
        #expect(lines.contains(
            "    recovery point 2026-11-30T01:59:18Z (latest, from replication lag), RPO 42 s (within target)"))
        #expect(lines.contains(
            "    recovery point 2026-11-30T00:57:55Z (snapshot pit-1), RPO 1 h 2 min (OVER target by 57 min 5 s)"))
        let unknown = try #require(lines.firstIndex { $0.hasPrefix("  s-3 ") })
        #expect(lines[unknown + 1].contains("recovery point unknown"))

        // Without a target and without any RPO figure, the report says nothing about RPO.
        let plain = try JSONDecoder().decode(JSONValue.self, from: Data("""
            {"executionId": "e2", "planName": "p", "type": "DRILL", "status": "COMPLETED", "initiatedBy": "ana",
             "waves": [{"number": 1, "name": "db", "status": "COMPLETED", "serversLaunched": 1, "serversFailed": 0,
               "servers": [{"sourceServerId": "s-1", "status": "LAUNCHED"}]}]}
            """.utf8))
        #expect(!ReportRenderer.text(plain).contains("RPO"))
        #expect(!ReportRenderer.text(plain).contains("recovery point"))
    }

    @Test func aFailureReasonFromOutsideCannotDriveTheTerminal() throws {
        let report = try JSONDecoder().decode(JSONValue.self, from: Data(#"""
            {"executionId": "e1", "planName": "p", "type": "DRILL", "status": "FAILED", "initiatedBy": "ana",
             "waves": [{"number": 1, "name": "Web", "status": "FAILED", "servers": [
               {"sourceServerId": "s-9", "status": "FAILED", "failureReason": "boom\u001b[2J\nforged line"}]}]}
            """#.utf8))
        let text = ReportRenderer.text(report)
        #expect(text.contains("s-9 FAILED: boom\u{241B}[2J\u{240A}forged line"))
        #expect(!text.contains("\u{1B}"), "no escape sequence reaches the terminal")
    }
}
