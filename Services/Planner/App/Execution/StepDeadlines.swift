import Foundation
import Logging
import MusterDomain
import MusterMessaging
import MusterPostgres
import ServiceLifecycle

/// Times out hook steps: it finds executions with a RUNNING step past its
/// deadline and applies `.tick` to each, one transaction per execution
/// (locked, so a result arriving at the same moment is serialised; the state
/// machine ignores whichever comes second). A round also reads the earliest
/// deadline still ahead and the loop sleeps until then; every commit of the
/// planner that enqueued events (a step starting among them) wakes it, and
/// `interval` is the longest sleep — the safety net for steps another
/// planner instance started. A crash between rounds loses nothing: the
/// deadline is in the stored state and the next round finds it.
struct StepDeadlines: Service, CustomStringConvertible {
    let api: PlannerAPI
    let logger: Logger
    /// The planner's clock (a test clock in tests).
    let now: @Sendable () -> Date
    private let loop: WorkLoop

    init(api: PlannerAPI, interval: Duration, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.init(api: api, loop: Self.loop(interval: interval, logger: logger), logger: logger, now: now)
    }

    /// Over a loop made beforehand (``loop(interval:logger:)``), so the planner's commit hook can wake it.
    init(api: PlannerAPI, loop: WorkLoop, logger: Logger, now: @escaping @Sendable () -> Date) {
        self.api = api
        self.logger = logger
        self.now = now
        self.loop = loop
    }

    /// The rounds' loop: `interval` is its longest sleep.
    static func loop(interval: Duration, logger: Logger) -> WorkLoop {
        WorkLoop(name: "planner.step-deadlines", timing: LoopTiming(idle: interval), logger: logger)
    }

    /// ServiceLifecycle logs every service's description at start-up: name
    /// it only (the default would print the API's configuration, admin token included).
    var description: String { "StepDeadlines" }

    /// Asks for a round now (after a commit that may have started a step).
    func wake() { loop.wake() }

    /// Rounds until graceful shutdown (a failed round is retried with back-off), each sleeping
    /// until the next deadline, a wake-up or `interval`, whichever comes first.
    func run() async throws {
        try await loop.run {
            guard let next = try await tickDue().nextDeadline else { return .idle }
            return LoopTiming.after(seconds: next.timeIntervalSince(now()))
        }
    }

    /// Executions one round ticks at most.
    static let batch = 100

    /// One round; returns how many executions it ticked and the earliest deadline still ahead.
    @discardableResult
    func tickDue() async throws -> (ticked: Int, nextDeadline: Date?) {
        let store = StepStore(schema: api.schema)
        let round = try await api.pool.withConnection { try await store.dueExecutions(now: now(), limit: Self.batch, on: $0) }
        for id in round.due {
            try await api.pool.transaction { connection in
                guard let old = try await api.executions.lock(ExecutionID(id), teamID: nil, on: connection) else { return }
                let (new, effects) = try ExecutionStateMachine.apply(.tick, to: old, now: now())
                try await api.executions.save(from: old, to: new, effects: effects, on: connection)
            }
        }
        if !round.due.isEmpty { api.wake() }
        // A full batch: more may be due at once.
        return (round.due.count, round.due.count == Self.batch ? now() : round.nextDeadline)
    }
}
