import Foundation
import MusterEvents
import MusterMessaging
import Testing

@Suite("CloudEvent binary mode")
struct CloudEventTests {
    struct Payload: Codable, Equatable { var executionId: String; var wave: Int; var at: Date }

    @Test func roundTripsThroughHeaders() throws {
        let at = Date(timeIntervalSince1970: 1_790_000_000.123)
        let event = try CloudEvent(
            source: "/muster/planner", type: "wave.started", time: at, subject: "exec-1",
            payload: Payload(executionId: "exec-1", wave: 2, at: at))
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
