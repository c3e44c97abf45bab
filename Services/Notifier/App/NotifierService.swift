import MusterEvents
import MusterPostgres
import MusterService
import ServiceLifecycle

/// The notifier service (DESIGN §2): webhook subscriptions and signed deliveries.
/// Its domain logic arrives with its own issue; today it boots through the
/// shared bootstrap, migrates its schema (outbox, inbox), creates its topics
/// and runs its outbox relay and ops endpoints.
public enum NotifierService {
    /// How the notifier is booted.
    public static let descriptor = ServiceDescriptor(
        name: "notifier", defaultPort: 8083, schema: "notifier", migrations: migrations,
        topics: [.executionEvents])

    /// The notifier's own schema migrations (versions from 100).
    public static let migrations: [Migration] = []

    /// The notifier's long-running services besides the shared ones.
    public static func services(_ context: ServiceContext) -> [any Service] {
        []
    }
}
