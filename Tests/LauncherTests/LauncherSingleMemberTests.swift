import Foundation
import LauncherApp
import MusterMessaging
import TestSupport
import Testing

/// Issue 18: the launcher reads its four input topics and `accounts.v1`
/// through one consumer-group member, and every topic's records still reach
/// their logical consumer (`launcher.inputs`, `launcher.accounts`).
@Suite("Launcher: one consumer-group member for every topic")
struct LauncherSingleMemberTests {
    @Test("one member consumes launch.requests, job.poll, instances.terminate, hook.requests and accounts, each under its consumer name")
    func oneMemberEveryTopic() async throws {
        try await LauncherHarness.with { harness in
            try await harness.startLauncher(harness.configuration())
            let topics = harness.topics
            try await SingleMemberProbe(pool: harness.pool, schema: harness.schema, producer: harness.producer)
                .expectOneMember(harness.consumers, routes: [
                    (topics.launchRequests, "launcher.inputs"), (topics.jobPoll, "launcher.inputs"),
                    (topics.instancesTerminate, "launcher.inputs"), (topics.hookRequests, "launcher.inputs"),
                    (topics.accounts, "launcher.accounts"),
                ], key: LauncherHarness.endpoint.key)
        }
    }
}
