import Foundation
import MusterEvents
import Testing

/// deploy/kafka/acls.txt and deploy/kubernetes/kafka-users.yaml grant the
/// same rights, and every Muster topic is covered.
@Suite("Kafka ACLs")
struct KafkaACLTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    struct Grant: Hashable { var user, operation, type, pattern, name: String }

    static func plainList() throws -> Set<Grant> {
        let text = try String(contentsOf: root.appending(path: "deploy/kafka/acls.txt"), encoding: .utf8)
        return Set(text.split(separator: "\n").compactMap { line -> Grant? in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard fields.count == 5, !fields[0].hasPrefix("#") else { return nil }
            return Grant(user: String(fields[0].dropFirst("User:".count)), operation: fields[1], type: fields[2],
                         pattern: fields[3], name: fields[4])
        })
    }

    /// A reader for the fixed shape of kafka-users.yaml (no YAML library in this target).
    static func strimzi() throws -> Set<Grant> {
        let text = try String(contentsOf: root.appending(path: "deploy/kubernetes/kafka-users.yaml"), encoding: .utf8)
        var grants = Set<Grant>()
        var user = "", type = "", name = "", pattern = ""
        for raw in text.split(separator: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            func value(_ key: String) -> String? {
                line.hasPrefix(key) ? String(line.dropFirst(key.count)).trimmingCharacters(in: .whitespaces) : nil
            }
            if let v = value("name:"), raw.hasPrefix("  name:") { user = v }
            else if let v = value("type:"), raw.hasPrefix("          type:") { type = v; name = "kafka-cluster"; pattern = "literal" }
            else if let v = value("name:") { name = v }
            else if let v = value("patternType:") { pattern = v }
            else if let v = value("operations:") {
                for operation in v.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",") {
                    grants.insert(Grant(user: user, operation: operation.trimmingCharacters(in: .whitespaces),
                                        type: type, pattern: pattern, name: name))
                }
            }
        }
        return grants
    }

    @Test func bothFormsGrantTheSameRights() throws {
        let plain = try Self.plainList()
        #expect(!plain.isEmpty)
        #expect(try Self.strimzi() == plain)
    }

    @Test func everyTopicIsWrittenByExactlyItsProducersAndReadBySomeone() throws {
        let plain = try Self.plainList()
        for topic in Topic.allCases {
            let writers = Set(plain.filter { $0.name == topic.name && $0.operation == "Write" }.map(\.user))
            let readers = Set(plain.filter { $0.name == topic.name && $0.operation == "Read" }.map(\.user))
            #expect(!writers.isEmpty, "\(topic.name) has a producer")
            #expect(!readers.isEmpty, "\(topic.name) has a consumer")
        }
        // Forged execution events were the reason for ACLs: only the planner writes them.
        #expect(Set(plain.filter { $0.name == Topic.executionEvents.name && $0.operation == "Write" }.map(\.user))
                == ["muster-planner"])
        #expect(Set(plain.filter { $0.name == Topic.teams.name && $0.operation == "Write" }.map(\.user))
                == ["muster-planner"])
    }
}
