import DRSSimApp
import Foundation
import MusterDRS
import Testing

@Suite("Job-log de-duplication by content, in any listing order")
struct JobLogDeduplicatorTests {
    static func log(_ event: JobLogEvent, _ second: Int, server: String? = nil, fraction: String = ".000Z") -> JobLog {
        JobLog(logDateTime: "2024-09-16T04:42:\(String(format: "%02d", second))\(fraction)", event: event,
               eventData: server.map { JobLogEventData(sourceServerID: $0) })
    }

    static let full: [JobLog] = [
        log(.jobStart, 1), log(.snapshotStart, 2, server: "s-1"), log(.snapshotStart, 2, server: "s-2"),
        log(.snapshotEnd, 5, server: "s-1"), log(.conversionStart, 6, server: "s-1"), log(.launchStart, 9, server: "s-1"),
        log(.jobEnd, 12),
    ]

    @Test func oldestFirstAppendOnlyListingsYieldEachItemOnceInOrder() {
        var dedup = JobLogDeduplicator()
        #expect(dedup.newItems(in: Array(Self.full.prefix(3))) == Array(Self.full.prefix(3)))
        #expect(dedup.newItems(in: Array(Self.full.prefix(3))) == [], "nothing new, nothing repeated")
        #expect(dedup.newItems(in: Self.full) == Array(Self.full.dropFirst(3)))
        #expect(dedup.reportedCount == Self.full.count)
    }

    @Test func newestFirstListingsYieldNewItemsOldestFirst() {
        var dedup = JobLogDeduplicator()
        #expect(dedup.newItems(in: Array(Self.full.prefix(4).reversed())) == Array(Self.full.prefix(4)))
        // Position-based code (`dropFirst(count)`) would report the oldest four again here.
        #expect(dedup.newItems(in: Array(Self.full.reversed())) == Array(Self.full.dropFirst(4)))
        #expect(dedup.newItems(in: Array(Self.full.reversed())) == [])
    }

    @Test func anItemListedLateInTheMiddleIsFoundAndNothingRepeats() {
        var dedup = JobLogDeduplicator()
        var first = Self.full
        let late = first.remove(at: 2)  // s-2's SNAPSHOT_START shows up only later
        #expect(dedup.newItems(in: first) == first)
        #expect(dedup.newItems(in: Self.full) == [late])
        #expect(dedup.newItems(in: Self.full.shuffled()) == [])
    }

    @Test func shuffledListingsAndTheRealTimestampFormAgree() {
        var dedup = JobLogDeduplicator()
        let fresh = dedup.newItems(in: Self.full.shuffled())
        #expect(Set(fresh.map(JobLogDeduplicator.key(of:))) == Set(Self.full.map(JobLogDeduplicator.key(of:))))
        let times = fresh.map { DRSDateTime.date(from: $0.logDateTime!)! }
        #expect(times == times.sorted(), "oldest first")
        // Same instant written the way real DRS writes it: the same item.
        let real = Self.full.map { log in
            var copy = log
            copy.logDateTime = log.logDateTime!.replacingOccurrences(of: ".000Z", with: ".000000+00:00")
            return copy
        }
        #expect(dedup.newItems(in: real) == [])
        #expect(JobLogDeduplicator.key(of: Self.full[1]) == JobLogDeduplicator.key(of: real[1]))
    }

    @Test func identicalItemsAreCountedNotCollapsed() {
        let twice = [Self.log(.launchFailed, 7, server: "s-1"), Self.log(.launchFailed, 7, server: "s-1")]
        var dedup = JobLogDeduplicator()
        #expect(dedup.newItems(in: [twice[0]]).count == 1)
        #expect(dedup.newItems(in: twice).count == 1, "the second identical item is new")
        #expect(dedup.newItems(in: twice).isEmpty)
    }

    @Test func reportedKeysRoundTripThroughStorage() throws {
        var dedup = JobLogDeduplicator()
        _ = dedup.newItems(in: Array(Self.full.prefix(5)))
        var restored = JobLogDeduplicator(reportedKeys: dedup.reportedKeys)
        #expect(restored == dedup)
        #expect(restored.newItems(in: Self.full.reversed()) == Array(Self.full.dropFirst(5)))
        let decoded = try JSONDecoder().decode(JobLogDeduplicator.self, from: JSONEncoder().encode(dedup))
        #expect(decoded == dedup)
    }

    @Test func eventsWithoutTimesComeLastInListingOrder() {
        var dedup = JobLogDeduplicator()
        let undated = JobLog(event: .jobCancel)
        #expect(dedup.newItems(in: [undated, Self.full[0]]) == [Self.full[0], undated])
    }
}

@Suite("Job-log polling against drs-sim over HTTP")
struct JobLogPollingSimTests {
    /// A recovery whose log drs-sim lists newest first, each item up to 60
    /// simulated seconds late: polled until it settles, every item is
    /// reported exactly once and each poll's new items come oldest first.
    @Test(arguments: [DRSSimBehaviour.LogOrder.newestFirst, .oldestFirst])
    func itemsAreNeitherLostNorRepeated(order: DRSSimBehaviour.LogOrder) async throws {
        let behaviour = DRSSimBehaviour(logOrder: order, logJitterSeconds: 60, timestampFormat: .aws)
        try await SimEndpoint.with(timeScale: 1200, behaviour: behaviour) { client in
            let started = try await client.startRecovery(StartRecoveryRequest(
                sourceServers: (1...3).map { .init(sourceServerID: SimEndpoint.sid($0)) }, isDrill: true))
            let jobID = try #require(started.job?.jobID)
            var dedup = JobLogDeduplicator()
            var reported: [JobLog] = []
            var stableSince: Date?
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline {
                let listing = try await client.describeAllJobLogItems(jobID: jobID)
                let fresh = dedup.newItems(in: listing)
                let times = fresh.compactMap { $0.logDateTime.flatMap(DRSDateTime.date(from:)) }
                #expect(times == times.sorted(), "each poll's new items oldest first")
                reported += fresh
                let job = try await client.describeAllJobs(filters: DescribeJobsRequestFilters(jobIDs: [jobID])).first
                if job?.status == .completed, fresh.isEmpty {
                    stableSince = stableSince ?? Date()
                    if Date().timeIntervalSince(stableSince!) > 0.3 { break }
                } else {
                    stableSince = nil
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            let final = try await client.describeAllJobLogItems(jobID: jobID)
            #expect(final.contains { $0.logDateTime?.hasSuffix("+00:00") == true }, "the real timestamp form")
            let keys = reported.map(JobLogDeduplicator.key(of:))
            #expect(Set(keys).count == keys.count, "nothing repeated")
            #expect(Set(keys) == Set(final.map(JobLogDeduplicator.key(of:))), "nothing lost")
            #expect(reported.contains { $0.event == .jobEnd })
            #expect(final.count == 2 + 3 * 5, "JOB_START, JOB_END and five items per server")
        }
    }
}
