/// Connection settings shared by every Kafka client (producer, consumer, admin).
///
/// Every librdkafka property can be set through `properties`
/// (https://github.com/confluentinc/librdkafka/blob/master/CONFIGURATION.md). They are applied after the
/// library's defaults and after `bootstrapServers`, so anything set here wins.
public struct KafkaConfiguration: Sendable {
    /// Comma-separated `host:port` list of brokers to bootstrap from (librdkafka `bootstrap.servers`).
    public var bootstrapServers: String
    /// Any librdkafka property; applied last, so it overrides defaults.
    public var properties: [String: String]

    /// Creates a configuration for the cluster at `bootstrapServers`.
    public init(bootstrapServers: String, properties: [String: String] = [:]) {
        self.bootstrapServers = bootstrapServers
        self.properties = properties
    }

    /// Consumer-group timings that let a group form in about a second instead of tens of seconds.
    ///
    /// librdkafka's default `session.timeout.ms` (45 s) makes joins slow on brokers that hold a JoinGroup
    /// for half the session timeout (Tansu does). Use these for tests and local runs; production keeps the
    /// defaults unless its operators decide otherwise.
    public static let fastGroupProperties: [String: String] = [
        "session.timeout.ms": "2000",
        "heartbeat.interval.ms": "500",
    ]

    /// A copy with `extra` merged over `properties` (keys in `extra` win).
    public func adding(_ extra: [String: String]) -> KafkaConfiguration {
        var copy = self
        copy.properties.merge(extra) { _, new in new }
        return copy
    }

    /// The full property set handed to librdkafka: `defaults`, then `bootstrap.servers`, then `properties`.
    func effectiveProperties(defaults: [String: String]) -> [String: String] {
        var result = defaults
        result["bootstrap.servers"] = bootstrapServers
        result.merge(properties) { _, user in user }
        return result
    }

    /// Whether a property's value must never appear in logs, errors or descriptions.
    static func isSecret(_ property: String) -> Bool {
        let name = property.lowercased()
        return ["password", "secret", "sasl.oauthbearer.config", "ssl.key.pem", "ssl_key", "ssl.keystore"]
            .contains { name.contains($0) }
    }
}

extension KafkaConfiguration: CustomStringConvertible {
    /// Brokers and properties with secret values (passwords, keys, OAuth config) redacted.
    public var description: String {
        let shown = properties.keys.sorted().map { key in
            "\(key)=\(Self.isSecret(key) ? "<redacted>" : properties[key]!)"
        }
        return "KafkaConfiguration(bootstrapServers: \(bootstrapServers), properties: [\(shown.joined(separator: ", "))])"
    }
}

/// Property defaults per client kind. Pure: the clients hand the result to librdkafka.
enum KafkaClientDefaults {
    /// The first librdkafka with KIP-714 client telemetry (2.5.0); older ones refuse `enable.metrics.push`.
    static let metricsPushSince = 0x0205_0000

    /// Every client kind (producer, consumer, admin), for the librdkafka loaded at run time.
    ///
    /// `enable.metrics.push=false`: no KIP-714 client telemetry to the broker. Muster's metrics are its own
    /// `/metrics`; with push on, every client asks the broker for a telemetry subscription on a timer (an idle
    /// stack's 8 clients made 1.2 such requests a second against Tansu, docs/benchmarks.md "Idle stack").
    /// A deployment whose Kafka collects client metrics sets it back to `true`.
    static func common(libraryVersion: Int = KafkaLibrary.versionNumber) -> [String: String] {
        libraryVersion >= metricsPushSince ? ["enable.metrics.push": "false"] : [:]
    }

    /// Idempotent producer: no duplicates or reordering from internal retries, every record acknowledged by
    /// all in-sync replicas before its delivery report says "delivered".
    static func producer(libraryVersion: Int = KafkaLibrary.versionNumber) -> [String: String] {
        common(libraryVersion: libraryVersion).merging([
            "enable.idempotence": "true",
            "acks": "all",
        ]) { _, own in own }
    }

    /// Consumer-group member whose offsets move only when the application commits a processed record.
    ///
    /// `enable.auto.commit=false` and `enable.auto.offset.store=false`: librdkafka never commits on its own
    /// (not on a timer, not on revoke, not on close), so an unprocessed record is never skipped.
    static func consumer(groupID: String, libraryVersion: Int = KafkaLibrary.versionNumber) -> [String: String] {
        common(libraryVersion: libraryVersion).merging([
            "group.id": groupID,
            "enable.auto.commit": "false",
            "enable.auto.offset.store": "false",
            "auto.offset.reset": "earliest",
            "enable.partition.eof": "false",
        ]) { _, own in own }
    }
}
