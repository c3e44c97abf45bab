import Foundation
import MusterCLIKit
import MusterPostgres
@testable import PlannerApp
import TestSupport
import Testing

/// `GET /v1/events/stream` over a real socket: the team's events in order
/// with durable ids, resumed with `Last-Event-ID` without gap or duplicate,
/// live delivery, filters, heartbeats, and the API's authorization.
@Suite("Planner API: event stream")
struct EventStreamTests {
    static let fast: EventStreamSettings = {
        var settings = EventStreamSettings()
        settings.pollInterval = .milliseconds(20)
        settings.heartbeatInterval = .seconds(1)
        return settings
    }()

    /// A team with one single-wave plan; returns the team and plan id.
    func seed(_ app: PlannerTestApp) async throws -> (PlannerTestApp.TeamTokens, String) {
        let team = try await app.team()
        try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [("s-1", [:])])
        let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
            json: ["name": "g", "region": "us-east-1", "sourceServerIds": ["s-1"]])["id"] as? String)
        let plan = try await app.call("POST", "/v1/plans", token: team.operator, json: [
            "name": "P", "rtoTargetMinutes": 30, "waves": [["name": "w1", "protectionGroupIds": [group]]],
        ])
        return (team, try #require(plan["id"] as? String))
    }

    /// Reads messages from a stream until `count` arrived, checking each data line against the OpenAPI document.
    func take(_ count: Int, from stream: EventStreamClient.Connection, app: PlannerTestApp)
        async throws -> [SSEMessage]
    {
        defer { stream.close() }
        var messages: [SSEMessage] = []
        for try await item in stream.items {
            guard case .message(let message) = item else { continue }
            let value = try JSONSerialization.jsonObject(with: Data(message.data.utf8))
            let problems = app.validator.validate(value, against: ["$ref": "#/components/schemas/StreamEvent"])
            #expect(problems.isEmpty, "\(problems)")
            messages.append(message)
            if messages.count == count { break }
        }
        return messages
    }

    func ceID(_ message: SSEMessage) -> String {
        ((try? JSONSerialization.jsonObject(with: Data(message.data.utf8))) as? [String: Any])?["id"] as? String ?? ""
    }

    @Test func reconnectingWithLastEventIDMissesNothingAndRepeatsNothing() async throws {
        try await PlannerTestApp.with(stream: Self.fast) { app in
            let (team, planID) = try await seed(app)
            let id = try #require(try await app.call("POST", "/v1/executions", token: team.operator,
                                                     json: ["planId": planID, "type": "DRILL"])["id"] as? String)
            // First connection: the backlog (execution.started, wave.started), then the client goes away.
            let first = try await take(2, from: try EventStreamClient.open(
                endpoint: app.baseURL, token: team.viewer, query: ["executionId": id]), app: app)
            #expect(first.map(\.event) == ["execution.started", "wave.started"])
            // While disconnected: pause commits an event.
            #expect(try await app.call("POST", "/v1/executions/\(id)/pause", token: team.operator).status == 200)
            // Reconnect where the first connection stopped: the missed event, then live ones as they commit.
            let second = try EventStreamClient.open(
                endpoint: app.baseURL, token: team.viewer, query: ["executionId": id], lastEventID: first.last?.id)
            defer { second.close() }
            var received: [SSEMessage] = []
            for try await item in second.items {
                guard case .message(let message) = item else { continue }
                received.append(message)
                if message.event == "execution.paused" {
                    #expect(try await app.call("POST", "/v1/executions/\(id)/resume", token: team.operator).status == 200)
                    #expect(try await app.call("POST", "/v1/executions/\(id)/cancel", token: team.operator).status == 200)
                }
                if message.event == "execution.cancelled" { break }
            }
            let all = first + received
            // Exactly the events the planner committed for this execution, in commit order.
            let committed = try await app.pool.query(
                "SELECT event_id FROM \(app.schema).outbox WHERE topic = $1 AND subject = $2 ORDER BY seq",
                [app.topics.executionEvents, id]).rows.map { try $0.decode(UUID.self, "event_id").uuidString.lowercased() }
            #expect(all.map(ceID) == committed)
            #expect(all.map(\.event) == ["execution.started", "wave.started", "execution.paused", "execution.resumed",
                                         "execution.cancelled"])
            // Ids are the team's sequence: 1, 2, 3, … (one execution, so no numbers in between).
            #expect(all.compactMap { $0.id.flatMap { Int($0) } } == Array(1...all.count))
        }
    }

    @Test func filtersByTypeAndTeamsSeeOnlyTheirOwnEvents() async throws {
        try await PlannerTestApp.with(stream: Self.fast) { app in
            let (teamA, planA) = try await seed(app)
            let (teamB, planB) = try await seed(app)
            let streamB = try EventStreamClient.open(endpoint: app.baseURL, token: teamB.viewer,
                                                     query: ["type": "execution.started,execution.paused"])
            let executionA = try #require(try await app.call("POST", "/v1/executions", token: teamA.operator,
                                                             json: ["planId": planA, "type": "DRILL"])["id"] as? String)
            _ = try await app.call("POST", "/v1/executions/\(executionA)/pause", token: teamA.operator)
            let executionB = try #require(try await app.call("POST", "/v1/executions", token: teamB.operator,
                                                             json: ["planId": planB, "type": "DRILL"])["id"] as? String)
            _ = try await app.call("POST", "/v1/executions/\(executionB)/pause", token: teamB.operator)
            // Team A's events committed first; team B's stream shows only B's, and only the two types asked for.
            let messages = try await take(2, from: streamB, app: app)
            #expect(messages.map(\.event) == ["execution.started", "execution.paused"])
            let subjects = messages.map {
                ((try? JSONSerialization.jsonObject(with: Data($0.data.utf8))) as? [String: Any])?["subject"] as? String
            }
            #expect(subjects == [executionB, executionB])
            #expect(messages.compactMap { $0.id.flatMap { Int($0) } } == [1, 3], "ids are team B's own sequence")
        }
    }

    @Test func idleStreamsCarryHeartbeats() async throws {
        try await PlannerTestApp.with(stream: Self.fast) { app in
            let (team, _) = try await seed(app)
            var heartbeats = 0
            let stream = try EventStreamClient.open(endpoint: app.baseURL, token: team.viewer)
            defer { stream.close() }
            for try await item in stream.items {
                if item == .heartbeat { heartbeats += 1 }
                if heartbeats == 2 { break }
            }
            #expect(heartbeats == 2)
        }
    }

    @Test func aClientThatGoesAwayIsForgotten() async throws {
        try await PlannerTestApp.with(stream: Self.fast) { app in
            let (team, _) = try await seed(app)
            let stream = try EventStreamClient.open(endpoint: app.baseURL, token: team.viewer)
            for try await item in stream.items where item == .heartbeat { break }
            #expect(await app.api.streamHub.count == 1)
            stream.close()
            // The next heartbeat's write fails and the stream lets go of its subscription.
            #expect(await eventually { await app.api.streamHub.count == 0 })
        }
    }

    @Test func badFiltersAndCallersAreRefusedAsTheAPIDoes() async throws {
        try await PlannerTestApp.with(stream: Self.fast) { app in
            let (team, _) = try await seed(app)
            let badType = try await app.call("GET", "/v1/events/stream?type=wave.started,bogus", token: team.viewer)
            #expect(badType.status == 400)
            #expect(badType.error["field"] as? String == "type")
            #expect(badType.error["rule"] as? String == "enum")
            let badExecution = try await app.call("GET", "/v1/events/stream?executionId=nope", token: team.viewer)
            #expect(badExecution.status == 400)
            #expect(badExecution.error["field"] as? String == "executionId")
            let badResume = try await app.call("GET", "/v1/events/stream?lastEventId=-4", token: team.viewer)
            #expect(badResume.status == 400)
            #expect(badResume.error["field"] as? String == "lastEventId")
            do {
                for try await _ in try EventStreamClient.open(endpoint: app.baseURL, token: team.viewer, lastEventID: "x1").items {}
                Issue.record("a malformed Last-Event-ID opened a stream")
            } catch let failure as EventStreamClient.Failure {
                #expect(failure.status == 400)
                #expect(failure.message.contains("Last-Event-ID"))
            }
            #expect(try await app.call("GET", "/v1/events/stream", token: nil).status == 401)
            #expect(try await app.call("GET", "/v1/events/stream", token: "mst_" + String(repeating: "0", count: 64)).status == 401)
            #expect(try await app.call("GET", "/v1/events/stream", token: PlannerTestApp.adminToken).status == 403)
        }
    }
}
