import NotifierApp
import MusterService

// The notifier executable: wire configuration and services, run until SIGTERM.
do {
    let context = try await ServiceBootstrap.boot(NotifierService.descriptor)
    try await ServiceRunner.run(context.services(NotifierService.services(context)), logger: context.logger)
} catch {
    ServiceRunner.exitOnStartupFailure(error, logger: nil)
}
