import Crypto
import Foundation
import MusterAPI

/// The `X-Muster-Signature` header (DESIGN §8):
/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
///
/// The timestamp is inside the signed text so a receiver can reject replays
/// older than its tolerance; it is taken afresh for every attempt.
public enum WebhookSignature {
    /// The header name.
    public static let headerName = "X-Muster-Signature"

    /// The lowercase hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
    public static func digest(secret: WebhookSecret, timestamp: Int64, body: [UInt8]) -> String {
        let key = SymmetricKey(data: Array(secret.value.utf8))
        var message = Array("\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    /// The full header value for `body` signed at `timestamp`.
    public static func header(secret: WebhookSecret, timestamp: Int64, body: [UInt8]) -> String {
        "t=\(timestamp),v1=\(digest(secret: secret, timestamp: timestamp, body: body))"
    }

    /// A parsed header: its timestamp and every `v1` digest (a receiver
    /// accepts the request when any of them matches).
    public struct Parsed: Sendable, Equatable {
        /// `t`.
        public var timestamp: Int64
        /// The `v1` values.
        public var signatures: [String]
    }

    /// Parses a header value; nil when `t` or `v1` is missing or malformed.
    public static func parse(_ header: String) -> Parsed? {
        var timestamp: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2 else { return nil }
            switch pair[0] {
            case "t": timestamp = Int64(pair[1])
            case "v1": signatures.append(pair[1])
            default: continue  // Future schemes are ignored, as receivers should.
            }
        }
        guard let timestamp, !signatures.isEmpty else { return nil }
        return Parsed(timestamp: timestamp, signatures: signatures)
    }

    /// Whether `header` signs `body` under `secret` within `tolerance` of `now`
    /// (the check a receiver does; the tests use it against real deliveries).
    public static func verify(header: String, body: [UInt8], secret: WebhookSecret, now: Date = Date(),
                              tolerance: TimeInterval = 300) -> Bool {
        guard let parsed = parse(header), abs(now.timeIntervalSince1970 - Double(parsed.timestamp)) <= tolerance else {
            return false
        }
        let expected = Array(digest(secret: secret, timestamp: parsed.timestamp, body: body).utf8)
        return parsed.signatures.contains { BearerToken.constantTimeEqual(Array($0.utf8), expected) }
    }
}
