import MusterEvents
import MusterPostgres
import MusterService
import ServiceLifecycle

/// The planner service (DESIGN §2): REST API, plans, executions and the wave DAG.
/// Its domain logic arrives with its own issue; today it boots through the
/// shared bootstrap, migrates its schema (outbox, inbox), creates its topics
/// and runs its outbox relay and ops endpoints.
public enum PlannerService {
    /// How the planner is booted.
    public static let descriptor = ServiceDescriptor(
        name: "planner", defaultPort: 8080, schema: "planner", migrations: migrations,
        topics: [.jobStatus, .inventory, .waveStarted, .instancesTerminate, .accounts, .executionEvents])

    /// The planner's own schema migrations (versions from 100).
    public static let migrations: [Migration] = []

    /// The planner's long-running services besides the shared ones.
    public static func services(_ context: ServiceContext) -> [any Service] {
        []
    }
}
