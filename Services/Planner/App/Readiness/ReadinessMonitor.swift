import Foundation
import Logging
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Re-evaluates plans whose readiness is stale (the plan, its groups or its
/// servers changed) or older than the interval, stores the verdict, and owes
/// `plan.readiness-changed` on `execution.events.v1` when the verdict changed
/// and a `readiness.check-requested` per account to the launcher — all in one
/// transaction per batch, so a kill neither loses nor repeats an event. The
/// launcher's answer arrives later and re-evaluates the plan then.
struct ReadinessMonitor: Sendable {
    let api: PlannerAPI
    let store: ReadinessStore
    let clock: @Sendable () -> Date
    let interval: Duration
    let logger: Logger
    /// Plans evaluated per transaction.
    static let batch = 20

    init(api: PlannerAPI, logger: Logger) {
        self.api = api
        self.store = ReadinessStore(schema: api.schema)
        self.clock = api.configuration.clock
        self.interval = api.configuration.readinessInterval
        self.logger = logger
    }

    /// Evaluates every plan due now; returns how many were evaluated and how many changed verdict.
    @discardableResult
    func tick() async throws -> (evaluated: Int, changed: Int) {
        let now = clock()
        let olderThan = now.addingTimeInterval(-Double(interval.components.seconds))
        var evaluated = 0, changed = 0, requested = 0
        while true {
            let (count, events, asked) = try await api.pool.transaction { connection -> (Int, Int, Int) in
                let due = try await store.lockDue(olderThan: olderThan, limit: Self.batch, on: connection)
                var events: [OutboxMessage] = [], requests: [OutboxMessage] = []
                for plan in due {
                    // The launcher's stored answers are merged now; a fresh request goes out, and its answer
                    // re-evaluates the plan again when it arrives (InventoryHandler).
                    let (event, asks) = try await api.readiness.reevaluate(
                        planID: plan.id, team: plan.team, plan: plan.plan, now: now, ask: true, on: connection)
                    if let event { events.append(event) }
                    requests += asks
                }
                if !(events + requests).isEmpty {
                    try await Outbox(schema: api.schema).enqueue(events + requests, on: connection)
                }
                return (due.count, events.count, requests.count)
            }
            evaluated += count
            changed += events
            requested += asked
            if count < Self.batch { break }
        }
        if changed + requested > 0 { api.wake() }
        if changed > 0 {
            logger.info("plan readiness changed", metadata: ["plans": "\(changed)"])
        }
        return (evaluated, changed)
    }

    static func message(plan: PlanID, team: TeamID, name: String, evaluation: ReadinessEvaluation,
                        previous: ReadinessStatus?, at: Date, topics: Topics) throws -> OutboxMessage {
        let payload = PlanReadinessChanged(
            teamID: team, planID: plan, planName: name, verdict: evaluation.verdict,
            previousVerdict: previous,
            findings: evaluation.checks.filter { $0.status != .ok }.map {
                .init(name: $0.name, status: $0.status, servers: $0.servers, message: $0.message, fix: $0.fix)
            },
            occurredAt: at)
        return try OutboxMessage(payload, source: EventSource.planner, topics: topics)
    }
}
