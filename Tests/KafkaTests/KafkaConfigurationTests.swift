@testable import MusterKafka
import TestSupport
import Testing

@Suite("Configuration and headers (pure)")
struct KafkaConfigurationTests {
    @Test("user properties override defaults and bootstrap servers")
    func mergeOrder() {
        let configuration = KafkaConfiguration(bootstrapServers: "a:1", properties: ["acks": "1", "linger.ms": "0"])
        let merged = configuration.effectiveProperties(defaults: KafkaClientDefaults.producer())
        #expect(merged["acks"] == "1")
        #expect(merged["enable.idempotence"] == "true")
        #expect(merged["linger.ms"] == "0")
        #expect(merged["bootstrap.servers"] == "a:1")
        let overridden = KafkaConfiguration(bootstrapServers: "a:1", properties: ["bootstrap.servers": "b:2"])
        #expect(overridden.effectiveProperties(defaults: [:])["bootstrap.servers"] == "b:2")
    }

    @Test("consumer defaults: no auto commit, no auto offset store, earliest, overridable")
    func consumerDefaults() {
        let merged = KafkaConfiguration(bootstrapServers: "a:1", properties: ["auto.offset.reset": "latest"])
            .effectiveProperties(defaults: KafkaClientDefaults.consumer(groupID: "g"))
        #expect(merged["group.id"] == "g")
        #expect(merged["enable.auto.commit"] == "false")
        #expect(merged["enable.auto.offset.store"] == "false")
        #expect(merged["auto.offset.reset"] == "latest")
        #expect(KafkaClientDefaults.consumer(groupID: "g")["auto.offset.reset"] == "earliest")
    }

    @Test("idle defaults: no KIP-714 telemetry push from any client kind where the library has it; overridable")
    func noMetricsPush() async throws {
        let withTelemetry = 0x0210_00ff  // 2.16.0, the library the tests run with
        for defaults in [KafkaClientDefaults.common(libraryVersion: withTelemetry),
                         KafkaClientDefaults.producer(libraryVersion: withTelemetry),
                         KafkaClientDefaults.consumer(groupID: "g", libraryVersion: withTelemetry)] {
            #expect(defaults["enable.metrics.push"] == "false")
        }
        // 2.1–2.4 reject the property as unknown: it is left out there (they push nothing anyway).
        for old in [0x0201_00ff, 0x0204_00ff] {
            #expect(KafkaClientDefaults.producer(libraryVersion: old)["enable.metrics.push"] == nil)
            #expect(KafkaClientDefaults.consumer(groupID: "g", libraryVersion: old)["enable.metrics.push"] == nil)
            #expect(KafkaClientDefaults.producer(libraryVersion: old)["acks"] == "all")
        }
        #expect(KafkaClientDefaults.common(libraryVersion: 0x0205_00ff)["enable.metrics.push"] == "false")
        let optedIn = KafkaConfiguration(bootstrapServers: "a:1", properties: ["enable.metrics.push": "true"])
            .effectiveProperties(defaults: KafkaClientDefaults.consumer(groupID: "g", libraryVersion: withTelemetry))
        #expect(optedIn["enable.metrics.push"] == "true")
        // The loaded library accepts the defaults it is given (a client is created without a broker).
        let producer = try KafkaProducer(configuration: KafkaConfiguration(bootstrapServers: "127.0.0.1:1"), logger: TestEnvironment.logger)
        await producer.shutdown(timeout: .milliseconds(100))
    }

    @Test("adding merges with the new values winning; fast group properties are the Tansu-friendly ones")
    func adding() {
        let configuration = KafkaConfiguration(bootstrapServers: "a:1", properties: ["session.timeout.ms": "45000", "x": "1"])
            .adding(KafkaConfiguration.fastGroupProperties)
        #expect(configuration.properties == ["session.timeout.ms": "2000", "heartbeat.interval.ms": "500", "x": "1"])
    }

    @Test("description redacts secrets")
    func redaction() {
        let configuration = KafkaConfiguration(bootstrapServers: "a:1", properties: [
            "sasl.password": "hunter2", "ssl.key.password": "k3y", "sasl.oauthbearer.client.secret": "s3cret",
            "sasl.username": "muster",
        ])
        let text = configuration.description
        for secret in ["hunter2", "k3y", "s3cret"] { #expect(!text.contains(secret)) }
        #expect(text.contains("sasl.username=muster"))
        #expect(text.contains("sasl.password=<redacted>"))
    }

    @Test("an invalid property names the property, and a secret's value never appears")
    func invalidProperty() throws {
        let bad = KafkaConfiguration(bootstrapServers: "a:1", properties: ["acks": "sometimes"])
        #expect { try KafkaProducer(configuration: bad, logger: TestEnvironment.logger) } throws: { error in
            guard case let .invalidProperty(name, _) = error as? KafkaError else { return false }
            return name == "acks"
        }
        let unknown = KafkaConfiguration(bootstrapServers: "a:1", properties: ["no.such.password": "hunter2"])
        #expect { try KafkaProducer(configuration: unknown, logger: TestEnvironment.logger) } throws: { error in
            !"\(error)".contains("hunter2")
        }
    }

    @Test("header lookup: first match, UTF-8, nil for null or invalid UTF-8")
    func headerLookup() {
        let record = KafkaRecord(topic: "t", partition: 0, offset: 0, key: nil, value: [], headers: [
            KafkaHeader(name: "ce_type", string: "first"),
            KafkaHeader(name: "ce_type", string: "second"),
            KafkaHeader(name: "null", value: nil),
            KafkaHeader(name: "binary", value: [0xff, 0xfe]),
            KafkaHeader(name: "empty", value: []),
        ])
        #expect(record.header("ce_type") == "first")
        #expect(record.header("null") == nil)
        #expect(record.header("binary") == nil)
        #expect(record.header("empty") == "")
        #expect(record.header("missing") == nil)
    }

    @Test("durations become clamped librdkafka milliseconds")
    func milliseconds() {
        #expect(Duration.seconds(2).clampedMilliseconds == 2000)
        #expect(Duration.microseconds(1500).clampedMilliseconds == 2)
        #expect(Duration.seconds(-1).clampedMilliseconds == 0)
        #expect(Duration.seconds(1_000_000_000).clampedMilliseconds == Int32.max)
    }
}

@Suite("librdkafka log levels (pure)")
struct RDKafkaLogLevelTests {
    @Test("syslog levels map to swift-log; shared-configuration warnings are demoted")
    func levels() {
        #expect(RDKafkaLogLevel.level(syslog: 3, facility: "FAIL", line: "x") == .error)
        #expect(RDKafkaLogLevel.level(syslog: 4, facility: "CONFWARN", line: "something odd") == .warning)
        #expect(RDKafkaLogLevel.level(syslog: 4, facility: "CONFWARN",
                                      line: "Configuration property session.timeout.ms is a consumer property and will be ignored by this producer instance") == .debug)
        #expect(RDKafkaLogLevel.level(syslog: 6, facility: "X", line: "x") == .info)
        #expect(RDKafkaLogLevel.level(syslog: 7, facility: "X", line: "x") == .debug)
    }
}
