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
        try await NotifierTestApp.with { app in
            let topics = app.topics
            try await SingleMemberProbe(pool: app.pool, schema: app.schema, producer: app.producer)
                .expectOneMember(app.consumers, routes: [
                    (topics.executionEvents, "notifier.executions"), (topics.teams, "notifier.tokens"),
                    (topics.callouts, "notifier.callouts"),
                ])
        }
    }
}
