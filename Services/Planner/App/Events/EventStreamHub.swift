import Foundation
import Logging
import MusterDomain
import MusterPostgres

/// Tells open event streams when their team's log has grown. One loop per
/// planner process looks at the heads of the teams with open streams every
/// `pollInterval` (a primary-key read of a few rows) and signals the streams
/// whose team moved; each stream then reads its own rows. Polling the
/// database rather than trusting in-process calls means an event committed
/// by another planner instance (a job.status consumer elsewhere) is seen too.
/// The loop runs only while a stream is open.
actor EventStreamHub {
    /// What a stream is told.
    enum Signal: Sendable, Equatable {
        /// The team's log reached this sequence number.
        case advanced(Int64)
        /// Nothing new for a heartbeat interval: send a comment to keep proxies open.
        case heartbeat
    }

    private struct Subscriber {
        var team: TeamID
        var continuation: AsyncStream<Signal>.Continuation
        var lastSignal: ContinuousClock.Instant
        var notified: Int64
    }

    private let log: EventLog
    private let pool: PostgresPool
    private let pollInterval: Duration
    private let heartbeatInterval: Duration
    private let logger: Logger
    private var subscribers: [UUID: Subscriber] = [:]
    private var loop: Task<Void, Never>?

    init(log: EventLog, pool: PostgresPool, pollInterval: Duration, heartbeatInterval: Duration, logger: Logger) {
        self.log = log
        self.pool = pool
        self.pollInterval = pollInterval
        self.heartbeatInterval = heartbeatInterval
        self.logger = logger
    }

    /// A stream of signals for one client of `team`; finishing it (or the
    /// client going away) unsubscribes.
    func subscribe(team: TeamID) -> (id: UUID, signals: AsyncStream<Signal>) {
        let id = UUID()
        let (stream, continuation) = AsyncStream.makeStream(of: Signal.self, bufferingPolicy: .bufferingNewest(1))
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.unsubscribe(id) }
        }
        subscribers[id] = Subscriber(team: team, continuation: continuation, lastSignal: .now, notified: 0)
        if loop == nil {
            loop = Task { [weak self] in await self?.run() }
        }
        return (id, stream)
    }

    /// Ends one subscription (graceful shutdown, client gone).
    func unsubscribe(_ id: UUID) {
        subscribers.removeValue(forKey: id)?.continuation.finish()
    }

    /// How many streams are open (metrics, tests).
    var count: Int { subscribers.count }

    private func run() async {
        while !subscribers.isEmpty && !Task.isCancelled {
            let teams = Array(Set(subscribers.values.map(\.team)))
            do {
                let heads = try await Self.heads(of: teams, log: log, pool: pool)
                tick(heads: heads, now: .now)
            } catch {
                // The streams stay open and keep their heartbeats; the next tick retries.
                logger.warning("event stream: reading log heads failed", metadata: ["error": "\(error)"])
                tick(heads: [:], now: .now)
            }
            try? await Task.sleep(for: pollInterval)
        }
        loop = nil
        // A subscriber that arrived while the last sleep ended would otherwise have no loop.
        if !subscribers.isEmpty { loop = Task { [weak self] in await self?.run() } }
    }

    /// Read off the actor: the pool's work runs wherever the pool runs it.
    private nonisolated static func heads(of teams: [TeamID], log: EventLog, pool: PostgresPool) async throws
        -> [TeamID: Int64]
    {
        try await pool.withConnection { try await log.heads(teams, on: $0) }
    }

    private func tick(heads: [TeamID: Int64], now: ContinuousClock.Instant) {
        for (id, var subscriber) in subscribers {
            if let head = heads[subscriber.team], head > subscriber.notified {
                subscriber.notified = head
                subscriber.lastSignal = now
                subscriber.continuation.yield(.advanced(head))
            } else if now - subscriber.lastSignal >= heartbeatInterval {
                subscriber.lastSignal = now
                subscriber.continuation.yield(.heartbeat)
            }
            subscribers[id] = subscriber
        }
    }
}
