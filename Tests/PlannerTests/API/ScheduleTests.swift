import Foundation
import Logging
import MusterPostgres
@testable import PlannerApp
import TestSupport
import Testing

/// Drill schedules with the planner's test clock: created over HTTP, fired on
/// time by the scheduler, limited per account, cleaned up after the hold time.
@Suite("Planner: scheduled drills")
struct ScheduleTests {
    func time(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    /// A plan over `servers` (one wave) in `account`.
    func plan(_ app: PlannerTestApp, _ team: PlannerTestApp.TeamTokens, name: String, servers: [String]) async throws -> String {
        let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": name, "region": "us-east-1", "sourceServerIds": servers])["id"] as? String)
        let plan = try await app.call("POST", "/v1/plans", token: team.operator, json: [
            "name": name, "waves": [["name": "all", "protectionGroupIds": [group]]],
        ])
        return try #require(plan["id"] as? String).lowercased()
    }

    @Test func aScheduledDrillStartsOnTimeAndIsCleanedUpAfterItsHoldTime() async throws {
        let clock = Locked(time("2026-12-07T01:55:00Z"))
        try await PlannerTestApp.with(configure: { $0.clock = { clock.withLock { $0 } } }) { app in
            let team = try await app.team()
            let account = PlannerTestApp.awsAccountID()
            try await app.account(team, awsAccountID: account, servers: [("s-a1", [:]), ("s-a2", [:]), ("s-b1", [:])])
            let payroll = try await plan(app, team, name: "payroll", servers: ["s-a1", "s-a2"])
            let billing = try await plan(app, team, name: "billing", servers: ["s-b1"])

            // Bad bodies change nothing and name the field.
            for (body, field) in [(["cron": "0 3 * *"], "cron"), (["cron": "0 3 * * *", "timeZone": "Mars/Olympus"], "timeZone"),
                                  (["cron": "0 3 * * *", "timeZone": "EST"], "timeZone"),
                                  (["cron": "0 3 * * *", "cleanupAfterMinutes": 0], "cleanupAfterMinutes")] as [([String: Any], String)] {
                let reply = try await app.call("POST", "/v1/plans/\(payroll)/schedules", token: team.operator, json: body)
                #expect(reply.status == 422)
                #expect(reply.error["field"] as? String == field)
            }
            #expect(try await app.call("POST", "/v1/plans/\(payroll)/schedules", token: team.viewer,
                                       json: ["cron": "0 3 * * *"]).status == 403)
            #expect(try await app.call("GET", "/v1/plans/\(payroll)/schedules", token: team.viewer).items.isEmpty)

            // 03:00 in Berlin is 02:00Z in December.
            let created = try await app.call("POST", "/v1/plans/\(payroll)/schedules", token: team.operator,
                json: ["cron": "0 3 * * *", "timeZone": "Europe/Berlin", "cleanupAfterMinutes": 60])
            #expect(created.status == 201)
            #expect(created["nextFireAt"] as? String == "2026-12-07T02:00:00.000Z")
            let scheduleID = try #require(created["id"] as? String)
            // The second plan shares the account: the per-account limit (1) holds it back while payroll's drill runs.
            #expect(try await app.call("POST", "/v1/plans/\(billing)/schedules", token: team.operator,
                json: ["cron": "0 3 * * *", "timeZone": "Europe/Berlin"]).status == 201)

            let scheduler = DrillScheduler(api: app.api, logger: Logger(label: "test.scheduler"))
            clock.withLock { $0 = time("2026-12-07T01:59:59Z") }
            #expect(try await scheduler.tick().fired == 0, "not yet")

            clock.withLock { $0 = time("2026-12-07T02:00:00Z") }
            #expect(try await scheduler.tick().fired == 2)
            let executions = try await app.call("GET", "/v1/executions?type=DRILL", token: team.viewer).items
            #expect(executions.count == 1)
            let drill = try #require(executions.first)
            #expect(drill["planId"] as? String == payroll)
            #expect(drill["initiatedBy"] as? String == "schedule:\(scheduleID)")
            let schedules = try await app.call("GET", "/v1/plans/\(payroll)/schedules", token: team.viewer).items
            #expect(schedules.first?["nextFireAt"] as? String == "2026-12-08T02:00:00.000Z")
            #expect(schedules.first?["lastOutcome"] as? String == "started \(drill["id"] as? String ?? "")")
            let skipped = try await app.call("GET", "/v1/plans/\(billing)/schedules", token: team.viewer).items
            let outcome = try #require(skipped.first?["lastOutcome"] as? String)
            #expect(outcome.hasPrefix("skipped: account \(account) already runs 1 scheduled drill"))
            #expect(try await scheduler.tick().fired == 0, "each firing once")
            // Deleting the schedule stops it, but its drill is still cleaned up after the hold.
            #expect(try await app.call("DELETE", "/v1/plans/\(payroll)/schedules/\(scheduleID)", token: team.operator).status == 204)
            #expect(try await app.call("DELETE", "/v1/plans/\(payroll)/schedules/\(scheduleID)", token: team.operator).status == 404)

            // The drill ends at 02:10; the hold is 60 minutes.
            let drillID = try #require(drill["id"] as? String)
            try await app.complete(drillID, endedAt: time("2026-12-07T02:10:00Z"))
            clock.withLock { $0 = time("2026-12-07T03:09:59Z") }
            #expect(try await scheduler.tick().cleaned == 0, "held")
            clock.withLock { $0 = time("2026-12-07T03:10:00Z") }
            #expect(try await scheduler.tick().cleaned == 1)
            let view = try await app.call("GET", "/v1/executions/\(drillID)", token: team.viewer)
            let cleanup = try #require(view["cleanup"] as? [String: Any])
            #expect(cleanup["requestedBy"] as? String == "schedule:\(scheduleID)")
            #expect((cleanup["instanceIds"] as? [String])?.count == 2)
            let owed = try await app.pool.query(
                "SELECT count(*) AS n FROM \(app.schema).outbox WHERE topic = $1", [app.topics.instancesTerminate]).rows
            #expect(try owed[0].decode(Int.self, "n") == 1, "instances.terminate owed for the account's endpoint")
            let audit = try await app.call("GET", "/v1/executions/\(drillID)/audit", token: team.viewer).items
            #expect(audit.map { $0["action"] as? String } == ["execution.start", "execution.cleanup"])
            #expect(try await scheduler.tick().cleaned == 0, "asked once")

            clock.withLock { $0 = time("2026-12-08T02:00:00Z") }
            #expect(try await scheduler.tick().fired == 1, "only billing's schedule is left")
            let after = try await app.call("GET", "/v1/executions?type=DRILL", token: team.viewer).items
            #expect(after.count == 2)
            #expect(after.first?["planId"] as? String == billing)
        }
    }

    @Test func aScheduledDrillOfABlockingPlanIsSkippedWithTheReasons() async throws {
        let clock = Locked(time("2026-12-07T01:55:00Z"))
        try await PlannerTestApp.with(configure: { $0.clock = { clock.withLock { $0 } } }) { app in
            let team = try await app.team()
            let account = PlannerTestApp.awsAccountID()
            try await app.account(team, awsAccountID: account, servers: [("s-a1", [:])])
            let payroll = try await plan(app, team, name: "payroll", servers: ["s-a1"])
            try await app.pool.query(
                "UPDATE \(app.schema).source_servers SET replication_state = 'DISCONNECTED' WHERE account_id = $1", [account])
            #expect(try await app.call("POST", "/v1/plans/\(payroll)/schedules", token: team.operator,
                                       json: ["cron": "*/30 * * * *"]).status == 201)
            let scheduler = DrillScheduler(api: app.api, logger: Logger(label: "test.scheduler"))
            clock.withLock { $0 = time("2026-12-07T02:00:00Z") }
            #expect(try await scheduler.tick().fired == 1)
            #expect(try await app.call("GET", "/v1/executions", token: team.viewer).items.isEmpty, "never forced")
            let schedule = try #require(try await app.call("GET", "/v1/plans/\(payroll)/schedules", token: team.viewer).items.first)
            let outcome = try #require(schedule["lastOutcome"] as? String)
            #expect(outcome.hasPrefix("skipped: the plan is not ready") && outcome.contains("s-a1"))
            #expect(schedule["nextFireAt"] as? String == "2026-12-07T02:30:00.000Z")
        }
    }
}
