import Foundation
import MusterDomain
import MusterEvents
@testable import PlannerApp
import Testing

/// The checked-in JSON Schema for outside consumers matches what the
/// planner actually publishes.
@Suite("execution.events.v1 schema")
struct ExecutionEventSchemaTests {
    @Test func everyPublishedEventMatchesTheCheckedInSchema() throws {
        let validator = try SchemaValidator(url: RepositoryFile.url("docs/events/execution-events.schema.json"))
        var harness = Harness(waves: [("db", [], 2), ("app", [1], 1)], pauseBefore: ["app"], continueOnFailure: ["db"])
        let job = try harness.createJob("db")
        let ids = harness.servers("db").map(\.id)
        try harness.observe("db", job: job, status: .completed, [ids[0]: .launched, ids[1]: .failed])
        try harness.apply(.resume(actor: "bob"))
        try harness.launchAll("app")
        try harness.apply(.cleanup(actor: "bob"))
        var hooked = Harness(waves: [("db", [], 1)], hooks: [
            "db": (before: [WaveHookTests.ssm("prep")], after: [WaveHookTests.approval("signoff")]),
        ])
        try hooked.apply(.stepFinished(StepResult(stepName: "prep", succeeded: true, output: "done")))
        try hooked.launchAll("db")
        try hooked.apply(WaveHookTests.decision("signoff", approve: false, comment: "no"))
        let events = (harness.effects + hooked.effects).compactMap { if case .publish(let event) = $0 { event } else { nil } }
        #expect(Set(events.map(\.type)).count >= 10)
        #expect(events.contains { $0.type == .approvalRequested && $0.step?.link != nil })
        for event in events {
            let body = try CloudEvent(source: EventSource.planner, type: event.type.rawValue, payload: event).data
            let value = try JSONSerialization.jsonObject(with: Data(body))
            let problems = validator.validate(value, against: validator.document)
            #expect(problems.isEmpty, "\(event.type.rawValue): \(problems)")
        }
        // The schema's type list is exactly the Swift enum.
        let properties = try #require((validator.document["properties"] as? [String: Any])?["type"] as? [String: Any])
        #expect(Set(properties["enum"] as? [String] ?? []) == Set(ExecutionEventType.allCases.map(\.rawValue)))
    }
}
