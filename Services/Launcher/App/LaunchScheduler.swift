import Foundation
import Logging
import MusterDRS
import MusterDomain
import MusterEvents
import MusterMessaging
import ServiceLifecycle

/// The launcher's work loop: on every wake-up (a record consumed, a job
/// finished) or interval, for each endpoint this instance owns, in order:
/// reconcile orphaned launch intents, serve queued polls, then start the
/// queued chunks `LaunchQueue` admits. Endpoints run concurrently; within
/// one endpoint everything is sequential, so its budget is respected.
final class LaunchScheduler: Service, Sendable {
    private let context: LauncherContext
    private let polling: Polling
    private let launching: Launching
    private let wakeSignal = WakeSignal()

    init(context: LauncherContext) {
        self.context = context
        self.polling = Polling(context: context)
        self.launching = Launching(context: context)
    }

    /// Look now.
    func wake() { wakeSignal.signal() }

    func run() async throws {
        let logger = context.logger
        var lastAccountsLoad = ContinuousClock.now - .seconds(3600)
        try await withGracefulShutdownHandler {
            while !Task.isCancelled && !Task.isShuttingDownGracefully {
                do {
                    if ContinuousClock.now - lastAccountsLoad > .seconds(5) {
                        for registration in try await context.store.accounts(pool: context.pool) {
                            context.accounts.register(registration)
                        }
                        lastAccountsLoad = .now
                    }
                    let owned = try await context.store.heartbeat(
                        instance: context.instanceID, staleAfter: context.configuration.instanceStaleAfter,
                        known: context.accounts.endpoints, pool: context.pool)
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for endpoint in owned {
                            group.addTask { try await self.tick(endpoint) }
                        }
                        try await group.waitForAll()
                    }
                } catch let crash as LauncherCrash {
                    throw crash
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("scheduler pass failed; retrying", metadata: ["error": "\(error)"])
                }
                await wakeSignal.wait(upTo: context.configuration.schedulerInterval)
            }
        } onGracefulShutdown: {
            self.wakeSignal.signal()
        }
        try? await context.store.retire(instance: context.instanceID, pool: context.pool)
    }

    /// One pass over one endpoint. Errors other than a crash are logged and
    /// the endpoint is looked at again on the next pass.
    private func tick(_ endpoint: Endpoint) async throws {
        do {
            try await polling.serve(endpoint)
            var open = try await context.store.openChunks(
                endpoint, staleAfter: context.configuration.instanceStaleAfter, pool: context.pool)
            let inFlight = context.inFlight.withLock { $0 }
            let orphans = open.filter { chunk in
                chunk.state == "SUBMITTING" && !inFlight.contains(chunk.id)
                    && (chunk.submitter == context.instanceID || !chunk.submitterAlive)
            }
            if !orphans.isEmpty {
                for orphan in orphans { try await reconcile(orphan) }
                open = try await context.store.openChunks(
                    endpoint, staleAfter: context.configuration.instanceStaleAfter, pool: context.pool)
            }
            try await admit(open.filter { $0.state == "QUEUED" }, endpoint: endpoint)
        } catch let crash as LauncherCrash {
            throw crash
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            context.logger.error("endpoint pass failed", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
        }
    }

    private func admit(_ queued: [ChunkRow], endpoint: Endpoint) async throws {
        LauncherMetrics.queueDepth(endpoint, queued.count)
        let occupancy = try await context.store.occupancy(endpoint, pool: context.pool)
        LauncherMetrics.leasesHeld(endpoint, occupancy.leased.count)
        guard !queued.isEmpty else { return }
        let byID = Dictionary(uniqueKeysWithValues: queued.map { ($0.id, $0) })
        let snapshot = LaunchQueue.Snapshot(
            leased: occupancy.leased, activeJobs: occupancy.jobs, serversInActiveJobs: occupancy.servers,
            pending: queued.map {
                LaunchQueue.Pending(id: $0.id, servers: $0.items, notBefore: $0.notBefore, backoffReason: $0.backoffReason)
            })
        var notified = false
        for (id, decision) in LaunchQueue.plan(snapshot, quotas: context.configuration.limits.quotas, now: Date()) {
            guard let chunk = byID[id] else { continue }
            switch decision {
            case .start:
                guard try await context.store.beginSubmission(chunk, instance: context.instanceID, pool: context.pool)
                else { continue }
                context.inFlight.withLock { _ = $0.insert(chunk.id) }
                defer { context.inFlight.withLock { _ = $0.remove(chunk.id) } }
                try await launching.submit(chunk)
            case .wait(let reason, let blocking):
                guard chunk.queuedReason != reason else { continue }
                try await context.pool.transaction { connection in
                    try await context.store.markQueued(chunk, reason: reason, blocking: blocking, on: connection)
                }
                notified = true
            }
        }
        if notified { context.wakeRelay() }
    }

    /// An intent left SUBMITTING by a dead process or an ambiguous answer:
    /// find its job by tags among the jobs created since the intent, before
    /// anything is launched again (DESIGN §4).
    private func reconcile(_ chunk: ChunkRow) async throws {
        let fromDate = Reconciler.fromDate(for: chunk.intentAt ?? chunk.receivedAt)
        let jobs = try await context.gate.callAll(chunk.endpoint, "DescribeJobs", items: \.items, nextToken: \.nextToken) {
            try await $0.describeJobs(DescribeJobsRequest(
                filters: DescribeJobsRequestFilters(fromDate: fromDate), maxResults: 1000, nextToken: $1))
        }
        let verdict: Reconciler.Verdict
        switch chunk.kind {
        case .launch:
            verdict = Reconciler.verdict(for: chunk.identity, among: jobs)
        case .terminate:
            verdict = Reconciler.terminateVerdict(instances: chunk.items, among: jobs)
        }
        switch verdict {
        case .found(let jobID):
            LauncherMetrics.reconciled("found")
            context.logger.notice("reconciled a launch intent: DRS has its job", metadata: [
                "launchGroup": "\(chunk.launchGroup)", "chunk": "\(chunk.chunk)", "jobId": "\(jobID)",
            ])
            guard let job = jobs.first(where: { $0.jobID == jobID }) else { return }
            if chunk.kind == .terminate {
                try await launching.recordTerminate(chunk, job: job)
            } else {
                try await launching.recordLaunch(chunk, job: job, request: try chunk.decodeRequest(WaveStarted.self))
            }
        case .notFound:
            LauncherMetrics.reconciled("not_found")
            context.logger.notice("reconciled a launch intent: no job was created; it will be launched", metadata: [
                "launchGroup": "\(chunk.launchGroup)", "chunk": "\(chunk.chunk)",
            ])
            try await context.store.requeue(chunk, reason: nil, notBefore: nil, pool: context.pool)
        }
        context.wakeRelay()
    }
}
