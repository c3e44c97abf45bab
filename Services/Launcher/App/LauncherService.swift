import MusterEvents
import MusterPostgres
import MusterService
import ServiceLifecycle

/// The launcher service (DESIGN §2): the only DRS caller: leases, budgets, launches, polls, inventory.
/// Its domain logic arrives with its own issue; today it boots through the
/// shared bootstrap, migrates its schema (outbox, inbox), creates its topics
/// and runs its outbox relay and ops endpoints.
public enum LauncherService {
    /// How the launcher is booted.
    public static let descriptor = ServiceDescriptor(
        name: "launcher", defaultPort: 8081, schema: "launcher", migrations: migrations,
        topics: [.waveStarted, .jobPoll, .instancesTerminate, .accounts, .jobStatus, .inventory])

    /// The launcher's own schema migrations (versions from 100).
    public static let migrations: [Migration] = []

    /// The launcher's long-running services besides the shared ones.
    public static func services(_ context: ServiceContext) -> [any Service] {
        []
    }
}
