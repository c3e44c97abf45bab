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
            payload: SourceServerObserved(endpoint: endpoint, sourceServerID: SourceServerID(rawValue: id), hostname: id, replicationState: state,
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
            #expect(bodies.map(\.verdict) == [.blocking, .ok])
            #expect(bodies.map(\.previousVerdict) == [.ok, .blocking])
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

    /// Plays the launcher: answers every `readiness.check-requested` in the planner's outbox on the inventory
    /// topic, with a leftover recovery instance of `s-2` while `leftover` holds, else all clear.
    func playLauncher(_ app: PlannerTestApp, leftover: Locked<Bool>) -> Task<Void, Never> {
        let (pool, schema, producer, topic) = (app.pool, app.schema, app.producer, app.topics.inventory)
        return Task {
            var answered: Set<String> = []
            while !Task.isCancelled {
                let rows = (try? await pool.query(
                    "SELECT data FROM \(schema).outbox WHERE type = 'readiness.check-requested' ORDER BY seq").rows) ?? []
                for row in rows {
                    guard let data = try? row.decode([UInt8].self, "data"),
                          let request = try? EventCoding.decoder.decode(ReadinessCheckRequested.self, from: Data(data)),
                          answered.insert(request.evaluationID).inserted else { continue }
                    let left = leftover.withLock { $0 }
                    let checks: [ReadinessChecked.Check] = [
                        .init(name: "account.credentials", status: .ok, message: "works"),
                        .init(name: "servers.noRecoveryInstance", status: left ? .blocking : .ok,
                              servers: left ? ["s-2"] : [], message: left ? "DRS holds i-0abc of s-2" : "none",
                              fix: left ? "clean up" : nil),
                        .init(name: "launch.settings", status: .ok, message: "no launch profile names a subnet"),
                    ]
                    let answer = ReadinessChecked(planID: request.planID, evaluationID: request.evaluationID,
                                                  accountID: request.accountID, checks: checks, checkedAt: Date())
                    let event = try? CloudEvent(source: EventSource.launcher, type: EventType.readinessChecked,
                                                subject: request.planID.rawValue, payload: answer)
                    if let event {
                        _ = try? await producer.send(event.kafkaRecord(topic: topic, key: request.planID.rawValue))
                    }
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    @Test func theLaunchersAnswerIsWaitedForMergedStoredAndReEvaluatesThePlan() async throws {
        try await PlannerTestApp.with(consumers: true, configure: { $0.readinessLauncherWait = .seconds(30) }) { app in
            let team = try await app.team()
            let account = PlannerTestApp.awsAccountID()
            try await app.account(team, awsAccountID: account, servers: [("s-1", [:]), ("s-2", [:])])
            let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "db", "region": "us-east-1", "sourceServerIds": ["s-1", "s-2"]])["id"] as? String)
            let plan = try #require(try await app.call("POST", "/v1/plans", token: team.operator, json: [
                "name": "Payroll", "waves": [["name": "db", "protectionGroupIds": [group]]],
            ])["id"] as? String)
            let leftover = Locked(true)
            let launcher = playLauncher(app, leftover: leftover)
            defer { launcher.cancel() }

            // evaluate waits for the answer (well inside its bound) and merges it: the inventory knows no
            // recovery instance, DRS does.
            let evaluated = try await app.call("POST", "/v1/plans/\(plan)/evaluate", token: team.viewer)
            #expect(evaluated["verdict"] as? String == "blocking")
            let checks = (evaluated["checks"] as? [[String: Any]] ?? []).reduce(into: [String: [String: Any]]()) {
                $0[$1["name"] as? String ?? ""] = $1
            }
            #expect(checks["servers.noRecoveryInstance"]?["servers"] as? [String] == ["s-2"])
            #expect(checks["servers.noRecoveryInstance"]?["message"] as? String == "DRS holds i-0abc of s-2")
            #expect(checks["account.credentials"]?["status"] as? String == "ok")
            #expect(checks["servers.replicating"]?["status"] as? String == "ok")

            // The start gate reads the stored answer (no waiting on Kafka) and refuses.
            let refused = try await app.call("POST", "/v1/executions", token: team.operator,
                                             json: ["planId": plan, "type": "DRILL"])
            #expect(refused.status == 409)
            let message = (refused["error"] as? [String: Any])?["message"] as? String ?? ""
            #expect(message.contains("servers.noRecoveryInstance") && message.contains("s-2"))

            // The monitor's first pass: blocking from the stored answer (news), and a fresh request goes out.
            let monitor = ReadinessMonitor(api: app.api, logger: Logger(label: "test.readiness"))
            leftover.withLock { $0 = false }
            #expect(try await monitor.tick() == (evaluated: 1, changed: 1))
            // The launcher's later answer (all clear) re-evaluates the plan: ok, and that is news too.
            #expect(await eventually {
                (try? await app.pool.query("SELECT verdict FROM \(app.schema).plan_readiness WHERE plan_id = $1",
                                           [UUID(uuidString: plan)!]).rows.first?.decode(String.self, "verdict")) == "ok"
            })
            let records = try await KafkaTestReader.collect(topic: app.topics.executionEvents, count: 2)
            let bodies = try records.map { try CloudEvent(record: $0) }.filter { $0.type == "plan.readiness-changed" }
                .map { try $0.decode(PlanReadinessChanged.self) }
            #expect(bodies.map(\.verdict) == [.blocking, .ok])
            #expect(bodies.first?.findings.first { $0.name == "servers.noRecoveryInstance" }?.servers == ["s-2"])
        }
    }
}
