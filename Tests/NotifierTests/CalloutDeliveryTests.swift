import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres
@testable import NotifierApp
import TestSupport
import Testing

/// HTTP callout steps through the notifier (real PostgreSQL, broker and
/// receivers over HTTP): a `callout.requested` from `callouts.v1` is POSTed
/// once to the step's URL, signed with the named subscription's secret, and
/// its final outcome is owed to the planner as `callout.completed` (outbox).
@Suite("Callouts (real PostgreSQL, broker and receivers over HTTP)")
struct CalloutDeliveryTests {
    /// Publishes a callout request as the planner does; returns the event.
    @discardableResult
    static func requestCallout(_ app: NotifierTestApp, team: TeamID, subscription: String, url: String,
                               execution: ExecutionID = .random(), step: String = "tell",
                               deadline: Date = Date().addingTimeInterval(600)) async throws -> CloudEvent {
        let body = CalloutBody(
            executionID: execution, executionType: "DRILL", initiatedBy: "alice", planID: .random(),
            planName: "Three tier", teamID: team, waveNumber: 1, waveName: "db", stepName: step, phase: "AFTER",
            deadline: deadline, callbackURL: "https://muster.example/v1/callbacks/" + String(repeating: "x", count: 43))
        let event = try CloudEvent(source: EventSource.planner, type: EventType.calloutRequested, subject: execution.rawValue,
                                   payload: CalloutRequested(url: url, subscriptionID: subscription, body: body))
        try await app.publish(topic: app.topics.callouts, key: execution.rawValue, event)
        return event
    }

    /// The `callout.completed` reports in the outbox, oldest first.
    static func reports(_ app: NotifierTestApp) async throws -> [CalloutCompleted] {
        try await app.pool.query(
            "SELECT data FROM \(app.schema).outbox WHERE topic = $1 AND type = $2 ORDER BY seq",
            [app.topics.calloutResults, EventType.calloutCompleted]).rows.map {
            try EventCoding.decoder.decode(CalloutCompleted.self, from: Data(try $0.decode([UInt8].self, "data")))
        }
    }

    @Test("a callout is POSTed once to its URL, signed with the subscription's secret; a final answer is reported")
    func postedOnceSignedAndReported() async throws {
        let events = try Receiver()
        let receiver = try Receiver { _, _ in .init(status: 200, text: #"{"status":"SUCCEEDED","output":{"ticket":7}}"#) }
        defer { events.server.stop(); receiver.server.stop() }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let secret = "callout_secret_" + UUID().uuidString.prefix(8)
            // The subscription's own URL receives events, not the callout; disabled, it still signs.
            let subscription = try await app.subscribe(team, url: events.url, secret: secret)
            let disabled = try await app.call("PATCH", "/v1/subscriptions/\(subscription)", token: team.operator,
                                              json: ["enabled": false])
            #expect(disabled.status == 200)
            let execution = ExecutionID.random()
            let event = try await Self.requestCallout(app, team: team.id, subscription: subscription,
                                                      url: receiver.server.baseURL + "/callout", execution: execution)
            // The same record again: the inbox drops it.
            try await app.publish(topic: app.topics.callouts, key: execution.rawValue, event)
            #expect(await eventually { app.outcomes.value.contains(.duplicate) })
            #expect(await eventually { (try? await Self.reports(app).count) == 1 })
            try await Task.sleep(for: .milliseconds(300))
            #expect(receiver.requests.count == 1 && events.requests.isEmpty)

            let request = try #require(receiver.requests.first)
            #expect(request.method == "POST" && request.path == "/callout")
            #expect(DeliveryTests.signatureIsValid(request, secret: String(secret)))
            #expect(!DeliveryTests.signatureIsValid(request, secret: "another_secret_entirely"))
            #expect(request.header("ce-type") == EventType.calloutRequested)
            #expect(request.header("X-Muster-Event-Id") == event.id.uuidString.lowercased())
            let body = try EventCoding.decoder.decode(CalloutBody.self, from: Data(request.body))
            #expect(body.kind == "callout" && body.executionID == execution && body.stepName == "tell")
            #expect(body.callbackURL.hasPrefix("https://muster.example/v1/callbacks/"))
            let text = String(decoding: request.body, as: UTF8.self)
            #expect(!text.contains(secret) && !text.contains("subscriptionId") && !text.contains("subscriptionID"), "the body carries no secret or routing")

            let report = try #require(try await Self.reports(app).first)
            #expect(report.executionID == execution && report.stepName == "tell" && report.delivered)
            #expect(report.statusCode == 200 && report.attempts == 1)
            #expect(report.answer == #"{"status":"SUCCEEDED","output":{"ticket":7}}"#)
            #expect(!app.logs.text.contains(secret) && !app.logs.text.contains("/v1/callbacks/"))
        }
    }

    @Test("a callout failing until its step's deadline is reported failed with the last answer")
    func failsPermanentlyByTheDeadline() async throws {
        let receiver = try Receiver { _, _ in .init(status: 503, text: "maintenance window") }
        defer { receiver.server.stop() }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let subscription = try await app.subscribe(team, url: receiver.url)
            // 30 s: room for several attempts (back-off ≤ 200 ms here) even with every suite running
            // on 2 cores (5 s once left room for a single attempt, 15 s too with four CPU hogs beside).
            try await Self.requestCallout(app, team: team.id, subscription: subscription, url: receiver.url,
                                          deadline: Date().addingTimeInterval(30))
            #expect(await eventually { (try? await Self.reports(app).count) == 1 })
            let report = try #require(try await Self.reports(app).first)
            #expect(!report.delivered && report.statusCode == 503)
            #expect(report.error?.contains("maintenance window") == true)
            #expect(report.attempts == receiver.requests.count && report.attempts >= 2, "retried until the deadline")
            try await Task.sleep(for: .milliseconds(500))
            #expect(report.attempts == receiver.requests.count, "nothing is sent after the report")
        }
    }

    @Test("a callout naming no subscription of the team is reported failed at once and never sent")
    func unknownSubscriptionFailsAtOnce() async throws {
        let receiver = try Receiver()
        defer { receiver.server.stop() }
        try await NotifierTestApp.with { app in
            let team = try await app.team(), other = try await app.team()
            let theirs = try await app.subscribe(other, url: receiver.url)
            try await Self.requestCallout(app, team: team.id, subscription: theirs, url: receiver.url)
            #expect(await eventually { (try? await Self.reports(app).count) == 1 })
            let report = try #require(try await Self.reports(app).first)
            #expect(!report.delivered && report.attempts == 0)
            #expect(report.error?.contains("does not exist in the team") == true)
            let rows = try await app.deliveryRowCount()
            #expect(receiver.requests.isEmpty && rows == 0)
        }
    }
}
