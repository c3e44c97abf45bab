import MusterKafka
import TestSupport
import Testing

@Suite("Consumer groups: commits, restarts, close")
struct ConsumerGroupTests {
    let logger = TestEnvironment.logger

    func produce(_ count: Int, to topic: String, configuration: KafkaConfiguration) async throws {
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        for index in 0..<count {
            _ = try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: "\(index)".bytes, partition: 0))
        }
        await producer.shutdown(timeout: .seconds(5))
    }

    @Test("a restarted member resumes after the last committed record, without re-delivery")
    func resumeAfterRestart() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic()
        let group = TestEnvironment.uniqueName("g")
        try await produce(5, to: topic, configuration: configuration)

        let first = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let processed = try await first.take(3)
        for record in processed { try await first.commit(record) }
        await first.close()
        #expect(processed.map(\.offset) == [0, 1, 2])

        let second = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let rest = try await second.take(2)
        await second.close()
        #expect(rest.map(\.offset) == [3, 4])
        #expect(rest.map(\.value) == ["3".bytes, "4".bytes])
    }

    @Test("a record whose handler failed (not committed) is delivered again after restart")
    func uncommittedIsRedelivered() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic()
        let group = TestEnvironment.uniqueName("g")
        try await produce(3, to: topic, configuration: configuration)

        struct HandlerFailed: Error {}
        let first = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        var handled: [Int64] = []
        do {
            try await withTimeout(.seconds(20), "records") { [first] in
                for try await record in first.records {
                    if record.offset == 1 { throw HandlerFailed() }
                    try await first.commit(record)
                }
            }
        } catch is HandlerFailed {
            handled.append(1)
        }
        await first.close()
        #expect(handled == [1])

        let second = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let again = try await second.take(2)
        await second.close()
        #expect(again.map(\.offset) == [1, 2])
    }

    @Test("close ends a waiting iteration, is idempotent, and commits afterwards fail")
    func close() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic()
        let consumer = try KafkaConsumer(configuration: configuration, groupID: TestEnvironment.uniqueName("g"),
                                         topics: [topic], logger: logger)
        let waiting = Task {
            var count = 0
            for try await _ in consumer.records { count += 1 }
            return count
        }
        try await Task.sleep(for: .milliseconds(300))
        await consumer.close()
        await consumer.close()
        #expect(try await withTimeout(.seconds(5), "iteration end") { try await waiting.value } == 0)
        let stray = KafkaRecord(topic: topic, partition: 0, offset: 0, key: nil, value: [], headers: [])
        await #expect(throws: KafkaError.self) { try await consumer.commit(stray) }
    }

    @Test("a cancelled iteration returns nil and the next one still gets the record")
    func cancellation() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic()
        let consumer = try KafkaConsumer(configuration: configuration, groupID: TestEnvironment.uniqueName("g"),
                                         topics: [topic], logger: logger)
        let waiting = Task { () -> KafkaRecord? in
            var iterator = consumer.records.makeAsyncIterator()
            return try await iterator.next()
        }
        try await Task.sleep(for: .milliseconds(200))
        waiting.cancel()
        #expect(try await waiting.value == nil)
        try await produce(1, to: topic, configuration: configuration)
        let records = try await consumer.take(1)
        #expect(records.map(\.offset) == [0])
        await consumer.close()
    }

    @Test("a member closed before it was read never joined: the group's next member gets every partition")
    func closedBeforeReadNeverJoins() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic(partitions: 3)
        let group = TestEnvironment.uniqueName("g")
        let unread = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        // Long enough for a JoinGroup sent at subscription to reach the broker, shorter than the
        // broker holds it (Tansu: half the session): a member that joined at once would be closed
        // with its join pending and stay in the group without a member id to leave with.
        try await Task.sleep(for: .milliseconds(400))
        await unread.close()
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        for partition in Int32(0)..<3 {
            _ = try await producer.send(KafkaOutgoingRecord(topic: topic, key: nil, value: "\(partition)".bytes,
                                                            partition: partition))
        }
        await producer.shutdown(timeout: .seconds(5))
        let reader = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let records = try await reader.take(3, within: .seconds(30))
        await reader.close()
        #expect(Set(records.map(\.partition)) == [0, 1, 2], "one member holds every partition")
    }

    @Test("a member reports joining its group, even with an empty assignment, and stops reporting it once closed")
    func joinedGroup() async throws {
        let configuration = try TestEnvironment.kafka()
        let topic = try await TestEnvironment.makeTopic()  // one partition: the second member gets nothing
        let group = TestEnvironment.uniqueName("g")
        let first = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        #expect(!first.hasJoinedGroup, "not joined before it polls")
        let firstReader = Task { for try await _ in first.records {} }
        #expect(await eventually { first.hasJoinedGroup })
        let second = try KafkaConsumer(configuration: configuration, groupID: group, topics: [topic], logger: logger)
        let secondReader = Task { for try await _ in second.records {} }
        #expect(await eventually(timeout: .seconds(40)) { second.hasJoinedGroup },
                "a member left without a partition has still joined")
        await second.close()
        #expect(!second.hasJoinedGroup)
        await first.close()
        try await firstReader.value
        try await secondReader.value
    }
}
