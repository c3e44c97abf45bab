import Logging

/// Cluster administration: topic creation and reachability. Each call uses a short-lived client on its own thread.
public enum KafkaAdmin {
    /// Creates missing topics with the given partition count (existing ones are left alone, no error).
    ///
    /// Replication factor is the broker's default (`default.replication.factor`). Throws ``KafkaError`` naming the
    /// first topic that could not be created.
    public static func createTopics(_ topics: [(name: String, partitions: Int32)], configuration: KafkaConfiguration,
                                    timeout: Duration) async throws {
        guard !topics.isEmpty else { return }
        let requested = topics.map { TopicRequest(name: $0.name, partitions: $0.partitions) }
        try await withClient(configuration, name: "muster-kafka-admin") { client throws(KafkaError) in
            let outcome = try client.createTopics(requested.map { ($0.name, $0.partitions) }, replicationFactor: -1,
                                                  milliseconds: timeout.clampedMilliseconds)
            for topic in requested {
                guard let failure = outcome[topic.name] else {
                    throw .adminFailed(operation: "create topic \(topic.name)", reason: "no result from the broker")
                }
                if let failure, failure.code != RDKafkaClient.topicAlreadyExists {
                    throw .adminFailed(operation: "create topic \(topic.name)", reason: failure.reason)
                }
            }
        }
    }

    /// True when metadata can be fetched from the cluster within timeout (used for /health/ready).
    public static func isReachable(configuration: KafkaConfiguration, timeout: Duration) async -> Bool {
        (try? await withClient(configuration, name: "muster-kafka-health") { client in
            client.canFetchMetadata(milliseconds: timeout.clampedMilliseconds)
        }) ?? false
    }

    /// The number of partitions of `topic`, or nil if the cluster does not have it.
    public static func partitionCount(of topic: String, configuration: KafkaConfiguration,
                                      timeout: Duration) async throws -> Int32? {
        try await withClient(configuration, name: "muster-kafka-admin") { client throws(KafkaError) in
            try client.topicPartitionCounts(milliseconds: timeout.clampedMilliseconds)[topic]
        }
    }

    /// The next offset to read that consumer group `groupID` committed, per topic and partition, for every
    /// partition of `topics` (topic → partition count). Partitions the group never committed are absent.
    ///
    /// Reads only (an OffsetFetch through a client that never joins the group), so the group's members are not
    /// disturbed. Throws ``KafkaError`` when the coordinator does not answer within `timeout`.
    public static func committedOffsets(groupID: String, topics: [String: Int32], configuration: KafkaConfiguration,
                                        timeout: Duration) async throws -> [String: [Int32: Int64]] {
        let partitions = topics.mapValues { Array(0..<$0) }
        let properties = ["group.id": groupID, "enable.auto.commit": "false", "enable.auto.offset.store": "false"]
        return try await withClient(configuration.adding(properties), kind: .consumer, name: "muster-kafka-admin") {
            client throws(KafkaError) in
            try client.committedOffsets(partitions, milliseconds: timeout.clampedMilliseconds)
        }
    }

    /// The high watermark (offset after the last record, as the broker reports it) of every partition of `topics`
    /// (topic → partition count).
    ///
    /// Some Kafka-protocol brokers report the base offset of the last record batch instead (Tansu does), which
    /// makes lag computed from this value an underestimate; an exact figure needs a consumer that reads to the end.
    public static func highWatermarks(topics: [String: Int32], configuration: KafkaConfiguration,
                                      timeout: Duration) async throws -> [String: [Int32: Int64]] {
        try await withClient(configuration, name: "muster-kafka-admin") { client throws(KafkaError) in
            var result: [String: [Int32: Int64]] = [:]
            for (topic, count) in topics {
                for partition in 0..<count {
                    result[topic, default: [:]][partition] =
                        try client.watermarks(topic: topic, partition: partition, milliseconds: timeout.clampedMilliseconds).high
                }
            }
            return result
        }
    }

    private struct TopicRequest: Sendable {
        var name: String
        var partitions: Int32
    }

    /// Runs `body` with a fresh client on a dedicated thread (these calls block), then frees the client.
    private static func withClient<T: Sendable>(
        _ configuration: KafkaConfiguration, kind: RDKafkaClient.Kind = .producer, name: String,
        _ body: @escaping @Sendable (RDKafkaClient) throws(KafkaError) -> T
    ) async throws(KafkaError) -> T {
        try await DedicatedThread.run(name: name) { () throws(KafkaError) -> T in
            // Silent: an unreachable cluster would otherwise log a connection error per retry.
            let events = RDKafkaEvents(logger: Logger(label: "muster.kafka.admin", factory: { _ in SwiftLogNoOpLogHandler() }))
            let client = try RDKafkaClient(
                kind: kind, properties: configuration.effectiveProperties(defaults: KafkaClientDefaults.common()),
                events: events)
            defer { client.destroy() }
            return try body(client)
        }
    }
}
