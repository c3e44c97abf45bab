import Foundation
import MusterMessaging
import PlannerApp
import TestSupport
import Testing

/// Issue 18: the planner reads `job.status`, `inventory` and `callout.results`
/// through one consumer-group member, and every topic's records still reach
/// their logical consumer (`planner.job-status`, `planner.inventory`,
/// `planner.callout-results`: inbox, dead letters and metrics).
@Suite("Planner: one consumer-group member for every topic")
struct PlannerSingleMemberTests {
    @Test("one member consumes job.status, inventory and callout.results, each under its consumer name")
    func oneMemberEveryTopic() async throws {
        try await PlannerTestApp.with(consumers: true) { planner in
            #expect(planner.consumers.count == 1, "one consumer loop, one group member")
            #expect(planner.consumers.first?.names == ["planner.job-status", "planner.inventory", "planner.callout-results"])
            let expected = [
                planner.topics.jobStatus: "planner.job-status", planner.topics.inventory: "planner.inventory",
                planner.topics.calloutResults: "planner.callout-results",
            ]
            let seen = try await SingleMemberProbe(pool: planner.pool, schema: planner.schema, producer: planner.producer)
                .send(Array(expected.keys))
            for (topic, consumer) in expected {
                let claim = try #require(seen[topic] ?? nil, "a record on \(topic) was consumed")
                #expect(claim.consumer == consumer && claim.topic == topic, "\(topic) → \(claim.consumer)")
            }
        }
    }
}
