import Foundation
import TestSupport
import Testing

/// The planner's hostile-input property, over the notifier's OpenAPI document
/// (issue 11; the fields and generators are shared: `TestSupport.HostileInput`):
/// for every string field of every request body it describes, a control
/// character (all 65 in turn), a lone UTF-16 surrogate escape, and a value
/// over the documented `maxLength` each get a 4xx naming exactly that field,
/// and nothing is stored.
@Suite("Notifier: hostile strings in every documented field")
struct NotifierHostileInputPropertyTests {
    static let document = "Services/Notifier/App/API/openapi.json"

    static func documentedFields() throws -> [HostileInput.Field] { try HostileInput.documentedFields(document) }

    /// The documented path with its placeholder filled: a subscription that does not exist (the body is
    /// refused before the subscription is looked up).
    static func path(_ field: HostileInput.Field) -> String {
        field.path.replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
    }

    @Test func theDocumentDescribesTheBodies() throws {
        let fields = try Self.documentedFields().map(\.description)
        for expected in ["POST /v1/subscriptions url", "POST /v1/subscriptions secret", "POST /v1/subscriptions description",
                         "POST /v1/subscriptions eventTypes[0]", "PATCH /v1/subscriptions/{id} url",
                         "PATCH /v1/subscriptions/{id} description"] {
            #expect(fields.contains(expected), "\(expected) in \(fields)")
        }
    }

    @Test func everyControlCharacterAndLoneSurrogateInEveryDocumentedStringFieldIsA422NamingItAndStoresNothing()
        async throws
    {
        let fields = try Self.documentedFields()
        var generator = SystemRandomNumberGenerator()
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let before = try await HostileInput.rowCounts(app.pool, schema: app.schema)
            // Enough values per field that each of the 65 control characters is used at least once.
            let perField = (HostileInput.controls.count + fields.count - 1) / fields.count + 2
            let (controls, surrogates, problems) = try await HostileInput.sendHostileBodies(
                fields, controlsPerField: perField, using: &generator
            ) { field, body in
                try await app.call(field.method, Self.path(field), token: team.operator, raw: body)
            }
            #expect(problems.isEmpty, "\(problems.count) bad replies: \(problems.prefix(10))")
            print("[figure] notifier: \(controls) control-character and \(surrogates) lone-surrogate bodies over \(fields.count) documented string fields")
            #expect(controls >= HostileInput.controls.count)
            #expect(surrogates >= HostileInput.surrogateEscapes.count)
            #expect(try await HostileInput.rowCounts(app.pool, schema: app.schema) == before, "nothing was stored")
        }
    }

    /// A value of `field` longer than `maxLength` by `extra`, made of characters its pattern accepts.
    static func overLong(_ field: String, maxLength: Int, extra: Int) -> String {
        let prefix = field == "url" ? "https://hooks.example/" : ""
        return prefix + String(repeating: "x", count: maxLength + extra - prefix.count)
    }

    @Test func everyDocumentedMaxLengthIsEnforcedNamingTheFieldAndStoresNothing() async throws {
        let fields = try Self.documentedFields().filter { $0.maxLength != nil }
        #expect(fields.count >= 6, "url, secret and description, on create and update")
        var generator = SystemRandomNumberGenerator()
        try await NotifierTestApp.with { app in
            let team = try await app.team()
            let before = try await HostileInput.rowCounts(app.pool, schema: app.schema)
            var checked = 0
            for field in fields {
                guard let maxLength = field.maxLength else { continue }
                // Create needs a valid url beside the over-long field; update changes only the fields present.
                let base: [String: Any] = field.method == "POST" ? ["url": "https://hooks.example/muster", "eventTypes": ["*"]] : [:]
                for extra in [1, Int.random(in: 2...300, using: &generator)] {
                    let value = Self.overLong(field.field, maxLength: maxLength, extra: extra)
                    #expect(value.count == maxLength + extra)
                    let reply = try await app.call(field.method, Self.path(field), token: team.operator,
                                                   json: HostileInput.merge(base, field.field, value))
                    #expect((400..<500).contains(reply.status) && reply.status != 404, "\(field) \(value.count) characters: \(reply.text)")
                    #expect(reply.error["field"] as? String == field.field, "\(field) \(value.count) characters")
                    checked += 1
                }
            }
            print("[figure] notifier: \(checked) over-long values over \(fields.count) documented maxLength fields")
            #expect(checked >= 12)
            #expect(try await HostileInput.rowCounts(app.pool, schema: app.schema) == before, "nothing was stored")
        }
    }
}
