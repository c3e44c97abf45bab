import Logging
import MusterDomain
import MusterKafka
import MusterMessaging
import MusterPostgres

/// The settings every Muster process reads (DESIGN §10), from environment
/// variables. The README's configuration reference mirrors this file.
/// `ServiceConfiguration` is what every process needs (drs-sim included);
/// `InfrastructureConfiguration` is PostgreSQL and Kafka, for the four
/// services.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `MUSTER_HTTP_HOST` | `0.0.0.0` | address of the ops/API HTTP server |
/// | `MUSTER_HTTP_PORT` | per service | its port (`0` = any free port) |
/// | `MUSTER_LOG_LEVEL` | `info` | trace, debug, info, notice, warning, error, critical |
/// | `MUSTER_LOG_FORMAT` | `json` | `json` (one object per line) or `text` |
/// | `MUSTER_OPS_ADMIN_TOKEN` | unset | bearer token of the ops port's `/admin/*` endpoints (dead letters); unset disables them |
/// | `MUSTER_MALLOC_ARENAS` | `1` | glibc malloc arenas (`0`: glibc's default, 8 per core); fewer arenas keep fewer freed peaks resident (per-thread caches still serve most small allocations without the arena lock) |
/// | `MUSTER_MALLOC_THREAD_CACHE` | per service: launcher `0`, others `7` | freed chunks each thread's malloc cache keeps per size class (glibc's `tcache_count`, default 7); another value makes the process start itself again with `GLIBC_TUNABLES` set (an operator's own `glibc.malloc.tcache_count` wins) |
/// | `MUSTER_MALLOC_MMAP_THRESHOLD` | `131072` | bytes from which an allocation is its own mapping, returned on free (`0`: glibc's dynamic threshold, which grows up to 32 MiB) |
/// | `MUSTER_HEAP_TRIM_INTERVAL` | `15s` | how often free heap pages go back to the kernel (`malloc_trim`); `0s` never |
/// | `MUSTER_DATABASE_URL` | required | PostgreSQL URL or conninfo |
/// | `MUSTER_DATABASE_POOL_SIZE` | `10` | connections per process |
/// | `MUSTER_KAFKA_BROKERS` | required | bootstrap servers, `host:port,…` |
/// | `MUSTER_KAFKA_PROPERTIES` | empty | any librdkafka properties, `k=v,k=v` |
/// | `MUSTER_KAFKA_CONSUMER_PROPERTIES` | empty | extra properties for consumers only |
/// | `MUSTER_KAFKA_PRODUCER_PROPERTIES` | empty | extra properties for producers only |
/// | `MUSTER_CREATE_TOPICS` | `true` | create missing topics at start-up |
/// | `MUSTER_OUTBOX_RETENTION` | `24h` | published outbox rows older than this are deleted |
/// | `MUSTER_INBOX_RETENTION` | `168h` | inbox entries older than this are deleted (longer than any redelivery) |
/// | `MUSTER_KAFKA_GROUP_PREFIX` | `muster` | consumer groups are `<prefix>.<service>` (the poller: `<prefix>.poller.status`); separate environments sharing one Kafka cluster use different prefixes |
public struct ServiceConfiguration: Sendable {
    /// Output format of the logs.
    public enum LogFormat: String, Sendable, CaseIterable { case json, text }

    /// The service's name, used in logs, metrics and consumer group ids.
    public var serviceName: String
    /// Bind host of the HTTP server.
    public var httpHost: String
    /// Bind port of the HTTP server.
    public var httpPort: Int
    /// Minimum log level.
    public var logLevel: Logger.Level
    /// Log output format.
    public var logFormat: LogFormat
    /// The bearer token of the `/admin/*` ops endpoints; nil disables them. Never logged (redacted in the description).
    @Secret public var opsAdminToken: String?
    /// glibc malloc arenas (0: the library's default).
    public var mallocArenas: Int
    /// glibc's fixed mmap threshold in bytes (0: the library's dynamic one).
    public var mallocMmapThreshold: Int
    /// Chunks per size class in each thread's malloc cache (`glibcThreadCache`: the library's own).
    public var mallocThreadCache: Int
    /// Period of the heap trim (zero: never).
    public var heapTrimInterval: Duration

    /// Reads the settings, using `defaultPort` when `MUSTER_HTTP_PORT` is unset.
    /// `threadCacheDefault` is the service's `MUSTER_MALLOC_THREAD_CACHE` default (`ServiceDescriptor`).
    public init(
        serviceName: String, defaultPort: Int, reader: EnvironmentSettings = EnvironmentSettings(),
        threadCacheDefault: Int = ServiceConfiguration.glibcThreadCache
    ) throws {
        self.serviceName = serviceName
        httpHost = reader.string("MUSTER_HTTP_HOST", default: "0.0.0.0")
        httpPort = try reader.int("MUSTER_HTTP_PORT", default: defaultPort, range: 0...65535)
        logLevel = try reader.oneOf("MUSTER_LOG_LEVEL", default: Logger.Level.info)
        logFormat = try reader.oneOf("MUSTER_LOG_FORMAT", default: LogFormat.json)
        mallocArenas = try Self.mallocArenas(reader)
        mallocMmapThreshold = try Self.mallocMmapThreshold(reader)
        mallocThreadCache = try Self.mallocThreadCache(reader, default: threadCacheDefault)
        heapTrimInterval = try reader.duration("MUSTER_HEAP_TRIM_INTERVAL", default: .seconds(15))
        let token = reader.string("MUSTER_OPS_ADMIN_TOKEN", default: "")
        opsAdminToken = token.isEmpty ? nil : token
        if let opsAdminToken, opsAdminToken.count < 16 {
            throw ConfigurationError.invalid(
                key: "MUSTER_OPS_ADMIN_TOKEN", value: "(\(opsAdminToken.count) characters)",
                rule: "at least 16 characters (e.g. `openssl rand -hex 32`)")
        }
    }
}

/// PostgreSQL and Kafka settings of the four services (see the table above).
public struct InfrastructureConfiguration: Sendable {
    /// PostgreSQL settings.
    public var database: PostgresConfiguration
    /// Kafka settings shared by producers and consumers.
    public var kafka: KafkaConfiguration
    /// Extra librdkafka properties for consumers.
    public var kafkaConsumerProperties: [String: String]
    /// Extra librdkafka properties for producers.
    public var kafkaProducerProperties: [String: String]
    /// The service's own librdkafka defaults, under every property above (`ServiceDescriptor.kafkaDefaults`).
    public var kafkaDefaults: (consumer: [String: String], producer: [String: String]) = ([:], [:])
    /// Whether to create missing topics at start-up.
    public var createTopics: Bool
    /// First part of every consumer group id.
    public var consumerGroupPrefix: String
    /// Retention of the outbox and inbox.
    public var retention: RetentionPruner.Configuration

    /// Reads the settings.
    public init(reader: EnvironmentSettings = EnvironmentSettings()) throws {
        database = PostgresConfiguration(
            url: try reader.requiredString(
                "MUSTER_DATABASE_URL",
                help: "set it to a PostgreSQL URL such as postgresql://user@host:5432/muster "
                    + "(scripts/infra.sh start prints one for a local cluster)"),
            poolSize: try reader.int("MUSTER_DATABASE_POOL_SIZE", default: 10, range: 1...500))
        kafka = KafkaConfiguration(
            bootstrapServers: try reader.requiredString(
                "MUSTER_KAFKA_BROKERS",
                help: "set it to the Kafka bootstrap servers, e.g. 127.0.0.1:9092 "
                    + "(scripts/infra.sh start prints one for a local broker)"),
            properties: try reader.keyValues("MUSTER_KAFKA_PROPERTIES"))
        kafkaConsumerProperties = try reader.keyValues("MUSTER_KAFKA_CONSUMER_PROPERTIES")
        kafkaProducerProperties = try reader.keyValues("MUSTER_KAFKA_PRODUCER_PROPERTIES")
        createTopics = try reader.bool("MUSTER_CREATE_TOPICS", default: true)
        consumerGroupPrefix = reader.string("MUSTER_KAFKA_GROUP_PREFIX", default: "muster")
        retention = RetentionPruner.Configuration()
        retention.outboxRetention = try reader.duration("MUSTER_OUTBOX_RETENTION", default: retention.outboxRetention)
        retention.inboxRetention = try reader.duration("MUSTER_INBOX_RETENTION", default: retention.inboxRetention)
        guard retention.outboxRetention > .zero, retention.inboxRetention > .zero else {
            throw ConfigurationError.invalid(
                key: "MUSTER_OUTBOX_RETENTION/MUSTER_INBOX_RETENTION", value: nil, rule: "must be longer than 0s")
        }
        guard consumerGroupPrefix.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }) else {
            throw ConfigurationError.invalid(
                key: "MUSTER_KAFKA_GROUP_PREFIX", value: consumerGroupPrefix, rule: "letters, digits, '.', '_' or '-' only")
        }
    }

    /// The consumer group id of `service`'s consumer for `purpose`.
    public func consumerGroup(service: String, purpose: String) -> String {
        "\(consumerGroupPrefix).\(service).\(purpose)"
    }

    /// The consumer group of a service whose one group member reads all its topics: `<prefix>.<service>`.
    public func consumerGroup(service: String) -> String {
        "\(consumerGroupPrefix).\(service)"
    }

    /// Kafka settings for a consumer: the service's defaults, then `MUSTER_KAFKA_PROPERTIES`, then
    /// `MUSTER_KAFKA_CONSUMER_PROPERTIES` (each wins over the one before).
    public var consumerKafka: KafkaConfiguration {
        var configuration = kafka
        configuration.properties = kafkaDefaults.consumer
        configuration.properties.merge(kafka.properties) { _, new in new }
        configuration.properties.merge(kafkaConsumerProperties) { _, new in new }
        return configuration
    }

    /// Kafka settings for a producer: the service's defaults, then `MUSTER_KAFKA_PROPERTIES`, then
    /// `MUSTER_KAFKA_PRODUCER_PROPERTIES`.
    public var producerKafka: KafkaConfiguration {
        var configuration = kafka
        configuration.properties = kafkaDefaults.producer
        configuration.properties.merge(kafka.properties) { _, new in new }
        configuration.properties.merge(kafkaProducerProperties) { _, new in new }
        return configuration
    }
}

extension InfrastructureConfiguration: CustomStringConvertible {
    /// The settings with every secret redacted: the database URL's password (``PostgresConfiguration``'s
    /// description) and secret librdkafka properties (``KafkaConfiguration``'s).
    public var description: String {
        "InfrastructureConfiguration(database: \(database), consumer: \(consumerKafka), producer: \(producerKafka), "
            + "createTopics: \(createTopics), consumerGroupPrefix: \(consumerGroupPrefix), "
            + "outboxRetention: \(retention.outboxRetention), inboxRetention: \(retention.inboxRetention))"
    }
}

extension ServiceConfiguration {
    /// `MUSTER_MALLOC_ARENAS` — read here and, before any thread allocates, by
    /// `HeapDiscipline.configureFromEnvironment`.
    static func mallocArenas(_ reader: EnvironmentSettings) throws -> Int {
        try reader.int("MUSTER_MALLOC_ARENAS", default: 1, range: 0...64)
    }

    /// `MUSTER_MALLOC_MMAP_THRESHOLD`, read like `mallocArenas`.
    static func mallocMmapThreshold(_ reader: EnvironmentSettings) throws -> Int {
        try reader.int("MUSTER_MALLOC_MMAP_THRESHOLD", default: 131_072, range: 0...33_554_432)
    }

    /// glibc's own size of a thread's malloc cache (chunks per size class).
    public static let glibcThreadCache = 7

    /// `MUSTER_MALLOC_THREAD_CACHE`, read like `mallocArenas` (glibc caps the count at 65535).
    static func mallocThreadCache(_ reader: EnvironmentSettings, default defaultValue: Int) throws -> Int {
        try reader.int("MUSTER_MALLOC_THREAD_CACHE", default: defaultValue, range: 0...65535)
    }
}
