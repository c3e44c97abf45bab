import Foundation
import Logging
import MusterKafka
import MusterPostgres

/// Where the integration tests find the real PostgreSQL and broker:
/// `scripts/test.sh` (the README's test command) starts both and exports
/// `MUSTER_DATABASE_URL` and `MUSTER_KAFKA_BROKERS`.
public enum TestEnvironment {
    /// How long a test waits for something that should happen (a record consumed, a row written,
    /// a service listening): the default bound of ``eventually(timeout:every:_:)`` and of every
    /// helper that waits. Generous on purpose: a condition that holds ends the wait at once, and
    /// at the start of a full run every suite starts together on two cores (CI once needed over
    /// 20 s for what takes 2 s alone, and with four CPU hogs beside
    /// the suite some waits needed over 60 s). No wait in the tests proves a negative by running out (the one
    /// that does, in ConcurrentServicesTests, has its own 5 s bound).
    public static let patience: Duration = .seconds(120)

    /// The PostgreSQL URL; fails the calling test with instructions when unset.
    public static var databaseURL: String {
        get throws { try required("MUSTER_DATABASE_URL") }
    }

    /// The broker's bootstrap servers; fails with instructions when unset.
    public static var kafkaBrokers: String {
        get throws { try required("MUSTER_KAFKA_BROKERS") }
    }

    /// librdkafka properties for the tests' consumers: the heartbeat of
    /// ``KafkaConfiguration/fastGroupProperties`` with a 6 s session, plus a
    /// short fetch wait, because Tansu answers an empty fetch only after the
    /// full `fetch.wait.max.ms` (500 ms by default), which real Kafka does not.
    ///
    /// The session is 6 s on both brokers, not the 2 s of
    /// `fastGroupProperties`: noida refuses a shorter one
    /// (INVALID_SESSION_TIMEOUT, like Apache Kafka's
    /// `group.min.session.timeout.ms`), and on Tansu a 2 s session let a
    /// member starved for 2 s on a loaded CI machine be expelled mid-test,
    /// its records then delivered again. Tansu holds a JoinGroup for half the
    /// session (docs/brokers.md), but the suites join in parallel: the Swift
    /// run took 91.7 and 95.1 s with 6 s against 75–87 s with 2 s (single runs).
    public static let fastGroupProperties: [String: String] = KafkaConfiguration.fastGroupProperties.merging([
        "fetch.wait.max.ms": "10",
        "topic.metadata.refresh.interval.ms": "1000",
        "session.timeout.ms": "6000",
    ]) { _, new in new }

    /// Kafka settings for tests.
    public static func kafka(_ extra: [String: String] = [:]) throws -> KafkaConfiguration {
        KafkaConfiguration(
            bootstrapServers: try kafkaBrokers,
            properties: fastGroupProperties.merging(extra) { _, new in new })
    }

    /// How long a test gives the broker to create its topics: a loaded broker (every suite starting
    /// services at once on 2 cores) answered a creation after more than 10 s.
    public static let topicCreationTimeout: Duration = .seconds(30)

    /// A fresh topic named after `prefix` with `partitions` partitions.
    public static func makeTopic(_ prefix: String = "topic", partitions: Int32 = 1) async throws -> String {
        let topic = uniqueName(prefix)
        try await KafkaAdmin.createTopics([(topic, partitions)], configuration: try kafka(), timeout: topicCreationTimeout)
        return topic
    }

    /// A pool on the test database; `applicationName` marks its sessions in `pg_stat_activity`.
    public static func pool(
        size: Int = 4, acquireTimeout: Duration? = nil, applicationName: String? = nil
    ) throws -> PostgresPool {
        var configuration = PostgresConfiguration(url: try databaseURL, poolSize: size)
        if let acquireTimeout { configuration.acquireTimeout = acquireTimeout }
        configuration.applicationName = applicationName
        return PostgresPool(configuration: configuration, logger: logger)
    }

    /// A name no other test run uses: `prefix` plus a random suffix, valid as
    /// a topic, group or (lowercase) schema name.
    public static func uniqueName(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A quiet logger for tests (`MUSTER_TEST_LOG_LEVEL` raises it).
    public static var logger: Logger {
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["MUSTER_TEST_LOG_LEVEL"]
            .flatMap(Logger.Level.init(rawValue:)) ?? .critical
        return logger
    }

    private static func required(_ key: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[key], !value.isEmpty else {
            throw MissingInfrastructure(variable: key)
        }
        return value
    }
}

/// Integration tests need the local infrastructure; this says how to get it.
public struct MissingInfrastructure: Error, CustomStringConvertible {
    /// The unset variable.
    public var variable: String
    /// What to run.
    public var description: String {
        "\(variable) is not set: run the tests with scripts/test.sh, or `eval \"$(scripts/infra.sh start)\"` first"
    }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
public func eventually(
    timeout: Duration = TestEnvironment.patience, every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: interval)
    }
    return try await condition()
}
