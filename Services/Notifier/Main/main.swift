import MusterService
import NotifierApp

// The notifier executable: wire configuration and services, run until SIGTERM.
do {
    let configuration = try NotifierConfiguration(reader: ConfigReader())
    let context = try await ServiceBootstrap.boot(NotifierService.descriptor)
    try await ServiceRunner.run(try NotifierService.services(context, configuration: configuration), logger: context.logger)
} catch {
    ServiceRunner.exitOnStartupFailure(error, logger: nil)
}
