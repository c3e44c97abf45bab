import Foundation
import MusterAPI
import MusterEvents
import MusterHTTP
import MusterMessaging
@testable import NotifierApp
import Testing

/// A deterministic generator so jittered delays are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state
    }
}

@Suite("Webhook signature")
struct WebhookSignatureTests {
    let secret = WebhookSecret("whsec_test_secret_0123456789")
    let body = Array(#"{"hello":"world"}"#.utf8)

    @Test("matches an independent HMAC-SHA256 (Python hmac) of \"t.body\"")
    func knownVector() {
        // python3: hmac.new(secret, b'1700000000.{"hello":"world"}', sha256).hexdigest()
        #expect(WebhookSignature.header(secret: secret, timestamp: 1_700_000_000, body: body)
            == "t=1700000000,v1=d12786d8d6aa381a25aeb619c97a361aa6e18dccc979554c0189241492ab49b5")
    }

    @Test("verify accepts the genuine header and rejects tampering, another secret and stale timestamps")
    func verification() {
        let now = Date(timeIntervalSince1970: 1_700_000_100)
        let header = WebhookSignature.header(secret: secret, timestamp: 1_700_000_000, body: body)
        #expect(WebhookSignature.verify(header: header, body: body, secret: secret, now: now))
        #expect(!WebhookSignature.verify(header: header, body: body + [0x20], secret: secret, now: now))
        #expect(!WebhookSignature.verify(header: header, body: body, secret: WebhookSecret("another_secret_1234"), now: now))
        #expect(!WebhookSignature.verify(header: header, body: body, secret: secret,
                                         now: now.addingTimeInterval(3600)))
        #expect(!WebhookSignature.verify(header: "v1=abc", body: body, secret: secret, now: now))
    }

    @Test("parse keeps every v1 and ignores unknown schemes")
    func parse() {
        let parsed = WebhookSignature.parse("t=12,v1=aa,v0=zz,v1=bb")
        #expect(parsed == .init(timestamp: 12, signatures: ["aa", "bb"]))
        #expect(WebhookSignature.parse("t=x,v1=aa") == nil)
    }

    @Test("the request carries the body, the event id, CloudEvents headers and a verifiable signature")
    func request() throws {
        let delivery = ClaimedDelivery(
            id: UUID(), claimID: UUID(), subscriptionID: UUID(), url: "https://hooks.example.com/x", secret: secret,
            eventID: UUID(), eventType: "execution.started", eventSource: "/muster/planner", eventTime: Date(),
            executionID: "exec-1", body: body, attempts: 0, firstAttemptAt: nil, claimedAt: Date())
        let now = Date()
        let request = WebhookSender.request(for: delivery, timestamp: Int64(now.timeIntervalSince1970), timeout: .seconds(3),
                                            connectTimeout: .seconds(1))
        #expect(request.method == "POST" && request.body == body && request.timeout == .seconds(3))
        #expect(request.header("X-Muster-Event-Id") == delivery.eventID.uuidString.lowercased())
        #expect(request.header("ce-id") == delivery.eventID.uuidString.lowercased())
        #expect(request.header("ce-type") == "execution.started")
        #expect(request.header("ce-subject") == "exec-1")
        let signature = try #require(request.header("X-Muster-Signature"))
        #expect(WebhookSignature.verify(header: signature, body: body, secret: secret, now: now))
    }

    @Test("a secret never shows in descriptions; generated ones are long and random")
    func secretRedaction() {
        let generated = WebhookSecret.generate()
        #expect("\(generated)" == "<redacted>" && String(reflecting: generated) == "<redacted>")
        #expect(generated.value.hasPrefix("whsec_") && generated.value.count == 70)
        #expect(generated != WebhookSecret.generate())
    }
}

@Suite("Event filter")
struct EventFilterTests {
    @Test("named types match only themselves; * matches everything, future types included")
    func matching() {
        let named = EventFilter(entries: ["execution.completed", "server.failed"])
        #expect(named.matches("execution.completed") && named.matches("server.failed"))
        #expect(!named.matches("execution.started") && !named.matches("execution.completedX"))
        let all = EventFilter(entries: ["*"])
        #expect(all.matches("execution.started") && all.matches("some.future-type"))
    }

    @Test("validation: at least one entry, known types or *, no duplicates")
    func validation() {
        #expect(EventFilter.problem(with: [])?.rule == "minItems")
        #expect(EventFilter.problem(with: ["execution.exploded"])?.rule == "enum")
        #expect(EventFilter.problem(with: ["wave.started", "wave.started"])?.rule == "unique")
        #expect(EventFilter.problem(with: ["*", "wave.started"]) == nil)
        #expect(EventFilter.problem(with: ExecutionEventType.allCases.map(\.rawValue)) == nil)
    }
}

@Suite("Retry schedule")
struct RetryPolicyTests {
    let policy = RetryPolicy(backoff: Backoff(base: .seconds(1), cap: .seconds(60)), window: .seconds(600))
    let first = Date(timeIntervalSince1970: 1_000_000)

    @Test("success is delivered whatever the attempt")
    func success() {
        var generator = SeededGenerator(state: 1)
        #expect(policy.decide(succeeded: true, attempts: 9, firstAttemptAt: first, now: first.addingTimeInterval(9999),
                              using: &generator) == .delivered)
    }

    @Test("retry n waits at most min(cap, base·2^(n-1)), full jitter")
    func backoffCeilings() {
        var generator = SeededGenerator(state: 42)
        var sawBelowHalf = false
        for attempts in 1...12 {
            let ceiling = min(pow(2, Double(attempts - 1)), 60)
            for _ in 0..<50 {
                guard case .retry(let at) = policy.decide(
                    succeeded: false, attempts: attempts, firstAttemptAt: first, now: first, using: &generator)
                else { Issue.record("expected a retry"); return }
                let delay = at.timeIntervalSince(first)
                #expect(delay >= 0 && delay <= ceiling + 1e-6)
                if delay < ceiling / 2 { sawBelowHalf = true }
            }
        }
        #expect(sawBelowHalf, "full jitter draws from [0, ceiling], not [ceiling/2, ceiling]")
    }

    @Test("the last retry is clamped to the window's end; after it the delivery is dead")
    func window() {
        var generator = SeededGenerator(state: 7)
        let nearEnd = first.addingTimeInterval(599.5)
        for _ in 0..<20 {
            guard case .retry(let at) = policy.decide(
                succeeded: false, attempts: 20, firstAttemptAt: first, now: nearEnd, using: &generator)
            else { Issue.record("expected a retry"); return }
            #expect(at <= first.addingTimeInterval(600))
        }
        #expect(policy.decide(succeeded: false, attempts: 21, firstAttemptAt: first,
                              now: first.addingTimeInterval(600), using: &generator) == .dead)
    }
}

@Suite("Dispatch selection")
struct DispatchSelectionTests {
    @Test("a subscription never exceeds its cap, counting attempts already in flight; the limit holds")
    func caps() {
        let slow = UUID(), fast = UUID()
        let candidates = (0..<6).map { _ in DispatchSelection.Candidate(id: UUID(), subscriptionID: slow, inFlight: 3) }
            + (0..<6).map { _ in DispatchSelection.Candidate(id: UUID(), subscriptionID: fast, inFlight: 0) }
        let chosen = DispatchSelection.choose(candidates, perSubscriptionCap: 4, limit: 10)
        let bySubscription = Dictionary(grouping: chosen) { id in candidates.first { $0.id == id }!.subscriptionID }
        #expect(bySubscription[slow]?.count == 1)
        #expect(bySubscription[fast]?.count == 4)
        #expect(DispatchSelection.choose(candidates, perSubscriptionCap: 4, limit: 2).count == 2)
    }
}

@Suite("Subscription rules")
struct SubscriptionRulesTests {
    func rule(_ body: () throws -> Any) -> String? {
        do {
            _ = try body()
            return nil
        } catch let error as APIError {
            return error.rule
        } catch {
            return "unexpected"
        }
    }

    @Test("https required unless http is allowed; absolute URLs without credentials or fragments")
    func urls() {
        let strict = SubscriptionRules(allowHTTP: false), relaxed = SubscriptionRules(allowHTTP: true)
        #expect(rule { try strict.checkURL("https://hooks.example.com/a?b=c") } == nil)
        #expect(rule { try strict.checkURL("http://hooks.example.com/a") } == "https")
        #expect(rule { try relaxed.checkURL("http://127.0.0.1:8080/a") } == nil)
        #expect(rule { try relaxed.checkURL("ftp://example.com/a") } == "scheme")
        #expect(rule { try strict.checkURL("https://user:pw@example.com/") } == "noCredentials")
        #expect(rule { try strict.checkURL("not a url") } == "format")
        #expect(rule { try strict.checkURL("https://example.com/#frag") } == "format")
        #expect(rule { try strict.checkURL("https://example.com/" + String(repeating: "a", count: 2100)) } == "maxLength")
    }

    @Test("secrets are 16 to 256 printable ASCII characters")
    func secrets() {
        let rules = SubscriptionRules(allowHTTP: false)
        #expect(rule { try rules.checkSecret(String(repeating: "s", count: 15)) } == "length")
        #expect(rule { try rules.checkSecret(String(repeating: "s", count: 257)) } == "length")
        #expect(rule { try rules.checkSecret(String(repeating: "s", count: 16)) } == nil)
        #expect(rule { try rules.checkSecret("has a space in it ok") } == "printableASCII")
    }
}
