import MusterEvents
import MusterMessaging
import MusterService

/// The notifier's own settings (the shared ones are in `ServiceConfiguration`
/// and `InfrastructureConfiguration`); docs/notifier.md mirrors this table.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `MUSTER_NOTIFIER_ALLOW_HTTP` | `false` | accept `http://` subscription URLs (local/demo only) |
/// | `MUSTER_NOTIFIER_RETRY_WINDOW` | `24h` | how long after its first attempt a delivery is retried before it is dead |
/// | `MUSTER_NOTIFIER_RETRY_BASE` | `1s` | backoff ceiling of the first retry (doubles per attempt, full jitter) |
/// | `MUSTER_NOTIFIER_RETRY_CAP` | `1h` | largest backoff between two attempts |
/// | `MUSTER_NOTIFIER_DELIVERY_TIMEOUT` | `10s` | limit of one attempt (connect, send, answer) |
/// | `MUSTER_NOTIFIER_CONNECT_TIMEOUT` | `5s` | limit of the TCP/TLS connect within an attempt |
/// | `MUSTER_NOTIFIER_MAX_IN_FLIGHT` | `64` | concurrent attempts per notifier instance |
/// | `MUSTER_NOTIFIER_MAX_IN_FLIGHT_PER_SUBSCRIPTION` | `4` | concurrent attempts to one subscription |
/// | `MUSTER_NOTIFIER_POLL_INTERVAL` | `10s` | the dispatcher's longest sleep: it sleeps until the earliest pending delivery is due and is woken by every delivery queued in the process and every attempt that ends, so this bounds only how soon deliveries queued by another instance that stopped are taken over |
/// | `MUSTER_NOTIFIER_MAX_BODY_BYTES` | `65536` | largest API request body |
/// | `MUSTER_NOTIFIER_MAX_SUBSCRIPTIONS_PER_TEAM` | `100` | subscriptions a team may hold |
public struct NotifierConfiguration: Sendable {
    /// The database schema (the service name in production; unique in tests).
    public var schema: String
    /// Topic names.
    public var topics: Topics
    /// Whether `http://` URLs are accepted.
    public var allowHTTP: Bool
    /// Retry schedule and window.
    public var retry: RetryPolicy
    /// Limit of one attempt.
    public var deliveryTimeout: Duration
    /// Limit of the connect phase of one attempt.
    public var connectTimeout: Duration
    /// Concurrent attempts per instance.
    public var maxInFlight: Int
    /// Concurrent attempts per subscription.
    public var maxInFlightPerSubscription: Int
    /// Dispatcher idle poll interval.
    public var pollInterval: Duration
    /// How often the queue-depth gauges are refreshed.
    public var gaugeInterval: Duration
    /// Largest API request body.
    public var maxBodyBytes: Int
    /// Subscriptions per team.
    public var maxSubscriptionsPerTeam: Int

    /// A claimed delivery is another instance's to retry after this long:
    /// the attempt's timeout plus a margin (covers a notifier that died mid-attempt).
    public var leaseDuration: Duration { deliveryTimeout * 2 + .seconds(5) }

    /// Creates a configuration with the documented defaults.
    public init(schema: String = "notifier", topics: Topics = .standard, allowHTTP: Bool = false,
                retry: RetryPolicy = RetryPolicy(), deliveryTimeout: Duration = .seconds(10),
                connectTimeout: Duration = .seconds(5), maxInFlight: Int = 64, maxInFlightPerSubscription: Int = 4,
                pollInterval: Duration = .seconds(10), gaugeInterval: Duration = .seconds(15),
                maxBodyBytes: Int = 65_536, maxSubscriptionsPerTeam: Int = 100) {
        self.schema = schema
        self.topics = topics
        self.allowHTTP = allowHTTP
        self.retry = retry
        self.deliveryTimeout = deliveryTimeout
        self.connectTimeout = connectTimeout
        self.maxInFlight = maxInFlight
        self.maxInFlightPerSubscription = maxInFlightPerSubscription
        self.pollInterval = pollInterval
        self.gaugeInterval = gaugeInterval
        self.maxBodyBytes = maxBodyBytes
        self.maxSubscriptionsPerTeam = maxSubscriptionsPerTeam
    }

    /// Reads the `MUSTER_NOTIFIER_*` variables.
    public init(reader: EnvironmentSettings) throws {
        let base = try reader.duration("MUSTER_NOTIFIER_RETRY_BASE", default: .seconds(1))
        let cap = try reader.duration("MUSTER_NOTIFIER_RETRY_CAP", default: .seconds(3600))
        guard base > .zero, cap >= base else {
            throw ConfigurationError.invalid(key: "MUSTER_NOTIFIER_RETRY_CAP", value: nil,
                                             rule: "MUSTER_NOTIFIER_RETRY_BASE must be > 0 and the cap at least the base")
        }
        let window = try reader.duration("MUSTER_NOTIFIER_RETRY_WINDOW", default: .seconds(86_400))
        let timeout = try reader.duration("MUSTER_NOTIFIER_DELIVERY_TIMEOUT", default: .seconds(10))
        let connect = try reader.duration("MUSTER_NOTIFIER_CONNECT_TIMEOUT", default: .seconds(5))
        guard timeout > .zero, connect > .zero else {
            throw ConfigurationError.invalid(key: "MUSTER_NOTIFIER_DELIVERY_TIMEOUT", value: nil,
                                             rule: "delivery and connect timeouts must be positive")
        }
        self.init(
            allowHTTP: try reader.bool("MUSTER_NOTIFIER_ALLOW_HTTP", default: false),
            retry: RetryPolicy(backoff: Backoff(base: base, cap: cap), window: window),
            deliveryTimeout: timeout, connectTimeout: connect,
            maxInFlight: try reader.int("MUSTER_NOTIFIER_MAX_IN_FLIGHT", default: 64, range: 1...4096),
            maxInFlightPerSubscription: try reader.int(
                "MUSTER_NOTIFIER_MAX_IN_FLIGHT_PER_SUBSCRIPTION", default: 4, range: 1...256),
            pollInterval: try reader.duration("MUSTER_NOTIFIER_POLL_INTERVAL", default: .seconds(10)),
            maxBodyBytes: try reader.int("MUSTER_NOTIFIER_MAX_BODY_BYTES", default: 65_536, range: 1024...1_048_576),
            maxSubscriptionsPerTeam: try reader.int(
                "MUSTER_NOTIFIER_MAX_SUBSCRIPTIONS_PER_TEAM", default: 100, range: 1...10_000))
    }
}
