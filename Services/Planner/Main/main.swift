import MusterService
import PlannerApp

// The planner executable: wire configuration and services, run until SIGTERM.
do {
    let configuration = try PlannerConfiguration(reader: ConfigReader())
    let context = try await ServiceBootstrap.boot(PlannerService.descriptor)
    try await ServiceRunner.run(try PlannerService.services(context, configuration: configuration), logger: context.logger)
} catch {
    ServiceRunner.exitOnStartupFailure(error, logger: nil)
}
