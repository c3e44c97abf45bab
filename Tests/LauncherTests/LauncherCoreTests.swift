import Foundation
import LauncherApp
import MusterDRS
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterService
import TestSupport
import Testing

@Suite("Launcher decision cores (pure)")
struct LauncherCoreTests {
    // MARK: Endpoint budget (DRS and EC2 share the bucket, not the pause)

    @Test func ec2AndDRSShareOneBucketButNotAPause() {
        var budget = EndpointBudget(bucket: TokenBucket(ratePerSecond: 2, burst: 2))
        // One bucket: EC2 calls spend the tokens DRS would have had.
        #expect(budget.take(.ec2, now: 0) == .granted(wait: 0))
        #expect(budget.take(.ec2, now: 0) == .granted(wait: 0))
        #expect(budget.take(.drs, now: 0) == .granted(wait: 0.5), "the third call of the second waits for a token")

        // EC2 throttled: EC2 waits out its pause without spending; DRS goes on as the bucket allows.
        budget.pause(.ec2, until: 10)
        #expect(budget.take(.ec2, now: 2) == .paused(wait: 8))
        #expect(budget.take(.ec2, now: 3) == .paused(wait: 7))
        #expect(budget.take(.drs, now: 3) == .granted(wait: 0), "a paused EC2 spent no token and holds back no DRS call")
        #expect(budget.take(.drs, now: 3) == .granted(wait: 0))
        #expect(budget.pausedUntil(.ec2) == 10 && budget.pausedUntil(.drs) == 0)

        // A shorter pause does not cut a longer one short; once over, EC2 takes tokens again.
        budget.pause(.ec2, until: 4)
        #expect(budget.take(.ec2, now: 9) == .paused(wait: 1))
        #expect(budget.take(.ec2, now: 10) == .granted(wait: 0))

        // A DRS pause holds back DRS only.
        budget.pause(.drs, until: 20)
        #expect(budget.take(.drs, now: 12) == .paused(wait: 8))
        #expect(budget.take(.ec2, now: 12) == .granted(wait: 0))
    }

    // MARK: Chunking

    @Test("250 servers at 200 per job become two balanced chunks; duplicates are dropped")
    func chunking() {
        let ids = (0..<250).map { "s-\($0)" }
        let chunks = Chunking.chunks(ids + ["s-0"], limit: 200)
        #expect(chunks.map(\.count) == [125, 125])
        #expect(chunks.flatMap { $0 } == ids)
        #expect(Chunking.chunks(ids, limit: 100).map(\.count) == [84, 83, 83])
        #expect(Chunking.chunks(ids, limit: 500).map(\.count) == [125, 125], "clamped to the API maximum of 200")
        #expect(Chunking.chunks([String](), limit: 100).isEmpty)
        #expect(Chunking.batches(Array(0..<450), size: 200).map(\.count) == [200, 200, 50])
    }

    @Test("Servers per job never exceed the servers-in-active-jobs quota")
    func effectiveChunkSize() {
        #expect(EndpointLimits(maxServersInActiveJobs: 50, maxServersPerJob: 100).effectiveServersPerJob == 50)
        #expect(EndpointLimits(maxServersPerJob: 100).effectiveServersPerJob == 100)
    }

    // MARK: Token bucket and throttling

    @Test("The token bucket serves the burst, then one request per 1/rate seconds")
    func tokenBucket() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 3)
        #expect((0..<3).map { _ in bucket.take(now: 0) } == [0, 0, 0])
        #expect(abs(bucket.take(now: 0) - 0.1) < 1e-9)
        #expect(abs(bucket.take(now: 0) - 0.2) < 1e-9, "waiters queue up behind each other")
        #expect(bucket.take(now: 10) == 0, "refilled after a pause, up to the burst")
    }

    @Test("Retry-After is honoured (capped); without it the backoff has full jitter")
    func throttlePolicy() {
        let policy = ThrottlePolicy(backoff: Backoff(base: .milliseconds(100), cap: .seconds(2)), maxRetryAfter: .seconds(30))
        var generator = SystemRandomNumberGenerator()
        #expect(policy.delay(retryAfterSeconds: 3, attempt: 5, using: &generator) == .seconds(3))
        #expect(policy.delay(retryAfterSeconds: 300, attempt: 0, using: &generator) == .seconds(30))
        for attempt in 0..<8 {
            let delay = policy.delay(retryAfterSeconds: nil, attempt: attempt, using: &generator)
            #expect(delay >= .zero && delay <= min(.milliseconds(100) * (1 << attempt), .seconds(2)))
        }
    }

    // MARK: Conflict policy

    @Test("ConflictException backs off 30, 60, 120 s … capped, then gives up at the deadline")
    func conflictPolicy() {
        let policy = ConflictPolicy(initialDelay: 30, multiplier: 2, maxDelay: 100, deadline: 600)
        #expect((1...4).map { policy.delay(afterConflicts: $0) } == [30, 60, 100, 100])
        let first = Date(timeIntervalSince1970: 1000)
        #expect(policy.decide(conflicts: 1, firstConflictAt: first, now: first) == .retry(at: first.addingTimeInterval(30)))
        #expect(policy.decide(conflicts: 9, firstConflictAt: first, now: first.addingTimeInterval(550))
            == .retry(at: first.addingTimeInterval(600)), "the last retry lands on the deadline")
        #expect(policy.decide(conflicts: 10, firstConflictAt: first, now: first.addingTimeInterval(600)) == .giveUp)
        let scaled = ConflictPolicy(initialDelay: 30, deadline: 600, scale: 0.01)
        #expect(abs(scaled.delay(afterConflicts: 2) - 0.6) < 1e-9)
    }

    // MARK: Lease table / FIFO queue

    private func plan(_ snapshot: LaunchQueue.Snapshot, quotas: LaunchQueue.Quotas = .init()) -> [Int64: LaunchQueue.Decision] {
        Dictionary(uniqueKeysWithValues: LaunchQueue.plan(snapshot, quotas: quotas, now: Date(timeIntervalSince1970: 100))
            .map { ($0.id, $0.decision) })
    }

    @Test("A chunk whose server is leased waits; a later chunk needing the same server does not overtake it")
    func fifoPerServer() {
        let decisions = plan(LaunchQueue.Snapshot(leased: ["a"], activeJobs: 1, serversInActiveJobs: 1, pending: [
            .init(id: 1, servers: ["a", "b"]),
            .init(id: 2, servers: ["b", "c"]),
            .init(id: 3, servers: ["d"]),
        ]))
        #expect(decisions[1] == .wait(.leases, blocking: ["a"]))
        #expect(decisions[2] == .wait(.leases, blocking: ["b"]), "b is reserved by the earlier chunk 1")
        #expect(decisions[3] == .start, "an unrelated chunk is not held back by leases")
    }

    @Test("Two chunks sharing a server never start together")
    func noOverlap() {
        let decisions = plan(LaunchQueue.Snapshot(leased: [], activeJobs: 0, serversInActiveJobs: 0, pending: [
            .init(id: 5, servers: ["x", "y"]), .init(id: 6, servers: ["y"]),
        ]))
        #expect(decisions[5] == .start)
        #expect(decisions[6] == .wait(.leases, blocking: ["y"]))
    }

    @Test("Quotas queue in arrival order: once one chunk waits for quota, later ones wait too")
    func quotaFifo() {
        let quotas = LaunchQueue.Quotas(maxConcurrentJobs: 20, maxServersInActiveJobs: 200)
        let decisions = plan(LaunchQueue.Snapshot(leased: [], activeJobs: 1, serversInActiveJobs: 125, pending: [
            .init(id: 1, servers: (0..<125).map { "s\($0)" }),
            .init(id: 2, servers: ["small"]),
        ]), quotas: quotas)
        #expect(decisions[1] == .wait(.quota, blocking: []))
        #expect(decisions[2] == .wait(.quota, blocking: []), "no overtaking of a waiting larger chunk")
        let jobs = plan(LaunchQueue.Snapshot(leased: [], activeJobs: 0, serversInActiveJobs: 0, pending: [
            .init(id: 1, servers: ["a"]), .init(id: 2, servers: ["b"]), .init(id: 3, servers: ["c"]),
        ]), quotas: LaunchQueue.Quotas(maxConcurrentJobs: 2, maxServersInActiveJobs: 200))
        #expect([jobs[1], jobs[2], jobs[3]] == [.start, .start, .wait(.quota, blocking: [])])
    }

    @Test("An empty endpoint admits an oversized chunk instead of deadlocking; back-off is respected")
    func oversizedAndBackoff() {
        let decisions = plan(LaunchQueue.Snapshot(leased: [], activeJobs: 0, serversInActiveJobs: 0, pending: [
            .init(id: 1, servers: ["a"], notBefore: Date(timeIntervalSince1970: 200), backoffReason: .conflict),
            .init(id: 2, servers: (0..<300).map { "s\($0)" }),
            .init(id: 3, servers: ["a"]),
        ]), quotas: LaunchQueue.Quotas(maxConcurrentJobs: 20, maxServersInActiveJobs: 200))
        #expect(decisions[1] == .wait(.conflict, blocking: []))
        #expect(decisions[2] == .start)
        #expect(decisions[3] == .wait(.leases, blocking: ["a"]), "a chunk in back-off still holds its place")
    }

    // MARK: Tags and reconcile matching

    private var request: LaunchGroupRequested {
        LaunchGroupRequested(
            launchGroup: LaunchGroupID(executionID: .named("ex-1"), waveNumber: 2, endpoint: Endpoint(accountID: "111122223333", region: "us-east-1")),
            executionType: .drill, planID: .named("p1"), planName: String(repeating: "n", count: 300), waveName: "db",
            team: .named("core"), initiatedBy: "alice", sourceServerIDs: ["s-1"], waveStartedAt: Date(timeIntervalSince1970: 0),
            attempt: 3)
    }

    @Test("Job tags carry DESIGN §5's keys within DRS's limits")
    func tags() {
        let tags = JobTags.launchTags(for: request, chunk: 1, now: Date(timeIntervalSince1970: 0))
        #expect(tags[JobTags.executionID] == ExecutionID.named("ex-1").rawValue)
        #expect(tags[JobTags.executionType] == "DRILL")
        #expect(tags[JobTags.waveNumber] == "2")
        #expect(tags[JobTags.waveName] == "db")
        #expect(tags[JobTags.launchGroup] == "\(ExecutionID.named("ex-1")):w2:111122223333:us-east-1")
        #expect(tags[JobTags.chunk] == "1")
        #expect(tags[JobTags.attempt] == "3")
        #expect(tags[JobTags.initiatedBy] == "alice")
        #expect(tags[JobTags.team] == TeamID.named("core").rawValue)
        #expect(tags[JobTags.timestamp] == "1970-01-01T00:00:00.000Z")
        #expect(tags[JobTags.planName]?.count == JobTags.maxLength, "values are cut to 256 characters")
        #expect(tags.count <= 50 && tags.keys.allSatisfy { $0.count <= 256 && !$0.hasPrefix("aws:") })
        #expect(JobTags.sanitized(["aws:x": "1", "k": "v"]) == ["k": "v"])
    }

    @Test("Reconciliation finds the job by launch group, chunk and attempt, and only that one")
    func reconcileMatching() {
        let identity = JobTags.Identity(launchGroup: "\(ExecutionID.named("ex-1")):w2:111122223333:us-east-1", chunk: 1, attempt: 3)
        let own = JobTags.launchTags(for: request, chunk: 1, now: Date())
        let otherChunk = JobTags.launchTags(for: request, chunk: 0, now: Date())
        var otherAttempt = own
        otherAttempt[JobTags.attempt] = "2"
        let jobs = [
            Job(jobID: "drsjob-aaaaaaaaaaaaaaaaa", creationDateTime: "2024-01-01T00:00:01Z", tags: otherChunk),
            Job(jobID: "drsjob-bbbbbbbbbbbbbbbbb", creationDateTime: "2024-01-01T00:00:02Z", tags: otherAttempt),
            Job(jobID: "drsjob-ccccccccccccccccc", creationDateTime: "2024-01-01T00:00:03Z", tags: own),
            Job(jobID: "drsjob-ddddddddddddddddd", creationDateTime: "2024-01-01T00:00:04Z", tags: ["drs-sim:foreign": "true"]),
        ]
        #expect(Reconciler.launchMatches(identity, among: jobs).map(\.jobID) == ["drsjob-ccccccccccccccccc"])
        #expect(Reconciler.launchMatches(identity, among: Array(jobs.prefix(2))).isEmpty)
        let terminate = Job(jobID: "drsjob-eeeeeeeeeeeeeeeee", type: .terminate, participatingServers: [
            ParticipatingServer(sourceServerID: "s-1", recoveryInstanceID: "i-1"),
            ParticipatingServer(sourceServerID: "s-2", recoveryInstanceID: "i-2"),
        ])
        #expect(Reconciler.terminateMatches(instances: ["i-2", "i-1"], among: [terminate]).map(\.jobID) == [terminate.jobID])
        #expect(Reconciler.terminateMatches(instances: ["i-1"], among: [terminate]).isEmpty)
    }

    // MARK: Configuration

    @Test("Accounts parse from JSON; a malformed entry names the variable and the rule")
    func accountsConfiguration() throws {
        let parsed = try AccountConfiguration.parse(
            #"[{"accountId":"111122223333","regions":["us-east-1"],"keyPair":"SIM"},"#
                + #"{"accountId":"444455556666","regions":["eu-west-1"],"roleArn":"arn:aws:iam::444455556666:role/x","externalId":"e"}]"#,
            variable: "MUSTER_LAUNCHER_ACCOUNTS")
        #expect(parsed.count == 2)
        #expect(AccountDirectory.registration(parsed[1]).credentials
            == .assumeRole(roleARN: "arn:aws:iam::444455556666:role/x", externalID: "e"))
        #expect(AccountDirectory.keyPairPrefix("sim-1") == "MUSTER_KEY_SIM_1_")
        #expect(throws: ConfigurationError.self) {
            try AccountConfiguration.parse(#"[{"accountId":"12","regions":["us-east-1"],"keyPair":"X"}]"#, variable: "V")
        }
        let configuration = try LauncherConfiguration(reader: EnvironmentSettings(environment: [
            "MUSTER_LAUNCHER_MAX_SERVERS_PER_JOB": "200", "MUSTER_LAUNCHER_CONFLICT_SCALE": "0.01",
            "MUSTER_DRS_ENDPOINT": "http://127.0.0.1:9/{region}",
        ]))
        #expect(configuration.limits.maxServersPerJob == 200)
        #expect(configuration.conflict.scale == 0.01)
        #expect(configuration.drsEndpoint(region: "us-east-1") == "http://127.0.0.1:9/us-east-1")
        #expect(throws: ConfigurationError.self) {
            try LauncherConfiguration(reader: EnvironmentSettings(environment: ["MUSTER_LAUNCHER_MAX_SERVERS_PER_JOB": "201"]))
        }
    }
}
