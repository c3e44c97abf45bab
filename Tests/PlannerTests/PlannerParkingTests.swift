import Foundation
#if canImport(Glibc)
import Glibc
#endif
import MusterDomain
import MusterEvents
import MusterMessaging
import PlannerApp
import TestSupport
import Testing

/// The planner's consumers park what they can never handle and go on, and
/// its API refuses hostile input (docs/consumers.md).
@Suite("Planner parking and hostile input", .serialized)
struct PlannerParkingTests {
    @Test("planner.inventory: a hostname with a control character is parked, not stored; later servers still appear",
          arguments: ["evil\u{0}host", "web-1\nERROR forged log line", "web\u{1B}[2J"])
    func controlCharacterHostnameIsParked(_ hostname: String) async throws {
        try await PlannerTestApp.with(consumers: true) { app in
            let team = try await app.team()
            let aws = PlannerTestApp.awsAccountID()
            let endpoint = Endpoint(accountID: aws, region: "us-east-1")
            try await app.account(team, awsAccountID: aws, servers: [])
            let probe = ParkingProbe(pool: app.pool, schema: app.schema, consumer: "planner.inventory", log: app.consumerLog)
            for (id, hostname) in [("s-bad1", hostname), ("s-good1", "good-1"), ("s-good2", "good-2")] {
                let event = try CloudEvent(source: EventSource.launcher, type: EventType.sourceServerObserved,
                                           subject: id, payload: SourceServerObserved(
                    endpoint: endpoint, sourceServerID: SourceServerID(rawValue: id), hostname: hostname, replicationState: "CONTINUOUS",
                    lastLaunchResult: nil, tags: [:], recoveryInstanceID: nil, observedAt: Date()))
                _ = try await app.producer.send(event.kafkaRecord(topic: app.topics.inventory, key: endpoint.key))
            }
            #expect(await eventually {
                ((try? await app.call("GET", "/v1/source-servers", token: team.viewer).items.count) ?? 0) == 2
            })
            let letters = try await probe.waitForParked(1)
            #expect(letters.map(\.reason) == [.malformed], "a hostname is a name: a control character makes the event unprocessable")
            #expect(letters.first?.error.contains("hostname must not contain control characters") == true)
            #expect(probe.counted >= 1 && letters.allSatisfy(probe.reported), "counted and logged")
            let servers = try await app.call("GET", "/v1/source-servers", token: team.viewer).items
            #expect(Set(servers.compactMap { $0["sourceServerId"] as? String }) == ["s-good1", "s-good2"])
            #expect(app.outcomes.withLock { $0 }.contains(.malformed))
        }
    }

    @Test("planner.job-status: a job id with a control character and a non-UUID execution are parked; the execution goes on")
    func jobStatusPoisonIsParked() async throws {
        try await PlannerTestApp.with(consumers: true) { app in
            let team = try await app.team()
            let aws = PlannerTestApp.awsAccountID()
            try await app.account(team, awsAccountID: aws, servers: [("s-db1", ["tier": "db"])])
            let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "db", "region": "us-east-1", "tagSelector": ["tier": "db"]])["id"] as? String)
            let plan = try #require(try await app.call("POST", "/v1/plans", token: team.operator, json: [
                "name": "p", "waves": [["name": "db", "protectionGroupIds": [group]]],
            ])["id"] as? String)
            let id = try #require(try await app.call("POST", "/v1/executions", token: team.operator,
                                                     json: ["planId": plan, "type": "DRILL"])["id"] as? String)
            let started = try await KafkaTestReader.collect(topic: app.topics.launchRequests, count: 1)
            let wave = try CloudEvent(record: try #require(started.first)).decode(LaunchGroupRequested.self)

            let probe = ParkingProbe(pool: app.pool, schema: app.schema, consumer: "planner.job-status", log: app.consumerLog)
            // All on the execution's key, so on one partition, before the record that completes it.
            func send(_ type: String, _ payload: some Encodable, eventID: UUID = UUID(),
                      edit: (String) -> String = { $0 }) async throws {
                let body = edit(String(decoding: try EventCoding.encoder.encode(payload), as: UTF8.self))
                let event = CloudEvent(id: eventID, source: EventSource.launcher, type: type, subject: id, data: Array(body.utf8))
                _ = try await app.producer.send(event.kafkaRecord(topic: app.topics.jobStatus, key: id))
            }
            let controlID = UUID(), notUUID = UUID()
            try await send(EventType.jobCreated, JobCreated(
                launchGroup: wave.launchGroup, chunk: 0, chunkCount: 1, jobID: "drsjob-1\u{1B}[2J", isDrill: true,
                sourceServerIDs: wave.sourceServerIDs, createdAt: Date(), waveStartedAt: Date(), timeoutSeconds: 3600),
                eventID: controlID)
            // A typed id cannot be made malformed: the body is edited on the wire.
            try await send(EventType.jobObserved, JobObserved(
                launchGroup: wave.launchGroup, chunk: 0, jobID: "drsjob-x", status: .completed, servers: [], observedAt: Date()),
                eventID: notUUID) { $0.replacingOccurrences(of: "\"\(id):", with: "\"not-a-uuid:") }
            try await send(EventType.jobObserved, JobObserved(
                launchGroup: wave.launchGroup, chunk: 0, jobID: "drsjob-1", status: .completed,
                servers: [ObservedServer(sourceServerID: "s-db1", launchStatus: .launched, recoveryInstanceID: "i-db1")],
                observedAt: Date()))

            #expect(await eventually {
                ((try? await app.call("GET", "/v1/executions/\(id)", token: team.viewer))?["status"] as? String) == "COMPLETED"
            }, "the record after the poison ones was handled")
            let letters = try await probe.waitForParked(2)
            #expect(Set(letters.compactMap(\.eventID)) == [controlID, notUUID])
            #expect(letters.allSatisfy { $0.reason == .malformed && $0.attempts == 1 })
            #expect(letters.first { $0.eventID == controlID }?.error.contains("jobId must not contain control characters") == true)
            #expect(letters.first { $0.eventID == notUUID }?.error.contains("execution id must be a UUID") == true)
            #expect(Set(letters.map(\.partition)).count == 1)
            #expect(probe.counted >= 2, "muster_events_parked_total counted both")
            #expect(letters.allSatisfy(probe.reported), "each park was logged at error level")
            let report = try await app.call("GET", "/v1/executions/\(id)/report", token: team.viewer)
            let servers = (report["waves"] as? [[String: Any]])?.flatMap { $0["servers"] as? [[String: Any]] ?? [] } ?? []
            #expect(servers.compactMap { $0["recoveryInstanceId"] as? String } == ["i-db1"])
        }
    }

    @Test("A control character in a tag selector key or value is a 422 naming the field; nothing is stored")
    func tagSelectorControlCharacters() async throws {
        try await PlannerTestApp.with { app in
            let team = try await app.team()
            for scalar in [0x00, 0x07, 0x0A, 0x1B, 0x7F, 0x85, 0x9F].map({ Unicode.Scalar($0)! }) {
                let bad = "v\(Character(scalar))"
                let value = try await app.call("POST", "/v1/protection-groups", token: team.operator,
                                               json: ["name": "g", "region": "us-east-1", "tagSelector": ["env": bad]])
                #expect(value.status == 422)
                #expect(value.error["field"] as? String == "tagSelector.env")
                #expect(value.error["rule"] as? String == "controlCharacters")
                let key = try await app.call("POST", "/v1/protection-groups", token: team.operator,
                                             json: ["name": "g", "region": "us-east-1", "tagSelector": [bad: "x"]])
                #expect(key.status == 422)
                #expect((key.error["field"] as? String)?.hasPrefix("tagSelector.v") == true)
                let name = try await app.call("POST", "/v1/protection-groups", token: team.operator,
                                              json: ["name": bad, "region": "us-east-1", "tagSelector": ["env": "x"]])
                #expect(name.status == 422 && name.error["field"] as? String == "name")
            }
            #expect(try await app.call("GET", "/v1/protection-groups", token: team.viewer).items.isEmpty)
        }
    }

    @Test("An oversized body with Connection: close gets 413 and the connection is closed, the client never blocked")
    func oversizedBodyIsRefusedAndClosed() async throws {
        try await PlannerTestApp.with { app in
            let port = Int(app.baseURL.split(separator: ":").last!)!
            let started = ContinuousClock.now
            let (status, closed) = try await Task.detached { try OversizedBody.post(port: port, path: "/v1/teams", bytes: 10 << 20, token: PlannerTestApp.adminToken) }.value
            let took = ContinuousClock.now - started
            print("[figure] 10 MB body with Connection: close answered and closed in \(took)")
            #expect(status == 413)
            #expect(closed, "the server closed the connection")
            #expect(took < .seconds(20))
        }
    }
}
