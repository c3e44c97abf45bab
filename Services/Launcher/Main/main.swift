import LauncherApp
import MusterService

// The launcher executable: wire configuration and services, run until SIGTERM.
do {
    let context = try await ServiceBootstrap.boot(LauncherService.descriptor)
    try await ServiceRunner.run(context.services(try LauncherService.services(context)), logger: context.logger)
} catch {
    ServiceRunner.exitOnStartupFailure(error, logger: nil)
}
