// The planner executable: its settings, boot and services are PlannerService's (a ServiceDefinition).
import MusterService
import PlannerApp

await ServiceRunner.main(PlannerService.self)
