import Foundation
import MusterDomain
import MusterEvents
@testable import PlannerApp
import Testing

/// The pure half of the launcher's readiness (issue 16): the requests a plan
/// sends and the merge of the answers into the planner's checks.
@Suite("Planner: launcher readiness requests and merge")
struct LauncherReadinessTests {
    func server(_ id: String, account: String = "111122223333", region: String = "us-east-1", wave: Int = 0)
        -> ReadinessFacts.Server
    {
        ReadinessFacts.Server(id: id, accountID: account, wave: wave, inInventory: true, replicationState: "CONTINUOUS",
                              recoveryInstanceID: nil, observedAt: Date(), liveExecutionID: nil, region: region)
    }

    func check(_ name: String, _ status: ReadinessStatus, servers: [String] = [], message: String = "m")
        -> PlanReadinessCheck
    {
        PlanReadinessCheck(name: name, status: status, servers: servers, message: message, fix: status == .ok ? nil : "fix")
    }

    @Test func oneRequestPerAccountWithRegionsPeaksAndTheDrillProfilesEC2References() throws {
        var profiles = PlanLaunchProfiles()
        profiles.profiles = ["isolated": LaunchProfile(subnetId: "subnet-1", securityGroupIds: ["sg-1", "sg-2"],
                                                       instanceType: "m5.large")]
        profiles.drillProfile = "isolated"
        var quotas = ReadinessQuotas()
        quotas.serversPerJob = 2
        let facts = ReadinessFacts(
            waves: ["a", "b"],
            servers: [server("s-1"), server("s-2"), server("s-3"), server("s-4", wave: 1),
                      server("s-9", account: "444455556666", region: "eu-west-1")],
            load: [:], quotas: quotas, now: Date())
        let requests = LauncherReadiness.requests(planID: .random(), evaluationID: UUID(), facts: facts, profiles: profiles,
                                                  now: Date())
        #expect(requests.map(\.accountID) == ["111122223333", "444455556666"])
        let first = try #require(requests.first?.regions.first)
        #expect(first.sourceServerIDs == ["s-1", "s-2", "s-3", "s-4"])
        #expect(first.peakServers == 3 && first.peakJobs == 2)
        #expect(first.subnetIDs == ["subnet-1"] && first.securityGroupIDs == ["sg-1", "sg-2"])
        #expect(first.instanceTypes == ["m5.large"])
        #expect(requests[1].regions.map(\.region) == ["eu-west-1"])
        let plain = LauncherReadiness.requests(planID: .random(), evaluationID: UUID(), facts: facts, profiles: nil, now: Date())
        #expect(plain[0].regions[0].subnetIDs.isEmpty)
    }

    @Test func ssmStepsDocumentsGoToTheirAccountsRequestAndAnAccountWithOnlyStepsIsAsked() throws {
        func ssm(_ name: String, account: String? = nil, region: String? = nil, version: String? = nil) -> HookStep {
            HookStep(name: name, kind: .ssmAutomation,
                     ssm: .init(documentName: "Doc-\(name)", documentVersion: version, accountID: account, region: region))
        }
        let facts = ReadinessFacts(
            waves: ["a"], servers: [server("s-1")], load: [:], quotas: ReadinessQuotas(),
            hooks: [
                .init(waveName: "a", step: ssm("prep", version: "2"), waveEndpoints: ["111122223333/us-east-1"]),
                .init(waveName: "a", step: ssm("far", account: "777788889999", region: "eu-west-1"),
                      waveEndpoints: ["111122223333/us-east-1"]),
                .init(waveName: "a", step: ssm("lost"), waveEndpoints: []),
                .init(waveName: "a", step: HookStep(name: "ok", kind: .approval), waveEndpoints: []),
            ], now: Date())
        let requests = LauncherReadiness.requests(planID: .random(), evaluationID: UUID(), facts: facts, profiles: nil,
                                                  now: Date())
        #expect(requests.map(\.accountID) == ["111122223333", "777788889999"])
        #expect(requests[0].ssmDocuments == [.init(stepName: "prep", waveName: "a", region: "us-east-1",
                                                  documentName: "Doc-prep", documentVersion: "2")])
        #expect(requests[1].regions.isEmpty)
        #expect(requests[1].ssmDocuments?.map(\.documentName) == ["Doc-far"])
        #expect(requests[1].ssmDocuments?.first?.region == "eu-west-1")
        #expect(ReadinessRecorder.accounts(facts) == ["111122223333", "777788889999"])
        // Without SSM steps the field stays out (the launcher then answers no hooks check).
        var plain = facts
        plain.hooks = []
        #expect(LauncherReadiness.requests(planID: .random(), evaluationID: UUID(), facts: plain, profiles: nil, now: Date())
            .allSatisfy { $0.ssmDocuments == nil })
    }

    @Test func theLaunchersMissingDocumentOverridesTheLocalHooksCheck() {
        let local = ReadinessEvaluation(checks: [
            check("hooks.reachable", .ok, message: "1 SSM step(s) whose documents the launcher checks"),
        ])
        let missing = LauncherReadiness.merge(local, [
            check("hooks.reachable", .blocking, message: "SSM step document(s) cannot run: step prep (wave a): Doc does not exist"),
        ])
        #expect(missing.verdict == .blocking)
        #expect(missing.blockingReasons == [
            "hooks.reachable: SSM step document(s) cannot run: step prep (wave a): Doc does not exist — fix: fix",
        ])
        // A callout's unknown stays visible beside the launcher's ok, and under its blocking.
        let callout = ReadinessEvaluation(checks: [check("hooks.reachable", .unknown, message: "callout targets are not probed")])
        #expect(LauncherReadiness.merge(callout, [check("hooks.reachable", .ok, message: "fine")]).checks[0].status == .unknown)
        let both = LauncherReadiness.merge(callout, [check("hooks.reachable", .blocking, message: "gone")])
        #expect(both.checks[0].status == .blocking && both.checks[0].message == "gone; callout targets are not probed")
        // An old answer without the check leaves the local one.
        #expect(LauncherReadiness.merge(local, [check("account.credentials", .ok)]).checks[0].status == .ok)
    }

    @Test func theWorseOfTwoAnswersToOneCheckWinsAndTheLaunchersOthersFollow() {
        let local = ReadinessEvaluation(checks: [
            check("servers.replicating", .ok), check("servers.noRecoveryInstance", .blocking, servers: ["s-1"]),
            check("servers.noLiveJob", .ok),
        ])
        let launcher = [check("servers.noRecoveryInstance", .ok, message: "DRS: none"),
                        check("servers.noLiveJob", .warning, servers: ["s-2"], message: "DRS: live"),
                        check("account.credentials", .ok)]
        let merged = LauncherReadiness.merge(local, launcher)
        #expect(merged.checks.map(\.name) == ["servers.replicating", "servers.noRecoveryInstance", "servers.noLiveJob",
                                              "account.credentials"])
        #expect(merged.checks[1].status == .blocking && merged.checks[1].servers == ["s-1"])
        #expect(merged.checks[2].message == "DRS: live")
        #expect(merged.verdict == .blocking)
        // The launcher's unknown never hides a local finding: its servers and message stay.
        let unknown = LauncherReadiness.merge(
            ReadinessEvaluation(checks: [check("servers.noLiveJob", .warning, servers: ["s-2"], message: "held by ex-1")]),
            [check("servers.noLiveJob", .unknown, message: "the launcher did not answer")])
        #expect(unknown.checks[0].status == .unknown && unknown.checks[0].servers == ["s-2"])
        #expect(unknown.checks[0].message == "the launcher did not answer; held by ex-1")
        // On a tie the launcher's live view is kept.
        let tie = LauncherReadiness.merge(ReadinessEvaluation(checks: [check("servers.noLiveJob", .ok, message: "local")]),
                                          [check("servers.noLiveJob", .ok, message: "DRS")])
        #expect(tie.checks[0].message == "DRS")
    }

    @Test func accountsCombineAndAMissingAnswerIsUnknownWithTheReason() {
        let answers = [
            LauncherReadiness.Answer(accountID: "a", evaluationID: UUID(), checks: [
                check("account.credentials", .ok, message: "fine"), check("launch.settings", .blocking, servers: ["s-1"]),
            ], checkedAt: Date()),
            LauncherReadiness.Answer(accountID: "b", evaluationID: UUID(), checks: [
                check("account.credentials", .blocking, message: "denied"), check("launch.settings", .ok, servers: []),
            ], checkedAt: Date()),
        ]
        let both = LauncherReadiness.checks(accounts: ["a", "b"], answers: answers) { _ in "late" }
        #expect(both.map(\.name) == ["account.credentials", "launch.settings"])
        #expect(both[0].status == .blocking && both[0].message == "account a: fine; account b: denied")
        #expect(both[1].servers == ["s-1"])

        let missing = LauncherReadiness.checks(accounts: ["a", "c"], answers: [answers[0]]) { "no answer from \($0)" }
        #expect(missing.map(\.name) == LauncherReadiness.names.filter { $0 != "hooks.reachable" },
                "no hooks check for an account where no SSM step runs")
        let withSteps = LauncherReadiness.checks(accounts: ["c"], answers: [], ssmAccounts: ["c"]) { _ in "late" }
        #expect(withSteps.map(\.name) == LauncherReadiness.names)
        #expect(withSteps.last?.status == .unknown && withSteps.last?.message == "late")
        let credentials = missing[0]
        #expect(credentials.status == .unknown && credentials.message.contains("no answer from c"))
        // Left out when the answer is merely on its way (the periodic path).
        let pending = LauncherReadiness.checks(accounts: ["c"], answers: []) { _ in nil }
        #expect(pending.isEmpty)
        #expect(LauncherReadiness.merge(ReadinessEvaluation(checks: [check("servers.exist", .ok)]), pending).verdict == .ok)
    }

    @Test func anUnknownStatusWordReadsAsUnknown() throws {
        // A newer launcher's word: the answer still decodes (never parked) and the check reads as unknown.
        let body = #"""
        {"version":1,"planId":"00000000-0000-4000-8000-000000000001","evaluationId":"e","accountId":"a","checkedAt":"2026-01-01T00:00:00.000Z",
         "checks":[{"name":"x","status":"weird","servers":[],"message":"m"},
                   {"name":"y","status":"warning","servers":[],"message":"m"}]}
        """#
        let answer = try EventCoding.decoder.decode(ReadinessChecked.self, from: Data(body.utf8))
        #expect(answer.checks.map(\.status) == [.unknown, .warning])
        #expect(LauncherReadiness.checks(of: answer).map(\.status) == [.unknown, .warning])
        let encoded = String(decoding: try EventCoding.encoder.encode(answer.checks[1]), as: UTF8.self)
        #expect(encoded.contains(#""status":"warning""#), "the wire word is unchanged: \(encoded)")
    }
}
