/// The Kafka topics of DESIGN §3, with the partition count each is created
/// with. The launcher's input topics share one count: they are
/// co-partitioned so partition n of each lands on the same launcher.
public enum Topic: String, Sendable, CaseIterable {
    /// Launch groups to start (planner → launcher: `launch-group.requested`), key `accountId/region`.
    case launchRequests = "launch.requests.v1"
    /// Job lifecycle (launcher, poller → planner, poller), key execution id.
    case jobStatus = "job.status.v1"
    /// Poll requests (poller → launcher), key `accountId/region`.
    case jobPoll = "job.poll.v1"
    /// Drill cleanup (planner → launcher), key `accountId/region`.
    case instancesTerminate = "instances.terminate.v1"
    /// Source-server inventory (launcher → planner), key `accountId/region/serverId`.
    case inventory = "inventory.v1"
    /// Account registrations (planner → launcher), key `accountId`.
    case accounts = "accounts.v1"
    /// The public execution event stream, key execution id.
    case executionEvents = "execution.events.v1"
    /// API tokens issued and revoked (planner → notifier), key team id.
    /// Not in DESIGN §3: see docs/notifier.md for why it exists.
    case teams = "teams.v1"
    /// Wave-hook step commands (planner → launcher), key `accountId/region`:
    /// co-partitioned with the launcher's other inputs. Not public.
    case hookRequests = "hook.requests.v1"
    /// HTTP callout hook steps to send (planner → notifier, private: it
    /// carries the one-time callback URL), key execution id.
    case callouts = "callouts.v1"
    /// How each callout's POST ended (notifier → planner), key execution id.
    case calloutResults = "callout.results.v1"

    /// The topic name.
    public var name: String { rawValue }

    /// Partition count for the launcher's co-partitioned input topics.
    public static let launcherPartitions: Int32 = 12

    /// The partition count this topic is created with.
    public var partitions: Int32 {
        switch self {
        case .launchRequests, .jobPoll, .instancesTerminate, .hookRequests: Self.launcherPartitions
        case .jobStatus, .executionEvents, .inventory: 12
        case .accounts, .teams, .callouts, .calloutResults: 4
        }
    }
}

/// The one map from a ``Topic`` to the name it has on the broker: the
/// topic's own name behind an optional prefix, so a test or benchmark runs
/// isolated services against a shared broker by giving them one prefix
/// (every service reading and writing under it agrees on every name).
public struct Topics: Sendable, Equatable {
    /// Put before every name; empty in production.
    public var prefix: String

    /// The names under `prefix` (empty: DESIGN §3's names).
    public init(prefix: String = "") {
        self.prefix = prefix
    }

    /// DESIGN §3's names.
    public static let standard = Topics()

    /// The broker name of `topic`.
    public func name(_ topic: Topic) -> String { prefix + topic.name }

    /// The broker name of `topic`.
    public subscript(_ topic: Topic) -> String { name(topic) }

    /// `launch.requests.v1`.
    public var launchRequests: String { name(.launchRequests) }
    /// `job.status.v1`.
    public var jobStatus: String { name(.jobStatus) }
    /// `job.poll.v1`.
    public var jobPoll: String { name(.jobPoll) }
    /// `instances.terminate.v1`.
    public var instancesTerminate: String { name(.instancesTerminate) }
    /// `inventory.v1`.
    public var inventory: String { name(.inventory) }
    /// `accounts.v1`.
    public var accounts: String { name(.accounts) }
    /// `execution.events.v1`.
    public var executionEvents: String { name(.executionEvents) }
    /// `teams.v1`.
    public var teams: String { name(.teams) }
    /// `hook.requests.v1`.
    public var hookRequests: String { name(.hookRequests) }
    /// `callouts.v1`.
    public var callouts: String { name(.callouts) }
    /// `callout.results.v1`.
    public var calloutResults: String { name(.calloutResults) }
}
