import Foundation
import MusterDomain
@testable import PlannerApp
import TestSupport
import Testing

/// The pure readiness and compliance rules: facts in, checks and verdicts out.
@Suite("Readiness and compliance rules")
struct ReadinessRulesTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func server(_ id: String, wave: Int = 0, account: String = "111111111111", state: String? = "CONTINUOUS",
                known: Bool = true, instance: String? = nil, live: String? = nil, seen: TimeInterval = 60)
        -> ReadinessFacts.Server
    {
        ReadinessFacts.Server(id: id, accountID: account, wave: wave, inInventory: known, replicationState: known ? state : nil,
                              recoveryInstanceID: instance, observedAt: known ? now.addingTimeInterval(-seen) : nil,
                              liveExecutionID: live)
    }

    func facts(_ servers: [ReadinessFacts.Server], waves: [String] = ["db"], load: [String: ReadinessFacts.AccountLoad] = [:],
               quotas: ReadinessQuotas = ReadinessQuotas()) -> ReadinessFacts {
        ReadinessFacts(waves: waves, servers: servers, load: load, quotas: quotas, now: now)
    }

    func check(_ evaluation: ReadinessEvaluation, _ name: String) throws -> PlanReadinessCheck {
        try #require(evaluation.checks.first { $0.name == name })
    }

    @Test func aHealthyPlanIsOkWithEveryCheckListed() {
        let evaluation = ReadinessRules.evaluate(facts([server("s-1"), server("s-2")]))
        #expect(evaluation.verdict == .ok)
        #expect(evaluation.checks.map(\.name) == [
            "servers.assigned", "servers.exist", "servers.replicating", "inventory.fresh", "servers.noLiveJob",
            "servers.noRecoveryInstance", "account.quotas", "hooks.reachable",
        ])
        #expect(evaluation.checks.allSatisfy { $0.fix == nil })
        #expect(evaluation.blockingReasons.isEmpty)
    }

    @Test func theVerdictIsTheWorstCheck() {
        #expect([ReadinessStatus.ok, .blocking, .warning].max() == .blocking)
        #expect([ReadinessStatus.ok, .unknown, .warning].max() == .unknown)
        #expect(ReadinessEvaluation(checks: []).verdict == .ok)
    }

    @Test func aServerNotReplicatingBlocksAndABacklogWarns() throws {
        let stalled = ReadinessRules.evaluate(facts([server("s-1", state: "STALLED"), server("s-2", state: "BACKLOG"),
                                                     server("s-3", state: nil)]))
        let replicating = try check(stalled, "servers.replicating")
        #expect(replicating.status == .blocking)
        #expect(replicating.servers == ["s-1", "s-3"], "the backlog server is not a blocker")
        #expect(replicating.message.contains("STALLED"))
        #expect(replicating.fix != nil)
        #expect(stalled.verdict == .blocking)
        let backlog = ReadinessRules.evaluate(facts([server("s-1"), server("s-2", state: "BACKLOG")]))
        #expect(try check(backlog, "servers.replicating").status == .warning)
        #expect(try check(backlog, "servers.replicating").servers == ["s-2"])
        #expect(backlog.verdict == .warning)
    }

    @Test func missingServersEmptyWavesAndLeftoversBlockAndALiveJobWarns() throws {
        let evaluation = ReadinessRules.evaluate(facts(
            [server("s-1", known: false), server("s-2", instance: "i-0abc"), server("s-3", live: "e-1"),
             server("s-4", instance: "i-0def", live: "e-1")],
            waves: ["db", "app"]))
        #expect(try check(evaluation, "servers.assigned").status == .blocking)
        #expect(try check(evaluation, "servers.assigned").message.contains("app"))
        #expect(try check(evaluation, "servers.exist").servers == ["s-1"])
        #expect(try check(evaluation, "servers.noLiveJob").servers == ["s-3", "s-4"])
        #expect(try check(evaluation, "servers.noLiveJob").status == .warning, "the launcher's leases queue it")
        // The instance of a server still in a live launch is that launch's, not a leftover.
        #expect(try check(evaluation, "servers.noRecoveryInstance").servers == ["s-2"])
        let reasons = evaluation.blockingReasons
        #expect(reasons.count == 3)
        #expect(reasons.contains { $0.hasPrefix("servers.noRecoveryInstance:") && $0.contains("s-2") && $0.contains("fix:") })
    }

    @Test func staleInventoryWarns() throws {
        let evaluation = ReadinessRules.evaluate(facts([server("s-1", seen: 7 * 3600), server("s-2")]))
        #expect(try check(evaluation, "inventory.fresh").status == .warning)
        #expect(try check(evaluation, "inventory.fresh").servers == ["s-1"])
    }

    @Test func quotasCountTheLargestWavePerAccountBesideRunningJobs() throws {
        var quotas = ReadinessQuotas()
        quotas.concurrentJobs = 3
        quotas.serversPerJob = 2
        quotas.serversInActiveJobs = 10
        // Wave 0: 3 servers in account A (2 jobs); wave 1: 1 server in A, 1 in B.
        let servers = [server("s-1"), server("s-2"), server("s-3"), server("s-4", wave: 1),
                       server("s-5", wave: 1, account: "222222222222")]
        let idle = ReadinessRules.evaluate(facts(servers, waves: ["a", "b"], quotas: quotas))
        #expect(try check(idle, "account.quotas").status == .ok)
        let busyJobs = ReadinessRules.evaluate(facts(
            servers, waves: ["a", "b"], load: ["111111111111": .init(activeJobs: 2, serversInActiveJobs: 2)], quotas: quotas))
        let jobs = try check(busyJobs, "account.quotas")
        #expect(jobs.status == .warning, "a busy account only delays the launches: the launcher queues them")
        #expect(jobs.message.contains("111111111111"))
        #expect(!jobs.servers.contains("s-5"), "the other account fits")
        #expect(busyJobs.verdict != .blocking, "a recovery must never be refused because other jobs run")
        let busyServers = ReadinessRules.evaluate(facts(
            servers, waves: ["a", "b"], load: ["222222222222": .init(activeJobs: 0, serversInActiveJobs: 10)], quotas: quotas))
        #expect(try check(busyServers, "account.quotas").servers == ["s-5"])
        #expect(try check(busyServers, "account.quotas").status == .warning)
    }

    @Test func aWaveLargerThanTheQuotasOnItsOwnBlocks() throws {
        var quotas = ReadinessQuotas()
        quotas.concurrentJobs = 1
        quotas.serversPerJob = 2
        quotas.serversInActiveJobs = 10
        // Wave 0: 3 servers in account A need 2 jobs, more than 1 concurrent job even on an idle account.
        let servers = [server("s-1"), server("s-2"), server("s-3"), server("s-4", wave: 1, account: "222222222222")]
        let evaluation = ReadinessRules.evaluate(facts(servers, waves: ["a", "b"], quotas: quotas))
        let quota = try check(evaluation, "account.quotas")
        #expect(quota.status == .blocking)
        #expect(quota.servers == ["s-1", "s-2", "s-3"])
        #expect(quota.message.contains("largest wave needs 2 jobs"))
        quotas.concurrentJobs = 2
        quotas.serversInActiveJobs = 2
        let tooManyServers = ReadinessRules.evaluate(facts(servers, waves: ["a", "b"], quotas: quotas))
        #expect(try check(tooManyServers, "account.quotas").status == .blocking, "3 servers in one wave, 2 allowed in active jobs")
    }

    func hook(_ step: HookStep, wave: String = "db", endpoints: [String] = ["111111111111/us-east-1"]) -> ReadinessFacts.Hook {
        ReadinessFacts.Hook(waveName: wave, step: step, waveEndpoints: endpoints)
    }

    func ssmStep(_ name: String, account: String? = nil, region: String? = nil) -> HookStep {
        HookStep(name: name, kind: .ssmAutomation,
                 ssm: .init(documentName: "Muster-Prepare", accountID: account, region: region))
    }

    @Test func hooksAreOkWithoutHooksAndForSSMStepsTheLauncherChecks() throws {
        #expect(try check(ReadinessRules.evaluate(facts([server("s-1")])), "hooks.reachable").message == "no hooks")
        var withHooks = facts([server("s-1")])
        withHooks.hooks = [hook(ssmStep("prep")), hook(HookStep(name: "ok", kind: .approval))]
        let ssm = try check(ReadinessRules.evaluate(withHooks), "hooks.reachable")
        #expect(ssm.status == .ok)
        #expect(ssm.message == "1 SSM step(s) whose documents the launcher checks; 1 approval step(s) (nothing to reach)")
    }

    @Test func anSSMStepWithoutAnEndpointOfItsOwnInAWaveSpanningSeveralBlocks() throws {
        var spanning = facts([server("s-1")])
        spanning.hooks = [hook(ssmStep("prep"), wave: "app", endpoints: ["111111111111/us-east-1", "222222222222/us-east-1"]),
                          hook(ssmStep("own", account: "333333333333", region: "eu-west-1"), endpoints: [])]
        let found = try check(ReadinessRules.evaluate(spanning), "hooks.reachable")
        #expect(found.status == .blocking)
        #expect(found.message == "step prep (wave app) has no accountId and region, and its wave spans "
            + "111111111111/us-east-1, 222222222222/us-east-1")
        #expect(spanning.hooks[1].ssmEndpoint?.accountID == "333333333333")
        #expect(spanning.hooks[0].ssmEndpoint == nil)
        #expect(hook(ssmStep("x")).ssmEndpoint?.region == "us-east-1")
    }

    @Test func calloutTargetsAreNotProbedSoTheyAreUnknown() throws {
        var withCallout = facts([server("s-1")])
        withCallout.hooks = [
            hook(ssmStep("prep")),
            hook(HookStep(name: "tell", kind: .httpCallout, callout: .init(url: "https://hooks.example/drill?x=1",
                                                                               subscriptionID: UUID().uuidString))),
        ]
        let found = try check(ReadinessRules.evaluate(withCallout), "hooks.reachable")
        #expect(found.status == .unknown)
        #expect(found.message == "callout targets are not probed: step tell (wave db) → hooks.example; "
            + "1 SSM step(s) whose documents the launcher checks")
        #expect(found.fix != nil)
    }

    @Test func theFactsCarryEachWavesStepsWithItsEndpoints() {
        let plan = ValidatedPlan(name: "p", waves: [
            .init(name: "db", protectionGroupIds: [], dependsOn: [], pauseBefore: false, continueOnFailure: false,
                  timeoutMinutes: 60, before: [ssmStep("a")], after: [HookStep(name: "b", kind: .approval)]),
            .init(name: "app", protectionGroupIds: [], dependsOn: [0], pauseBefore: false, continueOnFailure: false,
                  timeoutMinutes: 60, before: nil, after: [ssmStep("c")]),
        ])
        let hooks = ReadinessFacts.hooks(of: plan, servers: [
            server("s-1"), server("s-2", wave: 1, account: "222222222222"), server("s-3", wave: 1),
        ])
        #expect(hooks.map(\.step.name) == ["a", "b", "c"])
        #expect(hooks.map(\.waveName) == ["db", "db", "app"])
        #expect(hooks[0].waveEndpoints == ["111111111111/us-east-1"])
        #expect(hooks[2].waveEndpoints == ["111111111111/us-east-1", "222222222222/us-east-1"])
    }

    // MARK: Compliance

    func drill(daysAgo: Double) -> ComplianceEntry.LastDrill {
        .init(executionId: .fixture(1), endedAt: now.addingTimeInterval(-daysAgo * 86_400), secondsToLastLaunch: 300, rtoMet: true,
              worstAchievedRpoSeconds: 30, rpoMet: true)
    }

    func entry(frequency: Int?, last: ComplianceEntry.LastDrill?, createdDaysAgo: Double = 100) -> ComplianceEntry {
        ComplianceRules.entry(planID: .named("p"), planName: "Payroll", rtoTargetMinutes: 60, rpoTargetMinutes: 5,
                              drillFrequencyDays: frequency, planCreatedAt: now.addingTimeInterval(-createdDaysAgo * 86_400),
                              lastDrill: last, now: now)
    }

    @Test func overdueFollowsTheDrillFrequencyPolicy() {
        let recent = entry(frequency: 30, last: drill(daysAgo: 10.5))
        #expect(recent.daysSince == 10)
        #expect(!recent.overdue)
        #expect(recent.dueAt == now.addingTimeInterval(19.5 * 86_400))
        let late = entry(frequency: 30, last: drill(daysAgo: 31))
        #expect(late.overdue)
        #expect(late.daysSince == 31)
        let never = entry(frequency: 30, last: nil, createdDaysAgo: 1)
        #expect(never.overdue, "a policy with no drill behind it is not met")
        #expect(never.daysSince == nil)
        let noPolicy = entry(frequency: nil, last: drill(daysAgo: 400))
        #expect(!noPolicy.overdue)
        #expect(noPolicy.dueAt == nil)
    }

    @Test func historyCSVQuotesAndDefusesFormulas() {
        #expect(HistoryCSV.cell("plain") == "plain")
        #expect(HistoryCSV.cell("a,b") == "\"a,b\"")
        #expect(HistoryCSV.cell("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(HistoryCSV.cell("=HYPERLINK(1)") == "'=HYPERLINK(1)")
        #expect(HistoryCSV.cell("-1,2") == "\"'-1,2\"")
        #expect(HistoryCSV.render([]) == HistoryCSV.header.joined(separator: ",") + "\r\n")
    }
}
