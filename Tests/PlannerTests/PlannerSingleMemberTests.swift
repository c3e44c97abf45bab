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
            try await SingleMemberProbe(pool: planner.pool, schema: planner.schema, producer: planner.producer)
                .expectOneMember(planner.consumers, routes: [
                    (planner.topics.jobStatus, "planner.job-status"), (planner.topics.inventory, "planner.inventory"),
                    (planner.topics.calloutResults, "planner.callout-results"),
                ])
        }
    }
}
