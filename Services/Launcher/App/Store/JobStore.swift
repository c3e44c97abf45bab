import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// The SQL of polls and tracked jobs.
struct JobStore: Sendable {
    let launch: LaunchStore
    var schema: String { launch.schema }

    /// A job as the launcher last saw it.
    struct Known: Sendable {
        var launchGroup: LaunchGroupID
        var chunk: Int
        var jobType: DRSJobType
        var fingerprint: String?
        var logKeys: [String]
        var logPending: Bool
        var isDrill: Bool
        var completed: Bool
        var awaitsPostLaunch: Bool
        /// The trace of the span that started the job (nil while tracing is off).
        var trace: StoredTrace?

        /// Still worth a DRS call: live, or COMPLETED with post-launch runs to come.
        var isLive: Bool { !completed || awaitsPostLaunch }
    }

    /// One look at a job, to record.
    struct Observation: Sendable {
        var observed: JobObserved
        var fingerprint: String
        var logKeys: [String]
        var logPending: Bool
        var awaitsPostLaunch: Bool
        var publish: Bool
        /// The position of the job's observation span: its `job.observed` continues the job's trace.
        var trace: StoredTrace?
    }

    /// Up to `limit` waiting polls of `endpoint`: their ids, the job ids they
    /// name (each once) and whether any is final.
    func pendingPolls(_ endpoint: Endpoint, limit: Int, pool: PostgresPool) async throws
        -> (ids: [Int64], jobIDs: [JobID], finalIDs: Set<JobID>)
    {
        let rows = try await pool.query(
            """
            SELECT id, job_ids::text AS job_ids, is_final FROM \(schema).poll_requests
            WHERE account_id = $1 AND region = $2 ORDER BY id LIMIT $3
            """, [endpoint.accountID, endpoint.region, limit]).rows
        var ids: [Int64] = [], jobIDs: [JobID] = [], seen = Set<JobID>(), finals = Set<JobID>()
        for row in rows {
            ids.append(try row.decode(Int64.self, "id"))
            let named = try JSONDecoder().decode([JobID].self, from: Data(try row.decode(String.self, "job_ids").utf8))
            let isFinal = try row.decode(Bool.self, "is_final")
            for id in named {
                if seen.insert(id).inserted { jobIDs.append(id) }
                if isFinal { finals.insert(id) }
            }
        }
        return (ids, jobIDs, finals)
    }

    /// What is recorded about `ids`.
    func known(_ ids: [JobID], pool: PostgresPool) async throws -> [JobID: Known] {
        var known: [JobID: Known] = [:]
        let rows = try await pool.query(
            """
            SELECT job_id, launch_group, chunk, job_type, fingerprint, log_keys::text AS log_keys, log_pending, is_drill,
                   completed_at IS NOT NULL AS completed, awaits_post_launch, traceparent, tracestate
            FROM \(schema).jobs WHERE job_id IN (SELECT jsonb_array_elements_text($1))
            """, [try LaunchStore.json(ids)]).rows
        for row in rows {
            guard let group = LaunchGroupID(try row.decode(String.self, "launch_group")) else { continue }
            known[try row.decode(JobID.self, "job_id")] = Known(
                launchGroup: group, chunk: try row.decode(Int.self, "chunk"),
                jobType: DRSJobType(rawValue: try row.decode(String.self, "job_type")) ?? .launch,
                fingerprint: try row.decode(String?.self, "fingerprint"),
                logKeys: try JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, "log_keys").utf8)),
                logPending: try row.decode(Bool.self, "log_pending"), isDrill: try row.decode(Bool.self, "is_drill"),
                completed: try row.decode(Bool.self, "completed"),
                awaitsPostLaunch: try row.decode(Bool.self, "awaits_post_launch"),
                trace: StoredTrace(traceparent: try row.decode(String?.self, "traceparent"),
                                   tracestate: try row.decode(String?.self, "tracestate")))
        }
        return known
    }

    /// Records the looks, releases the leases of completed jobs, owes the
    /// `job.observed` events and drops the served polls, in one transaction.
    /// Returns the jobs that completed with this look and how many restores fell due.
    @discardableResult
    func record(
        _ observations: [Observation], served pollIDs: [Int64], pool: PostgresPool
    ) async throws -> (completed: [JobID], dueRestores: Int) {
        let s = schema, launch = self.launch
        return try await pool.transaction { connection in
            var completed: [JobID] = []
            var dueRestores = 0
            for observation in observations {
                let job = observation.observed
                let isCompleted = job.status == .completed
                let updated = try await connection.query(
                    """
                    UPDATE \(s).jobs j SET status = $2, fingerprint = $3, log_keys = $4, log_count = jsonb_array_length($4),
                        completed_at = CASE WHEN $5 THEN coalesce(j.completed_at, now()) ELSE j.completed_at END,
                        log_pending = $6, awaits_post_launch = $7
                    FROM (SELECT job_id, completed_at AS previous FROM \(s).jobs WHERE job_id = $1 FOR UPDATE) before
                    WHERE j.job_id = before.job_id
                    RETURNING before.previous IS NULL AS newly
                    """, [job.jobID, job.status.rawValue, observation.fingerprint, try LaunchStore.json(observation.logKeys),
                          isCompleted, observation.logPending, observation.awaitsPostLaunch])
                let newly = try updated.rows.first?.decode(Bool?.self, "newly") ?? false
                if isCompleted && newly == true {
                    // DRS frees a server when its job completes, LAUNCHED or FAILED alike.
                    try await connection.query("DELETE FROM \(s).server_leases WHERE job_id = $1", [job.jobID])
                    completed.append(job.jobID)
                }
                let past = LaunchSettingsRules.pastLaunch(job)
                if !past.isEmpty {
                    dueRestores += try await RestoreStore(schema: s).dueForJob(job.jobID, servers: past, on: connection)
                }
                if observation.publish {
                    // Written after the looks, in one transaction: each row carries its own job's trace.
                    var message = try launch.message(job)
                    message.event.traceparent = observation.trace?.traceparent
                    message.event.tracestate = observation.trace?.tracestate
                    try await launch.outbox.enqueue(message, on: connection)
                }
            }
            if !pollIDs.isEmpty {
                try await connection.query(
                    "DELETE FROM \(s).poll_requests WHERE id = ANY(string_to_array($1, ',')::bigint[])",
                    [pollIDs.map(String.init).joined(separator: ",")])
            }
            return (completed, dueRestores)
        }
    }
}
