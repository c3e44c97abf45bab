import Foundation
import MusterDomain
import MusterEvents
@testable import PlannerApp
import Testing

/// `LaunchGroupRequested.gatesNextStep`: the poller sweeps only the completions another step
/// waits for (docs/poller.md "Completion as the priority").
@Suite("Launch groups say whether another step waits for them")
struct GatesNextStepTests {
    @Test func aWaveGatesWhenAnotherWaveDependsOnItAndTheLastWaveDoesNot() throws {
        // db ← app; reports stands alone.
        var harness = Harness(waves: [("db", [], 1), ("app", [1], 1), ("reports", [], 1)])
        let first = harness.take().launchGroups
        #expect(Dictionary(uniqueKeysWithValues: first.map { ($0.waveName, $0.gatesNextStep) })
                == ["db": true, "reports": false])
        try harness.launchAll("db")
        let second = harness.take().launchGroups
        #expect(second.map(\.waveName) == ["app"])
        #expect(second.first?.gatesNextStep == false, "nothing waits for the last wave")
    }

    @Test func aWaveWithAnAfterHookGatesTheHook() {
        var harness = Harness(waves: [("db", [], 1)], hooks: ["db": (before: [], after: [WaveHookTests.ssm("verify")])])
        #expect(harness.take().launchGroups.map(\.gatesNextStep) == [true])
    }
}
