import Foundation
import Logging
import MusterDomain
import MusterEvents
import MusterHTTP
import MusterKafka
import MusterMessaging
import MusterPostgres
import MusterService
import ServiceLifecycle

/// The launcher service (DESIGN §2, §5): the only DRS caller. It consumes
/// `launch.requests.v1`, `job.poll.v1`, `instances.terminate.v1`,
/// `hook.requests.v1` (co-partitioned by endpoint, so one instance owns each
/// endpoint's budget) and `accounts.v1` through one consumer-group member with
/// the range assignor; a scheduler does the DRS work outside any long transaction.
public enum LauncherService: ServiceDefinition {
    /// How the launcher is booted.
    public static let descriptor = ServiceDescriptor(
        name: "launcher", defaultPort: 8081, schema: "launcher", migrations: migrations,
        topics: [.launchRequests, .jobPoll, .instancesTerminate, .hookRequests, .accounts, .jobStatus, .inventory],
        kafkaDefaults: kafkaDefaults, mallocThreadCache: mallocThreadCache)

    /// `MUSTER_MALLOC_THREAD_CACHE`'s launcher default: no per-thread malloc caches. Measured on the
    /// storm (docs/launcher.md "Memory"): the caches of its ≈ 30 long-lived threads held freed chunks
    /// that no trim returns, scattered over the heap's pages; without them the heap's resident pages
    /// after the storm fall from ≈ 17 MB to ≈ 11 MB and the steady RSS from 64–68 MB to 60–62 MB. Every
    /// allocation then takes the one arena's lock, which the storm's wall time and lag did not show.
    public static let mallocThreadCache = 0

    /// librdkafka's buffers sized for the launcher's traffic (records of a few KB, at most
    /// thousands a second) instead of the library's throughput defaults; any
    /// `MUSTER_KAFKA_*PROPERTIES` wins (docs/launcher.md "Memory").
    ///
    /// | property | librdkafka default | launcher |
    /// |---|---|---|
    /// | `queued.max.messages.kbytes` (consumer prefetch queue) | 65536 | 2048 |
    /// | `queued.min.messages` (per partition) | 100000 | 1000 |
    /// | `fetch.max.bytes` (one fetch response) | 52428800 | 1048576 |
    /// | `receive.message.max.bytes` (any response) | 100000000 | 2097152 |
    /// | `queue.buffering.max.kbytes` (producer queue) | 1048576 | 16384 |
    /// | `batch.size` (one produce batch) | 1000000 | 262144 |
    public static let kafkaDefaults: (consumer: [String: String], producer: [String: String]) = (
        consumer: [
            "queued.max.messages.kbytes": "2048", "queued.min.messages": "1000",
            "fetch.max.bytes": "1048576", "receive.message.max.bytes": "2097152",
        ],
        producer: ["queue.buffering.max.kbytes": "16384", "batch.size": "262144"])

    /// The launcher's own schema migrations (versions from 100).
    public static let migrations: [Migration] = LauncherSchema.migrations(schema: "launcher")

    /// Reads `MUSTER_LAUNCHER_*` and the AWS endpoint settings.
    public static func configuration(from settings: EnvironmentSettings) throws -> LauncherConfiguration {
        try LauncherConfiguration(reader: settings)
    }

    /// What ``makeServices(_:configuration:router:)`` builds: the configured ``Launcher`` (a test
    /// runs an inventory round or reads its instance id through it) and the services that run it.
    public struct Parts: ServiceParts {
        /// The launcher the services belong to.
        public let launcher: Launcher
        /// The AWS HTTP client (stopped last), then the launcher's scheduler, inventory, readiness
        /// checks and consumer.
        public let services: [any Service]
    }

    /// The launcher's long-running services besides the shared ones; it has no API routes. Its
    /// key-pair credentials (`MUSTER_KEY_<NAME>_*`) are read from the context's settings.
    public static func makeServices(
        _ context: ServiceContext, configuration: LauncherConfiguration, router: ServiceRouter
    ) throws -> Parts {
        let http = HTTPClient(logger: context.logger)
        let launcher = Launcher(
            schema: context.descriptor.schema, topics: configuration.topics, configuration: configuration,
            pool: context.pool, consumerKafka: context.infrastructure.consumerKafka, logger: context.logger,
            accounts: AccountDirectory(configuration: configuration, httpClient: http, logger: context.logger,
                                       environment: context.settings.environment),
            hooks: configuration.hooks, groupPrefix: "\(context.infrastructure.consumerGroupPrefix).launcher",
            wakeRelay: { [relay = context.relay] in relay.wake() }, onOutcome: context.onOutcome)
        return Parts(launcher: launcher,
                     services: [ResourceService(name: "drs-http") { await http.shutdown() }] + (try launcher.services()))
    }
}

/// A configured launcher: its consumers, scheduler and inventory, ready to
/// run in a `ServiceGroup`. Tests build one per isolated schema and topics.
public final class Launcher: Sendable {
    /// This process's id in `instances` (heartbeats, endpoint ownership).
    public let instanceID: String
    private let context: LauncherContext
    private let scheduler: LaunchScheduler
    private let inventory: Inventory
    private let readiness: ReadinessChecks
    private let topics: Topics
    private let consumerKafka: KafkaConfiguration
    private let onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)?
    private let groupPrefix: String

    /// - Parameters:
    ///   - schema: the migrated schema (`LauncherSchema` + `MessagingSchema`).
    ///   - consumerKafka: consumer settings (the range assignor is added).
    ///   - wakeRelay: wakes the outbox relay after commits.
    ///   - groupPrefix: the consumer group (`<MUSTER_KAFKA_GROUP_PREFIX>.launcher`; before issue 18
    ///     it prefixed two groups, `.inputs` and `.accounts`).
    ///   - onOutcome: observes every consumed record (tests, metrics).
    public init(
        schema: String, topics: Topics, configuration: LauncherConfiguration, pool: PostgresPool,
        consumerKafka: KafkaConfiguration, logger: Logger, accounts: AccountDirectory,
        hooks: LauncherHooks = LauncherHooks(), instanceID: String = "launcher-\(UUID().uuidString.prefix(8).lowercased())",
        groupPrefix: String = "muster.launcher", wakeRelay: @escaping @Sendable () -> Void,
        onOutcome: (@Sendable (ConsumeOutcome, CloudEvent?) -> Void)? = nil
    ) {
        self.instanceID = instanceID
        self.groupPrefix = groupPrefix
        self.topics = topics
        self.consumerKafka = consumerKafka
        self.onOutcome = onOutcome
        let gate = DRSGate(limits: configuration.limits, policy: configuration.throttle, accounts: accounts, logger: logger)
        context = LauncherContext(
            instanceID: instanceID, configuration: configuration, pool: pool,
            store: LaunchStore(schema: schema, topics: topics), gate: gate, accounts: accounts,
            launchConfiguration: LaunchConfigurationCheck(
                gate: gate, ttl: configuration.launchConfigurationTTL,
                repairEmpty: configuration.repairEmptyLaunchConfiguration,
                capacity: configuration.launchConfigurationCacheSize),
            hooks: hooks, logger: logger, wakeRelay: wakeRelay)
        scheduler = LaunchScheduler(context: context)
        inventory = Inventory(context: context)
        readiness = ReadinessChecks(context: context)
    }

    /// The services to run: scheduler, inventory, readiness checks, the consumer (inputs and accounts).
    public func services() throws -> [any Service] {
        let ownership = context.ownership
        let inputTopics = [topics.launchRequests, topics.jobPoll, topics.instancesTerminate, topics.hookRequests]
        // One group member for every topic (issue 18): the range assignor still gives partition n of
        // every input topic to one member; `accounts.v1` rides along (its records carry no endpoint).
        let member = try KafkaConsumer(
            configuration: consumerKafka.adding(["partition.assignment.strategy": "range"]),
            groupID: groupPrefix, topics: inputTopics + [topics.accounts], logger: context.logger,
            onRebalance: { event in
                // Co-partitioned: partition n of each input topic carries the same endpoints.
                switch event {
                case .assigned(let partitions):
                    ownership.assigned(partitions.filter { inputTopics.contains($0.topic) }.map(\.partition))
                case .revoked(let partitions):
                    ownership.revoked(partitions.filter { inputTopics.contains($0.topic) }.map(\.partition))
                }
            })
        let scheduler = self.scheduler, onOutcome = self.onOutcome, readiness = self.readiness
        let handlers = InputHandlers(context: context)
        let observeInputs: @Sendable (ConsumeOutcome, CloudEvent?) -> Void = { outcome, event in
            switch handlers.finished(event) {
            case .launches(let endpoint)?: scheduler.wakeLaunches(endpoint)
            case .polls(let endpoint)?: scheduler.wakePolls(endpoint)
            case nil: break
            }
            onOutcome?(outcome, event)
        }
        let observeAccounts: @Sendable (ConsumeOutcome, CloudEvent?) -> Void = { outcome, event in
            if outcome == .handled {
                scheduler.wake()
                readiness.wake()
            }
            onOutcome?(outcome, event)
        }
        return [
            scheduler,
            inventory,
            readiness,
            // Each topic's partitions keep their own lane, so a launch never queues behind a poll.
            EventConsumer(
                name: "launcher", schema: context.store.schema, consumer: member, pool: context.pool,
                logger: context.logger,
                routes: inputTopics.map { topic in
                    EventConsumer.Route(
                        topic: topic, name: "launcher.inputs", onOutcome: observeInputs,
                        handler: { event, record, connection in try await handlers.input(event, record, connection) })
                } + [
                    EventConsumer.Route(
                        topic: topics.accounts, name: "launcher.accounts", onOutcome: observeAccounts,
                        handler: { event, record, connection in try await handlers.account(event, record, connection) }),
                ]),
        ]
    }

    /// Runs one inventory round now (tests, benchmarks); returns servers published.
    public func inventoryNow() async -> Int {
        await inventory.inventoryOnce()
    }

    /// Asks the scheduler to look now.
    public func wake() {
        scheduler.wake()
    }
}
