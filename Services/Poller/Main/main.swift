// The poller executable: its settings, boot and services are PollerService's (a ServiceDefinition).
import MusterService
import PollerApp

await ServiceRunner.main(PollerService.self)
