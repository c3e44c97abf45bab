import MusterKafka
import TestSupport
import Testing

@Suite("Producer and consumer against the broker")
struct ProducerConsumerTests {
    let logger = TestEnvironment.logger

    @Test("round trip keeps key, value and headers (duplicates, null, binary, empty) in order")
    func roundTrip() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic(partitions: 3)
        let headers = [
            KafkaHeader(name: "ce_type", string: "muster.test.v1"),
            KafkaHeader(name: "dup", string: "one"),
            KafkaHeader(name: "dup", string: "two"),
            KafkaHeader(name: "nothing", value: nil),
            KafkaHeader(name: "binary", value: [0, 255, 7]),
            KafkaHeader(name: "empty", value: []),
        ]
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let report = try await producer.send(
            KafkaOutgoingRecord(topic: topic, key: "execution-42".bytes, value: #"{"ok":true}"#.bytes, headers: headers))
        let keyless = try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: "v".bytes, partition: report.partition))
        await producer.shutdown(timeout: .seconds(5))

        let consumer = try KafkaConsumer(configuration: configuration, groupID: TestEnvironment.uniqueName("g"),
                                         topics: [topic], logger: logger)
        let received = try await consumer.take(2)
        await consumer.close()

        let record = try #require(received.first { $0.offset == report.offset && $0.partition == report.partition })
        #expect(record.topic == topic)
        #expect(record.key == "execution-42".bytes)
        #expect(record.value == #"{"ok":true}"#.bytes)
        #expect(record.headers == headers)
        #expect(record.header("dup") == "one")
        #expect(record.header("nothing") == nil)
        #expect(record.header("ce_type") == "muster.test.v1")
        let other = try #require(received.first { $0.offset == keyless.offset })
        #expect(other.key == nil)
        #expect(other.headers.isEmpty)
    }

    @Test("delivery reports carry the partition and consecutive offsets; equal keys share a partition")
    func deliveryReports() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic(partitions: 3)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        var explicit: [KafkaDeliveryReport] = []
        for index in 0..<3 {
            explicit.append(try await producer.send(
                KafkaOutgoingRecord(topic: topic, key: nil, value: "\(index)".bytes, partition: 2)))
        }
        #expect(explicit.map(\.partition) == [2, 2, 2])
        #expect(explicit.map(\.offset) == [0, 1, 2])
        #expect(explicit.allSatisfy { $0.topic == topic })

        // Concurrent sends: each awaits its own report.
        let keyed = try await withThrowingTaskGroup(of: KafkaDeliveryReport.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await producer.send(KafkaOutgoingRecord(topic: topic, key: "same-key".bytes, value: "\(index)".bytes))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(keyed.map(\.partition)).count == 1)
        #expect(Set(keyed.map(\.offset)).count == 20)
        await producer.shutdown(timeout: .seconds(5))
    }

    @Test("sending to a partition that does not exist fails instead of hanging")
    func badPartition() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic(partitions: 1)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        _ = try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: [1]))  // learn the metadata
        await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: [1], partition: 5))
        }
        await producer.shutdown(timeout: .seconds(5))
    }

    @Test("shutdown flushes queued records, is idempotent, and later sends fail")
    func shutdown() async throws {
        let configuration = try TestEnvironment.kafka().adding(["linger.ms": "200"])
        let topic = try await TestEnvironment.makeTopic(partitions: 1)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let sends = Task {
            try await withThrowingTaskGroup(of: KafkaDeliveryReport.self) { group in
                for index in 0..<10 {
                    group.addTask { try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: [UInt8(index)])) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        // All ten enqueued and still lingering (a fixed sleep is not enough on a busy machine).
        let deadline = ContinuousClock.now + .seconds(10)
        while producer.pendingDeliveries < 10 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(5))
        }
        // Generous: flushing returns as soon as the broker acknowledged, and a
        // loaded machine can take seconds.
        await producer.shutdown(timeout: .seconds(30))
        await producer.shutdown(timeout: .seconds(30))
        let reports = try await sends.value
        #expect(reports.count == 10)
        await #expect(throws: KafkaError.self) {
            try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: [1]))
        }
    }

    @Test("shutdown with an unreachable broker purges after the timeout and fails the waiting send")
    func shutdownPurges() async throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), logger: logger)
        let send = Task { try await producer.send(KafkaOutgoingRecord(topic: "nowhere", key: nil, value: [1])) }
        try await Task.sleep(for: .milliseconds(100))
        let clock = ContinuousClock()
        let start = clock.now
        await producer.shutdown(timeout: .milliseconds(300))
        #expect(clock.now - start < .seconds(3))
        await #expect(throws: KafkaError.self) { try await send.value }
    }

    @Test("sendBatch enqueues in order: offsets follow the batch order per key, every record acknowledged")
    func sendBatchKeepsOrder() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic(partitions: 3)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let records = (0..<600).map { index in
            KafkaOutgoingRecord(topic: topic, key: "key-\(index % 3)".bytes, value: "\(index)".bytes)
        }
        let reports = try await producer.sendBatch(records)
        await producer.shutdown(timeout: .seconds(5))
        #expect(reports.count == 600)
        for key in 0..<3 {
            let mine = reports.enumerated().filter { $0.offset % 3 == key }.map(\.element)
            #expect(Set(mine.map(\.partition)).count == 1, "one key, one partition")
            #expect(mine.map(\.offset) == mine.map(\.offset).sorted(), "offsets follow batch order")
        }
        #expect(try await producer.sendBatch([]).isEmpty)
    }
}
