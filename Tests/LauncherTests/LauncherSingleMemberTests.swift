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
    typealias H = LauncherHarness

    @Test("one member consumes launch.requests, job.poll, instances.terminate, hook.requests and accounts, each under its consumer name")
    func oneMemberEveryTopic() async throws {
        try await H.with { harness in
            try harness.startLauncher(harness.configuration())
            let consumers = harness.consumers.withLock { $0 }
            #expect(consumers.count == 1, "one consumer loop, one group member")
            #expect(consumers.first?.names == ["launcher.inputs", "launcher.accounts"])
            let topics = harness.topics
            let expected = [
                topics.launchRequests: "launcher.inputs", topics.jobPoll: "launcher.inputs",
                topics.instancesTerminate: "launcher.inputs", topics.hookRequests!: "launcher.inputs",
                topics.accounts: "launcher.accounts",
            ]
            let seen = try await SingleMemberProbe(pool: harness.pool, schema: harness.schema, producer: harness.producer)
                .send(Array(expected.keys), key: H.endpoint.key)
            for (topic, consumer) in expected {
                let claim = try #require(seen[topic] ?? nil, "a record on \(topic) was consumed")
                #expect(claim.consumer == consumer && claim.topic == topic, "\(topic) → \(claim.consumer)")
            }
        }
    }
}
