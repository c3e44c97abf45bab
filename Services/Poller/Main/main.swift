import MusterService
import PollerApp

// The poller executable: wire configuration and services, run until SIGTERM.
do {
    let context = try await ServiceBootstrap.boot(PollerService.descriptor)
    try await ServiceRunner.run(context.services(PollerService.services(context)), logger: context.logger)
} catch {
    ServiceRunner.exitOnStartupFailure(error, logger: nil)
}
