import Foundation
import Logging
import MusterDomain
import MusterMessaging
import MusterPostgres
import ServiceLifecycle

/// Times out hook steps: every `interval` it finds executions with a RUNNING
/// step past its deadline and applies `.tick` to each, one transaction per
/// execution (locked, so a result arriving at the same moment is serialised;
/// the state machine ignores whichever comes second). A crash between rounds
/// loses nothing: the deadline is in the stored state and the next round finds it.
struct StepDeadlines: Service, CustomStringConvertible {
    let api: PlannerAPI
    let interval: Duration
    let logger: Logger
    /// The planner's clock (a test clock in tests).
    let now: @Sendable () -> Date

    /// ServiceLifecycle logs every service's description at start-up: name
    /// it only (the default would print the API's configuration, admin token included).
    var description: String { "StepDeadlines" }

    /// A round per `interval` (a failed round is retried with back-off) until graceful shutdown.
    func run() async throws {
        let loop = WorkLoop(name: "planner.step-deadlines", timing: LoopTiming(idle: interval), logger: logger)
        try await loop.run {
            _ = try await tickDue()
            return .idle
        }
    }

    /// One round; returns how many executions it ticked.
    func tickDue() async throws -> Int {
        let store = StepStore(schema: api.schema)
        let due = try await api.pool.withConnection { try await store.dueExecutions(now: now(), limit: 100, on: $0) }
        for id in due {
            try await api.pool.transaction { connection in
                guard let old = try await api.executions.lock(ExecutionID(id), teamID: nil, on: connection) else { return }
                let (new, effects) = try ExecutionStateMachine.apply(.tick, to: old, now: now())
                try await api.executions.save(from: old, to: new, effects: effects, on: connection)
            }
        }
        if !due.isEmpty { api.wake() }
        return due.count
    }
}
