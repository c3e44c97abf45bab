import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
@testable import PlannerApp
import Testing

/// docs/events/asyncapi.json (AsyncAPI 3) held against the Swift types: the
/// public topic's name and partitions, one message per `ExecutionEventType`,
/// the CloudEvents headers a record really carries, and the body schema equal
/// to docs/events/execution-events.schema.json (which the published events
/// are validated against in ExecutionEventSchemaTests). Tests/e2e/test_asyncapi.py
/// validates the document against the AsyncAPI 3.0.0 JSON Schema.
@Suite("AsyncAPI document")
struct AsyncAPIDocumentTests {
    let document: [String: Any]

    init() throws {
        let data = try Data(contentsOf: RepositoryFile.url("docs/events/asyncapi.json"))
        document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    func object(_ path: String...) throws -> [String: Any] {
        var node: Any = document
        for key in path { node = try #require((node as? [String: Any])?[key], "\(path)") }
        return try #require(node as? [String: Any])
    }

    @Test("the channel is Topic.executionEvents with its partitions and the execution id as key")
    func channel() throws {
        #expect(document["asyncapi"] as? String == "3.0.0")
        let channel = try object("channels", "executionEvents")
        #expect(channel["address"] as? String == Topic.executionEvents.name)
        #expect(try object("channels", "executionEvents", "bindings", "kafka")["partitions"] as? Int
            == Int(Topic.executionEvents.partitions))
        let channels = try object("channels")
        #expect(channels.count == 1, "only execution.events.v1 is public")
    }

    @Test("one message per ExecutionEventType, named by its ce_type, payload pinned to that type")
    func messages() throws {
        let messages = try object("components", "messages")
        let names = messages.values.compactMap { ($0 as? [String: Any])?["name"] as? String }
        #expect(Set(names) == Set(ExecutionEventType.allCases.map(\.rawValue)))
        #expect(names.count == ExecutionEventType.allCases.count)
        let channelMessages = try object("channels", "executionEvents", "messages")
        #expect(Set(channelMessages.keys) == Set(messages.keys))
        for case let message as [String: Any] in messages.values {
            let name = try #require(message["name"] as? String)
            let payload = try #require(message["payload"] as? [String: Any])
            let parts = try #require(payload["allOf"] as? [[String: Any]])
            let pinned = (parts.last?["properties"] as? [String: Any])?["type"] as? [String: Any]
            #expect(pinned?["const"] as? String == name)
            let key = ((message["bindings"] as? [String: Any])?["kafka"] as? [String: Any])?["key"] as? [String: Any]
            #expect(key?["format"] as? String == "uuid")
        }
    }

    @Test("the headers are the ones a CloudEvent record carries; constants agree")
    func headers() throws {
        let headers = try object("components", "schemas", "CloudEventHeaders")
        let declared = try #require(headers["properties"] as? [String: Any])
        let required = Set(try #require(headers["required"] as? [String]))
        let event = try CloudEvent(source: EventSource.planner, type: ExecutionEventType.executionStarted.rawValue,
                                   subject: UUID().uuidString.lowercased(), payload: ["a": 1])
        let sent = Set(event.headers.map(\.name))
        #expect(sent.isSubset(of: Set(declared.keys)), "undeclared: \(sent.subtracting(declared.keys))")
        #expect(required.isSubset(of: sent))
        func constant(_ name: String) -> String? { (declared[name] as? [String: Any])?["const"] as? String }
        #expect(constant("ce_source") == EventSource.planner)
        #expect(constant("ce_specversion") == CloudEvent.specVersion)
        #expect(constant("content-type") == CloudEvent.contentType)
    }

    @Test("the body schema is docs/events/execution-events.schema.json")
    func bodySchema() throws {
        let data = try Data(contentsOf: RepositoryFile.url("docs/events/execution-events.schema.json"))
        var schema = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        schema["$schema"] = nil
        schema["$id"] = nil
        let copy = try object("components", "schemas", "ExecutionEvent")
        #expect(NSDictionary(dictionary: copy).isEqual(to: schema))
    }

    @Test("every contract on the public topic: its channel, one message per ce_type, the key the document names")
    func contracts() throws {
        let published = EventContracts.all.filter { $0.topic == .executionEvents }
        #expect(Set(published.map { "\($0)" }) == ["ExecutionEvent", "PlanReadinessChanged"])
        let address = try object("channels", "executionEvents")["address"] as? String
        for contract in published { #expect(Topics.standard.name(contract.topic) == address) }
        var byName: [String: [String: Any]] = [:]
        for case let message as [String: Any] in try object("components", "messages").values {
            if let name = message["name"] as? String { byName[name] = message }
        }
        let types = published.flatMap { $0.types }
        #expect(types.count == Set(types).count)
        #expect(Set(types) == Set(byName.keys))
        func keyDescription(_ type: String) -> String? {
            let bindings = byName[type]?["bindings"] as? [String: Any]
            return ((bindings?["kafka"] as? [String: Any])?["key"] as? [String: Any])?["description"] as? String
        }
        let execution = ExecutionID.random(), plan = PlanID.random()
        for type in ExecutionEvent.types {
            let event = ExecutionEvent(
                type: try #require(ExecutionEventType(rawValue: type)), executionID: execution, executionType: .drill,
                executionStatus: .running, planID: plan, planName: "p", teamID: .named("t"), initiatedBy: "bob",
                occurredAt: Date())
            let message = try OutboxMessage(event, source: EventSource.planner, topics: .standard)
            #expect(message.key == execution.rawValue && message.event.type == type && message.topic == address)
            #expect(keyDescription(type)?.hasPrefix("The execution id") == true, "\(type)")
        }
        let changed = PlanReadinessChanged(teamID: .named("t"), planID: plan, planName: "p", verdict: .blocking,
                                           previousVerdict: nil, findings: [], occurredAt: Date())
        let message = try OutboxMessage(changed, source: EventSource.planner, topics: .standard)
        #expect(message.key == plan.rawValue && message.event.type == changed.type && message.topic == address)
        #expect(keyDescription(changed.type)?.hasPrefix("The plan id") == true)
    }
}
