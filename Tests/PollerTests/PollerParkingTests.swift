import Foundation
import MusterEvents
import MusterMessaging
@testable import PollerApp
import TestSupport
import Testing

/// The poller's status consumer parks what it can never handle and goes on
/// with the next record of the same partition (issue 11, docs/consumers.md).
@Suite("Poller parking")
struct PollerParkingTests {
    @Test("poller.status: a job id with a control character and an out-of-range timeout are parked; the next job.created on the same key is polled")
    func poisonRecordsAreParked() async throws {
        let log = LogCapture()
        let poller = try await PollerBrokerTests().start(logger: log.logger)
        let probe = ParkingProbe(pool: poller.fixture.pool, schema: poller.fixture.schema,
                                 consumer: poller.fixture.configuration.consumerName, log: log)
        // All three on key exec-1: one partition, in this order.
        let control = PollerFixture.created(job: "drsjob-\n-forged")  // an identifier: refused (ConsumedText)
        let outOfRange = PollerFixture.created(job: "drsjob-range", timeoutSeconds: 10_000_000_000)  // INTEGER: 22003
        let good = PollerFixture.created(job: "drsjob-after")
        let controlID = UUID(), rangeID = UUID()
        try await poller.publish(EventType.jobCreated, control, id: controlID)
        try await poller.publish(EventType.jobCreated, outOfRange, id: rangeID)
        try await poller.publish(EventType.jobCreated, good)

        // The job stays PENDING (nothing answers the polls), so the poller polls it again every
        // `pendingInterval` (300 ms here) until the fresh reader group has joined; the reader then gets
        // every poll since the first in one fetch. So: at least one poll, all of the good job, none of
        // a poison record, and no two polls of it within the minimum gap (docs/poller.md).
        let polls = try await KafkaTestReader.collect(topic: poller.fixture.configuration.topics.jobPoll, count: 1)
            .map { try CloudEvent(record: $0) }
        var seen = Set<UUID>()
        let distinct = try polls.filter { seen.insert($0.id).inserted }.map { try $0.decode(JobPoll.self) }  // at-least-once
        #expect(!distinct.isEmpty && distinct.allSatisfy { $0.jobIDs == ["drsjob-after"] },
                "the job after the poison records is polled, and only it")
        let times = distinct.map(\.requestedAt).sorted()
        let gap = poller.fixture.configuration.schedule.minimumGap.seconds - 0.001  // times travel with ms precision
        #expect(zip(times, times.dropFirst()).allSatisfy { $1.timeIntervalSince($0) >= gap },
                "never polled twice within the minimum gap: \(times)")
        let letters = try await probe.waitForParked(2)
        #expect(Set(letters.compactMap(\.eventID)) == [controlID, rangeID])
        #expect(Set(letters.map(\.partition)).count == 1, "parked on the partition that went on")
        #expect(letters.first { $0.eventID == controlID }?.reason == .malformed)
        #expect(letters.first { $0.eventID == controlID }?.error.contains("jobId must not contain control characters") == true)
        #expect(letters.first { $0.eventID == rangeID }?.reason == .deterministic)
        #expect(letters.first { $0.eventID == rangeID }?.error.contains("22003") == true)
        #expect(probe.counted >= 2, "muster_events_parked_total counted both")
        #expect(letters.allSatisfy(probe.reported), "each park was logged at error level")
        #expect(try await poller.fixture.pool.query(
            "SELECT job_id FROM \(poller.fixture.schema).jobs").rows.map { try $0.decode(String.self, "job_id") }
            == ["drsjob-after"], "nothing of the poison records was stored")
        await poller.stop()
    }
}
