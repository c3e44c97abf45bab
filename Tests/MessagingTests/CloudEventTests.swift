import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import Testing

@Suite("CloudEvent binary mode")
struct CloudEventTests {
    struct Payload: Codable, Equatable { var executionID: String; var wave: Int; var at: Date }

    @Test func roundTripsThroughHeaders() throws {
        let at = Date(timeIntervalSince1970: 1_790_000_000.123)
        let event = try CloudEvent(
            source: "/muster/planner", type: "wave.started", time: at, subject: "exec-1",
            payload: Payload(executionID: "exec-1", wave: 2, at: at))
        let headers = Dictionary(uniqueKeysWithValues: event.headers.map { ($0.name, $0.value) })
        #expect(headers["ce_specversion"] == "1.0")
        #expect(headers["ce_type"] == "wave.started")
        #expect(headers["content-type"] == "application/json")
        #expect(headers["ce_id"] == event.id.uuidString.lowercased())
        let parsed = try CloudEvent(header: { headers[$0] }, value: event.data)
        #expect(parsed.id == event.id)
        #expect(parsed.subject == "exec-1")
        #expect(abs(parsed.time.timeIntervalSince(at)) < 0.001)
        let payload = try parsed.decode(Payload.self)
        #expect(payload.wave == 2)
        #expect(abs(payload.at.timeIntervalSince(at)) < 0.001)
    }

    @Test func rejectsMissingOrInvalidAttributesNamingThem() throws {
        let event = CloudEvent(source: "/x", type: "t", data: Array("{}".utf8))
        var headers = Dictionary(uniqueKeysWithValues: event.headers.map { ($0.name, $0.value) })
        headers["ce_id"] = nil
        #expect(throws: CloudEventError.missingAttribute("ce_id")) {
            try CloudEvent(header: { headers[$0] }, value: event.data)
        }
        headers["ce_id"] = "not-a-uuid"
        #expect(throws: CloudEventError.invalidAttribute("ce_id", reason: "must be a UUID")) {
            try CloudEvent(header: { headers[$0] }, value: event.data)
        }
        headers["ce_id"] = UUID().uuidString
        headers["ce_specversion"] = "0.3"
        #expect(throws: CloudEventError.self) { try CloudEvent(header: { headers[$0] }, value: event.data) }
    }

    @Test func payloadDecodingIgnoresUnknownFieldsAndNamesBadOnes() throws {
        struct Small: Decodable { var wave: Int }
        let event = CloudEvent(source: "/x", type: "t", data: Array(#"{"wave": 3, "future": true}"#.utf8))
        #expect(try event.decode(Small.self).wave == 3)
        let bad = CloudEvent(source: "/x", type: "t", data: Array(#"{"wave": "three"}"#.utf8))
        #expect(throws: CloudEventError.self) { try bad.decode(Small.self) }
    }
}

/// Control characters in consumed payloads (ConsumedText, docs/consumers.md).
@Suite("Consumed text")
struct ConsumedTextTests {
    struct Observed: Codable { var hostname: String; var tags: [String: String]; var rawError: String?; var reason: String? }

    static let controls = (0x00..<0x20).map { Unicode.Scalar($0)! } + (0x7F...0x9F).map { Unicode.Scalar($0)! }

    func event(_ payload: Observed) throws -> CloudEvent {
        try CloudEvent(source: "/muster/launcher", type: "source-server.observed", payload: payload)
    }

    @Test(arguments: controls) func identifiersNamesTagsAndKeysWithAControlCharacterAreRefusedNamingTheField(
        _ scalar: Unicode.Scalar
    ) throws {
        let bad = "a\(Character(scalar))b"
        for (payload, field) in [
            (Observed(hostname: bad, tags: [:]), "hostname"),
            (Observed(hostname: "h", tags: ["env": bad]), "tags.env"),
            (Observed(hostname: "h", tags: [bad: "x"]), "tags.a\u{FFFD}b"),
        ] {
            let event = try event(payload)
            #expect(throws: CloudEventError.invalidData(
                type: "source-server.observed", reason: "\(field) must not contain control characters")) {
                try event.decode(Observed.self)
            }
        }
    }

    @Test(arguments: controls) func freeTextKeepsControlCharacters(_ scalar: Unicode.Scalar) throws {
        let text = "line 1\(Character(scalar))line 2"
        let decoded = try event(Observed(hostname: "h", tags: [:], rawError: text, reason: text)).decode(Observed.self)
        #expect(decoded.rawError == text && decoded.reason == text, "kept as received")
    }

    @Test func freeTextFieldsAreExemptOnlyAsStrings() {
        #expect(ConsumedText.violation(in: Array(#"{"reason": {"code": "a\u0001"}}"#.utf8)) == "reason.code")
        #expect(ConsumedText.violation(in: Array(#"{"rawError": "a\u0000b", "x": ["ok", "b\u007f"]}"#.utf8)) == "x[1]")
        #expect(ConsumedText.violation(in: Array(#"{"name": "caf\u00e9 \u2028 ok"}"#.utf8)) == nil, "only Cc is refused")
        #expect(ConsumedText.violation(in: Array("not json".utf8)) == nil, "left to the decoder")
    }

    @Test func visibleReplacesEveryControlCharacterAndNothingElse() {
        #expect(TextRule.visible("a\u{0}b\nc\u{1B}[2J\u{7F}\u{85}é") == "a\u{2400}b\u{240A}c\u{241B}[2J\u{2421}\u{FFFD}é")
        #expect(TextRule.visible("plain ✓") == "plain ✓")
        for scalar in Self.controls {
            #expect(!TextRule.visible(String(Character(scalar))).unicodeScalars.contains(where: TextRule.isControl))
        }
    }
}

@Suite("Backoff")
struct BackoffTests {
    @Test func ceilingDoublesUpToTheCap() {
        let backoff = Backoff(base: .milliseconds(100), cap: .seconds(1))
        #expect(backoff.ceiling(attempt: 0) == .milliseconds(100))
        #expect(backoff.ceiling(attempt: 1) == .milliseconds(200))
        #expect(backoff.ceiling(attempt: 3) == .milliseconds(800))
        #expect(backoff.ceiling(attempt: 4) == .seconds(1))
        #expect(backoff.ceiling(attempt: 500) == .seconds(1))
    }

    @Test func fullJitterStaysWithinTheCeilingAndVaries() {
        let backoff = Backoff(base: .milliseconds(100), cap: .seconds(30))
        var generator = SystemRandomNumberGenerator()
        let delays = (0..<200).map { _ in backoff.delay(attempt: 3, using: &generator) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .milliseconds(800) })
        #expect(Set(delays).count > 50)
    }
}
