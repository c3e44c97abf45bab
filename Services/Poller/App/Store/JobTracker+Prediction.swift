import Foundation
import MusterDomain
import MusterEvents
import MusterPostgres

/// The predictive schedule's SQL (issue 14): the endpoint's phase history and
/// live-job count, and what a finished job teaches the model. Every call runs
/// on the caller's transaction.
extension JobTracker {
    /// What `NextLookPolicy` needs about one endpoint and job type.
    struct EndpointModel: Sendable {
        var history: [DRSJobType: PhaseHistory]
        /// Live jobs another step waits for (the ones that sweep).
        var liveJobs: Int
    }

    /// The endpoint's history (all job types) and its live jobs that gate a next step.
    func endpointModel(_ endpoint: Endpoint, on connection: PostgresConnection) async throws -> EndpointModel {
        guard configuration.prediction.enabled else { return EndpointModel(history: [:], liveJobs: 0) }
        let rows = try await connection.query(
            """
            SELECT job_type, phase, samples, mean, variance, minimum, maximum FROM \(schema).phase_history
            WHERE account_id = $1 AND region = $2
            """, [endpoint.accountID, endpoint.region]).rows
        var history: [DRSJobType: PhaseHistory] = [:]
        for row in rows {
            guard let type = DRSJobType(rawValue: try row.decode(String.self, "job_type")) else { continue }
            let stats = PhaseStats(
                samples: try row.decode(Int.self, "samples"), mean: try row.decode(Double.self, "mean"),
                variance: try row.decode(Double.self, "variance"), minimum: try row.decode(Double.self, "minimum"),
                maximum: try row.decode(Double.self, "maximum"))
            switch try row.decode(DRSJobStatus.self, "phase") {
            case .pending: history[type, default: PhaseHistory()].pending = stats
            case .started: history[type, default: PhaseHistory()].started = stats
            case .completed: continue
            }
        }
        let live = try await connection.query(
            """
            SELECT count(*) AS n FROM \(schema).jobs
            WHERE account_id = $1 AND region = $2 AND state IN ('TRACKING', 'FINAL_REQUESTED') AND gates_next_step
            """, [endpoint.accountID, endpoint.region]).rows[0].decode(Int.self, "n")
        return EndpointModel(history: history, liveJobs: live)
    }

    /// The predicted next look, or nil (use the cadence).
    func predictedLook(
        _ facts: JobTimelineFacts, type: DRSJobType, model: EndpointModel, now: Date, served: Date? = nil,
        lastPolledAt: Date?, deadline: Date
    ) -> NextLook? {
        NextLookPolicy.next(
            job: facts, history: model.history[type] ?? PhaseHistory(), now: now, served: served,
            lastPolledAt: lastPolledAt,
            deadline: deadline, endpointJobs: model.liveJobs, settings: configuration.prediction,
            schedule: configuration.schedule)
    }

    /// The earliest planned look of any live job.
    func earliestDue(on connection: PostgresConnection) async throws -> Date? {
        try await connection.query(
            "SELECT min(next_due) AS due FROM \(schema).jobs WHERE state IN ('TRACKING', 'FINAL_REQUESTED')"
        ).rows.first?.decode(Date?.self, "due")
    }

    /// Adds a successful job's phase durations (DRS seconds) to the endpoint's history.
    func learn(
        _ endpoint: Endpoint, type: DRSJobType, durations: [DRSJobStatus: Double], now: Date,
        on connection: PostgresConnection
    ) async throws {
        for (phase, seconds) in durations.sorted(by: { $0.key.rank < $1.key.rank }) where seconds >= 0 {
            let row = try await connection.query(
                """
                SELECT samples, mean, variance, minimum, maximum FROM \(schema).phase_history
                WHERE account_id = $1 AND region = $2 AND job_type = $3 AND phase = $4 FOR UPDATE
                """, [endpoint.accountID, endpoint.region, type.rawValue, phase]).rows.first
            let stats = try row.map {
                PhaseStats(
                    samples: try $0.decode(Int.self, "samples"), mean: try $0.decode(Double.self, "mean"),
                    variance: try $0.decode(Double.self, "variance"), minimum: try $0.decode(Double.self, "minimum"),
                    maximum: try $0.decode(Double.self, "maximum"))
            }
            let next = stats?.adding(seconds, weight: configuration.prediction.historyWeight) ?? PhaseStats(first: seconds)
            try await connection.query(
                """
                INSERT INTO \(schema).phase_history
                    (account_id, region, job_type, phase, samples, mean, variance, minimum, maximum, updated_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                ON CONFLICT (account_id, region, job_type, phase) DO UPDATE SET
                    samples = EXCLUDED.samples, mean = EXCLUDED.mean, variance = EXCLUDED.variance,
                    minimum = EXCLUDED.minimum, maximum = EXCLUDED.maximum, updated_at = EXCLUDED.updated_at
                """,
                [endpoint.accountID, endpoint.region, type.rawValue, phase, next.samples, next.mean, next.variance,
                 next.minimum, next.maximum, now])
        }
    }
}

/// The prediction-related columns of one `poller.jobs` row.
struct PredictionRow: Sendable {
    var endpoint: Endpoint
    var type: DRSJobType
    var createdAt: Date
    var trackedAt: Date
    var startedAt: Date?
    var startedExact: Bool
    var expectedAt: Date?
    var polls: Int
    var gatesNextStep: Bool

    /// Reads the columns `PredictionRow.columns` selects.
    init(_ row: PostgresRow) throws {
        endpoint = Endpoint(accountID: try row.decode(String.self, "account_id"), region: try row.decode(String.self, "region"))
        type = DRSJobType(rawValue: try row.decode(String.self, "job_type")) ?? .launch
        createdAt = try row.decode(Date.self, "created_at")
        trackedAt = try row.decode(Date.self, "tracked_at")
        startedAt = try row.decode(Date?.self, "started_at")
        startedExact = try row.decode(Bool.self, "started_exact")
        expectedAt = try row.decode(Date?.self, "expected_at")
        polls = try row.decode(Int.self, "polls")
        gatesNextStep = try row.decode(Bool.self, "gates_next_step")
    }

    /// The columns to select.
    static let columns = "account_id, region, job_type, created_at, tracked_at, started_at, started_exact, expected_at, polls, gates_next_step"

    func facts(phase: DRSJobStatus) -> JobTimelineFacts {
        JobTimelineFacts(
            phase: phase, createdAt: createdAt, trackedAt: trackedAt, startedAt: startedAt, gatesNextStep: gatesNextStep)
    }
}

extension JobTracker {
    /// A job observed COMPLETED: report the prediction, and teach the model
    /// when the job's phases were clean (every server launched, LAUNCH_START read).
    func finished(
        _ row: PredictionRow, phase: DRSJobStatus, transition: TransitionFacts, observed: JobObserved, now: Date,
        on connection: PostgresConnection
    ) async throws {
        let metrics = PollerMetrics()
        metrics.looksPerJob(row.polls)
        guard configuration.prediction.enabled, let end = transition.endedAt else { return }
        if phase == .started { reportTransition(.completed, row: row, observedAt: observed.observedAt, actual: end) }
        let startedAt = row.startedAt ?? transition.startedAt
        let exact = row.startedExact || transition.startedAt != nil
        guard transition.allLaunched, exact, let startedAt else { return }
        try await learn(
            row.endpoint, type: row.type,
            durations: [.pending: startedAt.timeIntervalSince(row.createdAt), .started: end.timeIntervalSince(startedAt)],
            now: now, on: connection)
    }

    /// Metrics for an observed transition (`actual` in DRS time; the STARTED
    /// transition's is the row's `started_at`).
    func reportTransition(_ transition: DRSJobStatus, row: PredictionRow, observedAt: Date, actual: Date? = nil) {
        guard let actual = actual ?? row.startedAt else { return }
        let clock = DRSClock(createdAt: row.createdAt, trackedAt: row.trackedAt, timeScale: configuration.prediction.drsTimeScale)
        let report = TransitionReport(actual: clock.local(actual), seenAt: observedAt, expected: row.expectedAt)
        PollerMetrics().transition(transition, report)
    }
}

/// How well one transition was predicted and caught (poller time). Pure.
public struct TransitionReport: Sendable, Equatable {
    /// Whether the model expected the transition before or after it happened.
    public enum Outcome: String, Sendable {
        /// Expected sooner than it came (the look came early: more looks).
        case early
        /// Expected later than it came (the look waited).
        case late
    }

    /// From the transition to the look that saw it (≥ 0).
    public var lag: TimeInterval
    /// |expected − actual|, when there was a prediction.
    public var error: TimeInterval?
    /// Early or late, when there was a prediction.
    public var outcome: Outcome?

    /// Compares the transition at `actual` with the look at `seenAt` and the model's `expected` time.
    public init(actual: Date, seenAt: Date, expected: Date?) {
        lag = max(0, seenAt.timeIntervalSince(actual))
        error = expected.map { abs($0.timeIntervalSince(actual)) }
        outcome = expected.map { $0 < actual ? .early : .late }
    }
}
