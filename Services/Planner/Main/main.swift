import PlannerApp
import MusterService

// The planner executable: wire configuration and services, run until SIGTERM.
do {
    let context = try await ServiceBootstrap.boot(PlannerService.descriptor)
    try await ServiceRunner.run(context.services(PlannerService.services(context)), logger: context.logger)
} catch {
    ServiceRunner.exitOnStartupFailure(error, logger: nil)
}
