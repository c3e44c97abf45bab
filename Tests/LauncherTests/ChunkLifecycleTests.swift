import Foundation
@testable import LauncherApp
import MusterDRS
import MusterDomain
import MusterEvents
import TestSupport
import Testing

/// The launch lifecycle and the lease, reconcile and observation rules, with
/// no database, broker or DRS: every rule of issue 10 in milliseconds.
@Suite("Chunk lifecycle, leases, reconciliation and observation (pure)")
struct ChunkLifecycleTests {
    let rules = ChunkLifecycle(conflict: ConflictPolicy(initialDelay: 30, multiplier: 2, maxDelay: 480, deadline: 3600))
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let window = Reconciler.Window(clientTimeout: 30, margin: 60, recheck: 2)

    func submitting(sentAt: Date? = nil) -> ChunkStatus {
        ChunkStatus(state: .submitting, intentAt: t0, sentAt: sentAt)
    }

    // MARK: Lifecycle

    @Test("Admission takes the leases and writes the intent; sending records when the request left")
    func admitAndSend() throws {
        let (intent, effects) = try rules.apply(ChunkStatus(), .admitted(now: t0))
        #expect(intent.state == .submitting && intent.intentAt == t0 && intent.sentAt == nil)
        #expect(effects == [.takeLeases])
        let (sent, none) = try rules.apply(intent, .sending(now: t0 + 1))
        #expect(sent.sentAt == t0 + 1 && none.isEmpty)
        let (created, recorded) = try rules.apply(sent, .created(jobID: "drsjob-1"))
        #expect(created.state == .submitted && created.jobID == "drsjob-1")
        #expect(recorded == [.recordJob(jobID: "drsjob-1")])
    }

    @Test("An ambiguous answer never requeues: the chunk stays SUBMITTING and is reconciled at once")
    func ambiguousStays() throws {
        let (status, effects) = try rules.apply(submitting(sentAt: t0), .ambiguous(now: t0 + 30))
        #expect(status.state == .submitting && status.sentAt == t0)
        #expect(effects == [.wakeAt(t0 + 30)])
        #expect(!effects.contains(.releaseLeases))
    }

    @Test("job.queued is published once per reason, not on every pass")
    func queuedOncePerReason() throws {
        let (leases, first) = try rules.apply(ChunkStatus(), .waiting(.leases, blocking: ["s-1"]))
        #expect(first == [.publishQueued(.leases, blocking: ["s-1"])])
        let (_, again) = try rules.apply(leases, .waiting(.leases, blocking: ["s-1"]))
        #expect(again.isEmpty)
        let (_, changed) = try rules.apply(leases, .waiting(.quota, blocking: []))
        #expect(changed == [.publishQueued(.quota, blocking: [])])
    }

    @Test("ConflictException releases the leases and backs off 30 s, 60 s …; past the deadline it fails")
    func conflictBackOff() throws {
        let (first, effects) = try rules.apply(submitting(sentAt: t0), .conflict(server: "s-9", now: t0))
        #expect(first.state == .queued && first.notBefore == t0 + 30 && first.conflicts == 1 && first.backoffReason == .conflict)
        #expect(effects == [.releaseLeases, .publishQueued(.conflict, blocking: ["s-9"]), .wakeAt(t0 + 30)])
        var second = first
        second.state = .submitting
        let (backedOff, quiet) = try rules.apply(second, .conflict(server: "s-9", now: t0 + 30))
        #expect(backedOff.notBefore == t0 + 90 && backedOff.conflicts == 2)
        #expect(quiet == [.releaseLeases, .wakeAt(t0 + 90)], "the reason did not change: no second job.queued")
        var late = backedOff
        late.state = .submitting
        let (failed, given) = try rules.apply(late, .conflict(server: "s-9", now: t0 + 3601))
        #expect(failed.state == .failed)
        #expect(given.first == .releaseLeases)
        guard case .publishLaunchFailed(let code, _)? = given.last else { Issue.record("no job.launch-failed"); return }
        #expect(code == "ConflictException")
    }

    @Test("Quota and throttling requeue with a back-off; a definite refusal fails and frees the leases")
    func quotaThrottleReject() throws {
        let (quota, _) = try rules.apply(submitting(), .quotaExceeded(now: t0))
        #expect(quota.state == .queued && quota.notBefore == t0 + 10 && quota.backoffReason == .quota)
        let (throttled, _) = try rules.apply(submitting(), .throttled(now: t0))
        #expect(throttled.notBefore == t0 + 1 && throttled.backoffReason == .throttled)
        let (failed, effects) = try rules.apply(submitting(), .rejected(code: "ValidationException", reason: "bad"))
        #expect(failed.state == .failed)
        #expect(effects == [.releaseLeases, .publishLaunchFailed(code: "ValidationException", reason: "bad")])
    }

    @Test("Reconcile verdicts: found records, not-yet waits, not-found requeues, duplicate records both")
    func reconcileVerdicts() throws {
        let (found, recorded) = try rules.apply(submitting(sentAt: t0), .reconciled(.found(jobID: "drsjob-1"), now: t0))
        #expect(found.state == .submitted && recorded == [.recordJob(jobID: "drsjob-1")])
        let (waiting, wake) = try rules.apply(submitting(sentAt: t0), .reconciled(.notYet(recheckAt: t0 + 2), now: t0))
        #expect(waiting == submitting(sentAt: t0) && wake == [.wakeAt(t0 + 2)])
        let (requeued, released) = try rules.apply(submitting(sentAt: t0), .reconciled(.notFound, now: t0 + 91))
        #expect(requeued.state == .queued && requeued.sentAt == nil && requeued.intentAt == nil)
        #expect(released == [.releaseLeases, .wakeAt(t0 + 91)])
        let (dup, both) = try rules.apply(
            submitting(sentAt: t0), .reconciled(.duplicate(jobID: "drsjob-1", extra: ["drsjob-2"]), now: t0))
        #expect(dup.jobID == "drsjob-1")
        #expect(both == [.recordJob(jobID: "drsjob-1"), .recordDuplicates(jobIDs: ["drsjob-2"])])
        // A second job seen later for a SUBMITTED chunk is a duplicate too.
        let (_, late) = try rules.apply(found, .reconciled(.found(jobID: "drsjob-3"), now: t0))
        #expect(late == [.recordDuplicates(jobIDs: ["drsjob-3"])])
        let (_, same) = try rules.apply(found, .created(jobID: "drsjob-1"))
        #expect(same.isEmpty)
    }

    @Test("Transitions the lifecycle does not allow are refused")
    func refused() {
        #expect(throws: ChunkTransitionError.self) { try rules.apply(ChunkStatus(), .created(jobID: "drsjob-1")) }
        #expect(throws: ChunkTransitionError.self) { try rules.apply(ChunkStatus(), .sending(now: t0)) }
        #expect(throws: ChunkTransitionError.self) {
            try rules.apply(ChunkStatus(state: .failed), .admitted(now: t0))
        }
        #expect(throws: ChunkTransitionError.self) {
            try rules.apply(ChunkStatus(state: .submitted, jobID: "drsjob-1"), .ambiguous(now: t0))
        }
    }

    // MARK: Reconciler window

    @Test("An intent whose request left is never concluded 'no job' before sent + timeout + margin")
    func reconcileWindow() {
        // The slow-DRS case: DRS creates the job 35 s after the request, the client gave up at 30 s.
        #expect(Reconciler.verdict(matches: [], sentAt: t0, now: t0 + 30.027, window: window)
            == .notYet(recheckAt: t0 + 32.027))
        #expect(Reconciler.verdict(matches: [], sentAt: t0, now: t0 + 89.5, window: window) == .notYet(recheckAt: t0 + 90))
        #expect(Reconciler.verdict(matches: [], sentAt: t0, now: t0 + 90, window: window) == .notFound)
        // Never sent (crash before the request left): relaunching is safe at once.
        #expect(Reconciler.verdict(matches: [], sentAt: nil, now: t0, window: window) == .notFound)
        let job = Job(jobID: "drsjob-b", creationDateTime: "2027-01-15T08:00:05Z")
        let older = Job(jobID: "drsjob-a", creationDateTime: "2027-01-15T08:00:01Z")
        #expect(Reconciler.verdict(matches: [job], sentAt: t0, now: t0 + 35, window: window) == .found(jobID: "drsjob-b"))
        #expect(Reconciler.verdict(matches: [job, older], sentAt: nil, now: t0, window: window)
            == .duplicate(jobID: "drsjob-a", extra: ["drsjob-b"]))
    }

    // MARK: Leases and queue

    @Test("The lease table: blocking servers, quotas, and an empty endpoint always admits one job")
    func leaseTable() {
        var table = LeaseTable()
        let quotas = LaunchQueue.Quotas(maxConcurrentJobs: 2, maxServersInActiveJobs: 3)
        #expect(table.fits(servers: 10, quotas: quotas), "an empty endpoint admits an oversized job")
        table.take(["s-1", "s-2"])
        #expect(table.blocking(["s-2", "s-3"]) == ["s-2"])
        #expect(!table.fits(servers: 2, quotas: quotas) && table.fits(servers: 1, quotas: quotas))
        table.take(["s-3"])
        #expect(!table.fits(servers: 1, quotas: quotas), "two jobs is the concurrent-job quota")
        table.release(["s-1", "s-2"])
        #expect(table.leased == ["s-3"] && table.activeJobs == 1 && table.serversInActiveJobs == 1)
    }

    // MARK: Ownership

    @Test("An endpoint belongs to the instance assigned its partition; a revoke stops it at once")
    func ownershipFollowsAssignment() {
        let ownership = Ownership()
        let changes = Locked(0)
        ownership.onChange { changes.withLock { $0 += 1 } }
        let endpoint = MusterDomain.Endpoint(accountID: "111122223333", region: "us-east-1")
        #expect(ownership.mayAct(for: endpoint), "no input has placed it yet (inventory-only endpoint)")
        ownership.place(endpoint, on: 1)
        #expect(!ownership.mayAct(for: endpoint), "its partition is not assigned here")
        ownership.assigned([0, 1])
        #expect(ownership.mayAct(for: endpoint))
        ownership.revoked([1])
        #expect(!ownership.mayAct(for: endpoint), "a revoked owner stops before the revoke completes")
        #expect(ownership.assignment.partitions == [0])
        #expect(changes.value == 2)
    }

    // MARK: Observation

    @Test("A COMPLETED recovery job stays live while a launched server awaits its post-launch runs")
    func postLaunchAfterJobEnd() {
        // DRS may end the job (JOB_END) before the SSM-based actions run.
        let ended = Job(jobID: "drsjob-1", status: .completed, participatingServers: [
            ParticipatingServer(sourceServerID: "s-1", launchStatus: .launched),
        ])
        let observed = JobObserved(
            launchGroup: LaunchGroupID(executionID: .named("ex"), waveNumber: 1,
                                       endpoint: MusterDomain.Endpoint(accountID: "111122223333", region: "us-east-1")),
            chunk: 0, jobID: "drsjob-1", jobType: .launch, status: .completed,
            servers: JobSnapshot(ended) { _ in true }.servers, newLogEvents: [], endedAt: nil, observedAt: t0, isFinal: false)
        #expect(observed.awaitsPostLaunch(isRecovery: true))
        #expect(!observed.awaitsPostLaunch(isRecovery: false), "a drill does not wait for its actions")
        let disabled = JobSnapshot(ended) { _ in false }
        #expect(disabled.servers.allSatisfy { $0.postLaunchProgress(isRecovery: true) == .notApplicable })
        var known = JobStore.Known(
            launchGroup: observed.launchGroup, chunk: 0, jobType: .launch, fingerprint: nil, logKeys: [], logPending: false,
            isDrill: false, completed: true, awaitsPostLaunch: true)
        #expect(known.isLive, "polls for it are still served")
        known.awaitsPostLaunch = false
        #expect(!known.isLive, "once the runs ended, its polls cost no DRS call")
    }

    @Test("The log is read when the snapshot changed, and again until a read finds nothing new")
    func logReads() {
        let job = Job(jobID: "drsjob-1", status: .started)
        let snapshot = JobSnapshot(job)
        #expect(ObservationPolicy.readsLog(previous: nil, current: snapshot, lastReadFoundNew: false))
        #expect(!ObservationPolicy.readsLog(previous: snapshot.fingerprint, current: snapshot, lastReadFoundNew: false))
        #expect(ObservationPolicy.readsLog(previous: snapshot.fingerprint, current: snapshot, lastReadFoundNew: true),
                "DRS may list an item late")
    }

    @Test("job.observed only when something changed, new log events appeared, or the poll is final")
    func publishOnlyChanges() {
        let job = Job(jobID: "drsjob-1", status: .started, participatingServers: [
            ParticipatingServer(sourceServerID: "s-1", launchStatus: .inProgress),
        ])
        let snapshot = JobSnapshot(job)
        #expect(ObservationPolicy.publishes(previous: nil, current: snapshot, newEvents: 0, isFinal: false))
        #expect(!ObservationPolicy.publishes(previous: snapshot.fingerprint, current: snapshot, newEvents: 0, isFinal: false))
        #expect(ObservationPolicy.publishes(previous: snapshot.fingerprint, current: snapshot, newEvents: 1, isFinal: false))
        #expect(ObservationPolicy.publishes(previous: snapshot.fingerprint, current: snapshot, newEvents: 0, isFinal: true))
        var launched = job
        launched.participatingServers = [ParticipatingServer(sourceServerID: "s-1", launchStatus: .launched)]
        #expect(ObservationPolicy.readsLog(previous: snapshot.fingerprint, current: JobSnapshot(launched), lastReadFoundNew: false))
    }
}
