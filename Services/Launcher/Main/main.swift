// The launcher executable: its settings, boot and services are LauncherService's (a ServiceDefinition).
import LauncherApp
import MusterService

await ServiceRunner.main(LauncherService.self)
