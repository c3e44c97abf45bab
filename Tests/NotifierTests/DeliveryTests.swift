import Crypto
import Foundation
import MusterDomain
import MusterEvents
@testable import NotifierApp
import TestSupport
import Testing

@Suite("Deliveries (real PostgreSQL, broker and webhook receivers over HTTP)")
struct DeliveryTests {
    /// The receiver's check, written out independently of the notifier's code.
    static func signatureIsValid(_ request: TestHTTPServer.Request, secret: String) -> Bool {
        guard let header = request.header("X-Muster-Signature") else { return false }
        var timestamp: String?, signature: String?
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            if pair.count == 2 && pair[0] == "t" { timestamp = String(pair[1]) }
            if pair.count == 2 && pair[0] == "v1" { signature = String(pair[1]) }
        }
        guard let timestamp, let signature, let seconds = Double(timestamp),
              abs(Date().timeIntervalSince1970 - seconds) < 300 else { return false }
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array((timestamp + ".").utf8) + request.body, using: SymmetricKey(data: Array(secret.utf8)))
        return Data(mac).map { String(format: "%02x", $0) }.joined() == signature
    }

    @Test("an execution event is delivered once, signed, with its id; a duplicated Kafka record adds nothing")
    func deliveredOnceSigned() async throws {
        let receiver = try Receiver()
        defer { receiver.server.stop() }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let secret = "s3cret_for_signing_" + UUID().uuidString.prefix(8)
            let subscription = try await app.subscribe(team, url: receiver.url, secret: secret)
            let event = try await app.publishExecutionEvent(team: team.id, execution: "exec-1", type: .executionStarted)
            // The same record again (a producer retry, a replay): same ce_id.
            try await app.publish(topic: app.topics.executionEvents, key: "exec-1", event)
            #expect(await eventually { app.outcomes.value.contains(.duplicate) })
            #expect(await eventually { receiver.requests.count >= 1 })
            try await Task.sleep(for: .milliseconds(500))
            #expect(receiver.requests.count == 1)
            #expect(try await app.deliveryRowCount() == 1)

            let request = try #require(receiver.requests.first)
            #expect(request.method == "POST" && request.path == "/hook")
            #expect(request.body == event.data, "the body is the ExecutionEvent JSON as published")
            #expect(request.header("X-Muster-Event-Id") == event.id.uuidString.lowercased())
            #expect(request.header("ce-id") == event.id.uuidString.lowercased())
            #expect(request.header("ce-type") == "execution.started")
            #expect(request.header("Content-Type") == "application/json")
            #expect(Self.signatureIsValid(request, secret: String(secret)))
            #expect(!Self.signatureIsValid(request, secret: "not-the-secret-at-all"))

            let log = try await app.deliveries(team, subscription)
            #expect(log.count == 1)
            #expect(log.first?["status"] as? String == "DELIVERED" && log.first?["attempts"] as? Int == 1)
            #expect(log.first?["eventId"] as? String == event.id.uuidString.lowercased())
            #expect(log.first?["lastStatusCode"] as? Int == 200)
        }
    }

    @Test("a 500 is retried with backoff until the endpoint answers 2xx")
    func retriesThenSucceeds() async throws {
        let receiver = try Receiver { _, index in .init(status: index <= 2 ? 500 : 204, text: index <= 2 ? "boom" : "") }
        defer { receiver.server.stop() }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let subscription = try await app.subscribe(team, url: receiver.url)
            let event = try await app.publishExecutionEvent(team: team.id, execution: "exec-r", type: .waveStarted)
            #expect(try await eventually { try await app.deliveries(team, subscription).first?["status"] as? String == "DELIVERED" })
            let requests = receiver.requests
            #expect(requests.count == 3)
            #expect(Set(requests.compactMap { $0.header("X-Muster-Event-Id") }) == [event.id.uuidString.lowercased()])
            let delivery = try #require(try await app.deliveries(team, subscription).first)
            #expect(delivery["attempts"] as? Int == 3 && delivery["lastStatusCode"] as? Int == 204)
        }
    }

    @Test("a permanently failing endpoint ends dead with the last error; redeliver sends it again")
    func deadThenRedelivered() async throws {
        let receiver = try Receiver { _, _ in .init(status: 503, text: "maintenance window") }
        defer { receiver.server.stop() }
        try await NotifierTestApp.with(retryWindow: .seconds(3)) { app in
            let team = try await app.team()
            let subscription = try await app.subscribe(team, url: receiver.url)
            try await app.publishExecutionEvent(team: team.id, execution: "exec-d", type: .executionFailed)
            #expect(try await eventually { try await app.deliveries(team, subscription).first?["status"] as? String == "DEAD" })
            let dead = try #require(try await app.deliveries(team, subscription).first)
            #expect((dead["attempts"] as? Int ?? 0) >= 2, "retried before giving up")
            #expect((dead["lastError"] as? String)?.contains("HTTP 503: maintenance window") == true)
            #expect(dead["lastStatusCode"] as? Int == 503)
            let attemptsWhenDead = receiver.requests.count
            try await Task.sleep(for: .milliseconds(300))
            #expect(receiver.requests.count == attemptsWhenDead, "a dead delivery is not attempted again by itself")

            receiver.answer { _, _ in .init(status: 200) }
            let id = try #require(dead["id"] as? String)
            let path = "/v1/subscriptions/\(subscription)/deliveries/\(id)/redeliver"
            #expect(try await app.call("POST", path, token: team.viewer).status == 403)
            let redelivered = try await app.call("POST", path, token: team.operator)
            #expect(redelivered.status == 202)
            #expect(try await eventually { try await app.deliveries(team, subscription).first?["status"] as? String == "DELIVERED" })
            #expect(receiver.requests.count == attemptsWhenDead + 1)
            let other = try await app.team()
            #expect(try await app.call("POST", path, token: other.operator).status == 404)
        }
    }

    @Test("a slow endpoint and a dead one do not delay delivery to a fast one")
    func slowEndpointIsolated() async throws {
        // The slow endpoint does not answer within the test (however slow the
        // machine is): the test stops it before the notifier shuts down.
        let slow = try Receiver { _, _ in .init(status: 200, delay: .seconds(120)) }
        let fast = try Receiver()
        defer {
            slow.server.stop()
            fast.server.stop()
        }
        try await NotifierTestApp.with(deliveryTimeout: .seconds(150)) { app in
            defer { slow.server.stop() }  // Ends the held attempts, so shutdown need not wait them out.
            let team = try await app.team()
            let slowID = try await app.subscribe(team, url: slow.url)
            _ = try await app.subscribe(team, url: "http://127.0.0.1:\(try TestHTTPServer.closedPort())/hook")
            let fastID = try await app.subscribe(team, url: fast.url)
            let count = 8  // More than the per-subscription cap of 4, each its own execution.
            for index in 0..<count {
                try await app.publishExecutionEvent(team: team.id, execution: "exec-\(index)", type: .executionStarted)
            }
            // Well inside the slow endpoint's 120 s hold, so it proves the fast one never waited for it.
            #expect(await eventually(timeout: .seconds(40)) { fast.requests.count == count })
            // The slow endpoint holds exactly its cap of attempts, none answered yet.
            #expect(await eventually { slow.requests.count == 4 })
            let fastLog = try await app.deliveries(team, fastID)
            let slowLog = try await app.deliveries(team, slowID)
            #expect(try await eventually {
                try await app.deliveries(team, fastID).allSatisfy { $0["status"] as? String == "DELIVERED" }
            })
            #expect(fastLog.count == count)
            #expect(slowLog.allSatisfy { $0["status"] as? String == "PENDING" }, "the slow endpoint has not answered yet")
            #expect(slow.requests.count == 4, "at most the per-subscription cap is in flight to the slow endpoint")
        }
    }

    @Test("the event-type filter is honoured")
    func filter() async throws {
        let all = try Receiver(), filtered = try Receiver()
        defer {
            all.server.stop()
            filtered.server.stop()
        }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            _ = try await app.subscribe(team, url: all.url)
            _ = try await app.subscribe(team, url: filtered.url, eventTypes: ["execution.completed", "server.failed"])
            for type in [ExecutionEventType.executionStarted, .waveStarted, .serverFailed, .waveCompleted,
                         .executionCompleted] {
                try await app.publishExecutionEvent(team: team.id, execution: "exec-f", type: type)
            }
            #expect(await eventually { all.requests.count == 5 })
            try await Task.sleep(for: .milliseconds(300))
            #expect(filtered.requests.compactMap { $0.header("ce-type") } == ["server.failed", "execution.completed"])
            // Another team's event reaches neither.
            try await app.publishExecutionEvent(team: .random(), execution: "exec-x", type: .executionStarted)
            try await Task.sleep(for: .milliseconds(500))
            #expect(all.requests.count == 5)
        }
    }

    @Test("a plan's readiness change (no execution) reaches the subscriptions that list it or *")
    func planReadinessChanged() async throws {
        let all = try Receiver(), listed = try Receiver(), other = try Receiver()
        defer {
            all.server.stop()
            listed.server.stop()
            other.server.stop()
        }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            _ = try await app.subscribe(team, url: all.url)
            _ = try await app.subscribe(team, url: listed.url, eventTypes: ["plan.readiness-changed"])
            _ = try await app.subscribe(team, url: other.url, eventTypes: ["execution.started"])
            let plan = PlanID.random()
            let payload = PlanReadinessChanged(
                teamID: team.id, planID: plan, planName: "Payroll", verdict: .blocking, previousVerdict: .ok,
                findings: [.init(name: "servers.replicating", status: .blocking, servers: ["s-1"], message: "STALLED",
                                 fix: "restore replication")],
                occurredAt: Date())
            let event = try CloudEvent(source: EventSource.planner, type: payload.type, subject: plan.rawValue, payload: payload)
            try await app.publish(topic: app.topics.executionEvents, key: plan.rawValue, event)
            #expect(await eventually { all.requests.count == 1 && listed.requests.count == 1 })
            #expect(listed.requests.first?.body == event.data)
            #expect(listed.requests.first?.header("ce-type") == "plan.readiness-changed")
            try await Task.sleep(for: .milliseconds(300))
            #expect(other.requests.isEmpty)
        }
    }

    @Test("one execution's events arrive in order, even when an early one needs retries")
    func perExecutionOrder() async throws {
        // The first attempt at every execution's first event fails.
        let failedOnce = Locked<Set<String>>([])
        let receiver = try Receiver { request, _ in
            let execution = request.header("ce-subject") ?? ""
            let first = failedOnce.withLock { $0.insert(execution).inserted }
            return .init(status: first ? 500 : 200)
        }
        defer { receiver.server.stop() }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            _ = try await app.subscribe(team, url: receiver.url)
            var published: [String: [String]] = [:]
            let types: [ExecutionEventType] = [.executionStarted, .waveStarted, .serverLaunched, .waveCompleted,
                                               .executionCompleted]
            for type in types {
                for execution in ["exec-a", "exec-b", "exec-c"] {
                    let event = try await app.publishExecutionEvent(team: team.id, execution: execution, type: type)
                    published[execution, default: []].append(event.id.uuidString.lowercased())
                }
            }
            // Bounded by count; 60 s only matters when every suite runs at once on 2 cores.
            #expect(await eventually { receiver.requests.count == 15 + 3 })
            for (execution, ids) in published {
                let received = receiver.requests.filter { $0.header("ce-subject") == ExecutionID.named(execution).rawValue }
                    .compactMap { $0.header("X-Muster-Event-Id") }
                // The first event twice (500, then 200), then the rest in order.
                #expect(received == [ids[0]] + ids, "\(execution)")
            }
        }
    }

    @Test("a test ping is delivered and logged")
    func ping() async throws {
        let receiver = try Receiver()
        defer { receiver.server.stop() }
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let subscription = try await app.subscribe(team, url: receiver.url, eventTypes: ["execution.completed"])
            let reply = try await app.call("POST", "/v1/subscriptions/\(subscription)/test", token: team.operator)
            #expect(reply.status == 202 && reply["eventType"] as? String == "notifier.ping")
            #expect(await eventually { receiver.requests.count == 1 })
            #expect(receiver.requests.first?.header("ce-type") == "notifier.ping")
        }
    }
}
