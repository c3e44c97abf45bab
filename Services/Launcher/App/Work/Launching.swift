import Foundation
import MusterDRS
import MusterDomain
import MusterEC2
import MusterEvents
import MusterMessaging

/// A chunk and the row version it was read at: every transition is applied
/// against that version, so two actors never both move one chunk.
struct ChunkHandle: Sendable {
    var row: ChunkRow
    var version: Int
}

/// Starts chunks and reconciles intents, through `ChunkLifecycle`: each
/// step is a pure decision, persisted with its effects in one transaction.
struct Launching: Sendable {
    let context: LauncherContext

    /// Applies `event` to `handle`; returns the effects, or nil when the row
    /// moved on meanwhile (nothing changed). A decision that changes nothing
    /// but asks for a wake-up is not written.
    func step(_ handle: inout ChunkHandle, _ event: ChunkEvent, facts: LaunchStore.Facts = .init()) async throws -> [ChunkEffect]? {
        let (status, effects) = try context.lifecycle.apply(handle.row.status, event)
        if status == handle.row.status && effects.allSatisfy({ if case .wakeAt = $0 { true } else { false } }) {
            return effects
        }
        guard try await context.store.apply(
            handle.row, version: handle.version, transition: (status, effects), instance: context.instanceID, facts: facts,
            pool: context.pool)
        else { return nil }
        handle.row.status = status
        handle.version += 1
        for effect in effects {
            switch effect {
            case .publishQueued, .recordJob: context.wakeRelay()
            case .publishLaunchFailed(let code, _):
                context.wakeRelay()
                LauncherMetrics.launchFailed(handle.row.endpoint, code: code)
            case .recordDuplicates(let ids):
                context.wakeRelay()
                LauncherMetrics.duplicates(handle.row.endpoint, ids.count)
                context.logger.critical("DRS holds more than one job for one chunk", metadata: [
                    "launchGroup": "\(handle.row.launchGroup)", "chunk": "\(handle.row.chunk)", "jobIds": "\(ids)"])
            default: break
            }
        }
        return effects
    }

    /// Takes the chunk's leases and records the intent (one transaction).
    /// The chunk is then this process's to send: in `inFlight` until
    /// `submit` ends. Nil when the row moved on meanwhile.
    func admit(_ admitted: ChunkHandle) async throws -> ChunkHandle? {
        var handle = admitted
        guard try await step(&handle, .admitted(now: Date())) != nil else { return nil }
        context.inFlight.withLock { _ = $0.insert(handle.row.id) }
        return handle
    }

    /// Sends an admitted chunk: recovery point, launch configuration, the
    /// request, the outcome. Returns the wake-ups its effects asked for. The
    /// chunk leaves `inFlight` when this ends — except on a test hook's
    /// `LauncherCrash`: a crashed process does nothing more, so no pass of it
    /// may take the intent over (its successor reconciles it).
    func submit(_ admitted: ChunkHandle) async throws -> [Date] {
        // The request continues the trace that queued the chunk: its DRS calls, log lines and
        // the job.created/job.launch-failed rows it writes are children of this span.
        let name = admitted.row.kind == .launch ? "StartRecovery" : "TerminateRecoveryInstances"
        return try await StoredTrace.withSpan(name, parent: admitted.row.trace, attributes: [
            "muster.launch_group": admitted.row.launchGroup.description, "muster.chunk": String(admitted.row.chunk),
        ]) { try await submitTraced(admitted) }
    }

    private func submitTraced(_ admitted: ChunkHandle) async throws -> [Date] {
        do {
            let wakes = try await send(admitted)
            context.inFlight.withLock { _ = $0.remove(admitted.row.id) }
            return wakes
        } catch let crash as LauncherCrash {
            throw crash
        } catch {
            context.inFlight.withLock { _ = $0.remove(admitted.row.id) }
            throw error
        }
    }

    private func send(_ admitted: ChunkHandle) async throws -> [Date] {
        var handle = admitted
        do {
            if case .launch(let request) = handle.row.request {
                // Recovery point first: a server without one refuses the chunk before anything changes.
                if let snapshots = try await RecoveryPoints(context: context).resolve(handle.row, request: request) {
                    try await context.store.saveRecoverySnapshots(handle.row.id, snapshots, pool: context.pool)
                    handle.row.recoverySnapshots = snapshots
                }
                if context.configuration.checkLaunchConfiguration {
                    try await context.launchConfiguration.prepare(handle.row.servers, overrides: nil, endpoint: handle.row.endpoint)
                }
                // Recorded before changed; restored once the job is past launch (or this chunk gives up).
                try await LaunchSettingsApplier(context: context).apply(handle.row, request: request)
                try context.hooks.afterApplyingSettings()
            }
        } catch let error as DRSError {
            // Nothing was sent: a definite outcome whatever the error.
            return Self.wakes(try await step(&handle, definite(error)) ?? [])
        } catch let error as AccountError {
            return Self.wakes(try await step(&handle, .rejected(code: error.code, reason: error.description)) ?? [])
        } catch let refused as LaunchRefused {
            return Self.wakes(try await step(&handle, .rejected(code: refused.code, reason: refused.description)) ?? [])
        } catch let error as EC2Error {
            // Nothing was launched; what was changed is restored when the leases go (requeue or failure).
            let event: ChunkEvent = error.isRetryable
                ? .throttled(now: Date()) : .rejected(code: "EC2." + error.code, reason: error.description)
            return Self.wakes(try await step(&handle, event) ?? [])
        }
        try context.hooks.beforeSend()
        // The fence: a revoked owner never sends; and once `sent_at` is written a
        // reconciler waits out the ambiguity window instead of relaunching.
        guard context.ownership.mayAct(for: handle.row.endpoint),
              try await step(&handle, .sending(now: Date())) != nil
        else {
            context.logger.notice("endpoint moved to another launcher before the request left; leaving the intent to it",
                                  metadata: ["launchGroup": "\(handle.row.launchGroup)", "chunk": "\(handle.row.chunk)"])
            return []
        }
        return Self.wakes(try await request(&handle) ?? [])
    }

    private func request(_ handle: inout ChunkHandle) async throws -> [ChunkEffect]? {
        let row = handle.row
        do {
            let job: Job?
            switch row.request {
            case .launch(let request):
                let tags = JobTags.launchTags(for: request, chunk: row.chunk, now: Date())
                job = try await context.gate.call(row.endpoint, "StartRecovery", repeat: .throttlingOnly) {
                    try await $0.startRecovery(StartRecoveryRequest(
                        sourceServers: row.servers.map { server in
                            StartRecoveryRequestSourceServer(
                                sourceServerID: server.rawValue,
                                recoverySnapshotID: row.recoverySnapshots?.first { $0.sourceServerID == server }?.snapshotID)
                        },
                        isDrill: request.executionType == .drill, tags: tags))
                }.job
            case .terminate:
                job = try await context.gate.call(row.endpoint, "TerminateRecoveryInstances", repeat: .throttlingOnly) {
                    try await $0.terminateRecoveryInstances(TerminateRecoveryInstancesRequest(recoveryInstanceIDs: row.items))
                }.job
            }
            guard let job else {
                context.logger.warning("DRS answered without a job; reconciling before any retry", metadata: [
                    "launchGroup": "\(row.launchGroup)", "chunk": "\(row.chunk)"])
                return try await step(&handle, .ambiguous(now: Date()))
            }
            let jobID = JobID(rawValue: job.jobID)
            try context.hooks.afterStartRecovery(jobID)
            let effects = try await step(&handle, .created(jobID: jobID), facts: facts(row, job: job))
            LauncherMetrics.launched(row.endpoint, jobType: row.kind == .launch ? .launch : .terminate,
                                     queuedFor: Date().timeIntervalSince(row.receivedAt))
            context.logger.info("launched", metadata: [
                "launchGroup": "\(row.launchGroup)", "chunk": "\(row.chunk)", "jobId": "\(job.jobID)",
                "servers": "\(row.items.count)"])
            return effects
        } catch let error as DRSError {
            if Self.isAmbiguous(error) {
                LauncherMetrics.ambiguous(row.endpoint)
                context.logger.warning("launch outcome unknown; reconciling before any retry", metadata: [
                    "launchGroup": "\(row.launchGroup)", "chunk": "\(row.chunk)", "error": "\(error)"])
                return try await step(&handle, .ambiguous(now: Date()))
            }
            if case .conflict = error { LauncherMetrics.conflict(row.endpoint) }
            return try await step(&handle, definite(error))
        } catch let error as AccountError {
            return try await step(&handle, .rejected(code: error.code, reason: error.description))
        }
    }

    /// 5xx, transport failures, timeouts and undecodable answers: DRS may have acted.
    static func isAmbiguous(_ error: DRSError) -> Bool {
        switch error {
        case .internalServer, .transport, .decoding: true
        case .unknown(_, let status, _) where status >= 500: true
        default: false
        }
    }

    /// The event for an error that proves no job was created.
    private func definite(_ error: DRSError) -> ChunkEvent {
        let now = Date()
        switch error {
        case .conflict(let shape): return .conflict(server: shape.resourceId.map(SourceServerID.init(rawValue:)), now: now)
        case .serviceQuotaExceeded: return .quotaExceeded(now: now)
        case _ where error.isRetryable: return .throttled(now: now)
        default: return .rejected(code: error.errorType, reason: error.description)
        }
    }

    /// Reconciles the SUBMITTING chunks of one endpoint that no task of this
    /// process is sending (the sender died, or the answer was ambiguous):
    /// one DescribeJobs listing since the earliest intent serves them all.
    func reconcile(_ orphans: [ChunkHandle], endpoint: Endpoint) async throws -> [Date] {
        guard let earliest = orphans.compactMap({ $0.row.status.intentAt ?? $0.row.receivedAt }).min() else { return [] }
        let fromDate = Reconciler.fromDate(for: earliest)
        let jobs = try await context.gate.callAll(endpoint, "DescribeJobs", items: \.items, nextToken: \.nextToken) {
            try await $0.describeJobs(DescribeJobsRequest(
                filters: DescribeJobsRequestFilters(fromDate: fromDate), maxResults: 1000, nextToken: $1))
        }
        var wakes: [Date] = []
        for orphan in orphans {
            var handle = orphan
            let row = orphan.row
            let matches: [Job]
            switch row.request {
            case .launch: matches = Reconciler.launchMatches(row.identity, among: jobs)
            case .terminate: matches = Array(Reconciler.terminateMatches(instances: row.items, among: jobs).prefix(1))
            }
            let verdict = Reconciler.verdict(
                matches: matches, sentAt: row.status.sentAt, now: Date(), window: context.reconcileWindow)
            LauncherMetrics.reconciled(verdict)
            var facts = LaunchStore.Facts(attempt: row.attempt)
            switch verdict {
            case .found(let jobID), .duplicate(let jobID, _):
                if let job = jobs.first(where: { $0.jobID == jobID.rawValue }) { facts = self.facts(row, job: job) }
                context.logger.notice("reconciled a launch intent: DRS has its job", metadata: [
                    "launchGroup": "\(row.launchGroup)", "chunk": "\(row.chunk)", "jobId": "\(jobID)"])
            case .notFound:
                context.logger.notice("reconciled a launch intent: no job was created, none can appear; it will be launched",
                                      metadata: ["launchGroup": "\(row.launchGroup)", "chunk": "\(row.chunk)"])
            case .notYet:
                break
            }
            wakes += Self.wakes(try await step(&handle, .reconciled(verdict, now: Date()), facts: facts) ?? [])
        }
        return wakes
    }

    /// `job.created` for `job`, the job of `row`.
    private func facts(_ row: ChunkRow, job: Job) -> LaunchStore.Facts {
        let createdAt = job.creationDateTime.flatMap(DRSDateTime.date(from:)) ?? Date()
        let created: JobCreated
        switch row.request {
        case .launch(let request):
            created = JobCreated(
                launchGroup: row.launchGroup, chunk: row.chunk, chunkCount: row.chunkCount, jobID: JobID(rawValue: job.jobID),
                jobType: .launch, isDrill: request.executionType == .drill, sourceServerIDs: row.servers,
                createdAt: createdAt, waveStartedAt: request.waveStartedAt, timeoutSeconds: request.timeoutSeconds,
                recoverySnapshots: row.recoverySnapshots, gatesNextStep: request.gatesNextStep)
        case .terminate:
            created = JobCreated(
                launchGroup: row.launchGroup, chunk: row.chunk, chunkCount: row.chunkCount, jobID: JobID(rawValue: job.jobID),
                jobType: .terminate, isDrill: true,
                sourceServerIDs: job.participatingServers?.compactMap { $0.sourceServerID.map(SourceServerID.init(rawValue:)) } ?? [],
                createdAt: createdAt, waveStartedAt: row.receivedAt, timeoutSeconds: 3600)
        }
        return LaunchStore.Facts(created: created, attempt: row.attempt)
    }

    static func wakes(_ effects: [ChunkEffect]) -> [Date] {
        effects.compactMap { if case .wakeAt(let date) = $0 { date } else { nil } }
    }
}
