import MusterKafka
import Synchronization
import TestSupport
import Testing

@Suite("Rebalances")
struct RebalanceTests {
    let logger = TestEnvironment.logger

    /// What each member committed, in order.
    final class Ledger: Sendable {
        let committed = Mutex<[String: [KafkaRecord]]>([:])
        func add(_ record: KafkaRecord, by member: String) { committed.withLock { $0[member, default: []].append(record) } }
        func count(_ member: String? = nil) -> Int {
            committed.withLock { all in member.map { all[$0]?.count ?? 0 } ?? all.values.map(\.count).reduce(0, +) }
        }
        var all: [KafkaRecord] { committed.withLock { $0.values.flatMap { $0 } } }
    }

    func member(_ name: String, _ consumer: KafkaConsumer, _ ledger: Ledger) -> Task<Void, any Error> {
        Task {
            for try await record in consumer.records {
                do {
                    try await consumer.commit(record)
                    ledger.add(record, by: name)
                } catch KafkaError.commitFailed, KafkaError.partitionRevoked {
                    // A commit refused while the group rebalances (Kafka answers REBALANCE_IN_PROGRESS or
                    // ILLEGAL_GENERATION; noida does, Tansu never has): the record's next owner gets it again.
                } catch KafkaError.consumerClosed {
                    // The test closed this member between handing it a record and its commit: the record
                    // is not committed, so the next owner gets it again (CI saw this race once).
                }
            }
        }
    }

    @Test("a second member joins and the first leaves: every record is committed exactly once, none skipped")
    func joinAndLeave() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic(partitions: 2)
        let group = TestEnvironment.uniqueName("g")
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        var produced = 0
        func produceRound() async throws {
            for partition: Int32 in [0, 1] {
                _ = try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: "\(produced)".bytes,
                                                                partition: partition))
                produced += 1
            }
        }
        let ledger = Ledger()
        let clock = ContinuousClock()

        for _ in 0..<2 { try await produceRound() }
        let first = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let firstTask = member("first", first, ledger)
        let deadline = clock.now + .seconds(40)
        while ledger.count() < produced, clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }

        // Second member joins: keep producing until it has committed a few records of its own.
        let second = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let secondTask = member("second", second, ledger)
        while ledger.count("second") < 3, clock.now < deadline {
            try await produceRound()
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(ledger.count("second") >= 3, "the joining member never got a partition")

        // First member leaves: the second takes over both partitions.
        await first.close()
        try await firstTask.value
        for _ in 0..<3 { try await produceRound() }
        while ledger.count() < produced, clock.now < deadline { try await Task.sleep(for: .milliseconds(50)) }
        await second.close()
        try await secondTask.value
        await producer.shutdown(timeout: .seconds(5))

        let records = ledger.all
        let keys = records.map { "\($0.partition)/\($0.offset)" }
        #expect(records.count == produced, "committed \(records.count) of \(produced)")
        #expect(Set(keys).count == keys.count, "a committed record was delivered twice")
        for partition: Int32 in [0, 1] {
            let offsets = records.filter { $0.partition == partition }.map(\.offset).sorted()
            #expect(offsets == Array(0..<Int64(offsets.count)), "gap in partition \(partition)")
        }
    }
}
