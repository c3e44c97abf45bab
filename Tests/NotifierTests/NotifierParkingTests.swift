import Foundation
import MusterDomain
import MusterAPI
import MusterEvents
import MusterMessaging
import TestSupport
import Testing

/// The notifier's consumers park what they can never handle and go on
/// (DESIGN §12), and its API refuses control characters (docs/consumers.md).
@Suite("Notifier parking and hostile input", .serialized)
struct NotifierParkingTests {
    func parked(_ app: NotifierTestApp) async throws -> [DeadLetter] {
        try await app.pool.withConnection { try await DeadLetters(schema: app.schema).list(on: $0) }
    }

    func probe(_ app: NotifierTestApp, _ consumer: String) -> ParkingProbe {
        ParkingProbe(pool: app.pool, schema: app.schema, consumer: consumer, log: app.logs)
    }

    @Test("notifier.tokens: a token.issued whose digest already exists is parked; a later token still works; replayed once after the clash is removed")
    func tokenDigestClashIsParked() async throws {
        try await NotifierTestApp.with { app in
            let team = TeamID.random()
            let first = try await app.issueToken(team: team, role: "viewer")
            #expect(try await eventually { try await app.call("GET", "/v1/subscriptions", token: first).status == 200 })
            let tokens = probe(app, "notifier.tokens")
            // Another token id with the same digest: the unique key refuses it (23505), deterministically.
            let clash = TokenIssued(tokenID: UUID().uuidString, teamID: team, subject: "x", role: "viewer",
                                    tokenSHA256: BearerToken.digestHex(first), issuedAt: Date())
            try await app.publish(topic: app.topics.teams, key: team.rawValue, CloudEvent(
                source: EventSource.planner, type: EventType.tokenIssued, subject: team.rawValue, payload: clash))
            let later = try await app.issueToken(team: team, role: "admin")
            #expect(try await eventually { try await app.call("GET", "/v1/subscriptions", token: later).status == 200 },
                    "a token issued after the poison record is accepted")
            let letters = try await tokens.waitForParked(1)
            #expect(letters.count == 1)
            #expect(tokens.counted >= 1 && letters.allSatisfy(tokens.reported), "counted and logged")
            #expect(letters.first?.reason == .deterministic)
            #expect(letters.first?.error.contains("23505") == true)

            // Remove the cause (the row holding the digest) and replay: the parked token.issued is handled, once.
            let digest = BearerToken.digestHex(first)
            try await app.pool.query("DELETE FROM \(app.schema).tokens WHERE token_sha256 = $1", [digest])
            let consumer = try #require(app.consumers.first { $0.names.contains("notifier.tokens") })
            let letter = try #require(letters.first)
            #expect(try await consumer.replay(deadLetter: letter.id) == .replayed)
            #expect(try await consumer.replay(deadLetter: letter.id) == .notFound, "a replayed record is handled once")
            let rows = try await app.pool.query(
                "SELECT token_id FROM \(app.schema).tokens WHERE token_sha256 = $1", [digest]).rows
            #expect(try rows.map { try $0.decode(String.self, "token_id") } == [clash.tokenID])
            #expect(try await tokens.letters().isEmpty, "nothing is parked any more")
        }
    }

    @Test("notifier.tokens and notifier.executions: events not from the planner are parked, never delivered")
    func forgedSourcesAreParked() async throws {
        try await NotifierTestApp.with { app in
            let team = TeamID.random()
            let tokens = probe(app, "notifier.tokens"), executions = probe(app, "notifier.executions")
            let token = "mst_" + UUID().uuidString.lowercased() + UUID().uuidString.lowercased()
            let forgedToken = TokenIssued(tokenID: UUID().uuidString, teamID: team, subject: "mallory", role: "admin",
                                          tokenSHA256: BearerToken.digestHex(token), issuedAt: Date())
            try await app.publish(topic: app.topics.teams, key: team.rawValue, CloudEvent(
                source: "/evil", type: EventType.tokenIssued, subject: team.rawValue, payload: forgedToken))
            let payload = ExecutionEvent(
                type: .executionStarted, executionID: .fixture(1), executionType: .drill, executionStatus: .running,
                planID: .named("p"), planName: "p", teamID: team, initiatedBy: "mallory", occurredAt: Date())
            try await app.publish(topic: app.topics.executionEvents, key: "ex-1", try CloudEvent(
                source: "/evil", type: ExecutionEventType.executionStarted.rawValue, subject: "ex-1", payload: payload))
            #expect(try await eventually { try await parked(app).count == 2 })
            #expect(Set(try await parked(app).map(\.consumer)) == ["notifier.tokens", "notifier.executions"])
            #expect(try await parked(app).allSatisfy { $0.reason == .malformed && $0.error.contains("ce_source") })
            for probe in [tokens, executions] {
                let letters = try await probe.letters()
                #expect(letters.count == 1 && probe.counted >= 1 && letters.allSatisfy(probe.reported), "\(probe.consumer)")
            }
            #expect(try await app.call("GET", "/v1/subscriptions", token: token).status == 401, "the forged token grants nothing")
        }
    }

    @Test("notifier.tokens, .executions and .callouts: a teamId that is not a UUID is parked, never stored, delivered or sent")
    func nonUUIDTeamIDsAreParked() async throws {
        let receiver = try Receiver()
        defer { receiver.server.stop() }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let subscription = try await app.subscribe(team, url: receiver.url)
            let probes = ["notifier.tokens", "notifier.executions", "notifier.callouts"].map { probe(app, $0) }
            /// `payload` as the planner would write it, with the team's id swapped for `team-7` on the wire.
            func wire(_ payload: some Encodable) throws -> [UInt8] {
                let text = String(decoding: try EventCoding.encoder.encode(payload), as: UTF8.self)
                #expect(text.contains("\"\(team.id)\""))
                return Array(text.replacingOccurrences(of: "\"\(team.id)\"", with: "\"team-7\"").utf8)
            }
            let token = "mst_" + UUID().uuidString.lowercased() + UUID().uuidString.lowercased()
            let tokenID = UUID().uuidString
            let issued = TokenIssued(tokenID: tokenID, teamID: team.id, subject: "mallory", role: "admin",
                                     tokenSHA256: BearerToken.digestHex(token), issuedAt: Date())
            try await app.publish(topic: app.topics.teams, key: "team-7", CloudEvent(
                source: EventSource.planner, type: EventType.tokenIssued, subject: "team-7", data: try wire(issued)))
            let execution = ExecutionID.named("team-7-run")
            let started = ExecutionEvent(
                type: .executionStarted, executionID: execution, executionType: .drill, executionStatus: .running,
                planID: .named("p"), planName: "p", teamID: team.id, initiatedBy: "alice", occurredAt: Date())
            try await app.publish(topic: app.topics.executionEvents, key: execution.rawValue, CloudEvent(
                source: EventSource.planner, type: ExecutionEventType.executionStarted.rawValue,
                subject: execution.rawValue, data: try wire(started)))
            let callout = CalloutRequested(url: receiver.url, subscriptionID: subscription, body: CalloutBody(
                executionID: execution, executionType: "DRILL", initiatedBy: "alice", planID: .named("p"),
                planName: "p", teamID: team.id, waveNumber: 1, waveName: "db", stepName: "tell", phase: "AFTER",
                deadline: Date().addingTimeInterval(600),
                callbackURL: "https://muster.example/v1/callbacks/" + String(repeating: "x", count: 43)))
            try await app.publish(topic: app.topics.callouts, key: execution.rawValue, CloudEvent(
                source: EventSource.planner, type: EventType.calloutRequested, subject: execution.rawValue,
                data: try wire(callout)))

            #expect(try await eventually { try await parked(app).count == 3 })
            #expect(Set(try await parked(app).map(\.consumer)) == ["notifier.tokens", "notifier.executions", "notifier.callouts"])
            for letter in try await parked(app) {
                #expect(letter.reason == .malformed, "\(letter.consumer)")
                #expect(letter.error.contains("team id must be a UUID") && letter.error.contains("team-7"), "\(letter.error)")
            }
            for probe in probes {
                let letters = try await probe.letters()
                #expect(letters.count == 1 && probe.counted >= 1 && letters.allSatisfy(probe.reported), "\(probe.consumer)")
            }
            // Nothing was stored, queued or sent, and the consumers went on.
            let rows = try await app.pool.query(
                "SELECT count(*) AS n FROM \(app.schema).tokens WHERE token_id = $1", [tokenID]).rows
            #expect(try rows[0].decode(Int.self, "n") == 0)
            #expect(try await app.call("GET", "/v1/subscriptions", token: token).status == 401)
            #expect(try await app.deliveries(team, subscription).isEmpty)
            let later = try await app.issueToken(team: team.id, role: "viewer")
            #expect(try await eventually { try await app.call("GET", "/v1/subscriptions", token: later).status == 200 })
            #expect(receiver.requests.isEmpty)
        }
    }

    @Test("Every control character in a subscription's string fields is refused with a 422 naming the field")
    func controlCharactersAreRefused() async throws {
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let controls = (0x00..<0x20).map { Unicode.Scalar($0)! } + (0x7F...0x9F).map { Unicode.Scalar($0)! }
            for scalar in controls {
                let text = "hook\(Character(scalar))x"
                for (field, body) in [
                    ("description", ["url": "https://hooks.example.com/a", "description": text] as [String: Any]),
                    ("url", ["url": "https://hooks.example.com/\(text)"]),
                    ("eventTypes[0]", ["url": "https://hooks.example.com/a", "eventTypes": [text]]),
                ] {
                    let reply = try await app.call("POST", "/v1/subscriptions", token: team.admin, json: body)
                    #expect(reply.status == 422, "U+\(String(scalar.value, radix: 16)) in \(field)")
                    #expect(reply.error["field"] as? String == field)
                    #expect(reply.error["rule"] as? String == "controlCharacters")
                }
            }
            #expect(try await app.call("GET", "/v1/subscriptions", token: team.admin).items.isEmpty, "nothing stored")
        }
    }
}
