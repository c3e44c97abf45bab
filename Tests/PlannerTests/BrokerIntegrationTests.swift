import Foundation
import MusterDomain
import MusterEvents
import MusterKafka
import MusterMessaging
import PlannerApp
import TestSupport
import Testing

/// The planner's consumers through the real broker: inventory arrives on
/// inventory.v1, job.status events (published here, as the launcher would)
/// drive the execution, and launch-group.requested / execution events come out.
@Suite("Planner through the broker")
struct BrokerIntegrationTests {
    @Test func jobStatusDrivesWavesAndExecutionEvents() async throws {
        try await PlannerTestApp.with(consumers: true) { app in
            let team = try await app.team()
            let endpoint = try await registerAccount(app, admin: team.admin)
            // Inventory through the broker, with replication freshness: s-db1 reports its lag,
            // s-db2 only its last snapshot, s-app1 neither (issue 13's RPO for `latest`).
            let launchedAt = Date()
            let freshness: [String: (Double?, Date?)] = [
                "s-db1": (20, nil), "s-db2": (nil, launchedAt.addingTimeInterval(-300)), "s-app1": (nil, nil)]
            for id in ["s-db1", "s-db2", "s-app1"] {
                try await send(app, topic: app.topics.inventory, key: "\(endpoint.key)/\(id)",
                               type: EventType.sourceServerObserved, payload: SourceServerObserved(
                                   endpoint: endpoint, sourceServerID: SourceServerID(rawValue: id), hostname: id, replicationState: "CONTINUOUS",
                                   lastLaunchResult: nil, tags: ["tier": id.hasPrefix("s-db") ? "db" : "app"],
                                   recoveryInstanceID: nil, observedAt: launchedAt.addingTimeInterval(-10),
                                   lagSeconds: freshness[id]?.0, lastSnapshotAt: freshness[id]?.1))
            }
            #expect(await eventually {
                ((try? await app.call("GET", "/v1/source-servers", token: team.viewer).items.count) ?? 0) == 3
            })
            let db = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "db", "region": "us-east-1", "tagSelector": ["tier": "db"]])["id"] as? String)
            let web = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "app", "region": "us-east-1", "tagSelector": ["tier": "app"]])["id"] as? String)
            let plan = try #require(try await app.call("POST", "/v1/plans", token: team.operator, json: [
                "name": "p", "rpoTargetMinutes": 1, "waves": [["name": "db", "protectionGroupIds": [db]],
                                       ["name": "app", "protectionGroupIds": [web], "dependsOn": ["db"]]],
            ])["id"] as? String)
            let id = try #require(try await app.call("POST", "/v1/executions", token: team.operator,
                                                     json: ["planId": plan, "type": "DRILL"])["id"] as? String)

            // Wave 1's launch group comes out on launch-group.requested, keyed by endpoint.
            let first = try await KafkaTestReader.collect(topic: app.topics.launchRequests, count: 1)
            #expect(first.count == 1)
            let wave1 = try CloudEvent(record: try #require(first.first)).decode(LaunchGroupRequested.self)
            #expect(first.first?.key == Array(endpoint.key.utf8))
            #expect(wave1.sourceServerIDs == ["s-db1", "s-db2"])
            #expect(wave1.initiatedBy.hasPrefix("operator@"))

            // The launcher's side: created, observed — with a duplicate record and a replay.
            let group1 = wave1.launchGroup
            try await send(app, key: id, type: EventType.jobCreated, payload: JobCreated(
                launchGroup: group1, chunk: 0, chunkCount: 1, jobID: "drsjob-1", isDrill: true,
                sourceServerIDs: wave1.sourceServerIDs, createdAt: launchedAt, waveStartedAt: Date(), timeoutSeconds: 3600))
            let done = try CloudEvent(source: EventSource.launcher, type: EventType.jobObserved, subject: id, payload: JobObserved(
                launchGroup: group1, chunk: 0, jobID: "drsjob-1", status: .completed,
                servers: wave1.sourceServerIDs.map { ObservedServer(sourceServerID: $0, launchStatus: .launched,
                                                                     recoveryInstanceID: "i-\($0)") },
                observedAt: Date()))
            _ = try await app.producer.send(done.kafkaRecord(topic: app.topics.jobStatus, key: id))
            _ = try await app.producer.send(done.kafkaRecord(topic: app.topics.jobStatus, key: id))
            var replay = done
            replay.id = UUID()
            _ = try await app.producer.send(replay.kafkaRecord(topic: app.topics.jobStatus, key: id))

            let both = try await KafkaTestReader.collect(topic: app.topics.launchRequests, count: 2, thenWait: .milliseconds(500))
            #expect(both.count == 2, "wave 2 started exactly once")
            let wave2 = try CloudEvent(record: both[1]).decode(LaunchGroupRequested.self)
            #expect(wave2.launchGroup.waveNumber == 2 && wave2.sourceServerIDs == ["s-app1"])

            try await send(app, key: id, type: EventType.jobObserved, payload: JobObserved(
                launchGroup: wave2.launchGroup, chunk: 0, jobID: "drsjob-2", status: .completed,
                servers: [ObservedServer(sourceServerID: "s-app1", launchStatus: .launched, recoveryInstanceID: "i-app1")],
                observedAt: Date()))
            #expect(await eventually {
                ((try? await app.call("GET", "/v1/executions/\(id)", token: team.viewer))?["status"] as? String) == "COMPLETED"
            })
            #expect(app.outcomes.withLock { $0 }.contains(.duplicate), "the identical record was deduplicated by the inbox")

            let events = try await KafkaTestReader.collect(topic: app.topics.executionEvents, count: 9,
                                                           thenWait: .milliseconds(300))
            let types = events.compactMap { $0.header("ce_type") }
            #expect(types == ["execution.started", "wave.started", "server.launched", "server.launched", "wave.completed",
                              "wave.started", "server.launched", "wave.completed", "execution.completed"])
            #expect(events.allSatisfy { $0.key == Array(id.utf8) })
            let last = try CloudEvent(record: try #require(events.last)).decode(ExecutionEvent.self)
            #expect(last.executionStatus == .completed && last.executionID.rawValue == id)

            // The report has every recovery instance and the launch timings.
            let report = try await app.call("GET", "/v1/executions/\(id)/report", token: team.viewer)
            let servers = (report["waves"] as? [[String: Any]])?.flatMap { $0["servers"] as? [[String: Any]] ?? [] } ?? []
            #expect(servers.compactMap { $0["recoveryInstanceId"] as? String }.sorted() == ["i-app1", "i-s-db1", "i-s-db2"])
            #expect(report["secondsToLastLaunch"] is Double)
            // Launched from `latest`: the recovery point and RPO at launch come from the inventory.
            let rows = Dictionary(servers.map { (($0["sourceServerId"] as? String) ?? "", $0) }, uniquingKeysWith: { $1 })
            func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
            #expect(number(rows["s-db1"]?["achievedRpoSeconds"]) == 20)
            #expect(rows["s-db1"]?["recoveryPointBasis"] as? String == "replication-lag")
            #expect(number(rows["s-db2"]?["achievedRpoSeconds"]) == 300)
            #expect(rows["s-db2"]?["recoveryPointBasis"] as? String == "last-snapshot")
            #expect(rows["s-db2"]?["recoveryPointTime"] is String)
            #expect(rows["s-app1"]?["achievedRpoSeconds"] == nil, "no freshness in the inventory: unknown, not zero")
            #expect(number(report["worstAchievedRpoSeconds"]) == 300)
            #expect(report["rpoMet"] as? Bool == false)

            // Clean-up of the finished drill owes instances.terminate.
            #expect(try await app.call("POST", "/v1/executions/\(id)/cleanup", token: team.operator).status == 202)
            let terminate = try await KafkaTestReader.collect(topic: app.topics.instancesTerminate, count: 1)
            let payload = try CloudEvent(record: try #require(terminate.first)).decode(InstancesTerminate.self)
            #expect(payload.recoveryInstanceIDs.sorted() == ["i-app1", "i-s-db1", "i-s-db2"])
        }
    }

    @Test func ssmStepGoesToTheLauncherAndItsStatusMovesTheStep() async throws {
        try await PlannerTestApp.with(consumers: true) { app in
            let team = try await app.team()
            let endpoint = try await registerAccount(app, admin: team.admin)
            try await send(app, topic: app.topics.inventory, key: "\(endpoint.key)/s-db1",
                           type: EventType.sourceServerObserved, payload: SourceServerObserved(
                               endpoint: endpoint, sourceServerID: "s-db1", hostname: "db1", replicationState: "CONTINUOUS",
                               lastLaunchResult: nil, tags: ["tier": "db"], recoveryInstanceID: nil, observedAt: Date()))
            #expect(await eventually {
                ((try? await app.call("GET", "/v1/source-servers", token: team.viewer).items.count) ?? 0) == 1
            })
            let db = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "db", "region": "us-east-1", "tagSelector": ["tier": "db"]])["id"] as? String)
            let plan = try #require(try await app.call("POST", "/v1/plans", token: team.operator, json: [
                "name": "p", "waves": [["name": "db", "protectionGroupIds": [db], "before": [[
                    "name": "prepare", "kind": "SSM_AUTOMATION", "timeoutSeconds": 600,
                    "ssm": ["documentName": "Muster-Prepare", "parameters": ["Mode": ["drill"]]],
                ]]]],
            ])["id"] as? String)
            let id = try #require(try await app.call("POST", "/v1/executions", token: team.operator,
                                                     json: ["planId": plan, "type": "DRILL"])["id"] as? String)

            // The step's command comes out on the hook topic, keyed by endpoint; nothing launches yet.
            let requests = try await KafkaTestReader.collect(topic: app.topics.hookRequests, count: 1)
            let event = try CloudEvent(record: try #require(requests.first))
            #expect(event.type == EventType.ssmAutomationRequested)
            #expect(requests.first?.key == Array(endpoint.key.utf8))
            let request = try event.decode(SSMAutomationRequested.self)
            #expect(request.executionID.rawValue == id && request.stepName == "prepare" && request.waveNumber == 1)
            #expect(request.documentName == "Muster-Prepare" && request.parameters == ["Mode": ["drill"]])
            #expect(request.endpoint == endpoint)
            #expect(UUID(uuidString: request.idempotencyKey) != nil)

            func step() async throws -> [String: Any]? {
                let execution = try await app.call("GET", "/v1/executions/\(id)", token: team.viewer)
                let waves = execution["waves"] as? [[String: Any]]
                return (waves?.first?["steps"] as? [[String: Any]])?.first
            }
            // The launcher's started report changes nothing; the terminal one finishes the step.
            let started = SSMAutomationStatus(
                executionID: try ExecutionID(parsing: id), waveNumber: 1, stepName: "prepare", attempt: 1, endpoint: endpoint,
                automationExecutionID: "0123abcd-0123-4567-89ab-0123456789ab", status: "InProgress", terminal: false)
            try await send(app, key: id, type: EventType.ssmAutomationStatus, payload: started)
            var success = started
            success.status = "Success"
            success.terminal = true
            success.outputs = ["prepare.Result": ["ready"]]
            try await send(app, key: id, type: EventType.ssmAutomationStatus, payload: success)
            #expect(try await eventually { try await step()?["status"] as? String == "SUCCEEDED" })
            #expect((try await step()?["output"] as? String)?.contains("prepare.Result=ready") == true)
            // The wave launches once its before step succeeded.
            let launched = try await KafkaTestReader.collect(topic: app.topics.launchRequests, count: 1)
            #expect(try CloudEvent(record: try #require(launched.first)).decode(LaunchGroupRequested.self).sourceServerIDs == ["s-db1"])
            // A late failure for the finished step changes nothing.
            var late = success
            late.status = "Failed"
            let handled = app.outcomes.withLock { $0.count }
            try await send(app, key: id, type: EventType.ssmAutomationStatus, payload: late)
            #expect(await eventually { app.outcomes.withLock { $0.count } > handled }, "the late status was consumed")
            #expect(try await step()?["status"] as? String == "SUCCEEDED")
        }
    }

    /// Registers a fresh AWS account (us-east-1) and returns its endpoint.
    func registerAccount(_ app: PlannerTestApp, admin: String) async throws -> Endpoint {
        let aws = PlannerTestApp.awsAccountID()
        _ = try await app.call("POST", "/v1/accounts", token: admin, json: [
            "awsAccountId": aws, "name": "prod", "regions": ["us-east-1"],
            "credentials": ["type": "KEY_PAIR", "keyPairName": "prod-keys"],
        ])
        return Endpoint(accountID: aws, region: "us-east-1")
    }

    func send<T: Encodable>(_ app: PlannerTestApp, topic: String? = nil, key: String, type: String, payload: T)
        async throws {
        let event = try CloudEvent(source: EventSource.launcher, type: type, subject: key, payload: payload)
        _ = try await app.producer.send(event.kafkaRecord(topic: topic ?? app.topics.jobStatus, key: key))
    }
}
