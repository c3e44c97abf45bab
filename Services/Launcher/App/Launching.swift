import Foundation
import MusterDRS
import MusterDomain
import MusterEvents

/// Starts one chunk whose leases and launch intent are stored (state
/// SUBMITTING): launch configuration, StartRecovery (or
/// TerminateRecoveryInstances), then the job id with `job.created` in one
/// transaction. Outcomes that prove no job was created requeue or fail the
/// chunk; ambiguous ones (5xx, transport) leave the intent for the reconciler.
struct Launching: Sendable {
    let context: LauncherContext

    func submit(_ chunk: ChunkRow) async throws {
        do {
            switch chunk.kind {
            case .launch: try await launch(chunk)
            case .terminate: try await terminate(chunk)
            }
        } catch let error as DRSError {
            try await handle(error, chunk)
        } catch let error as AccountError {
            LauncherMetrics.launchFailed(chunk.endpoint, code: error.code)
            try await context.store.fail(chunk, code: error.code, reason: error.description, pool: context.pool)
        }
        context.wakeRelay()
    }

    private func launch(_ chunk: ChunkRow) async throws {
        let request = try chunk.decodeRequest(WaveStarted.self)
        if context.configuration.checkLaunchConfiguration || request.launchOverrides != nil {
            do {
                try await context.launchConfiguration.prepare(
                    chunk.items, overrides: request.launchOverrides, endpoint: chunk.endpoint)
            } catch let error as DRSError {
                // Nothing was launched yet: a definite outcome whatever the error.
                try await noJob(error, chunk)
                return
            }
        }
        let tags = JobTags.launchTags(for: request, chunk: chunk.chunk, now: Date())
        let response = try await context.gate.call(chunk.endpoint, "StartRecovery", repeat: .throttlingOnly) {
            try await $0.startRecovery(StartRecoveryRequest(
                sourceServers: chunk.items.map { StartRecoveryRequestSourceServer(sourceServerID: $0) },
                isDrill: request.executionType == .drill, tags: tags))
        }
        guard let job = response.job else {
            context.logger.warning("StartRecovery answered without a job; the reconciler will look for it",
                                   metadata: ["launchGroup": "\(chunk.launchGroup)", "chunk": "\(chunk.chunk)"])
            return
        }
        try context.hooks.afterStartRecovery(job.jobID)
        try await recordLaunch(chunk, job: job, request: request)
        LauncherMetrics.launched(chunk.endpoint, jobType: .launch, queuedFor: Date().timeIntervalSince(chunk.receivedAt))
        context.logger.info("launched", metadata: [
            "launchGroup": "\(chunk.launchGroup)", "chunk": "\(chunk.chunk)", "jobId": "\(job.jobID)",
            "servers": "\(chunk.items.count)",
        ])
    }

    /// Stores a LAUNCH job (started now, or found by the reconciler) and owes `job.created`.
    func recordLaunch(_ chunk: ChunkRow, job: Job, request: WaveStarted) async throws {
        let created = JobCreated(
            launchGroup: chunk.launchGroup, chunk: chunk.chunk, chunkCount: chunk.chunkCount, jobID: job.jobID,
            jobType: .launch, isDrill: request.executionType == .drill, sourceServerIDs: chunk.items,
            createdAt: job.creationDateTime.flatMap(DRSDateTime.date(from:)) ?? Date(),
            waveStartedAt: request.waveStartedAt, timeoutSeconds: request.timeoutSeconds)
        try await context.store.recordJob(chunk, job: created, leaseServers: [], pool: context.pool)
    }

    private func terminate(_ chunk: ChunkRow) async throws {
        let response = try await context.gate.call(chunk.endpoint, "TerminateRecoveryInstances", repeat: .throttlingOnly) {
            try await $0.terminateRecoveryInstances(TerminateRecoveryInstancesRequest(recoveryInstanceIDs: chunk.items))
        }
        guard let job = response.job else { return }
        try context.hooks.afterStartRecovery(job.jobID)
        try await recordTerminate(chunk, job: job)
    }

    func recordTerminate(_ chunk: ChunkRow, job: Job) async throws {
        let servers = job.participatingServers?.compactMap(\.sourceServerID) ?? []
        let created = JobCreated(
            launchGroup: chunk.launchGroup, chunk: chunk.chunk, chunkCount: chunk.chunkCount, jobID: job.jobID,
            jobType: .terminate, isDrill: true, sourceServerIDs: servers,
            createdAt: job.creationDateTime.flatMap(DRSDateTime.date(from:)) ?? Date(),
            waveStartedAt: chunk.receivedAt, timeoutSeconds: 3600)
        try await context.store.recordJob(chunk, job: created, leaseServers: servers, pool: context.pool)
        LauncherMetrics.launched(chunk.endpoint, jobType: .terminate, queuedFor: Date().timeIntervalSince(chunk.receivedAt))
    }

    /// A StartRecovery / TerminateRecoveryInstances error.
    private func handle(_ error: DRSError, _ chunk: ChunkRow) async throws {
        switch error {
        case .internalServer, .transport, .decoding:
            ambiguous(error, chunk)
        case .unknown(_, let status, _) where status >= 500:
            ambiguous(error, chunk)
        default:
            try await noJob(error, chunk)
        }
    }

    private func ambiguous(_ error: DRSError, _ chunk: ChunkRow) {
        // DRS may or may not have created the job: never retry blindly. The
        // intent stays SUBMITTING and the next tick reconciles it by its tags.
        context.logger.warning("launch outcome unknown; reconciling before any retry", metadata: [
            "launchGroup": "\(chunk.launchGroup)", "chunk": "\(chunk.chunk)", "error": "\(error)",
        ])
    }

    /// DRS certainly created no job.
    private func noJob(_ error: DRSError, _ chunk: ChunkRow) async throws {
        let now = Date()
        let store = context.store, pool = context.pool
        switch error {
        case .conflict(let shape):
            LauncherMetrics.conflict(chunk.endpoint)
            let conflicts = chunk.conflicts + 1
            let first = chunk.firstConflictAt ?? now
            switch context.configuration.conflict.decide(conflicts: conflicts, firstConflictAt: first, now: now) {
            case .retry(let at):
                context.logger.info("ConflictException: a job Muster did not start holds a server; backing off", metadata: [
                    "launchGroup": "\(chunk.launchGroup)", "chunk": "\(chunk.chunk)", "server": "\(shape.resourceId ?? "-")",
                    "retryAt": "\(at)",
                ])
                try await store.requeue(
                    chunk, reason: .conflict, notBefore: at, conflicts: conflicts, firstConflictAt: first,
                    blocking: shape.resourceId.map { [$0] } ?? [], pool: pool)
            case .giveUp:
                LauncherMetrics.launchFailed(chunk.endpoint, code: error.errorType)
                try await store.fail(
                    chunk, code: error.errorType,
                    reason: "servers still held by a job Muster did not start after \(conflicts) attempts since "
                        + "\(EventCoding.formatTime(first)): \(error)", pool: pool)
            }
        case .serviceQuotaExceeded:
            // Jobs Muster does not know about use the quota: wait, never fail.
            let delay = max(1, 10 * context.configuration.conflict.scale)
            try await store.requeue(chunk, reason: .quota, notBefore: now.addingTimeInterval(delay), pool: pool)
        case _ where error.isRetryable:
            try await store.requeue(chunk, reason: .throttled, notBefore: now.addingTimeInterval(1), pool: pool)
        default:
            LauncherMetrics.launchFailed(chunk.endpoint, code: error.errorType)
            try await store.fail(chunk, code: error.errorType, reason: error.description, pool: pool)
        }
    }
}
