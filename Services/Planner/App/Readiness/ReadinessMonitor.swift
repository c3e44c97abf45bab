import Foundation
import Logging
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Re-evaluates plans whose readiness is stale (the plan, its groups or its
/// servers changed) or older than the interval, stores the verdict, and owes
/// `plan.readiness-changed` on `execution.events.v1` when the verdict changed
/// — all in one transaction per batch, so a kill neither loses nor repeats
/// an event.
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
        var evaluated = 0, changed = 0
        while true {
            let (count, events) = try await api.pool.transaction { connection -> (Int, Int) in
                let due = try await store.lockDue(olderThan: olderThan, limit: Self.batch, on: connection)
                var events: [OutboxMessage] = []
                for plan in due {
                    let evaluation = try await api.evaluate(plan.plan, planID: plan.id, now: now, on: connection)
                    let previous = try await store.verdict(plan: plan.id, on: connection)
                    try await store.record(plan: plan.id, evaluation: evaluation, at: now, on: connection)
                    // A first evaluation is news only when something is wrong.
                    guard previous.map({ $0 != evaluation.verdict }) ?? (evaluation.verdict != .ok) else { continue }
                    events.append(try Self.message(plan: plan.id, team: plan.team, name: plan.plan.name,
                                                   evaluation: evaluation, previous: previous, at: now,
                                                   topic: api.configuration.topics.executionEvents))
                }
                if !events.isEmpty { try await Outbox(schema: api.schema).enqueue(events, on: connection) }
                return (due.count, events.count)
            }
            evaluated += count
            changed += events
            if count < Self.batch { break }
        }
        if changed > 0 {
            api.wake()
            logger.info("plan readiness changed", metadata: ["plans": "\(changed)"])
        }
        return (evaluated, changed)
    }

    static func message(plan: UUID, team: UUID, name: String, evaluation: ReadinessEvaluation,
                        previous: ReadinessStatus?, at: Date, topic: String) throws -> OutboxMessage {
        let planID = plan.uuidString.lowercased()
        let payload = PlanReadinessChanged(
            teamID: team.uuidString.lowercased(), planID: planID, planName: name, verdict: evaluation.verdict.rawValue,
            previousVerdict: previous?.rawValue,
            findings: evaluation.checks.filter { $0.status != .ok }.map {
                .init(name: $0.name, status: $0.status.rawValue, servers: $0.servers, message: $0.message, fix: $0.fix)
            },
            occurredAt: at)
        return OutboxMessage(
            topic: topic, key: planID,
            event: try CloudEvent(source: EventSource.planner, type: payload.type, time: at, subject: planID, payload: payload))
    }
}
