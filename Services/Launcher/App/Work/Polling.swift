import Foundation
import MusterDRS
import MusterDomain
import MusterEvents
import MusterMessaging

/// Serves `job.poll` (DESIGN §5 "Polls"): the waiting polls of an endpoint
/// are merged (each job once), jobs already seen terminal are dropped
/// without a DRS call, the rest cost one DescribeJobs per 1000 ids;
/// DescribeJobLogItems only for jobs whose snapshot changed; `job.observed`
/// only when something changed (`ObservationPolicy`). Completed jobs
/// release their leases in the same transaction.
struct Polling: Sendable {
    let context: LauncherContext

    /// Serves one round of waiting polls; returns whether any job completed
    /// (the endpoint's admission should look again) and whether polls remain.
    func serve(_ endpoint: Endpoint) async throws -> (completed: Bool, more: Bool) {
        let (completed, more, due) = try await serveRound(endpoint)
        return (completed || due, more)
    }

    private func serveRound(_ endpoint: Endpoint) async throws -> (completed: Bool, more: Bool, due: Bool) {
        let jobs = context.jobs
        let limit = 50
        let pending = try await jobs.pendingPolls(endpoint, limit: limit, pool: context.pool)
        guard !pending.ids.isEmpty else { return (false, false, false) }
        let known = try await jobs.known(pending.jobIDs, pool: context.pool)
        // A job already seen terminal is not looked at again (its job.observed is on its way),
        // unless post-launch runs are still to come.
        let live = pending.jobIDs.filter { known[$0]?.isLive ?? true }
        LauncherMetrics.pollsDropped(pending.jobIDs.count - live.count)
        var observations: [JobStore.Observation] = []
        for batch in Chunking.batches(live, size: JobPoll.maxJobIDs) {
            observations += try await observe(batch, known: known, finals: pending.finalIDs, endpoint: endpoint)
        }
        let (completed, due) = try await jobs.record(observations, served: pending.ids, pool: context.pool)
        if observations.contains(where: \.publish) { context.wakeRelay() }
        // Restores that fell due are carried out by the admission loop, woken like a freed lease.
        return (!completed.isEmpty, pending.ids.count == limit, due > 0)
    }

    private func observe(
        _ ids: [JobID], known: [JobID: JobStore.Known], finals: Set<JobID>, endpoint: Endpoint
    ) async throws -> [JobStore.Observation] {
        // One DescribeJobs serves the jobs of possibly several drills: its span continues the first
        // job's trace and links the others'; each job's observation then gets a span of its own in
        // its job's trace (docs/observability.md "Batches").
        let traces = ids.compactMap { known[$0]?.trace }
        let found = try await StoredTrace.withSpan(
            "DescribeJobs", parent: traces.first, links: traces, attributes: ["muster.job_count": String(ids.count)]
        ) {
            try await context.gate.callAll(endpoint, "DescribeJobs", items: \.items, nextToken: \.nextToken) {
                try await $0.describeJobs(DescribeJobsRequest(
                    filters: DescribeJobsRequestFilters(jobIDs: ids.map(\.rawValue)), maxResults: JobPoll.maxJobIDs, nextToken: $1))
            }
        }
        // Each job's observation (with its log read, when its status or a server's phase
        // changed) is made concurrently: a completed job's slot is not held behind the
        // log reads of the other jobs of the batch (the endpoint's budget orders the calls).
        return try await withThrowingTaskGroup(of: (Int, JobStore.Observation?).self) { group in
            for (index, job) in found.enumerated() {
                group.addTask {
                    let observation = try await StoredTrace.withSpan(
                        "DescribeJobs observation", parent: known[JobID(rawValue: job.jobID)]?.trace, attributes: ["muster.job_id": job.jobID]
                    ) {
                        var observation = try await self.observation(of: job, known: known, finals: finals, endpoint: endpoint)
                        observation?.trace = StoredTrace.current
                        return observation
                    }
                    return (index, observation)
                }
            }
            var results: [(Int, JobStore.Observation)] = []
            for try await (index, observation) in group { if let observation { results.append((index, observation)) } }
            return results.sorted { $0.0 < $1.0 }.map(\.1)
        }
    }

    private func observation(
        of job: Job, known: [JobID: JobStore.Known], finals: Set<JobID>, endpoint: Endpoint
    ) async throws -> JobStore.Observation? {
        let jobID = JobID(rawValue: job.jobID)
        var entry = known[jobID]
        if entry == nil, let identity = JobTags.identity(of: job.tags), let group = LaunchGroupID(identity.launchGroup) {
            entry = JobStore.Known(
                launchGroup: group, chunk: identity.chunk, jobType: .launch, fingerprint: nil, logKeys: [],
                logPending: false, isDrill: job.tags?[JobTags.executionType] != ExecutionType.recovery.rawValue,
                completed: false, awaitsPostLaunch: false)
        }
        guard let entry else {
            context.logger.warning("poll names a job Muster did not start; ignored", metadata: ["jobId": "\(job.jobID)"])
            return nil
        }
        let isRecovery = !entry.isDrill && entry.jobType == .launch
        let enabled = isRecovery
            ? try await context.launchConfiguration.postLaunchEnabled(job, endpoint: endpoint) : [:]
        let snapshot = JobSnapshot(job) { enabled[$0] ?? nil }
        var newEvents: [MusterEvents.JobLogEvent] = []
        var seen = JobLogDeduplicator(reportedKeys: entry.logKeys)
        var readFoundNew = false
        if ObservationPolicy.readsLog(previous: entry.fingerprint, current: snapshot, lastReadFoundNew: entry.logPending) {
            let logs = try await context.gate.callAll(
                endpoint, "DescribeJobLogItems", items: \.items, nextToken: \.nextToken
            ) { try await $0.describeJobLogItems(DescribeJobLogItemsRequest(jobID: job.jobID, nextToken: $1)) }
            newEvents = seen.newItems(in: logs).map(JobSnapshot.event)
            readFoundNew = !newEvents.isEmpty
        }
        let isFinal = finals.contains(jobID)
        let observed = JobObserved(
            launchGroup: entry.launchGroup, chunk: entry.chunk, jobID: jobID, jobType: entry.jobType,
            status: snapshot.status, servers: snapshot.servers, newLogEvents: newEvents, endedAt: snapshot.endedAt,
            observedAt: Date(), isFinal: isFinal)
        let publish = ObservationPolicy.publishes(
            previous: entry.fingerprint, current: snapshot, newEvents: newEvents.count, isFinal: isFinal)
        LauncherMetrics.observed(published: publish)
        return JobStore.Observation(
            observed: observed, fingerprint: snapshot.fingerprint, logKeys: seen.reportedKeys, logPending: readFoundNew,
            awaitsPostLaunch: observed.awaitsPostLaunch(isRecovery: isRecovery), publish: publish)
    }
}
