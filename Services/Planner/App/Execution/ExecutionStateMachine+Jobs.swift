import Foundation
import MusterDomain
import MusterEvents

// `job.status` inputs. Each one is safe to replay: a known job id, a server
// already resolved or a snapshot older than the last applied changes nothing.
extension ExecutionStateMachine {
    mutating func jobQueued(_ event: JobQueued) {
        guard let index = state.waveIndex(event.launchGroup.waveNumber) else { return }
        let wave = state.waves[index]
        guard wave.status == .launching || wave.status == .queued else { return }
        state.waves[index].status = .queued
        state.waves[index].queuedReason = event.reason.rawValue
    }

    mutating func jobCreated(_ event: JobCreated) {
        // The state document keys servers and jobs by DRS's strings.
        let jobID = event.jobID.rawValue, serverIDs = event.sourceServerIDs.map(\.rawValue)
        guard state.jobs[jobID] == nil else { return }
        state.jobs[jobID] = JobState(
            jobID: jobID, wave: event.launchGroup.waveNumber, endpointKey: event.launchGroup.endpoint.key,
            chunk: event.chunk, chunkCount: event.chunkCount, type: event.jobType, serverIDs: serverIDs,
            status: .pending, timedOut: false)
        if event.jobType == .terminate {
            noteTerminateChunkCount(endpoint: event.launchGroup.endpoint.key, chunkCount: event.chunkCount)
            return
        }
        for id in serverIDs where state.servers[id]?.wave == event.launchGroup.waveNumber {
            if state.servers[id]?.jobID == nil { state.servers[id]?.jobID = jobID }
        }
        for used in event.recoverySnapshots ?? [] where state.servers[used.sourceServerID.rawValue]?.wave == event.launchGroup.waveNumber {
            state.servers[used.sourceServerID.rawValue]?.recoverySnapshotID = used.snapshotID
            state.servers[used.sourceServerID.rawValue]?.recoverySnapshotTime = used.snapshotTime
        }
        if let index = state.waveIndex(event.launchGroup.waveNumber),
           [.launching, .queued].contains(state.waves[index].status) {
            state.waves[index].status = .running
            state.waves[index].queuedReason = nil
        }
    }

    mutating func jobLaunchFailed(_ event: JobLaunchFailed) {
        if event.launchGroup.waveNumber == 0 {
            terminateChunkDone(endpoint: event.launchGroup.endpoint.key, chunk: event.chunk,
                               failure: "\(event.errorCode): \(event.reason)")
            return
        }
        for id in event.sourceServerIDs.map(\.rawValue) {
            guard let server = state.servers[id], server.wave == event.launchGroup.waveNumber else { continue }
            fail(id, reason: "\(event.errorCode): \(event.reason)")
        }
        if let index = state.waveIndex(event.launchGroup.waveNumber), state.waves[index].status == .queued {
            state.waves[index].status = .running
        }
        afterProgress()
    }

    mutating func jobObserved(_ event: JobObserved) {
        let jobID = event.jobID.rawValue, observedIDs = event.servers.map(\.sourceServerID.rawValue)
        if state.duplicateJobs?[jobID] != nil { return duplicateObserved(event) }
        var job = state.jobs[jobID] ?? JobState(
            jobID: jobID, wave: event.launchGroup.waveNumber, endpointKey: event.launchGroup.endpoint.key,
            chunk: event.chunk, chunkCount: 1, type: event.jobType,
            serverIDs: observedIDs, status: .pending, timedOut: false)
        // Log items are kept whatever the snapshot's age (deduplicated, bounded).
        if job.type == .launch {
            recordLog(event.newLogEvents, serverIDs: job.serverIDs.isEmpty ? observedIDs : job.serverIDs,
                      wave: job.wave)
        }
        // An older snapshot never moves anything backwards.
        if let last = job.lastObservedAt, event.observedAt < last { return }
        if event.status.rank < job.status.rank { return }
        job.lastObservedAt = event.observedAt
        job.status = event.status
        state.jobs[jobID] = job

        if job.type == .terminate {
            if event.status == .completed { terminateChunkDone(endpoint: job.endpointKey, chunk: job.chunk, failure: nil) }
            return
        }
        if let index = state.waveIndex(job.wave), [.launching, .queued].contains(state.waves[index].status) {
            state.waves[index].status = .running
        }
        for observed in event.servers {
            merge(observed, jobID: jobID, wave: job.wave, jobCompleted: event.status == .completed,
                  at: event.observedAt)
        }
        if event.status == .completed {
            // DRS ended the job: a server it never launched has failed. A
            // LAUNCHED server still waiting for post-launch runs stays open:
            // AWS documents no order between JOB_END and the runs (see
            // PostLaunchProgress); the poller keeps polling the job until the
            // runs end or the wave's timeout passes.
            // Only servers of the job's wave: a job naming another wave (a wave number the
            // execution does not have) decides nothing about them (issue 11's poison matrix).
            for id in job.serverIDs where state.servers[id]?.wave == job.wave && !(state.servers[id]?.isResolved ?? true) {
                if state.servers[id]?.status != .launched {
                    fail(id, reason: "DRS job \(event.jobID) completed without launching this server")
                }
            }
        }
        afterProgress()
    }

    mutating func jobTimedOut(_ event: JobTimedOut) {
        // A duplicate job never decides a server's fate.
        if state.duplicateJobs?[event.jobID.rawValue] != nil { return }
        guard var job = state.jobs[event.jobID.rawValue] ?? state.jobs.values.first(where: {
            $0.wave == event.launchGroup.waveNumber && $0.endpointKey == event.launchGroup.endpoint.key
                && $0.chunk == event.chunk
        }) else { return }
        // A COMPLETED job times out only for servers still waiting for their
        // post-launch runs (JOB_END came before the runs ended).
        guard !job.timedOut else { return }
        job.timedOut = true
        state.jobs[job.jobID] = job
        guard let index = state.waveIndex(job.wave), !state.waves[index].status.isTerminal else { return }
        var affected = false
        for id in job.serverIDs where !(state.servers[id]?.isResolved ?? true) {
            affected = true
            let reason = state.servers[id]?.status == .launched
                ? "post-launch actions had not finished when the wave timed out after \(event.timeoutSeconds) s"
                : "timed out after \(event.timeoutSeconds) s (DRS still reported the job \(event.lastStatus.rawValue))"
            fail(id, reason: reason)
        }
        if affected { state.waves[index].timedOut = true }
        afterProgress()
    }

    // MARK: Duplicate jobs

    /// Records the extra jobs of a chunk; from now on their snapshots only
    /// collect the instances they launched.
    mutating func jobDuplicateDetected(_ event: JobDuplicateDetected) {
        var duplicates = state.duplicateJobs ?? [:]
        for jobID in event.duplicateJobIDs.map(\.rawValue) where jobID != event.jobID.rawValue && duplicates[jobID] == nil {
            duplicates[jobID] = DuplicateJobState(
                primaryJobID: event.jobID.rawValue, endpointKey: event.launchGroup.endpoint.key, instanceIDs: [])
            // A snapshot of it taken before the launcher knew it was a duplicate moved nothing it should keep.
            state.jobs[jobID] = nil
        }
        state.duplicateJobs = duplicates
    }

    /// A duplicate's snapshot: its recovery instances are noted, and
    /// terminated at once when the drill's instances are already going
    /// (a clean-up asked for, or a cancel that terminates).
    mutating func duplicateObserved(_ event: JobObserved) {
        guard var duplicate = state.duplicateJobs?[event.jobID.rawValue] else { return }
        let fresh = event.servers.compactMap(\.recoveryInstanceID).filter { !duplicate.instanceIDs.contains($0) }
        guard !fresh.isEmpty else { return }
        duplicate.instanceIDs += fresh
        state.duplicateJobs?[event.jobID.rawValue] = duplicate
        if state.terminateOnCancel || (state.cleanup != nil && state.type == .drill) {
            requestTermination(of: [], actor: state.cleanup?.requestedBy ?? state.initiatedBy)
        }
    }

    /// Duplicate jobs' instances not in `asked`, by endpoint.
    func duplicateInstances(excluding asked: Set<String>) -> [Endpoint: [String]] {
        var byEndpoint: [Endpoint: [String]] = [:]
        for duplicate in (state.duplicateJobs ?? [:]).values {
            guard let endpoint = Endpoint(key: duplicate.endpointKey) else { continue }
            for instance in duplicate.instanceIDs where !asked.contains(instance) {
                byEndpoint[endpoint, default: []].append(instance)
            }
        }
        return byEndpoint
    }

    // MARK: Servers

    /// Applies one server's snapshot, never backwards.
    mutating func merge(_ observed: ObservedServer, jobID: String, wave: Int, jobCompleted: Bool, at time: Date) {
        let id = observed.sourceServerID.rawValue
        guard var server = state.servers[id], server.wave == wave, !server.isResolved else { return }
        if server.jobID == nil { server.jobID = jobID }
        if let instance = observed.recoveryInstanceID { server.recoveryInstanceID = instance }
        let next: ServerStatus = switch observed.launchStatus {
        case .pending: .launching
        case .inProgress: .inProgress
        case .launched: .launched
        case .failed: .failed
        case .terminated: .terminated
        }
        var candidate = server
        candidate.status = next
        if candidate.rank > server.rank { server.status = next }
        if server.status == .launched && server.launchedAt == nil { server.launchedAt = time }
        state.servers[id] = server
        if let instance = server.recoveryInstanceID, state.terminateOnCancel,
           !(state.cleanup?.instanceIDs.contains(instance) ?? false) {
            requestTermination(of: [server], actor: state.cleanup?.requestedBy ?? state.initiatedBy)
        }
        switch server.status {
        case .failed, .terminated:
            fail(id, reason: "DRS reported launch status \(observed.launchStatus.rawValue)")
        case .launched:
            guard server.postLaunch == .pending else {
                resolved(id)
                return
            }
            // The same rule whether the job is STARTED or already COMPLETED.
            switch observed.postLaunchProgress(isRecovery: state.type == .recovery) {
            case .waiting: break
            case .succeeded: resolvePostLaunch(id, status: .succeeded, reason: "")
            case .notApplicable: resolvePostLaunch(id, status: .notApplicable, reason: "")
            case .failed(let reason): resolvePostLaunch(id, status: .failed, reason: reason)
            }
        case .pending, .launching, .inProgress:
            break
        }
    }

    mutating func resolvePostLaunch(_ id: String, status: PostLaunchStatus, reason: String) {
        guard var server = state.servers[id], server.status == .launched, server.postLaunch == .pending else { return }
        server.postLaunch = status
        if status == .failed {
            server.failureReason = reason
        }
        state.servers[id] = server
        resolved(id)
    }

    /// Marks a server FAILED (once) and publishes `server.failed`.
    mutating func fail(_ id: String, reason: String) {
        guard var server = state.servers[id] else { return }
        if server.status == .launched && server.postLaunch == .pending {
            resolvePostLaunch(id, status: .failed, reason: reason)
            return
        }
        guard server.endedAt == nil else { return }
        if server.status != .terminated { server.status = .failed }
        server.failureReason = server.failureReason ?? reason
        state.servers[id] = server
        resolved(id)
    }

    /// Publishes the server's outcome the first time it is resolved.
    mutating func resolved(_ id: String) {
        guard var server = state.servers[id], server.isResolved, server.endedAt == nil else { return }
        server.endedAt = now
        state.servers[id] = server
        publish(server.succeeded ? .serverLaunched : .serverFailed, wave: server.wave, server: server,
                reason: server.succeeded ? nil : server.failureReason)
    }

    // MARK: Clean-up jobs

    mutating func noteTerminateChunkCount(endpoint: String, chunkCount: Int) {
        checkCleanupDone(endpoint: endpoint)
    }

    mutating func terminateChunkDone(endpoint: String, chunk: Int, failure: String?) {
        guard var cleanup = state.cleanup, cleanup.pendingEndpoints.contains(endpoint) else { return }
        if !(cleanup.doneChunks[endpoint] ?? []).contains(chunk) { cleanup.doneChunks[endpoint, default: []].append(chunk) }
        if let failure { cleanup.failures.append("\(endpoint) chunk \(chunk): \(failure)") }
        state.cleanup = cleanup
        checkCleanupDone(endpoint: endpoint)
    }

    mutating func checkCleanupDone(endpoint: String) {
        guard var cleanup = state.cleanup, cleanup.pendingEndpoints.contains(endpoint) else { return }
        let jobs = state.jobs.values.filter { $0.type == .terminate && $0.endpointKey == endpoint }
        let chunkCount = jobs.map(\.chunkCount).max() ?? 1
        guard (cleanup.doneChunks[endpoint] ?? []).count >= chunkCount else { return }
        cleanup.pendingEndpoints.removeAll { $0 == endpoint }
        if cleanup.pendingEndpoints.isEmpty {
            cleanup.completedAt = now
            state.cleanup = cleanup
            publish(.cleanupCompleted, actor: cleanup.requestedBy,
                    reason: cleanup.failures.isEmpty ? nil : cleanup.failures.joined(separator: "; "))
        } else {
            state.cleanup = cleanup
        }
    }
}
