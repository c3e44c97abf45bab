import Foundation
import Logging
import MusterDomain
import MusterMessaging
import ServiceLifecycle
import Synchronization

/// Supervises one `EndpointWorker` per endpoint this instance owns: owned
/// endpoints come from the consumer group's assignment (adopted at once on
/// assignment) and, for endpoints no input has named yet, from heartbeats.
/// Each endpoint is served independently, so a slow or throttled endpoint
/// never delays another.
final class LaunchScheduler: Service, Sendable {
    private let context: LauncherContext
    private let loop: WorkLoop
    private let workers = Mutex<[Endpoint: EndpointWorker]>([:])
    private let crashed = Mutex<LauncherCrash?>(nil)

    init(context: LauncherContext) {
        self.context = context
        // The heartbeat keeps this instance's endpoints (LauncherConfiguration.instanceLoopTiming).
        let loop = WorkLoop(
            name: "launch scheduler", timing: context.configuration.instanceLoopTiming,
            logger: context.logger, isFatal: { $0 is LauncherCrash })
        self.loop = loop
        context.ownership.onChange { loop.wake() }
    }

    /// Look at ownership now.
    func wake() { loop.wake() }

    /// Wakes `endpoint`'s admission (a record for it was handled, a job of it ended).
    func wakeLaunches(_ endpoint: Endpoint) {
        guard let worker = workers.withLock({ $0[endpoint] }) else { return loop.wake() }
        worker.wakeLaunches()
    }

    /// Wakes `endpoint`'s polling.
    func wakePolls(_ endpoint: Endpoint) {
        guard let worker = workers.withLock({ $0[endpoint] }) else { return loop.wake() }
        worker.wakePolls()
    }

    func run() async throws {
        var lastAccountsLoad = ContinuousClock.now - .seconds(3600)
        var adoptedGeneration = -1
        // A crashed endpoint worker ends the loop (fatal); the workers stop below either way.
        try? await loop.run {
            if let crash = crashed.withLock({ $0 }) { throw crash }
            if ContinuousClock.now - lastAccountsLoad > .seconds(5) {
                for registration in try await context.store.accounts(pool: context.pool) {
                    context.accounts.register(registration)
                }
                lastAccountsLoad = .now
            }
            let (partitions, generation) = context.ownership.assignment
            if generation != adoptedGeneration {
                _ = try await context.store.adopt(partitions: partitions, instance: context.instanceID, pool: context.pool)
                adoptedGeneration = generation
            }
            _ = try await context.store.heartbeat(
                instance: context.instanceID, staleAfter: context.configuration.instanceStaleAfter,
                known: context.accounts.endpoints, pool: context.pool)
            let owned = try await context.store.owned(by: context.instanceID, pool: context.pool)
            for (endpoint, partition) in owned {
                if let partition { context.ownership.place(endpoint, on: partition) }
            }
            reconcileWorkers(owned.map(\.endpoint).filter { context.ownership.mayAct(for: $0) })
            return .idle
        }
        let running = workers.withLock { workers in
            defer { workers = [:] }
            return Array(workers.values)
        }
        for worker in running { worker.stop() }
        for worker in running { await worker.finished() }
        try? await context.store.retire(instance: context.instanceID, pool: context.pool)
        if let crash = crashed.withLock({ $0 }) { throw crash }
    }

    private func reconcileWorkers(_ owned: [Endpoint]) {
        let wanted = Set(owned)
        let (started, stopped) = workers.withLock { workers -> ([EndpointWorker], [EndpointWorker]) in
            var started: [EndpointWorker] = [], stopped: [EndpointWorker] = []
            for (endpoint, worker) in workers where !wanted.contains(endpoint) {
                stopped.append(worker)
                workers[endpoint] = nil
            }
            for endpoint in owned where workers[endpoint] == nil {
                let worker = EndpointWorker(endpoint: endpoint, context: context) { [weak self] crash in
                    self?.crashed.withLock { $0 = crash }
                    self?.loop.wake()
                }
                workers[endpoint] = worker
                started.append(worker)
            }
            return (started, stopped)
        }
        for worker in stopped { worker.stop() }
        for worker in started { worker.start() }
    }
}

/// The work of one endpoint: an admission loop (reconcile orphaned
/// intents, then start what `LaunchQueue` admits) and a polling loop, each
/// woken by the event that concerns it and otherwise by the earliest
/// back-off or recheck it scheduled.
final class EndpointWorker: Sendable {
    let endpoint: Endpoint
    private let context: LauncherContext
    private let launching: Launching
    private let polling: Polling
    private let restoring: Restoring
    private let ssmSteps: SSMSteps
    private let launchLoop: WorkLoop
    private let pollLoop: WorkLoop
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// Admitted chunks being sent, by chunk id; awaited when the worker finishes.
    private let submissions = Mutex<[Int64: Task<Void, Never>]>([:])
    /// The read-ahead of waiting chunks' launch configurations (one at a time); awaited when the worker finishes.
    private let warming = Mutex<Task<Void, Never>?>(nil)
    private let onCrash: @Sendable (LauncherCrash) -> Void

    init(endpoint: Endpoint, context: LauncherContext, onCrash: @escaping @Sendable (LauncherCrash) -> Void) {
        self.endpoint = endpoint
        self.context = context
        self.launching = Launching(context: context)
        self.polling = Polling(context: context)
        self.restoring = Restoring(context: context)
        self.ssmSteps = SSMSteps(context: context)
        self.onCrash = onCrash
        let timing = context.configuration.endpointLoopTiming
        launchLoop = WorkLoop(
            name: "admission \(endpoint)", timing: timing, logger: context.logger, isFatal: { $0 is LauncherCrash })
        pollLoop = WorkLoop(
            name: "polling \(endpoint)", timing: timing, logger: context.logger, isFatal: { $0 is LauncherCrash })
    }

    func wakeLaunches() { launchLoop.wake() }
    func wakePolls() { pollLoop.wake() }

    func start() {
        let launches = Task { await self.serve(launchLoop, self.admissionPass) }
        let polls = Task { await self.serve(pollLoop, self.pollingPass) }
        tasks.withLock { $0 = [launches, polls] }
    }

    func stop() {
        launchLoop.stop()
        pollLoop.stop()
    }

    func finished() async {
        for task in tasks.withLock({ $0 }) { await task.value }
        // The loops have stopped, so no submission starts any more; the ones under way finish.
        for task in submissions.withLock({ Array($0.values) }) { await task.value }
        await warming.withLock({ $0 })?.value
    }

    /// Runs `pass` on `loop` until stopped; each pass returns when to look again at the latest.
    private func serve(_ loop: WorkLoop, _ pass: @escaping @Sendable () async throws -> Date?) async {
        do {
            try await loop.run {
                guard let next = try await pass() else { return .idle }
                let seconds = next.timeIntervalSinceNow
                return seconds <= 0 ? .immediately : .after(.milliseconds(Int64(seconds * 1000) + 1))
            }
        } catch let crash as LauncherCrash {
            onCrash(crash)
        } catch {
            context.logger.error("endpoint loop ended", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
        }
    }

    /// Reconcile, then admit. Returns the earliest wake-up asked for.
    private func admissionPass() async throws -> Date? {
        guard context.ownership.mayAct(for: endpoint) else { return nil }
        var wakes: [Date] = []
        // The pass's reads go out together (one round trip's wait instead of four: this pass
        // is on the path from a freed slot to the next StartRecovery). Only this loop admits for
        // the endpoint, so nothing takes a lease or slot between these reads and the admissions
        // below; a reconciliation in between re-reads the occupancy.
        async let openRead = context.store.openChunks(endpoint, pool: context.pool)
        async let tableRead = context.store.occupancy(endpoint, pool: context.pool)
        // Restores first: this loop is the only one changing the endpoint's launch
        // settings, so a restore never races the next launch's change of the same server.
        if try await restoring.restoreDue(endpoint) { wakes.append(Date().addingTimeInterval(1)) }
        let open = try await openRead
        var table = try await tableRead
        let oldestIntent = open.filter { $0.row.status.state == .submitting }.compactMap(\.row.status.intentAt).min()
        LauncherMetrics.oldestSubmitting(endpoint, seconds: oldestIntent.map { max(0, -$0.timeIntervalSinceNow) } ?? 0)
        let inFlight = context.inFlight.withLock { $0 }
        let orphans = open.filter { $0.row.status.state == .submitting && !inFlight.contains($0.row.id) }
            .map { ChunkHandle(row: $0.row, version: $0.version) }
        if !orphans.isEmpty {
            wakes += try await launching.reconcile(orphans, endpoint: endpoint)
            table = try await context.store.occupancy(endpoint, pool: context.pool)
        }
        let queued = open.filter { $0.row.status.state == .queued && !inFlight.contains($0.row.id) }
        LauncherMetrics.queueDepth(endpoint, queued.count)
        LauncherMetrics.leasesHeld(endpoint, table.leased.count)
        guard !queued.isEmpty else { return wakes.min() }
        let byID = Dictionary(uniqueKeysWithValues: queued.map { ($0.row.id, ChunkHandle(row: $0.row, version: $0.version)) })
        let snapshot = LaunchQueue.Snapshot(table, pending: queued.map {
            LaunchQueue.Pending(id: $0.row.id, servers: $0.row.servers, notBefore: $0.row.status.notBefore,
                                backoffReason: $0.row.status.backoffReason)
        })
        var starts: [ChunkHandle] = [], waits: [(ChunkHandle, ChunkEvent)] = []
        for (id, decision) in LaunchQueue.plan(snapshot, quotas: context.configuration.limits.quotas, now: Date()) {
            guard let handle = byID[id] else { continue }
            switch decision {
            case .start:
                starts.append(handle)
            case .wait(let reason, let blocking):
                if let notBefore = handle.row.status.notBefore, notBefore > Date() { wakes.append(notBefore) }
                waits.append((handle, .waiting(reason, blocking: blocking)))
            }
        }
        // Admission (leases and intent) is awaited, so the next pass sees these chunks'
        // slots and servers taken; sending is not: a slot freed while requests are on
        // their way starts the next pass at once (the endpoint's budget orders the requests).
        let admitted = try await withThrowingTaskGroup(of: ChunkHandle?.self) { group in
            for handle in starts {
                group.addTask { try await self.launching.admit(handle) }
            }
            var all: [ChunkHandle] = []
            for try await handle in group { if let handle { all.append(handle) } }
            return all
        }
        for handle in admitted { submitInBackground(handle) }
        warmInBackground(waits.map { $0.0.row })
        // The waiting chunks' reasons (a job.queued when one changes) after the admissions:
        // a freed slot's next StartRecovery does not wait behind them.
        for (handle, event) in waits {
            var handle = handle
            _ = try await launching.step(&handle, event)
        }
        return wakes.min()
    }

    /// Sends an admitted chunk on its own task. A crash hook's `LauncherCrash`
    /// ends the worker as it did inside the pass; any other error leaves the
    /// intent to the next pass's reconciliation (the chunk leaves `inFlight`).
    /// The admission loop is woken when the outcome asks for it (a requeue, a
    /// failure that released leases, an error).
    private func submitInBackground(_ handle: ChunkHandle) {
        let id = handle.row.id
        // Registered under the lock its own removal takes, so it cannot end unregistered.
        submissions.withLock { running in
            running[id] = Task {
                defer { self.submissions.withLock { _ = $0.removeValue(forKey: id) } }
                do {
                    let wakes = try await self.launching.submit(handle)
                    if !wakes.isEmpty { self.launchLoop.wake() }
                } catch let crash as LauncherCrash {
                    // A crashed process does nothing more: no further pass reconciles this intent here.
                    self.stop()
                    self.onCrash(crash)
                } catch {
                    self.context.logger.error("launch submission failed; its intent is reconciled", metadata: [
                        "endpoint": "\(self.endpoint)", "launchGroup": "\(handle.row.launchGroup)", "error": "\(error)"])
                    self.launchLoop.wake()
                }
            }
        }
    }

    /// Reads ahead the launch configurations of the chunks next in line for a
    /// slot (as many as the endpoint has job slots), so that when a job ends
    /// the next chunk's path to StartRecovery has no DRS read on it. One
    /// read-ahead at a time; spare budget only (`LaunchConfigurationCheck.warm`).
    private func warmInBackground(_ waiting: [ChunkRow]) {
        guard context.configuration.checkLaunchConfiguration else { return }
        let servers = waiting.filter { $0.kind == .launch }
            .prefix(context.configuration.limits.maxConcurrentJobs).flatMap(\.servers)
        guard !servers.isEmpty else { return }
        let endpoint = self.endpoint, check = context.launchConfiguration
        warming.withLock { current in
            guard current == nil else { return }
            current = Task {
                await check.warm(servers, endpoint: endpoint)
                self.warming.withLock { $0 = nil }
            }
        }
    }

    private func pollingPass() async throws -> Date? {
        guard context.ownership.mayAct(for: endpoint) else { return nil }
        let (completed, more) = try await polling.serve(endpoint)
        if completed { launchLoop.wake() }
        // SSM Automation wave-hook steps share the polling loop (woken by their requests too).
        let ssmNext = try await ssmSteps.serve(endpoint)
        return more ? Date() : ssmNext
    }
}
