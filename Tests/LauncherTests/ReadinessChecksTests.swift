import DRSSimApp
import Foundation
@testable import LauncherApp
import MusterDRS
import MusterDomain
import MusterEvents
import TestSupport
import Testing

private typealias H = LauncherHarness

/// The launcher's readiness checks (issue 16) through its real inputs and
/// outputs: `readiness.check-requested` on the accounts topic, drs-sim over
/// HTTP, `readiness.checked` in the outbox.
@Suite("Launcher: readiness checks against drs-sim", .serialized)
struct ReadinessChecksIntegrationTests {
    static let badAccount = "444455556666"

    func request(_ account: String, servers: [String], subnets: [String] = [], groups: [String] = [],
                 types: [String] = [], concurrentJobs: Int = 20, documents: [String]? = nil) -> ReadinessCheckRequested {
        ReadinessCheckRequested(
            planID: .named("plan-r"), evaluationID: UUID().uuidString.lowercased(), accountID: account,
            regions: servers.isEmpty ? [] : [.init(region: H.region, sourceServerIDs: servers.map(SourceServerID.init(rawValue:)), subnetIDs: subnets,
                                                   securityGroupIDs: groups, instanceTypes: types,
                                                   peakServers: servers.count, peakJobs: 1)],
            quotas: .init(concurrentJobs: concurrentJobs, serversInActiveJobs: 500), requestedAt: Date(),
            ssmDocuments: documents?.map {
                .init(stepName: "prep-\($0)", waveName: "db", region: H.region, documentName: $0, documentVersion: "$DEFAULT")
            })
    }

    func answer(_ harness: LauncherHarness, _ evaluation: String) async throws -> [String: ReadinessChecked.Check]? {
        let answers = try await harness.outboxPayloads(EventType.readinessChecked, as: ReadinessChecked.self)
        guard let answer = answers.first(where: { $0.evaluationID == evaluation }) else { return nil }
        return Dictionary(answer.checks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    @Test("A leftover recovery instance, a foreign active job, the quota, a missing subnet and bad credentials each give their check")
    func eachProblemGivesItsCheck() async throws {
        try await H.with(servers: 6) { harness in
            try await harness.startLauncher(harness.configuration {
                $0.accounts.append(AccountConfiguration(accountId: Self.badAccount, regions: [H.region], keyPair: "MISSING"))
            })
            // An earlier drill of s-1 leaves its recovery instance behind.
            try await harness.launch(harness.launchGroupRequested("ex-left", servers: [H.sid(1)]))
            #expect(try await harness.pollUntil { try await harness.jobs().first?.completed != nil })
            // Someone outside Muster runs a job holding s-5.
            _ = try await harness.engine.withSimulation { simulation, now in
                try simulation.addFault(DRSSimFault(
                    type: .foreignJob, accountID: H.accountID, region: H.region, sourceServerIDs: [H.sid(5)], seconds: 3600),
                    realNow: now)
            }

            // One SSM step's runbook is missing in the account.
            await harness.engine.withSimulation { simulation, _ in
                var behaviour = simulation.behaviour
                behaviour.ssmMissingDocuments = ["Muster-Gone"]
                simulation.setBehaviour(behaviour)
            }

            let good = request(H.accountID, servers: [H.sid(1), H.sid(2), H.sid(5)],
                               subnets: ["subnet-0a1b2c3d4e5f60001", "subnet-0ffffffffffffffff"],
                               groups: ["sg-0a1b2c3d4e5f60001"], types: ["m5.large", "x9.nonexistent"], concurrentJobs: 1,
                               documents: ["Muster-Prepare", "Muster-Gone"])
            let bad = request(Self.badAccount, servers: [H.sid(3)], documents: ["Muster-Prepare"])
            let clean = request(H.accountID, servers: [H.sid(2)], subnets: ["subnet-0d1e2f3a4b5c60002"], types: ["t3.medium"],
                                documents: ["Muster-Prepare"])
            // An account the plan has no servers in, where only an SSM step runs.
            let hooksOnly = request(H.accountID, servers: [], documents: ["Muster-Prepare"])
            for payload in [good, bad, clean, hooksOnly] {
                try await harness.publish(harness.topics.accounts, key: payload.accountID,
                                          type: EventType.readinessCheckRequested, payload)
            }
            #expect(await eventually {
                for evaluation in [good, bad, clean, hooksOnly].map(\.evaluationID) where (try? await harness.answer(evaluation)) == nil {
                    return false
                }
                return true
            })
            let checks = try #require(try await answer(harness, good.evaluationID))
            #expect(checks["account.credentials"]?.status == .ok)
            #expect(checks["servers.noRecoveryInstance"]?.status == .blocking)
            #expect(checks["servers.noRecoveryInstance"]?.servers == [H.sid(1)])
            #expect(checks["servers.noLiveJob"]?.status == .blocking)
            #expect(checks["servers.noLiveJob"]?.servers == [H.sid(5)])
            #expect(checks["account.quotas"]?.status == .warning, "1 foreign job + 1 for the wave exceed 1 concurrent job: the launch waits")
            #expect(checks["launch.settings"]?.status == .blocking)
            #expect(checks["launch.settings"]?.message.contains("subnet-0ffffffffffffffff") == true)
            #expect(checks["launch.settings"]?.message.contains("subnet-0a1b2c3d4e5f60001") == false)
            #expect(checks["launch.settings"]?.message.contains("x9.nonexistent") == true)
            #expect(checks["launch.settings"]?.message.contains("m5.large") == false)
            #expect(checks["hooks.reachable"]?.status == .blocking)
            #expect(checks["hooks.reachable"]?.message.contains("step prep-Muster-Gone (wave db): Muster-Gone:$DEFAULT") == true)
            #expect(checks["hooks.reachable"]?.message.contains("InvalidDocument") == true)
            #expect(checks["hooks.reachable"]?.message.contains("prep-Muster-Prepare") == false)

            let refused = try #require(try await answer(harness, bad.evaluationID))
            #expect(refused["account.credentials"]?.status == .blocking)
            #expect(refused["servers.noRecoveryInstance"]?.status == .unknown)
            #expect(refused["account.credentials"]?.message.contains(H.credentials.secretAccessKey) == false)
            #expect(refused["hooks.reachable"]?.status == .unknown)

            let fine = try #require(try await answer(harness, clean.evaluationID))
            #expect(fine.values.allSatisfy { $0.status == .ok }, "\(fine)")
            #expect(fine["hooks.reachable"]?.message.contains("1 checked") == true)
            let only = try #require(try await answer(harness, hooksOnly.evaluationID))
            #expect(Array(only.keys) == ["hooks.reachable"] && only["hooks.reachable"]?.status == .ok, "\(only)")
            let described = await harness.engine.withSimulation { simulation, _ in
                simulation.counters.calls("ssm:DescribeDocument")
            }
            #expect(described == 4, "one DescribeDocument per document of the answered accounts (none for bad credentials)")
            #expect(try await harness.pool.query("SELECT count(*) AS n FROM \(harness.schema).readiness_requests").rows[0]
                .decode(Int.self, "n") == 0, "every answered request is closed")
        }
    }
}

private extension LauncherHarness {
    func answer(_ evaluation: String) async throws -> ReadinessChecked? {
        try await outboxPayloads(EventType.readinessChecked, as: ReadinessChecked.self).first { $0.evaluationID == evaluation }
    }
}

/// The pure parts: the findings over DRS's answers and the spare-token budget.
@Suite("Launcher: readiness findings and background budget")
struct ReadinessFindingsTests {
    func region(_ servers: [String], jobs: [Job] = [], instances: [RecoveryInstance] = [], subnets: [String] = [],
                peak: Int = 1) -> ReadinessFindings.Region {
        ReadinessFindings.Region(
            request: .init(region: "us-east-1", sourceServerIDs: servers.map(SourceServerID.init(rawValue:)), peakServers: peak, peakJobs: 1),
            activeJobs: .found(jobs), recoveryInstances: .found(instances), missingSubnets: .found(subnets),
            missingSecurityGroups: .found([]))
    }

    func job(_ id: String, _ servers: [String], muster: Bool, status: JobStatus = .started) -> Job {
        Job(jobID: id, status: status, participatingServers: servers.map { ParticipatingServer(sourceServerID: $0) },
            tags: muster ? [JobTags.executionID: "ex-1"] : [:])
    }

    let quotas = ReadinessCheckRequested.Quotas(concurrentJobs: 20, serversInActiveJobs: 500)

    @Test func allClearIsOkEverywhere() {
        let checks = ReadinessFindings.checks([region(["s-1"])], quotas: quotas, documents: [])
        #expect(checks.map(\.name) == ReadinessFindings.names)
        #expect(checks.allSatisfy { $0.status == .ok })
        let older = ReadinessFindings.checks([region(["s-1"])], quotas: quotas)
        #expect(!older.map(\.name).contains("hooks.reachable"), "a request without ssmDocuments gets no hooks check")
    }

    func document(_ name: String, step: String = "prep", version: String? = nil) -> ReadinessCheckRequested.SSMDocument {
        .init(stepName: step, waveName: "app", region: "eu-west-1", documentName: name, documentVersion: version)
    }

    @Test func aMissingDocumentBlocksNamingTheStepAndDocument() {
        let check = ReadinessFindings.documents([
            (document("Muster-Prepare"), .found(.found(type: "Automation"))),
            (document("Muster-Gone", step: "drain", version: "3"), .found(.missing("InvalidDocumentVersion: no version 3"))),
            (document("AWS-RunShellScript", step: "shell"), .found(.found(type: "Command"))),
        ])
        #expect(check.name == "hooks.reachable" && check.status == .blocking)
        #expect(check.message.contains("step drain (wave app): Muster-Gone:3 in eu-west-1 does not exist"))
        #expect(check.message.contains("step shell (wave app): AWS-RunShellScript in eu-west-1 is a Command document"))
        #expect(!check.message.contains("Muster-Prepare"))
        #expect(check.fix != nil)
    }

    @Test func aFailedDocumentLookUpIsUnknownAndAMissingOneStillBlocks() {
        let failed = ReadinessFindings.documents([
            (document("Muster-Prepare"), .found(.found(type: nil))),
            (document("Muster-Other", step: "other"), .failed("DescribeDocument: AccessDeniedException: not authorized")),
        ])
        #expect(failed.status == .unknown && failed.message.contains("step other (wave app)")
            && failed.message.contains("AccessDeniedException"))
        let both = ReadinessFindings.documents([
            (document("Muster-Gone"), .found(.missing("InvalidDocument: Document with name Muster-Gone does not exist."))),
            (document("Muster-Other", step: "other"), .failed("ThrottlingException")),
        ])
        #expect(both.status == .blocking && both.message.contains("not checked: step other"))
        #expect(ReadinessFindings.documents([]).status == .ok)
        #expect(ReadinessFindings.documents([(document("Muster-Prepare"), .found(.found(type: "Automation")))]).status == .ok)
    }

    @Test func anAccountWithOnlySSMStepsAnswersTheHooksCheckAlone() {
        let checks = ReadinessFindings.checks([], quotas: quotas, documents: [
            (document("Muster-Gone"), .found(.missing("InvalidDocument: gone"))),
        ])
        #expect(checks.map(\.name) == ["hooks.reachable"] && checks[0].status == .blocking)
    }

    @Test func aMusterJobWarnsAForeignOneBlocks() {
        let ours = ReadinessFindings.liveJobs([region(["s-1", "s-2"], jobs: [job("j1", ["s-1", "s-9"], muster: true)])])
        #expect(ours.status == .warning && ours.servers == ["s-1"])
        let theirs = ReadinessFindings.liveJobs([region(["s-1", "s-2"], jobs: [
            job("j1", ["s-1"], muster: true), job("j2", ["s-2"], muster: false),
        ])])
        #expect(theirs.status == .blocking && theirs.servers == ["s-2"] && theirs.message.contains("j2"))
        let done = ReadinessFindings.liveJobs([region(["s-1"], jobs: [job("j1", ["s-1"], muster: false, status: .completed)])])
        #expect(done.status == .ok)
    }

    @Test func leftoversSkipTerminatedInstancesAndThoseOfALiveJob() {
        let instances = [
            RecoveryInstance(ec2InstanceState: .running, jobID: "old", recoveryInstanceID: "i-1", sourceServerID: "s-1"),
            RecoveryInstance(ec2InstanceState: .terminated, jobID: "old", recoveryInstanceID: "i-2", sourceServerID: "s-2"),
            RecoveryInstance(ec2InstanceState: .running, jobID: "live", recoveryInstanceID: "i-3", sourceServerID: "s-3"),
            RecoveryInstance(ec2InstanceState: .running, jobID: "old", recoveryInstanceID: "i-4", sourceServerID: "s-other"),
        ]
        let check = ReadinessFindings.leftovers([region(["s-1", "s-2", "s-3"], jobs: [job("live", ["s-3"], muster: true)],
                                                        instances: instances)])
        #expect(check.status == .blocking && check.servers == ["s-1"] && check.message.contains("i-1"))
    }

    @Test func quotasCompareDRSFiguresWithTheLargestWave() {
        let busy = (0..<19).map { job("j\($0)", ["x-\($0)"], muster: false) }
        #expect(ReadinessFindings.quotaCheck([region(["s-1"], jobs: busy)], quotas: quotas).status == .ok)
        let full = busy + [job("j19", ["x-19"], muster: false)]
        let waiting = ReadinessFindings.quotaCheck([region(["s-1"], jobs: full)], quotas: quotas)
        #expect(waiting.status == .warning && waiting.message.contains("launches will wait for job slots"),
                "a full region only delays the launch: the launcher queues it")
        let crowded = ReadinessCheckRequested.Quotas(concurrentJobs: 20, serversInActiveJobs: 20)
        let check = ReadinessFindings.quotaCheck([region(["s-1", "s-2"], jobs: busy, peak: 2)], quotas: crowded)
        #expect(check.status == .warning && check.message.contains("19 server(s) in active DRS jobs + 2"))
        let tiny = ReadinessCheckRequested.Quotas(concurrentJobs: 20, serversInActiveJobs: 1)
        let tooLarge = ReadinessFindings.quotaCheck([region(["s-1", "s-2"], peak: 2)], quotas: tiny)
        #expect(tooLarge.status == .blocking && tooLarge.servers == ["s-1", "s-2"],
                "a wave larger than the quota on its own must be split")
    }

    @Test func aFailedLookUpIsUnknownNeverOk() {
        var broken = region(["s-1"])
        broken.recoveryInstances = .failed("ThrottlingException")
        broken.missingSubnets = .failed("DescribeSubnets: Transport")
        #expect(ReadinessFindings.leftovers([broken]).status == .unknown)
        #expect(ReadinessFindings.launchSettings([broken]).status == .unknown)
        #expect(ReadinessFindings.liveJobs([broken]).status == .ok)
        let failed = ReadinessFindings.credentialsFailed("UnrecognizedClientException", hooks: true)
        #expect(failed.map(\.name) == ReadinessFindings.names)
        #expect(!ReadinessFindings.credentialsFailed("x").map(\.name).contains("hooks.reachable"))
        #expect(failed[0].status == .blocking && failed.dropFirst().allSatisfy { $0.status == .unknown })
    }

    @Test func backgroundWorkSpendsOnlySpareTokensAndNeverQueuesAheadOfALaunch() {
        var bucket = TokenBucket(ratePerSecond: 10, burst: 20)
        // Ten spare tokens above a reserve of ten; the eleventh is refused without spending.
        for _ in 0..<10 { #expect(bucket.takeSpare(now: 0, reserve: 10) == 0) }
        #expect(bucket.takeSpare(now: 0, reserve: 10) > 0)
        // Launches still find the reserve at once.
        for _ in 0..<10 { #expect(bucket.take(now: 0) == 0) }
        // A launch now queues (the bucket is below zero); background work waits behind it.
        #expect(bucket.take(now: 0) > 0)
        #expect(bucket.takeSpare(now: 0.5, reserve: 10) > 0)
        var budget = EndpointBudget(bucket: TokenBucket(ratePerSecond: 10, burst: 20))
        budget.pause(.drs, until: 5)
        #expect(budget.takeSpare(.drs, now: 1, reserve: 10) == .paused(wait: 4))
    }
}
