import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// A delivery claimed for one attempt: everything needed to send it.
struct ClaimedDelivery: Sendable {
    var id: UUID
    var claimID: UUID
    var subscriptionID: UUID
    var url: String
    var secret: WebhookSecret
    var eventID: UUID
    var eventType: String
    var eventSource: String
    var eventTime: Date
    var executionID: String
    var body: [UInt8]
    var attempts: Int
    var firstAttemptAt: Date?
    /// PostgreSQL's clock at the claim; attempt times are measured from it so
    /// every timestamp compared in SQL comes from one clock.
    var claimedAt: Date
    /// Set when this is an HTTP callout step rather than an event delivery.
    var callout: CalloutTarget? = nil
    /// The trace of the consumer span that queued it (nil while tracing is off).
    var trace: StoredTrace? = nil
}

/// The callout step a delivery row sends (`deliveries.callout_step`).
struct CalloutTarget: Sendable, Equatable {
    /// The step's name (the execution is the delivery's `executionID`).
    var stepName: String
    /// The step's timeout: retries stop there.
    var deadline: Date
}

/// How an attempt ended, as recorded.
struct AttemptResult: Sendable {
    var startedAt: Date
    var finishedAt: Date
    var statusCode: Int?
    var error: String?
    var answer: String?
    var decision: RetryPolicy.Decision
}

/// The `deliveries` table as a work queue: claims with `FOR UPDATE SKIP
/// LOCKED` plus a lease (`claimed_until`), so several notifier instances
/// share the work, an attempt holds no database connection while it waits on
/// the network, and a delivery whose notifier died mid-attempt is taken up
/// again when the lease expires.
struct DeliveryQueue: Sendable {
    let schema: String
    let pool: PostgresPool
    /// The topic names; a callout's final outcome is reported on `callout.results.v1`.
    let topics: Topics

    /// Seconds until the earliest pending delivery may be claimed (its next attempt, or the end of
    /// another dispatcher's lease on it; ≤ 0 when one is due now), nil when none is pending. One
    /// statement, by PostgreSQL's clock: what an idle dispatcher reads to know how long to sleep.
    func secondsUntilDue() async throws -> Double? {
        try await pool.withConnection { connection in
            try await connection.query(
                """
                SELECT EXTRACT(EPOCH FROM min(GREATEST(next_attempt_at, COALESCE(claimed_until, next_attempt_at))) - now())::float8
                       AS wait
                FROM \(schema).deliveries WHERE status = 'PENDING'
                """).rows.first?.decode(Double?.self, "wait")
        }
    }

    /// Claims up to `limit` due deliveries: each the oldest pending one of its
    /// (subscription, execution) line, of an enabled subscription under its cap.
    func claim(limit: Int, perSubscriptionCap: Int, lease: Duration) async throws -> [ClaimedDelivery] {
        let schema = self.schema
        return try await pool.transaction { connection in
            let rows = try await connection.query(
                """
                SELECT d.id, d.subscription_id,
                       (SELECT count(*) FROM \(schema).deliveries x
                        WHERE x.subscription_id = d.subscription_id AND x.status = 'PENDING'
                          AND x.claimed_until > now()) AS in_flight
                FROM \(schema).deliveries d
                JOIN \(schema).subscriptions s ON s.id = d.subscription_id
                    AND (s.enabled OR d.callout_step IS NOT NULL)
                WHERE d.status = 'PENDING' AND d.next_attempt_at <= now()
                  AND (d.claimed_until IS NULL OR d.claimed_until <= now())
                  AND NOT EXISTS (
                      SELECT 1 FROM \(schema).deliveries e
                      WHERE e.subscription_id = d.subscription_id AND e.execution_id = d.execution_id
                        AND e.callout_step IS NOT DISTINCT FROM d.callout_step
                        AND e.status = 'PENDING' AND e.seq < d.seq)
                ORDER BY d.next_attempt_at, d.seq
                LIMIT $1
                FOR UPDATE OF d SKIP LOCKED
                """, [limit * 4]).rows
            let candidates = try rows.map {
                DispatchSelection.Candidate(
                    id: try $0.decode(UUID.self, "id"), subscriptionID: try $0.decode(UUID.self, "subscription_id"),
                    inFlight: try $0.decode(Int.self, "in_flight"))
            }
            let chosen = DispatchSelection.choose(candidates, perSubscriptionCap: perSubscriptionCap, limit: limit)
            guard !chosen.isEmpty else { return [] }
            let claimID = UUID()
            let claimed = try await connection.query(
                """
                UPDATE \(schema).deliveries d
                SET claim_id = $1, claimed_until = now() + make_interval(secs => $2)
                FROM \(schema).subscriptions s
                WHERE s.id = d.subscription_id
                  AND d.id IN (SELECT jsonb_array_elements_text($3::jsonb)::uuid)
                RETURNING d.id, d.subscription_id, COALESCE(d.target_url, s.url) AS url, s.secret,
                          d.callout_step, d.callout_deadline, d.event_id, d.event_type, d.event_source,
                          d.event_time, d.execution_id, d.body, d.attempts, d.first_attempt_at, now() AS claimed_at,
                          d.seq, d.traceparent, d.tracestate
                """,
                [claimID, lease.seconds, try PostgresJSON(encoding: chosen.map(\.uuidString))]).rows
            return try claimed.map { row in
                ClaimedDelivery(
                    id: try row.decode(UUID.self, "id"), claimID: claimID,
                    subscriptionID: try row.decode(UUID.self, "subscription_id"),
                    url: try row.decode(String.self, "url"), secret: WebhookSecret(try row.decode(String.self, "secret")),
                    eventID: try row.decode(UUID.self, "event_id"), eventType: try row.decode(String.self, "event_type"),
                    eventSource: try row.decode(String.self, "event_source"),
                    eventTime: try row.decode(Date.self, "event_time"),
                    executionID: try row.decode(String.self, "execution_id"), body: try row.decode([UInt8].self, "body"),
                    attempts: try row.decode(Int.self, "attempts"),
                    firstAttemptAt: try row.decode(Date?.self, "first_attempt_at"),
                    claimedAt: try row.decode(Date.self, "claimed_at"),
                    callout: try row.decode(String?.self, "callout_step").map {
                        CalloutTarget(stepName: $0, deadline: try row.decode(Date.self, "callout_deadline"))
                    },
                    trace: StoredTrace(traceparent: try row.decode(String?.self, "traceparent"),
                                       tracestate: try row.decode(String?.self, "tracestate")))
            }
        }
    }

    /// Records an attempt, releasing the claim. Only the claim's holder may:
    /// false when the lease was lost (expired and re-claimed, redelivered, or
    /// the subscription deleted), and then nothing changes. A callout's final
    /// outcome (delivered or dead) is reported to the planner in the same
    /// transaction (outbox).
    @discardableResult
    func record(_ delivery: ClaimedDelivery, _ result: AttemptResult) async throws -> Bool {
        let status: DeliveryStatus
        var next = result.startedAt
        var deliveredAt: Date?
        switch result.decision {
        case .delivered:
            status = .delivered
            deliveredAt = result.finishedAt
        case .retry(let at):
            status = .pending
            next = at
        case .dead:
            status = .dead
        }
        let schema = self.schema
        let report = try delivery.callout.flatMap { try Self.report(delivery, $0, result) }
        let topics = self.topics
        return try await pool.transaction { connection in
            let updated = try await connection.query(
                """
                UPDATE \(schema).deliveries
                SET attempts = attempts + 1, first_attempt_at = COALESCE(first_attempt_at, $3), last_attempt_at = $3,
                    last_status_code = $4, last_error = $5, status = $6, next_attempt_at = $7,
                    delivered_at = COALESCE($8, delivered_at), claim_id = NULL, claimed_until = NULL
                WHERE id = $1 AND claim_id = $2 AND status = 'PENDING'
                """,
                [delivery.id, delivery.claimID, result.startedAt, result.statusCode, result.error, status.rawValue, next,
                 deliveredAt]).affectedRows
            guard updated == 1 else { return false }
            if let report {
                try await Outbox(schema: schema).owe(report, source: EventSource.notifier, topics: topics, on: connection)
            }
            return true
        }
    }

    /// The `callout.completed` a final attempt owes (pure): nil while it is retried. A callout row
    /// whose `execution_id` is not an execution id (routing stores a typed one) is an error, not a guess.
    static func report(_ delivery: ClaimedDelivery, _ callout: CalloutTarget, _ result: AttemptResult) throws
        -> CalloutCompleted?
    {
        let delivered: Bool
        switch result.decision {
        case .delivered: delivered = true
        case .dead: delivered = false
        case .retry: return nil
        }
        return CalloutCompleted(
            executionID: try ExecutionID(parsing: delivery.executionID), stepName: callout.stepName, delivered: delivered,
            statusCode: result.statusCode, error: delivered ? nil : result.error ?? "no answer",
            answer: delivered ? result.answer : nil, attempts: delivery.attempts + 1)
    }

    /// Pending and dead deliveries across all subscriptions (queue-depth gauges).
    func depth() async throws -> (pending: Int, dead: Int) {
        let rows = try await pool.query(
            "SELECT status, count(*) AS n FROM \(schema).deliveries WHERE status <> 'DELIVERED' GROUP BY status").rows
        var pending = 0, dead = 0
        for row in rows {
            switch try row.decode(String.self, "status") {
            case DeliveryStatus.pending.rawValue: pending = try row.decode(Int.self, "n")
            case DeliveryStatus.dead.rawValue: dead = try row.decode(Int.self, "n")
            default: break
            }
        }
        return (pending, dead)
    }
}
