import Foundation
import Logging
import MusterDomain
import MusterMessaging
import MusterPostgres
import ServiceLifecycle

/// What one scheduler transaction did.
public struct TickSummary: Sendable, Equatable {
    /// One poll committed to the outbox.
    public struct SentPoll: Sendable, Equatable {
        /// Its endpoint.
        public var endpoint: Endpoint
        /// `job.poll.final` when true.
        public var isFinal: Bool
        /// The jobs it asks about.
        public var jobIDs: [JobID]
    }

    /// PostgreSQL's time the tick ran at.
    public var now: Date
    /// Endpoints this poller claimed.
    public var endpoints = 0
    /// Polls committed.
    public var polls: [SentPoll] = []
    /// Jobs whose `job.timed-out` was committed.
    public var timedOut: [JobID] = []
    /// Due jobs held back by an endpoint cap.
    public var deferred = 0
    /// True when the tick stopped at a limit and more work is waiting.
    public var moreWork = false
    /// For each polled job that was due, seconds from due to sent.
    public var dueLags: [TimeInterval] = []
    /// The earliest planned look of any live job after this tick (the loop
    /// sleeps until then when that is sooner than the tick interval).
    public var nextDue: Date?
}

/// The scheduler loop (DESIGN §6): each tick, in one transaction, claims due
/// endpoints and jobs with `FOR UPDATE SKIP LOCKED`, plans each endpoint's
/// polls (batched, capped), writes `job.poll` / `job.poll.final` /
/// `job.timed-out` to the outbox and moves the jobs' next looks forward.
///
/// Claims are the transaction's row locks, so any number of pollers share the
/// work without polling a job twice, and there is no separate lease to leak:
/// when a poller dies its connection drops and PostgreSQL rolls the claim
/// back; a hung one is cut off by `idle_in_transaction_session_timeout` and
/// `statement_timeout` (`claimTimeout`), which is the claim's expiry.
public final class PollScheduler: Service, Sendable {
    private let tracker: JobTracker
    private let pool: PostgresPool
    private let logger: Logger
    private let metrics = PollerMetrics()
    private let onCommit: @Sendable () -> Void
    private let loop: WorkLoop
    private var configuration: PollerConfiguration { tracker.configuration }

    /// A scheduler over `tracker`'s table; `onCommit` runs after a tick
    /// committed outbox rows (wire it to `OutboxRelay.wake`).
    public init(tracker: JobTracker, pool: PostgresPool, logger: Logger, onCommit: @escaping @Sendable () -> Void) {
        self.tracker = tracker
        self.pool = pool
        self.logger = logger
        self.onCommit = onCommit
        let configuration = tracker.configuration
        loop = WorkLoop(name: "poll scheduler",
                        timing: LoopTiming(idle: max(configuration.tickInterval, configuration.idleInterval)), logger: logger)
    }

    /// Asks for a tick now.
    public func wake() { loop.wake() }

    /// Ticks until graceful shutdown or cancellation; a tick in hand finishes.
    /// A failed tick is retried with back-off.
    public func run() async throws {
        var lastHousekeeping = ContinuousClock.now - configuration.gaugeInterval
        try await loop.run {
            let started = ContinuousClock.now
            let summary = try await tick()
            if ContinuousClock.now - lastHousekeeping >= configuration.gaugeInterval {
                lastHousekeeping = ContinuousClock.now
                try await housekeeping()
            }
            // Measured from the tick's start, not its end: the transaction's own time (tens of
            // milliseconds on a loaded host) is not added to the wait for a planned look.
            return summary.moreWork ? .immediately : LoopTiming.until(started + idle(after: summary))
        }
        logger.debug("poll scheduler stopped")
    }

    /// One scheduler transaction (see the type's documentation).
    @discardableResult
    public func tick() async throws -> TickSummary {
        let tracker = self.tracker, configuration = self.configuration
        let summary = try await pool.transaction { connection -> TickSummary in
            try await JobTracker.bound(transactionTo: configuration.claimTimeout, on: connection)
            let now = try await JobTracker.now(on: connection)
            var summary = TickSummary(now: now)
            let endpoints = try await tracker.claimEndpoints(
                now: now, limit: configuration.maxEndpointsPerTick, on: connection)
            summary.endpoints = endpoints.count
            summary.moreWork = endpoints.count == configuration.maxEndpointsPerTick
            for endpoint in endpoints {
                let allowance = configuration.budget.allowance(
                    recentSends: try await tracker.recentSends(endpoint, now: now, on: connection), now: now)
                let limit = max(1, allowance) * configuration.maxJobsPerPoll
                let windowEnd = now.addingTimeInterval(configuration.schedule.batchWindow.seconds)
                let rows = try await tracker.candidates(endpoint, until: windowEnd, limit: limit, on: connection)
                // Watch looks due later, within their own ride window, may fill one poll's room.
                let riders = allowance > 0 && rows.contains(where: { $0.candidate.nextDue <= now })
                    ? try await tracker.watchRiders(
                        endpoint, after: windowEnd, until: now.addingTimeInterval(configuration.prediction.watchRideWindow),
                        limit: configuration.maxJobsPerPoll, on: connection)
                    : []
                let plan = Batching.plan(
                    candidates: (rows + riders).map(\.candidate), now: now, allowance: allowance,
                    schedule: configuration.schedule, timeout: configuration.timeout,
                    maxJobsPerPoll: configuration.maxJobsPerPoll, completionReserve: configuration.budget.completionReserve)
                let byID = Dictionary((rows + riders).map { ($0.candidate.jobID, $0) }, uniquingKeysWith: { first, _ in first })
                try await tracker.send(plan, endpoint: endpoint, rows: byID, now: now, on: connection)
                try await tracker.finishTimedOut(
                    plan.timeOuts.compactMap { id in
                        byID[id].map {
                            TimedOutJob(jobID: id, launchGroup: $0.launchGroup, chunk: $0.chunk, lastStatus: $0.phase,
                                        timeoutSeconds: $0.timeoutSeconds, trace: $0.trace)
                        }
                    }, now: now, on: connection)
                summary.polls += plan.polls.map {
                    TickSummary.SentPoll(endpoint: endpoint, isFinal: $0.isFinal, jobIDs: $0.jobIDs)
                }
                summary.timedOut += plan.timeOuts
                summary.deferred += plan.deferred.count
                // A full candidate list may hide more due jobs; a cap-deferral waits for the window.
                if rows.count == limit && allowance > plan.polls.count { summary.moreWork = true }
                for id in plan.polledJobIDs {
                    if let due = byID[id]?.candidate.nextDue, due <= now {
                        summary.dueLags.append(now.timeIntervalSince(due))
                    }
                }
            }
            summary.nextDue = try await tracker.earliestDue(on: connection)
            return summary
        }
        for poll in summary.polls { metrics.pollSent(jobs: poll.jobIDs.count, isFinal: poll.isFinal) }
        for lag in summary.dueLags { metrics.lag(lag) }
        metrics.timedOut(summary.timedOut.count)
        metrics.deferredByCap(summary.deferred)
        if !summary.polls.isEmpty || !summary.timedOut.isEmpty {
            onCommit()
            logger.debug("polls scheduled", metadata: [
                "polls": "\(summary.polls.count)", "jobs": "\(summary.polls.reduce(0) { $0 + $1.jobIDs.count })",
                "timedOut": "\(summary.timedOut.count)", "deferred": "\(summary.deferred)",
            ])
        }
        return summary
    }

    /// How long to wait for the next tick: the tick interval, or less when a
    /// look is planned sooner (a predicted look is not rounded up to a tick);
    /// the idle interval when no job is live (a `job.created` wakes the loop).
    func idle(after summary: TickSummary) -> Duration {
        guard let due = summary.nextDue else { return configuration.idleInterval }
        let wait = max(0, due.timeIntervalSince(summary.now))
        return wait < configuration.tickInterval.seconds ? .milliseconds(Int64(wait * 1000) + 1) : configuration.tickInterval
    }

    /// Refreshes the tracked-jobs gauges and purges finished jobs past retention.
    func housekeeping() async throws {
        let tracker = self.tracker
        let (counts, purged) = try await pool.transaction { connection in
            let now = try await JobTracker.now(on: connection)
            return (try await tracker.trackedCounts(on: connection), try await tracker.purgeFinished(now: now, on: connection))
        }
        metrics.tracked(counts)
        if purged > 0 { logger.info("purged finished jobs", metadata: ["count": "\(purged)"]) }
    }
}
