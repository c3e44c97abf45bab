// The notifier executable: its settings, boot and services are NotifierService's (a ServiceDefinition).
import MusterService
import NotifierApp

await ServiceRunner.main(NotifierService.self)
