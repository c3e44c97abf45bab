import Foundation
import Logging
import MusterDomain
import MusterMessaging
import ServiceLifecycle
import Synchronization

/// The delivery loop (DESIGN §8): claims due deliveries while it has free
/// slots and runs each attempt as its own task, so a slow endpoint occupies
/// only its own slots (at most `maxInFlightPerSubscription`) and a dead one
/// fails within its timeouts; records each attempt's outcome and the retry
/// policy's decision; wakes itself when an attempt ends (the next event of
/// that execution may now be due) and when the consumer created deliveries.
final class DeliveryDispatcher: Service, Sendable {
    private let queue: DeliveryQueue
    private let sender: WebhookSender
    private let configuration: NotifierConfiguration
    private let logger: Logger
    private let metrics = NotifierMetrics()
    private let loop: WorkLoop
    private let inFlight = Atomic<Int>(0)
    private let retry = Backoff(base: .milliseconds(100), cap: .seconds(10))
    /// Called after a callout's final outcome was written to the outbox (wakes the relay).
    private let reported: @Sendable () -> Void

    init(queue: DeliveryQueue, sender: WebhookSender, configuration: NotifierConfiguration, logger: Logger,
         reported: @escaping @Sendable () -> Void = {}) {
        self.reported = reported
        self.queue = queue
        self.sender = sender
        self.configuration = configuration
        self.logger = logger
        loop = WorkLoop(name: "delivery dispatcher", timing: LoopTiming(idle: configuration.pollInterval), logger: logger)
    }

    /// Looks for due work now.
    func wake() { loop.wake() }

    /// Dispatches until graceful shutdown or cancellation. On graceful
    /// shutdown it stops claiming and lets attempts in flight finish (each is
    /// bounded by its timeout); on cancellation they are aborted and their
    /// leases expire, so another instance retries them.
    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            var lastGauge = ContinuousClock.now - configuration.gaugeInterval
            try await loop.run {
                let free = configuration.maxInFlight - inFlight.load(ordering: .acquiring)
                var claimedAll = false
                // Idle means idle (issue 18): one statement says whether anything is due, and when.
                // Nothing pending: sleep until woken (a consumer or the API queued a delivery, an
                // attempt ended) or the poll interval; a retry or lease ahead: sleep until then.
                let wait = free > 0 ? try await queue.secondsUntilDue() : nil
                let next = wait.map { LoopTiming.after(seconds: $0) } ?? .idle
                if next == .immediately {
                    let claimed = try await queue.claim(
                        limit: free, perSubscriptionCap: configuration.maxInFlightPerSubscription,
                        lease: configuration.leaseDuration)
                    claimedAll = !claimed.isEmpty && claimed.count == free
                    for delivery in claimed {
                        inFlight.add(1, ordering: .acquiringAndReleasing)
                        group.addTask { await self.attempt(delivery) }
                    }
                    metrics.inFlight(inFlight.load(ordering: .acquiring))
                }
                if ContinuousClock.now - lastGauge >= configuration.gaugeInterval {
                    lastGauge = ContinuousClock.now
                    if let depth = try? await queue.depth() { metrics.depth(pending: depth.pending, dead: depth.dead) }
                }
                // More may be due right away when every free slot was filled; an ending attempt wakes the loop.
                return claimedAll ? .immediately : (next == .immediately ? .idle : next)
            }
        }
    }

    /// One attempt, continuing the trace of the event (or callout request) that queued the
    /// delivery: its POST, its log lines and the callout result it may owe are in that trace.
    private func attempt(_ delivery: ClaimedDelivery) async {
        await StoredTrace.withSpan(
            delivery.callout == nil ? "deliver webhook" : "deliver callout", parent: delivery.trace,
            attributes: ["muster.delivery_id": delivery.id.uuidString, "cloudevents.event_type": delivery.eventType,
                         "muster.attempt": String(delivery.attempts + 1)]
        ) { await attemptTraced(delivery) }
    }

    private func attemptTraced(_ delivery: ClaimedDelivery) async {
        defer {
            inFlight.subtract(1, ordering: .acquiringAndReleasing)
            loop.wake()
        }
        let clock = ContinuousClock()
        let claimedAt = clock.now
        // Times on PostgreSQL's clock (see ClaimedDelivery.claimedAt).
        let startedAt = delivery.claimedAt.addingTimeInterval((clock.now - claimedAt).seconds)
        let outcome = await sender.send(delivery, at: startedAt)
        if Task.isCancelled { return }  // Aborted by shutdown: the lease expires and it is retried.
        let elapsed = (clock.now - claimedAt).seconds
        let finishedAt = delivery.claimedAt.addingTimeInterval(elapsed)
        metrics.attempt(
            result: outcome.succeeded ? "success" : outcome.statusCode == nil ? "transport_error" : "http_error",
            seconds: finishedAt.timeIntervalSince(startedAt))
        let decision = configuration.retry.decide(
            succeeded: outcome.succeeded, attempts: delivery.attempts + 1,
            firstAttemptAt: delivery.firstAttemptAt ?? startedAt, now: finishedAt, deadline: delivery.callout?.deadline)
        let result = AttemptResult(startedAt: startedAt, finishedAt: finishedAt, statusCode: outcome.statusCode,
                                   error: outcome.error, answer: outcome.answer, decision: decision)
        var metadata: Logger.Metadata = [
            "delivery": "\(delivery.id)", "subscription": "\(delivery.subscriptionID)", "ce_id": "\(delivery.eventID)",
            "ce_type": "\(delivery.eventType)", "attempt": "\(delivery.attempts + 1)",
        ]
        if let code = outcome.statusCode { metadata["status"] = "\(code)" }
        if let error = outcome.error { metadata["error"] = "\(error)" }
        for attempt in 0..<5 {
            do {
                let recorded = try await queue.record(delivery, result)
                if !recorded {
                    logger.info("delivery changed while in flight; outcome not recorded", metadata: metadata)
                    return
                }
                break
            } catch {
                // The lease covers this: if recording keeps failing, the
                // delivery is attempted again after it expires.
                logger.warning("recording a delivery attempt failed", metadata: metadata.merging(
                    ["record_error": "\(error)"]) { _, new in new })
                if attempt == 4 { return }
                try? await Task.sleep(for: retry.delay(attempt: attempt))
            }
        }
        if delivery.callout != nil, !Self.isRetry(decision) { reported() }
        switch decision {
        case .delivered:
            metrics.outcome("delivered")
            metrics.delivered(afterEventAt: delivery.eventTime, now: Date())
            logger.debug("delivered", metadata: metadata)
        case .retry(let at):
            metrics.outcome("retry")
            metadata["next_attempt_at"] = "\(at)"
            logger.info("delivery attempt failed; will retry", metadata: metadata)
        case .dead:
            metrics.outcome("dead")
            logger.warning("delivery is dead: retry window exhausted", metadata: metadata)
        }
    }

    private static func isRetry(_ decision: RetryPolicy.Decision) -> Bool {
        if case .retry = decision { return true }
        return false
    }
}
