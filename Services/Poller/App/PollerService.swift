import MusterEvents
import MusterPostgres
import MusterService
import ServiceLifecycle

/// The poller service (DESIGN §2): when each live DRS job is looked at, and timeouts.
/// Its domain logic arrives with its own issue; today it boots through the
/// shared bootstrap, migrates its schema (outbox, inbox), creates its topics
/// and runs its outbox relay and ops endpoints.
public enum PollerService {
    /// How the poller is booted.
    public static let descriptor = ServiceDescriptor(
        name: "poller", defaultPort: 8082, schema: "poller", migrations: migrations,
        topics: [.jobStatus, .jobPoll])

    /// The poller's own schema migrations (versions from 100).
    public static let migrations: [Migration] = []

    /// The poller's long-running services besides the shared ones.
    public static func services(_ context: ServiceContext) -> [any Service] {
        []
    }
}
