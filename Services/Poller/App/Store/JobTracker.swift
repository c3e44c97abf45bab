import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// What became of one `job.observed`.
public enum ObservationOutcome: String, Sendable {
    /// The snapshot was recorded (and the job rescheduled if its phase changed).
    case applied
    /// Older than what was known: ignored.
    case stale
    /// The job was already DONE or TIMED_OUT: ignored.
    case finished
    /// Observed COMPLETED: tracking stopped.
    case completed
    /// The final answer was still live: `job.timed-out` enqueued.
    case timedOut = "timed-out"
    /// Not a job this poller tracks (e.g. created before the poller existed).
    case unknown
}

/// The poller's table of live jobs (`<schema>.jobs`): every write happens on
/// the caller's transaction, so the inbox claim, the schedule change and the
/// outbox rows commit together. Times come from PostgreSQL's clock, so all
/// poller instances agree on what is due.
public struct JobTracker: Sendable {
    /// The configuration (schedule, timeouts, schema, topics).
    public let configuration: PollerConfiguration
    var schema: String { configuration.schema }
    private let outbox: Outbox

    /// A tracker over `configuration.schema`.
    public init(configuration: PollerConfiguration) {
        self.configuration = configuration
        outbox = Outbox(schema: configuration.schema)
    }

    /// Bounds the caller's transaction: a statement, or the transaction idling between statements,
    /// longer than `timeout` ends it (a hung poller's claim does not outlive it).
    static func bound(transactionTo timeout: Duration, on connection: PostgresConnection) async throws {
        let milliseconds = "\(Int(timeout.seconds * 1000))"
        try await connection.query("SELECT set_config('statement_timeout', $1, true)", [milliseconds])
        try await connection.query("SELECT set_config('idle_in_transaction_session_timeout', $1, true)", [milliseconds])
    }

    /// PostgreSQL's current time (the one clock every poller shares).
    public static func now(on connection: PostgresConnection) async throws -> Date {
        try await connection.query("SELECT clock_timestamp() AS now").rows[0].decode(Date.self, "now")
    }

    /// Starts tracking a created job; false when it was already tracked
    /// (a re-published `job.created` with a new event id). `announcedAt` is
    /// the `job.created` event's time (the launcher's, just after StartRecovery
    /// answered): the DRS clock is anchored there rather than on this moment,
    /// so the time the event spent in the outbox, the broker and this
    /// consumer does not make every prediction of the job late
    /// (`DRSClock.anchor`).
    @discardableResult
    public func track(_ created: JobCreated, announcedAt: Date? = nil, on connection: PostgresConnection) async throws -> Bool {
        let now = try await Self.now(on: connection)
        let anchor = DRSClock.anchor(announcedAt: announcedAt, trackedAt: now)
        var random = SystemRandomNumberGenerator()
        let endpoint = created.launchGroup.endpoint
        let model = try await endpointModel(endpoint, on: connection)
        let look = predictedLook(
            JobTimelineFacts(phase: .pending, createdAt: created.createdAt, trackedAt: anchor, startedAt: nil,
                             gatesNextStep: created.gatesNextStep ?? true),
            type: created.jobType, model: model, now: now, lastPolledAt: nil, deadline: created.deadline)
        let due = look?.at ?? configuration.schedule.firstDue(trackedAt: now, deadline: created.deadline, using: &random)
        try await connection.query(
            "INSERT INTO \(schema).endpoints (account_id, region) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [endpoint.accountID, endpoint.region])
        let result = try await connection.query(
            """
            INSERT INTO \(schema).jobs (job_id, launch_group, execution_id, chunk, account_id, region, job_type,
                phase, state, created_at, tracked_at, deadline, timeout_seconds, next_due, is_drill, look_kind,
                expected_at, traceparent, tracestate, gates_next_step)
            VALUES ($1, $2, $3, $4, $5, $6, $7, 'PENDING', 'TRACKING', $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
            ON CONFLICT (job_id) DO NOTHING
            """,
            [created.jobID, created.launchGroup.description, created.launchGroup.executionID.rawValue, created.chunk,
             endpoint.accountID, endpoint.region, created.jobType.rawValue, created.createdAt, anchor, created.deadline,
             created.timeoutSeconds, due, created.isDrill, (look?.kind ?? .cadence).rawValue, look?.expected,
             StoredTrace.current?.traceparent, StoredTrace.current?.tracestate, created.gatesNextStep ?? true])
        return result.affectedRows == 1
    }

    /// Tracks the duplicates of a chunk's job like the job itself (same launch
    /// group, deadline and timeout), so the launcher looks at them and the
    /// planner learns the instances they launched. Without a tracked
    /// original (already purged) they get the wave's longest timeout from now.
    /// Returns how many were new.
    public func trackDuplicates(_ event: JobDuplicateDetected, on connection: PostgresConnection) async throws -> Int {
        let now = try await Self.now(on: connection)
        let endpoint = event.launchGroup.endpoint
        try await connection.query(
            "INSERT INTO \(schema).endpoints (account_id, region) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [endpoint.accountID, endpoint.region])
        var tracked = 0
        for jobID in event.duplicateJobIDs where jobID != event.jobID {
            let fallbackTimeout = 3600
            tracked += try await connection.query(
                """
                INSERT INTO \(schema).jobs (job_id, launch_group, execution_id, chunk, account_id, region, job_type,
                    phase, state, created_at, tracked_at, deadline, timeout_seconds, next_due, is_drill, look_kind,
                    traceparent, tracestate, gates_next_step)
                SELECT $1, $2, $3, $4, $5, $6, coalesce(o.job_type, 'LAUNCH'), 'PENDING', 'TRACKING',
                       $7::timestamptz, $7::timestamptz, coalesce(o.deadline, $7::timestamptz + $8::int * interval '1 second'),
                       coalesce(o.timeout_seconds, $8::int), $7::timestamptz,
                       coalesce(o.is_drill, true), 'cadence', $10::text, $11::text, coalesce(o.gates_next_step, true)
                FROM (SELECT 1) one LEFT JOIN \(schema).jobs o ON o.job_id = $9
                ON CONFLICT (job_id) DO NOTHING
                """,
                [jobID, event.launchGroup.description, event.launchGroup.executionID.rawValue, event.chunk, endpoint.accountID,
                 endpoint.region, now, fallbackTimeout, event.jobID, StoredTrace.current?.traceparent,
                 StoredTrace.current?.tracestate]).affectedRows
        }
        return tracked
    }

    /// Applies a snapshot; a final answer still live past the deadline
    /// enqueues `job.timed-out` on the same transaction.
    public func observe(_ observed: JobObserved, on connection: PostgresConnection) async throws -> ObservationOutcome {
        let result = try await connection.query(
            """
            SELECT state, phase, observed_at, next_due, last_polled_at, deadline, launch_group, chunk, timeout_seconds,
                   is_drill, \(PredictionRow.columns)
            FROM \(schema).jobs WHERE job_id = $1 FOR UPDATE
            """, [observed.jobID])
        guard let row = result.rows.first else { return .unknown }
        let job = JobSnapshotState(
            state: try row.decode(TrackingState.self, "state"), phase: try row.decode(DRSJobStatus.self, "phase"),
            observedAt: try row.decode(Date?.self, "observed_at"), nextDue: try row.decode(Date?.self, "next_due"),
            lastPolledAt: try row.decode(Date?.self, "last_polled_at"), deadline: try row.decode(Date.self, "deadline"))
        let now = try await Self.now(on: connection)
        var random = SystemRandomNumberGenerator()
        let isRecovery = try row.decode(String.self, "job_type") == DRSJobType.launch.rawValue
            && !(try row.decode(Bool.self, "is_drill"))
        let decision = ObservationPolicy.decide(
            job: job, status: observed.status, awaitingPostLaunch: observed.awaitsPostLaunch(isRecovery: isRecovery),
            observedAt: observed.observedAt, isFinal: observed.isFinal, now: now,
            schedule: configuration.schedule, timeout: configuration.timeout, using: &random)
        let prediction = try PredictionRow(row)
        let transition = TransitionFacts(observed)
        switch decision {
        case .ignore(let reason):
            return reason == .stale ? .stale : .finished
        case .update(let phase, let observedAt, var nextDue):
            // The job log's LAUNCH_START (else, on turning STARTED, the look that saw it) anchors the prediction.
            var started = prediction
            if started.startedAt == nil && phase == .started {
                let clock = DRSClock(
                    createdAt: started.createdAt, trackedAt: started.trackedAt,
                    timeScale: configuration.prediction.drsTimeScale)
                started.startedAt = transition.startedAt ?? clock.drs(observed.observedAt)
                started.startedExact = transition.startedAt != nil
                if job.phase == .pending { reportTransition(.started, row: started, observedAt: observed.observedAt) }
            }
            var look: NextLook?
            if nextDue != nil {
                look = predictedLook(
                    started.facts(phase: phase), type: started.type,
                    model: try await endpointModel(started.endpoint, on: connection), now: now,
                    lastPolledAt: job.lastPolledAt, deadline: job.deadline)
                nextDue = look?.at ?? nextDue
            }
            let kind: String? = nextDue == nil ? nil : (look?.kind ?? .cadence).rawValue
            try await connection.query(
                """
                UPDATE \(schema).jobs SET phase = $2, observed_at = $3, next_due = COALESCE($4, next_due),
                    started_at = $5, started_exact = $6, look_kind = COALESCE($7, look_kind),
                    look_step = CASE WHEN $7 IS NULL THEN look_step ELSE $8 END,
                    expected_at = CASE WHEN $7 IS NULL THEN expected_at ELSE $9 END
                WHERE job_id = $1
                """,
                [observed.jobID, phase, observedAt, nextDue, started.startedAt, started.startedExact,
                 kind, look?.step, look?.expected])
            return .applied
        case .finish(let observedAt):
            try await finished(prediction, phase: job.phase, transition: transition, observed: observed, now: now,
                               on: connection)
            try await connection.query(
                """
                UPDATE \(schema).jobs SET phase = 'COMPLETED', observed_at = $2, state = 'DONE', next_due = NULL,
                    finished_at = $3
                WHERE job_id = $1
                """, [observed.jobID, observedAt, now])
            return .completed
        case .timeOut(let lastStatus):
            try await finishTimedOut(
                [TimedOutJob(
                    jobID: observed.jobID, launchGroup: try launchGroup(row), chunk: try row.decode(Int.self, "chunk"),
                    lastStatus: lastStatus, timeoutSeconds: try row.decode(Int.self, "timeout_seconds"))],
                now: now, on: connection)
            return .timedOut
        }
    }

    // MARK: Scheduler queries (on the scheduler's transaction)

    /// Locks up to `limit` endpoints with a due job, skipping endpoints another
    /// poller holds: one poller at a time plans an endpoint's polls.
    func claimEndpoints(now: Date, limit: Int, on connection: PostgresConnection) async throws -> [Endpoint] {
        let result = try await connection.query(
            """
            SELECT e.account_id, e.region FROM \(schema).endpoints e
            WHERE EXISTS (SELECT 1 FROM \(schema).jobs j
                          WHERE j.account_id = e.account_id AND j.region = e.region
                            AND j.state IN ('TRACKING', 'FINAL_REQUESTED') AND j.next_due <= $1)
            ORDER BY e.last_poll_at NULLS FIRST, e.account_id, e.region
            LIMIT $2
            FOR UPDATE OF e SKIP LOCKED
            """, [now, limit])
        return try result.rows.map {
            Endpoint(accountID: try $0.decode(String.self, "account_id"), region: try $0.decode(String.self, "region"))
        }
    }

    /// Send times of the endpoint's polls in the cap's window (older entries are pruned).
    func recentSends(_ endpoint: Endpoint, now: Date, on connection: PostgresConnection) async throws -> [Date] {
        let since = now.addingTimeInterval(-EndpointBudget.window)
        try await connection.query(
            "DELETE FROM \(schema).endpoint_polls WHERE account_id = $1 AND region = $2 AND sent_at <= $3",
            [endpoint.accountID, endpoint.region, since])
        let result = try await connection.query(
            "SELECT sent_at FROM \(schema).endpoint_polls WHERE account_id = $1 AND region = $2",
            [endpoint.accountID, endpoint.region])
        return try result.rows.map { try $0.decode(Date.self, "sent_at") }
    }

    /// The endpoint's jobs due by `until`, most overdue first, locked for this
    /// transaction (rows another transaction holds are skipped).
    func candidates(
        _ endpoint: Endpoint, until: Date, limit: Int, on connection: PostgresConnection
    ) async throws -> [CandidateRow] {
        try await candidateRows(endpoint, condition: "next_due <= $3", bound: until, limit: limit, on: connection)
    }

    /// Watch looks due after `after` and by `until`, at most `limit` (the room one poll has):
    /// they may ride along early on a poll the endpoint sends anyway (see `Batching`).
    func watchRiders(
        _ endpoint: Endpoint, after: Date, until: Date, limit: Int, on connection: PostgresConnection
    ) async throws -> [CandidateRow] {
        guard until > after, limit > 0 else { return [] }
        return try await candidateRows(
            endpoint, condition: "next_due > $3 AND next_due <= $5 AND state = 'TRACKING' AND look_kind = 'watch'",
            bound: after, extra: [until], limit: limit, on: connection)
    }

    private func candidateRows(
        _ endpoint: Endpoint, condition: String, bound: Date, extra: [any PostgresBindable] = [], limit: Int,
        on connection: PostgresConnection
    ) async throws -> [CandidateRow] {
        let result = try await connection.query(
            """
            SELECT job_id, next_due, state, final_polls, deadline, last_polled_at, launch_group, chunk, phase,
                   timeout_seconds, look_kind, look_step, traceparent, tracestate, \(PredictionRow.columns)
            FROM \(schema).jobs
            WHERE account_id = $1 AND region = $2 AND state IN ('TRACKING', 'FINAL_REQUESTED') AND \(condition)
            ORDER BY next_due
            LIMIT $4
            FOR UPDATE SKIP LOCKED
            """, [endpoint.accountID, endpoint.region, bound, limit] + extra)
        return try result.rows.map { row in
            // A completion look rides along only within its sweep step, a watch look up to half
            // the watch interval early (see Batching).
            let kind = NextLook.Kind(rawValue: try row.decode(String.self, "look_kind")) ?? .cadence
            let step = try row.decode(Double?.self, "look_step")
            let rideWindow: TimeInterval? = switch kind {
            case .completion: step
            case .watch: configuration.prediction.watchRideWindow
            case .cadence: nil
            }
            return CandidateRow(
                candidate: PollCandidate(
                    jobID: try row.decode(JobID.self, "job_id"), nextDue: try row.decode(Date.self, "next_due"),
                    state: try row.decode(TrackingState.self, "state"),
                    finalPolls: try row.decode(Int.self, "final_polls"), deadline: try row.decode(Date.self, "deadline"),
                    lastPolledAt: try row.decode(Date?.self, "last_polled_at"), rideWindow: rideWindow,
                    isCompletion: kind == .completion),
                launchGroup: try launchGroup(row), chunk: try row.decode(Int.self, "chunk"),
                phase: try row.decode(DRSJobStatus.self, "phase"),
                timeoutSeconds: try row.decode(Int.self, "timeout_seconds"), prediction: try PredictionRow(row),
                trace: StoredTrace(traceparent: try row.decode(String?.self, "traceparent"),
                                   tracestate: try row.decode(String?.self, "tracestate")))
        }
    }

    /// Enqueues the endpoint's polls, logs them against its cap and moves each
    /// polled job's next look forward, all on the scheduler's transaction.
    func send(
        _ plan: EndpointPlan, endpoint: Endpoint, rows: [JobID: CandidateRow], now: Date,
        on connection: PostgresConnection
    ) async throws {
        guard !plan.polls.isEmpty else { return }
        var updates: [JobUpdate] = []
        var messages: [OutboxMessage] = []
        let model = try await endpointModel(endpoint, on: connection)
        for poll in plan.polls {
            let payload = JobPoll(endpoint: endpoint, jobIDs: poll.jobIDs, isFinal: poll.isFinal, requestedAt: now)
            var message = try OutboxMessage(payload, source: EventSource.poller, topics: configuration.topics)
            // One poll asks DescribeJobs for jobs of possibly several drills: its span continues the
            // first job's trace and links the others' (docs/observability.md "Batches").
            let traces = poll.jobIDs.compactMap { rows[$0]?.trace }
            let position = await StoredTrace.withSpan(
                "DescribeJobs poll", parent: traces.first, links: traces, ofKind: .producer,
                attributes: ["muster.job_count": String(poll.jobIDs.count), "muster.poll_final": String(poll.isFinal)]
            ) { StoredTrace.current }
            message.event.traceparent = position?.traceparent
            message.event.tracestate = position?.tracestate
            messages.append(message)
            // One jitter draw per poll keeps its jobs together (see PollSchedule).
            let jitterUnit = Double.random(in: -1...1)
            for id in poll.jobIDs {
                guard let row = rows[id] else { continue }
                var due: Date?
                var look: NextLook?
                if poll.isFinal {
                    due = configuration.timeout.answerDeadline(sentAt: now, minimumGap: configuration.schedule.minimumGap)
                } else {
                    // A job riding along early has had its planned look (NextLookPolicy.next's `served`).
                    look = predictedLook(
                        row.prediction.facts(phase: row.phase), type: row.prediction.type, model: model, now: now,
                        served: row.candidate.nextDue, lastPolledAt: now, deadline: row.candidate.deadline)
                    due = look?.at ?? configuration.schedule.nextDue(
                        polledAt: now, phase: row.phase, deadline: row.candidate.deadline, jitterUnit: jitterUnit)
                }
                updates.append(JobUpdate(
                    job_id: id, state: (poll.isFinal ? TrackingState.finalRequested : .tracking).rawValue,
                    next_due: due.map(EventCoding.formatTime), final: poll.isFinal,
                    look_kind: (look?.kind ?? .cadence).rawValue, look_step: look?.step,
                    expected_at: look?.expected.map(EventCoding.formatTime)))
            }
            try await connection.query(
                """
                INSERT INTO \(schema).endpoint_polls (account_id, region, sent_at, job_count, is_final)
                VALUES ($1, $2, $3, $4, $5)
                """, [endpoint.accountID, endpoint.region, now, poll.jobIDs.count, poll.isFinal])
        }
        try await outbox.enqueue(messages, on: connection)
        let json = String(decoding: try JSONEncoder().encode(updates), as: UTF8.self)
        try await connection.query(
            """
            UPDATE \(schema).jobs AS j
            SET state = v.state, next_due = v.next_due, last_polled_at = $2, polls = j.polls + 1,
                final_polls = j.final_polls + CASE WHEN v.final THEN 1 ELSE 0 END,
                look_kind = v.look_kind, look_step = v.look_step, expected_at = COALESCE(v.expected_at, j.expected_at)
            FROM jsonb_to_recordset($1::jsonb) AS v(job_id text, state text, next_due timestamptz, final boolean,
                                                    look_kind text, look_step double precision, expected_at timestamptz)
            WHERE j.job_id = v.job_id
            """, [json, now])
        try await connection.query(
            "UPDATE \(schema).endpoints SET last_poll_at = $3 WHERE account_id = $1 AND region = $2",
            [endpoint.accountID, endpoint.region, now])
    }

    /// Marks jobs TIMED_OUT and enqueues one `job.timed-out` each. Callers hold
    /// the rows locked and have checked they are live, so each fires once.
    func finishTimedOut(_ jobs: [TimedOutJob], now: Date, on connection: PostgresConnection) async throws {
        guard !jobs.isEmpty else { return }
        var messages: [OutboxMessage] = []
        for job in jobs {
            let payload = JobTimedOut(
                launchGroup: job.launchGroup, chunk: job.chunk, jobID: job.jobID, lastStatus: job.lastStatus,
                timeoutSeconds: job.timeoutSeconds, timedOutAt: now)
            var message = try OutboxMessage(payload, source: EventSource.poller, topics: configuration.topics)
            // The scheduler's timeouts continue the job's trace (a consumer's: the current span's).
            message.event.traceparent = job.trace?.traceparent
            message.event.tracestate = job.trace?.tracestate
            messages.append(message)
            let updated = try await connection.query(
                """
                UPDATE \(schema).jobs SET state = 'TIMED_OUT', phase = $2, next_due = NULL, finished_at = $3
                WHERE job_id = $1 AND state IN ('TRACKING', 'FINAL_REQUESTED')
                """, [job.jobID, job.lastStatus, now])
            guard updated.affectedRows == 1 else {
                // Rolls the whole transaction back rather than publish a second timeout.
                throw PostgresError(
                    kind: .invalidArgument,
                    message: "job \(job.jobID) is no longer live; its timeout was already decided by another transaction")
            }
        }
        try await outbox.enqueue(messages, on: connection)
    }

    /// Live jobs per DRS phase, across every poller.
    func trackedCounts(on connection: PostgresConnection) async throws -> [DRSJobStatus: Int] {
        let result = try await connection.query(
            """
            SELECT phase, count(*) AS n FROM \(schema).jobs
            WHERE state IN ('TRACKING', 'FINAL_REQUESTED') GROUP BY phase
            """)
        var counts: [DRSJobStatus: Int] = [:]
        for row in result.rows { counts[try row.decode(DRSJobStatus.self, "phase")] = try row.decode(Int.self, "n") }
        return counts
    }

    /// Deletes finished jobs older than the retention; returns how many.
    func purgeFinished(now: Date, on connection: PostgresConnection) async throws -> Int {
        let cutoff = now.addingTimeInterval(-configuration.retention.seconds)
        return try await connection.query(
            "DELETE FROM \(schema).jobs WHERE finished_at IS NOT NULL AND finished_at < $1", [cutoff]).affectedRows
    }

    private func launchGroup(_ row: PostgresRow) throws -> LaunchGroupID {
        let text = try row.decode(String.self, "launch_group")
        guard let id = LaunchGroupID(text) else {
            throw PostgresError(
                kind: .decoding,
                message: "\(schema).jobs.launch_group holds \(text), which is not <executionId>:w<wave>:<accountId>:<region>")
        }
        return id
    }
}

/// A candidate row with what a timeout or reschedule needs.
struct CandidateRow: Sendable {
    var candidate: PollCandidate
    var launchGroup: LaunchGroupID
    var chunk: Int
    var phase: DRSJobStatus
    var timeoutSeconds: Int
    var prediction: PredictionRow
    /// The trace of the consumer span that tracked the job (nil while tracing is off).
    var trace: StoredTrace?
}

/// A job to mark TIMED_OUT.
struct TimedOutJob: Sendable {
    var jobID: JobID
    var launchGroup: LaunchGroupID
    var chunk: Int
    var lastStatus: DRSJobStatus
    var timeoutSeconds: Int
    /// The job's trace, when the scheduler times it out (a consumer's timeout continues its own span).
    var trace: StoredTrace?
}

/// One row of the bulk schedule update (JSON, snake_case as the SQL expects).
private struct JobUpdate: Encodable {
    var job_id: JobID
    var state: String
    var next_due: String?
    var final: Bool
    var look_kind: String
    var look_step: Double?
    var expected_at: String?
}

extension TrackingState: PostgresBindable, PostgresDecodable {}
extension DRSJobStatus: PostgresBindable, PostgresDecodable {}
