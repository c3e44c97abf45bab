import Foundation
import MusterDomain
import MusterEvents
import Testing

/// The post-launch status words are an enum that never refuses a word AWS
/// adds later, and the overall rule lives once in `Shared/Domain`.
@Suite("Post-launch action status")
struct PostLaunchStatusTests {
    @Test func documentedWordsReadInAnyCaseAndAnUnknownWordIsKept() throws {
        #expect(PostLaunchActionStatus(rawValue: "IN_PROGRESS") == .inProgress)
        #expect(PostLaunchActionStatus(rawValue: "succeeded") == .succeeded)
        #expect(PostLaunchActionStatus(rawValue: "FAILED") == .failed)
        #expect(PostLaunchActionStatus(rawValue: "SKIPPED") == .unknown("SKIPPED"))
        #expect(PostLaunchActionStatus.unknown("SKIPPED").rawValue == "SKIPPED")
        let encoded = try EventCoding.encoder.encode([PostLaunchActionStatus.succeeded, .unknown("SKIPPED")])
        #expect(String(decoding: encoded, as: UTF8.self) == #"["SUCCEEDED","SKIPPED"]"#)
        #expect(try EventCoding.decoder.decode([PostLaunchActionStatus].self, from: encoded) == [.succeeded, .unknown("SKIPPED")])
    }

    @Test func theOverallRule() {
        #expect(PostLaunchActionStatus.overall([]) == nil)
        #expect(PostLaunchActionStatus.overall([.succeeded, .succeeded]) == .succeeded)
        #expect(PostLaunchActionStatus.overall([.succeeded, .inProgress]) == .inProgress)
        #expect(PostLaunchActionStatus.overall([.inProgress, .failed, .succeeded]) == .failed)
        #expect(PostLaunchActionStatus.overall([.succeeded, .unknown("SKIPPED")]) == .inProgress,
                "a word AWS added later is not taken for success")
    }

    @Test func aSnapshotWithAnUnknownRunStatusDecodesAndKeepsTheRecoveryWaiting() throws {
        let body = #"""
        {"launchGroup":"0b5e8a7c-4f1e-4c1a-9d55-3f0c2a9a7e11:w1:111122223333:us-east-1","chunk":0,"jobId":"drsjob-1","jobType":"LAUNCH","status":"COMPLETED",
         "servers":[{"sourceServerId":"s-1","launchStatus":"LAUNCHED","recoveryInstanceId":"i-1",
                     "launchActionRuns":[{"actionId":"a-1","status":"SKIPPED"},{"actionId":"a-2","status":"SUCCEEDED"}],
                     "postLaunchActionsStatus":"IN_PROGRESS"}],
         "newLogEvents":[],"observedAt":"2026-01-01T00:00:00.000Z","isFinal":false}
        """#
        let observed = try EventCoding.decoder.decode(JobObserved.self, from: Data(body.utf8))
        let server = try #require(observed.servers.first)
        #expect(server.launchActionRuns.map(\.status) == [.unknown("SKIPPED"), .succeeded])
        #expect(server.postLaunchProgress(isRecovery: true) == .waiting)
        #expect(observed.awaitsPostLaunch(isRecovery: true))
        #expect(server.postLaunchProgress(isRecovery: false) == .notApplicable)
        let failed = ObservedServer(sourceServerID: "s-2", launchStatus: .launched, launchActionRuns: [
            LaunchActionRun(actionID: "a-1", actionName: "cw", status: .failed, failureReason: "timed out"),
            LaunchActionRun(actionID: "a-2", status: .unknown("SKIPPED")),
        ])
        #expect(failed.postLaunchProgress(isRecovery: true) == .failed(reason: "post-launch action cw failed: timed out"))
    }
}
