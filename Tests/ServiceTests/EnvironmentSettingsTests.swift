import Foundation
import MusterDomain
import MusterService
import Testing

/// The shared settings, read through swift-configuration: defaults, the
/// operator-facing error of a missing or invalid variable (word for word, as
/// the README documents them), and secrets that no description, dump or
/// error shows.
@Suite struct EnvironmentSettingsTests {
    static let infrastructure = ["MUSTER_DATABASE_URL": "postgresql://muster@127.0.0.1:5432/muster",
                                 "MUSTER_KAFKA_BROKERS": "127.0.0.1:9092"]

    private func error(_ body: () throws -> Void) -> ConfigurationError? {
        do {
            try body()
            return nil
        } catch {
            return error as? ConfigurationError
        }
    }

    @Test func unsetVariablesTakeTheDocumentedDefaults() throws {
        let service = try ServiceConfiguration(
            serviceName: "poller", defaultPort: 8082, reader: EnvironmentSettings(environment: [:]))
        #expect(service.httpHost == "0.0.0.0")
        #expect(service.httpPort == 8082)
        #expect(service.logLevel == .info)
        #expect(service.logFormat == .json)
        #expect(service.opsAdminToken == nil)
        #expect(service.mallocArenas == 1)
        #expect(service.mallocMmapThreshold == 131_072)
        #expect(service.mallocThreadCache == 7)
        let launcher = try ServiceConfiguration(
            serviceName: "launcher", defaultPort: 8081, reader: EnvironmentSettings(environment: [:]), threadCacheDefault: 0)
        #expect(launcher.mallocThreadCache == 0)
        #expect(service.heapTrimInterval == .seconds(15))
        let infrastructure = try InfrastructureConfiguration(reader: EnvironmentSettings(environment: Self.infrastructure))
        #expect(infrastructure.database.poolSize == 10)
        #expect(infrastructure.createTopics)
        #expect(infrastructure.consumerGroupPrefix == "muster")
        #expect(infrastructure.retention.outboxRetention == .seconds(24 * 3600))
        #expect(infrastructure.retention.inboxRetention == .seconds(168 * 3600))
    }

    @Test func valuesAreTrimmedAndAnEmptyOneCountsAsUnset() throws {
        let service = try ServiceConfiguration(serviceName: "poller", defaultPort: 8082, reader: EnvironmentSettings(
            environment: ["MUSTER_HTTP_PORT": " 9000 ", "MUSTER_LOG_LEVEL": "DEBUG", "MUSTER_HTTP_HOST": ""]))
        #expect(service.httpPort == 9000)
        #expect(service.logLevel == .debug)
        #expect(service.httpHost == "0.0.0.0")
    }

    @Test func aMissingRequiredVariableIsNamedWithHowToSetIt() {
        let missing = error { _ = try InfrastructureConfiguration(reader: EnvironmentSettings(
            environment: ["MUSTER_KAFKA_BROKERS": "127.0.0.1:9092", "MUSTER_DATABASE_URL": "  "])) }
        #expect(missing?.description == "missing setting MUSTER_DATABASE_URL: set it to a PostgreSQL URL such as "
            + "postgresql://user@host:5432/muster (scripts/infra.sh start prints one for a local cluster)")
        let brokers = error { _ = try InfrastructureConfiguration(reader: EnvironmentSettings(
            environment: ["MUSTER_DATABASE_URL": "postgresql://muster@127.0.0.1/muster"])) }
        #expect(brokers == .missing(key: "MUSTER_KAFKA_BROKERS", help: "set it to the Kafka bootstrap servers, e.g. "
            + "127.0.0.1:9092 (scripts/infra.sh start prints one for a local broker)"))
    }

    @Test func anInvalidValueIsNamedWithItsRule() {
        func service(_ environment: [String: String]) -> ConfigurationError? {
            error { _ = try ServiceConfiguration(serviceName: "poller", defaultPort: 8082,
                                                 reader: EnvironmentSettings(environment: environment)) }
        }
        #expect(service(["MUSTER_HTTP_PORT": "70000"])?.description
            == "invalid setting MUSTER_HTTP_PORT=70000: must be an integer in 0...65535")
        #expect(service(["MUSTER_LOG_LEVEL": "loud"])?.description
            == "invalid setting MUSTER_LOG_LEVEL=loud: must be one of: trace, debug, info, notice, warning, error, critical")
        #expect(service(["MUSTER_HEAP_TRIM_INTERVAL": "5 parsecs"])?.description
            == "invalid setting MUSTER_HEAP_TRIM_INTERVAL=5 parsecs: must be a duration like 250ms, 5s, 2m or 1h")
        var environment = Self.infrastructure
        environment["MUSTER_CREATE_TOPICS"] = "perhaps"
        #expect(error { _ = try InfrastructureConfiguration(reader: EnvironmentSettings(environment: environment)) }?
            .description == "invalid setting MUSTER_CREATE_TOPICS=perhaps: must be true or false")
        environment["MUSTER_CREATE_TOPICS"] = nil
        environment["MUSTER_KAFKA_PROPERTIES"] = "sasl.password"
        #expect(error { _ = try InfrastructureConfiguration(reader: EnvironmentSettings(environment: environment)) }
            == .invalid(key: "MUSTER_KAFKA_PROPERTIES", value: nil, rule: "must be comma-separated key=value pairs"))
    }

    @Test func theVariablesHoldingSecretsAreMarkedSecret() {
        for key in ["MUSTER_OPS_ADMIN_TOKEN", "MUSTER_PLANNER_ADMIN_TOKEN", "MUSTER_OIDC_CLIENT_SECRET",
                    "MUSTER_DATABASE_URL", "MUSTER_KAFKA_PROPERTIES", "MUSTER_KAFKA_CONSUMER_PROPERTIES"] {
            #expect(EnvironmentSettings.isSecret(key), "\(key)")
        }
        for key in ["MUSTER_HTTP_PORT", "MUSTER_KAFKA_BROKERS", "MUSTER_OIDC_CLIENT_ID", "MUSTER_LOG_LEVEL"] {
            #expect(!EnvironmentSettings.isSecret(key), "\(key)")
        }
    }

    @Test func anInvalidSecretIsNamedButNeverEchoed() {
        let secret = "hunter2-not-a-number"
        let invalid = error { _ = try EnvironmentSettings(environment: ["MUSTER_EXAMPLE_TOKEN": secret])
            .int("MUSTER_EXAMPLE_TOKEN", default: 1) }
        #expect(invalid == .invalid(key: "MUSTER_EXAMPLE_TOKEN", value: nil, rule: "must be an integer in "
            + "\(Int.min)...\(Int.max)"))
        #expect(!"\(String(describing: invalid))".contains(secret))
        let short = error { _ = try ServiceConfiguration(serviceName: "poller", defaultPort: 8082, reader:
            EnvironmentSettings(environment: ["MUSTER_OPS_ADMIN_TOKEN": "hunter2"])) }
        #expect(short?.description == "invalid setting MUSTER_OPS_ADMIN_TOKEN=(7 characters): "
            + "at least 16 characters (e.g. `openssl rand -hex 32`)")
    }

    @Test func aSecretNeverAppearsInAConfigurationsDescription() throws {
        let token = "ops-token-5e3c1b0a9d8f7e6d"
        let password = "pg-password-0f1e2d3c"
        let sasl = "sasl-password-a1b2c3d4"
        let settings = EnvironmentSettings(environment: [
            "MUSTER_OPS_ADMIN_TOKEN": token,
            "MUSTER_DATABASE_URL": "postgresql://muster:\(password)@db.internal:5432/muster",
            "MUSTER_KAFKA_BROKERS": "127.0.0.1:9092",
            "MUSTER_KAFKA_PROPERTIES": "security.protocol=SASL_SSL,sasl.password=\(sasl)",
            "MUSTER_KAFKA_CONSUMER_PROPERTIES": "sasl.password=\(sasl)",
        ])
        let service = try ServiceConfiguration(serviceName: "notifier", defaultPort: 8083, reader: settings)
        #expect(service.opsAdminToken == token, "the code reads the value itself")
        var dumped = ""
        dump(service, to: &dumped)
        for text in [String(describing: service), String(reflecting: service), dumped] {
            #expect(!text.contains(token), "\(text)")
            #expect(text.contains("<redacted>"), "\(text)")
            #expect(text.contains("notifier"), "the rest is shown: \(text)")
        }
        let infrastructure = try InfrastructureConfiguration(reader: settings)
        #expect(infrastructure.consumerKafka.properties["sasl.password"] == sasl)
        let description = String(describing: infrastructure)
        #expect(!description.contains(password), "\(description)")
        #expect(!description.contains(sasl), "\(description)")
        #expect(description.contains("db.internal"), "\(description)")
        #expect(description.contains("security.protocol=SASL_SSL"), "\(description)")
    }

    @Test func aSecretWrapperRedactsEveryRendering() {
        struct Holder { var name = "visible"; @Secret var token: String? = "s3cr3t-value" }
        let holder = Holder()
        var dumped = ""
        dump(holder, to: &dumped)
        for text in [String(describing: holder), String(reflecting: holder), dumped] {
            #expect(!text.contains("s3cr3t-value"), "\(text)")
        }
        #expect(String(describing: holder).contains("visible"))
        #expect(holder.token == "s3cr3t-value")
    }
}
