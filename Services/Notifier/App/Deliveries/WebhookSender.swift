import Foundation
import MusterEvents
import MusterHTTP

/// Sends one delivery attempt: the event's JSON body as received from
/// `execution.events.v1`, with the CloudEvents HTTP binary-mode headers
/// (`ce-id`, `ce-type`, …), `X-Muster-Event-Id` for deduplication and a fresh
/// `X-Muster-Signature`.
struct WebhookSender: Sendable {
    let client: HTTPClient
    let timeout: Duration
    let connectTimeout: Duration

    /// What the receiver did.
    struct Outcome: Sendable {
        var succeeded: Bool
        var statusCode: Int?
        /// Why it failed, for the delivery log (no secrets: URLs are redacted).
        var error: String?
        /// The start of a 2xx answer (a callout's receiver may answer its final result).
        var answer: String?
    }

    /// The most of an answer kept.
    static let maxAnswer = 4096

    /// The request for `delivery` signed at `timestamp` (pure; unit tested).
    static func request(for delivery: ClaimedDelivery, timestamp: Int64, timeout: Duration,
                        connectTimeout: Duration) -> HTTPRequest {
        HTTPRequest(
            method: "POST", url: delivery.url,
            headers: [
                HTTPHeader("Content-Type", "application/json"),
                HTTPHeader("User-Agent", "muster-notifier/1"),
                HTTPHeader("X-Muster-Event-Id", delivery.eventID.uuidString.lowercased()),
                HTTPHeader("X-Muster-Event-Type", delivery.eventType),
                HTTPHeader("X-Muster-Delivery-Id", delivery.id.uuidString.lowercased()),
                HTTPHeader("X-Muster-Execution-Id", delivery.executionID),
                HTTPHeader(WebhookSignature.headerName,
                           WebhookSignature.header(secret: delivery.secret, timestamp: timestamp, body: delivery.body)),
                HTTPHeader("ce-specversion", CloudEvent.specVersion),
                HTTPHeader("ce-id", delivery.eventID.uuidString.lowercased()),
                HTTPHeader("ce-type", delivery.eventType),
                HTTPHeader("ce-source", delivery.eventSource),
                HTTPHeader("ce-time", EventCoding.formatTime(delivery.eventTime)),
                HTTPHeader("ce-subject", delivery.executionID),
            ],
            body: delivery.body, connectTimeout: connectTimeout, timeout: timeout)
    }

    func send(_ delivery: ClaimedDelivery, at date: Date) async -> Outcome {
        let request = Self.request(for: delivery, timestamp: Int64(date.timeIntervalSince1970.rounded(.down)),
                                   timeout: timeout, connectTimeout: connectTimeout)
        do {
            let response = try await client.execute(request)
            if response.isSuccess {
                let answer = String(decoding: response.body.prefix(Self.maxAnswer), as: UTF8.self)
                return Outcome(succeeded: true, statusCode: response.status, answer: answer.isEmpty ? nil : answer)
            }
            return Outcome(succeeded: false, statusCode: response.status,
                           error: "HTTP \(response.status): \(Self.excerpt(response.body))")
        } catch let error as HTTPClientError {
            return Outcome(succeeded: false, statusCode: nil, error: error.description)
        } catch {
            return Outcome(succeeded: false, statusCode: nil, error: "\(error)")
        }
    }

    /// The start of a response body, printable, for the log.
    static func excerpt(_ body: [UInt8], limit: Int = 300) -> String {
        let text = String(decoding: body.prefix(limit), as: UTF8.self)
        let cleaned = String(text.unicodeScalars.map { $0.value < 0x20 ? " " : Character($0) })
        return cleaned.isEmpty ? "(empty body)" : cleaned + (body.count > limit ? "…" : "")
    }
}
