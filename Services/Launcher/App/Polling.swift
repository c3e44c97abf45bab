import Foundation
import MusterDRS
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Serves `job.poll` (DESIGN §5 "Polls"): one DescribeJobs per request (≤ 1000
/// ids), DescribeJobLogItems only for jobs whose snapshot changed, then in
/// one transaction: the new snapshots, `job.observed` events, and the leases
/// of completed jobs released (whatever their servers' launch status).
struct Polling: Sendable {
    let context: LauncherContext

    private struct Known {
        var launchGroup: LaunchGroupID
        var chunk: Int
        var jobType: DRSJobType
        var fingerprint: String?
        var logCount: Int
    }

    private struct Observation {
        var observed: JobObserved
        var fingerprint: String
        var logCount: Int
    }

    func serve(_ endpoint: Endpoint) async throws {
        let store = context.store, s = store.schema
        let requests = try await context.pool.query(
            """
            SELECT id, job_ids::text AS job_ids, is_final FROM \(s).poll_requests
            WHERE account_id = $1 AND region = $2 ORDER BY id LIMIT 20
            """, [endpoint.accountID, endpoint.region]).rows
        for row in requests {
            let id = try row.decode(Int64.self, "id")
            let isFinal = try row.decode(Bool.self, "is_final")
            let ids = try JSONDecoder().decode([String].self, from: Data(try row.decode(String.self, "job_ids").utf8))
            var observations: [Observation] = []
            for batch in Chunking.batches(Array(Set(ids)).sorted(), size: JobPoll.maxJobIDs) {
                observations += try await observe(batch, endpoint: endpoint, isFinal: isFinal)
            }
            try await record(observations, pollID: id)
            context.wakeRelay()
        }
    }

    private func observe(_ ids: [String], endpoint: Endpoint, isFinal: Bool) async throws -> [Observation] {
        let s = context.store.schema
        let jobs = try await context.gate.callAll(endpoint, "DescribeJobs", items: \.items, nextToken: \.nextToken) {
            try await $0.describeJobs(DescribeJobsRequest(
                filters: DescribeJobsRequestFilters(jobIDs: ids), maxResults: JobPoll.maxJobIDs, nextToken: $1))
        }

        var known: [String: Known] = [:]
        let rows = try await context.pool.query(
            """
            SELECT job_id, launch_group, chunk, job_type, fingerprint, log_count FROM \(s).jobs
            WHERE job_id IN (SELECT jsonb_array_elements_text($1))
            """, [try LaunchStore.json(ids)]).rows
        for row in rows {
            guard let group = LaunchGroupID(try row.decode(String.self, "launch_group")) else { continue }
            known[try row.decode(String.self, "job_id")] = Known(
                launchGroup: group, chunk: try row.decode(Int.self, "chunk"),
                jobType: DRSJobType(rawValue: try row.decode(String.self, "job_type")) ?? .launch,
                fingerprint: try row.decode(String?.self, "fingerprint"), logCount: try row.decode(Int.self, "log_count"))
        }

        var result: [Observation] = []
        for job in jobs {
            var entry = known[job.jobID]
            if entry == nil, let identity = JobTags.identity(of: job.tags), let group = LaunchGroupID(identity.launchGroup) {
                entry = Known(launchGroup: group, chunk: identity.chunk, jobType: .launch, fingerprint: nil, logCount: 0)
            }
            guard let entry else {
                context.logger.warning("poll names a job Muster did not start; ignored", metadata: ["jobId": "\(job.jobID)"])
                continue
            }
            let snapshot = JobSnapshot(job)
            var newEvents: [MusterEvents.JobLogEvent] = []
            var logCount = entry.logCount
            if snapshot.fingerprint != entry.fingerprint {
                let logs = try await context.gate.callAll(
                    endpoint, "DescribeJobLogItems", items: \.items, nextToken: \.nextToken
                ) { try await $0.describeJobLogItems(DescribeJobLogItemsRequest(jobID: job.jobID, nextToken: $1)) }
                newEvents = logs.dropFirst(entry.logCount).map(JobSnapshot.event)
                logCount = max(logs.count, entry.logCount)
            }
            let observed = JobObserved(
                launchGroup: entry.launchGroup, chunk: entry.chunk, jobID: job.jobID, jobType: entry.jobType,
                status: snapshot.status, servers: snapshot.servers, newLogEvents: newEvents, endedAt: snapshot.endedAt,
                observedAt: Date(), isFinal: isFinal)
            result.append(Observation(observed: observed, fingerprint: snapshot.fingerprint, logCount: logCount))
        }
        return result
    }

    private func record(_ observations: [Observation], pollID: Int64) async throws {
        let store = context.store, s = store.schema
        try await context.pool.transaction { connection in
            for observation in observations {
                let job = observation.observed
                let completed = job.status == .completed
                try await connection.query(
                    """
                    UPDATE \(s).jobs SET status = $2, fingerprint = $3, log_count = $4,
                        completed_at = CASE WHEN $5 THEN coalesce(completed_at, now()) ELSE completed_at END
                    WHERE job_id = $1
                    """, [job.jobID, job.status.rawValue, observation.fingerprint, observation.logCount, completed])
                if completed {
                    // DRS frees a server when its job completes, LAUNCHED or FAILED alike.
                    try await connection.query("DELETE FROM \(s).server_leases WHERE job_id = $1", [job.jobID])
                }
                try await store.outbox.enqueue(
                    store.jobStatus(EventType.jobObserved, job.launchGroup, job), on: connection)
            }
            try await connection.query("DELETE FROM \(s).poll_requests WHERE id = $1", [pollID])
        }
    }
}

/// A DRS job reduced to what `job.observed` carries, with a fingerprint
/// that changes whenever anything reported changes. Pure.
struct JobSnapshot: Equatable {
    var status: DRSJobStatus
    var servers: [ObservedServer]
    var endedAt: Date?
    var fingerprint: String

    init(_ job: Job) {
        status = job.status.flatMap { DRSJobStatus(rawValue: $0.rawValue) } ?? .pending
        servers = (job.participatingServers ?? []).compactMap { server in
            guard let id = server.sourceServerID else { return nil }
            let runs = (server.launchActionsStatus?.runs ?? []).map { run in
                MusterEvents.LaunchActionRun(
                    actionID: run.action?.actionId ?? run.runId ?? "", actionName: run.action?.name,
                    status: run.status?.rawValue ?? "IN_PROGRESS", failureReason: run.failureReason)
            }
            return ObservedServer(
                sourceServerID: id,
                launchStatus: server.launchStatus.flatMap { DRSLaunchStatus(rawValue: $0.rawValue) } ?? .pending,
                recoveryInstanceID: server.recoveryInstanceID, launchActionRuns: runs,
                postLaunchActionsStatus: Self.overall(runs))
        }
        endedAt = job.endDateTime.flatMap(DRSDateTime.date(from:))
        fingerprint = ([status.rawValue] + servers.map { server in
            ([server.sourceServerID, server.launchStatus.rawValue, server.recoveryInstanceID ?? "-"]
                + server.launchActionRuns.map { "\($0.actionID)=\($0.status)" }).joined(separator: ",")
        }).joined(separator: "|")
    }

    /// SUCCEEDED when every run succeeded, FAILED when one failed, else IN_PROGRESS; nil without runs.
    static func overall(_ runs: [MusterEvents.LaunchActionRun]) -> String? {
        guard !runs.isEmpty else { return nil }
        if runs.contains(where: { $0.status == "FAILED" }) { return "FAILED" }
        return runs.allSatisfy { $0.status == "SUCCEEDED" } ? "SUCCEEDED" : "IN_PROGRESS"
    }

    static func event(_ log: JobLog) -> MusterEvents.JobLogEvent {
        MusterEvents.JobLogEvent(
            event: log.event?.rawValue ?? "UNKNOWN", time: log.logDateTime.flatMap(DRSDateTime.date(from:)) ?? Date(),
            sourceServerID: log.eventData?.sourceServerID, rawError: log.eventData?.rawError)
    }
}
