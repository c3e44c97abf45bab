import Foundation
import Logging
import MusterKafka
import Testing

/// What the integration suites need from the environment (scripts/infra.sh / .local/infra.env provide it).
/// Kept local to this target until TestSupport offers the same.
enum KafkaTestEnvironment {
    struct MissingSetting: Error, CustomStringConvertible {
        var description: String {
            "MUSTER_KAFKA_BROKERS is not set. Run scripts/infra.sh start and `source .local/infra.env` "
                + "(it also puts librdkafka >= 2.1 on LD_LIBRARY_PATH), then rerun the tests."
        }
    }

    /// The broker list, or a failing error saying how to start one.
    static func brokers() throws -> String {
        guard let brokers = ProcessInfo.processInfo.environment["MUSTER_KAFKA_BROKERS"], !brokers.isEmpty else {
            throw MissingSetting()
        }
        return brokers
    }

    /// Configuration for the test broker with fast consumer-group timings.
    static func configuration() throws -> KafkaConfiguration {
        KafkaConfiguration(bootstrapServers: try brokers(), properties: KafkaConfiguration.fastGroupProperties)
    }

    static func unique(_ prefix: String) -> String {
        "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    static let logger: Logger = {
        var logger = Logger(label: "muster.kafka.tests")
        logger.logLevel = .notice
        return logger
    }()

    /// Creates a fresh topic with `partitions` partitions and returns its name.
    static func makeTopic(partitions: Int32 = 1) async throws -> String {
        let topic = unique("kafka-test")
        try await KafkaAdmin.createTopics([(topic, partitions)], configuration: try configuration(), timeout: .seconds(10))
        return topic
    }
}

struct TimedOut: Error, CustomStringConvertible {
    var what: String
    var description: String { "timed out waiting for \(what)" }
}

/// Runs `operation`, failing with `TimedOut` after `limit`.
func withTimeout<T: Sendable>(_ limit: Duration, _ what: String,
                              _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimedOut(what: what)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension KafkaConsumer {
    /// The next `count` records (committing none), or `TimedOut`.
    func take(_ count: Int, within limit: Duration = .seconds(20)) async throws -> [KafkaRecord] {
        try await withTimeout(limit, "\(count) records") {
            var result: [KafkaRecord] = []
            for try await record in self.records {
                result.append(record)
                if result.count == count { break }
            }
            return result
        }
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
