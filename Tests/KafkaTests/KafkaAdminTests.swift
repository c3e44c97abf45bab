import MusterKafka
import TestSupport
import Testing

@Suite("Admin: topics and reachability")
struct KafkaAdminTests {
    @Test("createTopics creates missing topics and leaves existing ones alone")
    func createTopicsIsIdempotent() async throws {
        let configuration = try TestEnvironment.kafka()
        let first = TestEnvironment.uniqueName("admin")
        let second = TestEnvironment.uniqueName("admin")
        try await KafkaAdmin.createTopics([(first, 3)], configuration: configuration, timeout: .seconds(10))
        // Again, plus a new one, with a different count for the existing topic: no error, nothing changes.
        try await KafkaAdmin.createTopics([(first, 5), (second, 2)], configuration: configuration, timeout: .seconds(10))
        #expect(try await KafkaAdmin.partitionCount(of: first, configuration: configuration, timeout: .seconds(5)) == 3)
        #expect(try await KafkaAdmin.partitionCount(of: second, configuration: configuration, timeout: .seconds(5)) == 2)
        #expect(try await KafkaAdmin.partitionCount(of: TestEnvironment.uniqueName("absent"),
                                                    configuration: configuration, timeout: .seconds(5)) == nil)
    }

    @Test("the test broker is reachable")
    func reachable() async throws {
        #expect(await KafkaAdmin.isReachable(configuration: try TestEnvironment.kafka(), timeout: .seconds(5)))
    }

    @Test("a closed port is unreachable, answered within the timeout")
    func closedPort() async {
        let clock = ContinuousClock()
        let start = clock.now
        let reachable = await KafkaAdmin.isReachable(
            configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), timeout: .seconds(1))
        #expect(!reachable)
        // Not librdkafka's own 60 s socket timeout; the room above 1 s is for a loaded machine.
        #expect(clock.now - start < .seconds(10))
    }

    @Test("createTopics against a closed port fails with an error instead of hanging")
    func createTopicsUnreachable() async {
        await #expect(throws: KafkaError.self) {
            try await KafkaAdmin.createTopics([("never", 1)], configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"),
                                              timeout: .seconds(1))
        }
    }
}
