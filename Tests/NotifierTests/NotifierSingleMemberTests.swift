import Foundation
import MusterMessaging
import TestSupport
import Testing

/// Issue 18: the notifier reads `execution.events`, `teams` and `callouts`
/// through one consumer-group member, and every topic's records still reach
/// their logical consumer (`notifier.executions`, `notifier.tokens`,
/// `notifier.callouts`: inbox, dead letters and metrics).
@Suite("Notifier: one consumer-group member for every topic")
struct NotifierSingleMemberTests {
    @Test("one member consumes execution.events, teams and callouts, each under its consumer name")
    func oneMemberEveryTopic() async throws {
        try await NotifierTestApp.with { notifier in
            #expect(notifier.consumers.count == 1, "one consumer loop, one group member")
            #expect(notifier.consumers.first?.names == ["notifier.executions", "notifier.tokens", "notifier.callouts"])
            let expected = [
                notifier.topics.executionEvents: "notifier.executions", notifier.topics.teams: "notifier.tokens",
                notifier.topics.callouts: "notifier.callouts",
            ]
            let seen = try await SingleMemberProbe(pool: notifier.pool, schema: notifier.schema, producer: notifier.producer)
                .send(Array(expected.keys))
            for (topic, consumer) in expected {
                let claim = try #require(seen[topic] ?? nil, "a record on \(topic) was consumed")
                #expect(claim.consumer == consumer && claim.topic == topic, "\(topic) → \(claim.consumer)")
            }
        }
    }
}
