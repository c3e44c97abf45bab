import Foundation
@testable import LauncherApp
import Logging
import MusterDRS
import MusterHTTP
import MusterService
import Testing

/// A service's own librdkafka defaults sit under every MUSTER_KAFKA_*PROPERTIES
/// (ServiceDescriptor.kafkaDefaults; the launcher's buffers, docs/launcher.md "Memory").
@Suite struct LauncherMemoryTests {
    func infrastructure(_ environment: [String: String]) throws -> InfrastructureConfiguration {
        var configuration = try InfrastructureConfiguration(reader: EnvironmentSettings(environment: [
            "MUSTER_DATABASE_URL": "postgresql://u@127.0.0.1:9/m", "MUSTER_KAFKA_BROKERS": "127.0.0.1:9",
        ].merging(environment) { _, new in new }))
        configuration.kafkaDefaults = LauncherService.descriptor.kafkaDefaults
        return configuration
    }

    @Test func theLaunchersDefaultsApplyUnlessAVariableSetsTheProperty() throws {
        let plain = try infrastructure([:])
        #expect(plain.consumerKafka.properties["queued.max.messages.kbytes"] == "2048")
        #expect(plain.consumerKafka.properties["fetch.max.bytes"] == "1048576")
        #expect(plain.producerKafka.properties["queue.buffering.max.kbytes"] == "16384")
        #expect(plain.producerKafka.properties["queued.max.messages.kbytes"] == nil, "consumer settings stay off the producer")
        #expect(plain.consumerKafka.properties["batch.size"] == nil, "producer settings stay off the consumers")

        let overridden = try infrastructure([
            "MUSTER_KAFKA_PROPERTIES": "fetch.max.bytes=52428800,batch.size=1000000",
            "MUSTER_KAFKA_CONSUMER_PROPERTIES": "queued.max.messages.kbytes=65536",
            "MUSTER_KAFKA_PRODUCER_PROPERTIES": "batch.size=500000",
        ])
        #expect(overridden.consumerKafka.properties["fetch.max.bytes"] == "52428800", "MUSTER_KAFKA_PROPERTIES wins")
        #expect(overridden.consumerKafka.properties["queued.max.messages.kbytes"] == "65536")
        #expect(overridden.consumerKafka.properties["queued.min.messages"] == "1000", "untouched defaults stay")
        #expect(overridden.producerKafka.properties["batch.size"] == "500000", "the producer variable wins over both")
    }

    @Test func aServiceWithoutDefaultsGetsOnlyTheVariables() throws {
        var configuration = try infrastructure(["MUSTER_KAFKA_PROPERTIES": "linger.ms=5"])
        configuration.kafkaDefaults = ([:], [:])
        #expect(configuration.consumerKafka.properties == ["linger.ms": "5"])
        #expect(configuration.producerKafka.properties == ["linger.ms": "5"])
    }

    // MARK: The launch-configuration cache is bounded

    func check(capacity: Int, ttl: Duration = .seconds(600)) throws -> LaunchConfigurationCheck {
        let configuration = try LauncherConfiguration(reader: EnvironmentSettings(environment: [:]))
        let logger = Logger(label: "test")
        let accounts = AccountDirectory(
            configuration: configuration, httpClient: HTTPClient(logger: logger), logger: logger, environment: [:])
        let gate = DRSGate(limits: configuration.limits, policy: configuration.throttle, accounts: accounts, logger: logger)
        return LaunchConfigurationCheck(gate: gate, ttl: ttl, repairEmpty: false, capacity: capacity)
    }

    @Test func pastItsCapacityTheCacheKeepsTheNewestHalf() throws {
        let cache = try check(capacity: 100)
        let start = ContinuousClock.now
        for index in 0..<100 {
            cache.remember("e/s-\(index)", LaunchConfiguration(), at: start + .milliseconds(index))
        }
        #expect(cache.count == 100, "up to its capacity nothing goes")
        cache.remember("e/s-100", LaunchConfiguration(), at: start + .milliseconds(100))
        #expect(cache.count == 50, "one more: the newest half of the capacity stays")
        #expect(cache.cached("e/s-100") && cache.cached("e/s-51"))
        #expect(!cache.cached("e/s-50") && !cache.cached("e/s-0"), "the oldest went")
        for index in 101..<150 {
            cache.remember("e/s-\(index)", LaunchConfiguration(), at: start + .milliseconds(index))
        }
        #expect(cache.count == 99, "the next eviction waits for the capacity again")
    }

    @Test func expiredEntriesGoFirst() throws {
        let cache = try check(capacity: 10, ttl: .seconds(60))
        let start = ContinuousClock.now
        for index in 0..<8 { cache.remember("e/old-\(index)", LaunchConfiguration(), at: start) }
        for index in 0..<3 {
            cache.remember("e/new-\(index)", LaunchConfiguration(), at: start + .seconds(61))
        }
        #expect(cache.count == 3, "the 8 expired entries went; the 3 fresh ones fit in half the capacity")
        #expect(cache.cached("e/new-0") && !cache.cached("e/old-0"))
    }

    @Test func theCapacityIsConfigurable() throws {
        #expect(try LauncherConfiguration(reader: EnvironmentSettings(environment: [:])).launchConfigurationCacheSize == 2048)
        let configured = try LauncherConfiguration(reader: EnvironmentSettings(environment: [
            "MUSTER_LAUNCHER_LAUNCH_CONFIGURATION_CACHE": "500",
        ]))
        #expect(configured.launchConfigurationCacheSize == 500)
        #expect(throws: ConfigurationError.self) {
            try LauncherConfiguration(reader: EnvironmentSettings(environment: ["MUSTER_LAUNCHER_LAUNCH_CONFIGURATION_CACHE": "0"]))
        }
    }
}
