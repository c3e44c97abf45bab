import Foundation
import Logging
import MusterDomain
import MusterEvents
import MusterPostgres
@testable import PlannerApp
import TestSupport
import Testing

/// Re-evaluation through the real inputs: inventory arrives over the broker,
/// the monitor re-evaluates the plans it touches, and a change of verdict
/// comes out as `plan.readiness-changed` on the execution events topic.
@Suite("Planner: readiness re-evaluation")
struct ReadinessMonitorTests {
    func observe(_ app: PlannerTestApp, _ endpoint: Endpoint, _ id: String, state: String) async throws {
        let event = try CloudEvent(
            source: EventSource.launcher, type: EventType.sourceServerObserved, subject: id,
            payload: SourceServerObserved(endpoint: endpoint, sourceServerID: id, hostname: id, replicationState: state,
                                          lastLaunchResult: nil, tags: [:], recoveryInstanceID: nil, observedAt: Date()))
        _ = try await app.producer.send(event.kafkaRecord(topic: app.topics.inventory, key: "\(endpoint.key)/\(id)"))
    }

    func state(_ app: PlannerTestApp, _ account: String, _ id: String) async throws -> String? {
        try await app.pool.query(
            "SELECT replication_state FROM \(app.schema).source_servers WHERE account_id = $1 AND server_id = $2",
            [account, id]).rows.first?.decode(String?.self, "replication_state")
    }

    @Test func aVerdictChangeFromInventoryIsPublishedOnceAndMatchesItsSchema() async throws {
        let clock = Locked(Date())
        try await PlannerTestApp.with(consumers: true, configure: { $0.clock = { clock.withLock { $0 } } }) { app in
            let team = try await app.team()
            let account = PlannerTestApp.awsAccountID()
            let endpoint = Endpoint(accountID: account, region: "us-east-1")
            try await app.account(team, awsAccountID: account, servers: [("s-1", [:]), ("s-2", [:])])
            let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "db", "region": "us-east-1", "sourceServerIds": ["s-1", "s-2"]])["id"] as? String)
            let plan = try #require(try await app.call("POST", "/v1/plans", token: team.operator, json: [
                "name": "Payroll", "waves": [["name": "db", "protectionGroupIds": [group]]],
            ])["id"] as? String)
            let monitor = ReadinessMonitor(api: app.api, logger: Logger(label: "test.readiness"))

            // First evaluation: ok, so no news; then nothing is due until something changes.
            #expect(try await monitor.tick() == (evaluated: 1, changed: 0))
            #expect(try await monitor.tick() == (evaluated: 0, changed: 0))

            // s-2 stops replicating (through the inventory consumer): the plan is due again and blocking.
            try await observe(app, endpoint, "s-2", state: "STALLED")
            #expect(await eventually { (try? await state(app, account, "s-2")) == "STALLED" })
            #expect(try await monitor.tick() == (evaluated: 1, changed: 1))
            // The same observation again changes nothing.
            try await observe(app, endpoint, "s-2", state: "STALLED")
            try await observe(app, endpoint, "s-1", state: "CONTINUOUS")
            #expect(await eventually {
                ((try? await app.pool.query("SELECT count(*) AS n FROM \(app.schema).inbox").rows.first?
                    .decode(Int.self, "n")) ?? 0) >= 3
            })
            #expect(try await monitor.tick() == (evaluated: 0, changed: 0))

            // The interval passes: re-evaluated, still blocking, no event.
            clock.withLock { $0 = $0.addingTimeInterval(31 * 60) }
            #expect(try await monitor.tick() == (evaluated: 1, changed: 0))

            // Replication recovers: blocking → ok is news too.
            try await observe(app, endpoint, "s-2", state: "CONTINUOUS")
            #expect(await eventually { (try? await state(app, account, "s-2")) == "CONTINUOUS" })
            #expect(try await monitor.tick() == (evaluated: 1, changed: 1))

            let records = try await KafkaTestReader.collect(topic: app.topics.executionEvents, count: 2)
            let events = try records.map { try CloudEvent(record: $0) }.filter { $0.type == "plan.readiness-changed" }
            #expect(events.count == 2)
            #expect(records.allSatisfy { $0.key == Array(plan.lowercased().utf8) })
            let bodies = try events.map { try $0.decode(PlanReadinessChanged.self) }
            #expect(bodies.map(\.verdict) == ["blocking", "ok"])
            #expect(bodies.map(\.previousVerdict) == ["ok", "blocking"])
            #expect(bodies[0].findings.first { $0.name == "servers.replicating" }?.servers == ["s-2"])
            #expect(bodies[1].findings.isEmpty)
            let validator = try SchemaValidator(url: RepositoryFile.url("docs/events/plan-readiness-changed.schema.json"))
            for event in events {
                let problems = validator.validate(try JSONSerialization.jsonObject(with: Data(event.data)),
                                                  against: validator.document)
                #expect(problems.isEmpty, "\(problems)")
            }
        }
    }
}
