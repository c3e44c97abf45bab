import Foundation
import Metrics
import MusterDomain

/// The notifier's metrics (docs/notifier.md): deliveries by outcome,
/// attempts, dead, event-to-delivered latency, queue depth.
struct NotifierMetrics: Sendable {
    private let created = Counter(label: "muster_notifier_deliveries_created_total")
    private let latency = Timer(label: "muster_notifier_event_to_delivered_seconds", preferredDisplayUnit: .seconds)
    private let attemptDuration = Timer(label: "muster_notifier_attempt_duration_seconds", preferredDisplayUnit: .seconds)
    private let pending = Gauge(label: "muster_notifier_queue_depth", dimensions: [("status", "pending")])
    private let dead = Gauge(label: "muster_notifier_queue_depth", dimensions: [("status", "dead")])
    private let inFlight = Gauge(label: "muster_notifier_in_flight")

    init() {}

    /// Delivery rows created from one event.
    func deliveriesCreated(_ count: Int) { if count > 0 { created.increment(by: count) } }

    /// One attempt: `result` is `success`, `http_error` or `transport_error`.
    func attempt(result: String, seconds: TimeInterval) {
        Counter(label: "muster_notifier_attempts_total", dimensions: [("result", result)]).increment()
        attemptDuration.recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// What an attempt decided: `delivered`, `retry` or `dead`.
    func outcome(_ outcome: String) {
        Counter(label: "muster_notifier_deliveries_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// From the event's `ce_time` to the receiver's 2xx.
    func delivered(afterEventAt eventTime: Date, now: Date) {
        latency.recordNanoseconds(Int64(max(0, now.timeIntervalSince(eventTime)) * 1e9))
    }

    func depth(pending: Int, dead: Int) {
        self.pending.record(pending)
        self.dead.record(dead)
    }

    func inFlight(_ count: Int) { inFlight.record(count) }
}
