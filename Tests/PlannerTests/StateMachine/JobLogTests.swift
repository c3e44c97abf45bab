import Foundation
import MusterDomain
import MusterEvents
import Testing

@testable import PlannerApp

/// Issue 15: the DRS job-log items that arrive on `job.observed` are kept per
/// server — deduplicated, in time order, bounded — and shown by the API.
@Suite("Execution state machine: job-log items per server")
struct JobLogTests {
    @Test func itemsGoToTheirServerJobWideItemsToEveryServerDeduplicatedAndBounded() throws {
        var harness = Harness(waves: [("db", [], 2)])
        let servers = harness.servers("db").map(\.id)
        let job = try harness.createJob("db")
        let t0 = harness.clock, group = harness.group("db")
        func observed(_ events: [JobLogEvent], at seconds: Double) -> ExecutionInput {
            .jobObserved(JobObserved(
                launchGroup: group, chunk: 0, jobID: job, status: .started,
                servers: servers.map { ObservedServer(sourceServerID: SourceServerID(rawValue: $0), launchStatus: .inProgress) },
                newLogEvents: events, observedAt: t0.addingTimeInterval(seconds)))
        }
        let start = JobLogEvent(event: "JOB_START", time: t0.addingTimeInterval(1))
        let snapshot = JobLogEvent(event: "SNAPSHOT_START", time: t0.addingTimeInterval(2), sourceServerID: SourceServerID(rawValue: servers[0]))
        let failed = JobLogEvent(event: "LAUNCH_FAILED", time: t0.addingTimeInterval(3), sourceServerID: SourceServerID(rawValue: servers[1]),
                                 rawError: "InsufficientInstanceCapacity")
        let first = observed([start, snapshot, failed], at: 5)
        try harness.apply(first)
        // The same items again (a replayed record) and an older snapshot carrying one more item.
        let again = observed([start, snapshot], at: 6)
        try harness.apply(again)
        let late = JobLogEvent(event: "CONVERSION_START", time: t0.addingTimeInterval(1.5), sourceServerID: SourceServerID(rawValue: servers[0]))
        let older = observed([late], at: 4)
        try harness.apply(older)

        #expect(harness.state.servers[servers[0]]?.logEvents?.map(\.event) == ["JOB_START", "CONVERSION_START", "SNAPSHOT_START"])
        #expect(harness.state.servers[servers[1]]?.logEvents?.map(\.event) == ["JOB_START", "LAUNCH_FAILED"])

        let view = ExecutionViews.detail(harness.state).waves[0].servers.first { $0.sourceServerId == servers[1] }
        #expect(view?.logEvents.last?.event == "LAUNCH_FAILED")
        #expect(view?.logEvents.last?.error == "InsufficientInstanceCapacity")
    }

    @Test func theBookKeepsTheNewestWithinItsBound() {
        let base = Date(timeIntervalSince1970: 1_800_000_000)
        let items = (0..<60).map { JobLogEvent(event: "E\($0)", time: base.addingTimeInterval(Double($0)), sourceServerID: "s-1") }
        let kept = JobLogBook.merged(Array(items[0..<30]), Array(items[20..<60]))
        #expect(kept.count == JobLogBook.limit)
        #expect(kept.first?.event == "E\(60 - JobLogBook.limit)" && kept.last?.event == "E59")
        #expect(JobLogBook.merged(kept, kept) == kept, "nothing twice")
    }
}
