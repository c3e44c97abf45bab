@testable import MusterMessaging
import MusterKafka
import Testing

/// The per-partition lanes' decisions, without a broker.
@Suite("Partition lanes")
struct LaneTableTests {
    func record(_ partition: Int32, _ offset: Int64) -> KafkaRecord {
        KafkaRecord(topic: "t", partition: partition, offset: offset, key: nil, value: [], headers: [])
    }

    @Test func eachPartitionGetsOneWorkerAndKeepsItsOrder() {
        var table = LaneTable(capacity: 10)
        #expect(table.enqueue(record(0, 0)).startWorker)
        #expect(!table.enqueue(record(0, 1)).startWorker, "one worker per partition")
        #expect(table.enqueue(record(1, 0)).startWorker, "another partition has its own")
        let key = LaneTable.Key(topic: "t", partition: 0)
        #expect(table.take(key) == .handle(record(0, 0), resume: false))
        #expect(table.take(key) == .handle(record(0, 1), resume: false))
        #expect(table.take(key) == .done)
        #expect(table.enqueue(record(0, 2)).startWorker, "an idle lane starts a worker again")
    }

    @Test func aFullLanePausesAndResumesAtHalf() {
        var table = LaneTable(capacity: 4)
        let key = LaneTable.Key(topic: "t", partition: 0)
        var pauses = 0
        for offset in 0..<6 where table.enqueue(record(0, Int64(offset))).pause { pauses += 1 }
        #expect(pauses == 1, "paused once when it reached capacity")
        var resumedAfter: Int64?
        for _ in 0..<6 {
            guard case let .handle(taken, resume) = table.take(key) else { break }
            if resume { resumedAfter = taken.offset }
        }
        #expect(resumedAfter == 3, "resumed when two (half) were left")
        #expect(table.take(key) == .done)
    }

    @Test func revokeDropsQueuedRecordsAndStopEndsWorkers() {
        var table = LaneTable(capacity: 4)
        let key = LaneTable.Key(topic: "t", partition: 0)
        for offset in 0..<5 { _ = table.enqueue(record(0, Int64(offset))) }
        table.revoke([key])
        #expect(table.backlog(key) == 0)
        #expect(table.take(key) == .done)
        _ = table.enqueue(record(0, 9))
        #expect(!table.enqueue(record(0, 10)).pause, "the pause went with the assignment")
        table.stop()
        #expect(table.take(key) == .done, "stopping workers take nothing more")
        #expect(!table.enqueue(record(1, 0)).startWorker)
    }
}
