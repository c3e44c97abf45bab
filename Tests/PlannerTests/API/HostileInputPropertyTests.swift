import Foundation
import MusterDomain
import TestSupport
import Testing

/// A property over the planner's OpenAPI document (issue 11): for every
/// string field of every request body it describes — nested objects, array
/// items and map values included — a value holding a control character
/// (generated: random printable text around one of U+0000–U+001F,
/// U+007F–U+009F; the 65 characters taken in turn, so each is used several
/// times over a run) gets a 422 naming exactly that field with rule
/// `controlCharacters`, and nothing is stored.
@Suite("Planner: hostile strings in every documented field")
struct HostileInputPropertyTests {
    /// One documented string field of one request body.
    struct Field: CustomStringConvertible, Sendable {
        var method: String
        var path: String
        /// JSONBody's spelling: `waves[0].protectionGroupIds[0]`, `tagSelector.k`.
        var field: String
        /// The document's `maxLength`, if it states one.
        var maxLength: Int?
        var description: String { "\(method) \(path) \(field)" }
    }

    /// Every string field of every request body in `Services/Planner/App/API/openapi.json`.
    static func documentedFields() throws -> [Field] {
        let data = try Data(contentsOf: RepositoryFile.url("Services/Planner/App/API/openapi.json"))
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let schemas = (document["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        func resolve(_ schema: [String: Any]) -> [String: Any] {
            guard let ref = schema["$ref"] as? String else { return schema }
            return resolve(schemas[String(ref.split(separator: "/").last!)] as? [String: Any] ?? [:])
        }
        func strings(_ raw: [String: Any], _ path: String) -> [(String, Int?)] {
            // Unknown fields (`PlainJSON`, any JSON, recursive) are no documented field.
            if (raw["$ref"] as? String)?.hasSuffix("/PlainJSON") == true { return [] }
            let schema = resolve(raw)
            var found: [(String, Int?)] = []
            for key in ["oneOf", "anyOf", "allOf"] {
                for option in schema[key] as? [[String: Any]] ?? [] { found += strings(option, path) }
            }
            func child(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
            switch schema["type"] as? String {
            case "string": found.append((path, schema["maxLength"] as? Int))
            case "array": found += strings(schema["items"] as? [String: Any] ?? [:], path + "[0]")
            default:
                for (name, property) in schema["properties"] as? [String: Any] ?? [:] {
                    found += strings(property as? [String: Any] ?? [:], child(name))
                }
                if let values = schema["additionalProperties"] as? [String: Any] { found += strings(values, child("k")) }
            }
            return found
        }
        var fields: [Field] = []
        for (path, operations) in (document["paths"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (method, operation) in (operations as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
                guard let body = (operation as? [String: Any])?["requestBody"] as? [String: Any],
                      let schema = ((body["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
                        as? [String: Any] else { continue }
                var seen = Set<String>()
                for (field, maxLength) in strings(schema, "").sorted(by: { $0.0 < $1.0 }) where seen.insert(field).inserted {
                    fields.append(Field(method: method.uppercased(), path: path, field: field, maxLength: maxLength))
                }
            }
        }
        return fields
    }

    /// The JSON body holding only `value` at `field` (`a[0].b` → `{"a":[{"b":value}]}`).
    static func body(_ field: String, _ value: Any) -> Any {
        var parts: [String] = []
        for segment in field.split(separator: ".") {
            var name = Substring(segment)
            var indexes = 0
            while name.hasSuffix("[0]") { name = name.dropLast(3); indexes += 1 }
            parts.append(String(name))
            parts += Array(repeating: "[0]", count: indexes)
        }
        var result = value
        for part in parts.reversed() { result = part == "[0]" ? [result] : [part: result] }
        return result
    }

    static let controls = (0x00..<0x20).map { Unicode.Scalar($0)! } + (0x7F...0x9F).map { Unicode.Scalar($0)! }

    /// `count` hostile values: random printable text around one control
    /// character, the characters taken in turn from `start` so that every
    /// one is used.
    static func hostile(count: Int, start: Int, using generator: inout some RandomNumberGenerator) -> [String] {
        let printable = Array("abcXYZ019-_./:@ é✓")
        return (0..<count).map { index in
            let control = Character(controls[(start + index) % controls.count])
            let before = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in printable.randomElement(using: &generator)! })
            let after = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in printable.randomElement(using: &generator)! })
            return before + String(control) + after
        }
    }

    @Test func theDocumentDescribesTheBodies() throws {
        let fields = try Self.documentedFields()
        #expect(fields.count > 40, "every body's string fields are found")
        #expect(fields.contains { $0.path == "/v1/plans" && $0.field == "waves[0].protectionGroupIds[0]" })
        #expect(fields.contains { $0.path == "/v1/protection-groups" && $0.field == "tagSelector.k" })
        #expect(Self.body("waves[0].protectionGroupIds[0]", "x") as? [String: [[String: [String]]]]
            == ["waves": [["protectionGroupIds": ["x"]]]])
    }

    @Test func everyControlCharacterInEveryDocumentedStringFieldIsA422NamingItAndStoresNothing() async throws {
        let fields = try Self.documentedFields()
        var generator = SystemRandomNumberGenerator()
        try await PlannerTestApp.with { app in
            let team = try await app.team()
            let before = try await rowCounts(app)
            var checked = 0
            for (number, field) in fields.enumerated() {
                let path = field.path.replacingOccurrences(of: "{teamId}", with: team.id)
                    .replacingOccurrences(of: "{id}", with: UUID().uuidString.lowercased())
                let token = field.path.hasPrefix("/v1/teams") ? PlannerTestApp.adminToken : team.admin
                // Eight values per field, the control characters in turn: all 65 are used every ~8 fields.
                for value in Self.hostile(count: 8, start: number * 8, using: &generator) {
                    let reply = try await app.call(field.method, path, token: token, json: Self.body(field.field, value))
                    let shown = value.unicodeScalars.map { TextRule.isControl($0) ? "U+\(String($0.value, radix: 16))" : String($0) }
                        .joined()
                    #expect(reply.status == 422, "\(field) with \(shown)")
                    #expect(reply.error["field"] as? String == field.field, "\(field) with \(shown)")
                    #expect(reply.error["rule"] as? String == "controlCharacters", "\(field) with \(shown)")
                    checked += 1
                }
            }
            print("[figure] \(checked) hostile bodies over \(fields.count) documented string fields")
            #expect(checked >= Self.controls.count)
            #expect(try await rowCounts(app) == before, "nothing was stored")
        }
    }

    /// A valid body for each create route, to carry one over-long field.
    static func validBody(_ route: String, field: String, group: String) -> [String: Any]? {
        switch route {
        case "POST /v1/teams": return ["name": "t"]
        case "POST /v1/teams/{teamId}/tokens": return ["name": "n", "subject": "s", "role": "viewer"]
        case "POST /v1/accounts":
            let credentials: [String: Any] = field.hasPrefix("credentials.roleArn") || field.hasPrefix("credentials.externalId")
                ? ["type": "ASSUME_ROLE", "roleArn": "arn:aws:iam::123456789012:role/Muster"]
                : ["type": "KEY_PAIR", "keyPairName": "keys"]
            return ["awsAccountId": "123456789012", "name": "a", "regions": ["us-east-1"], "credentials": credentials]
        case "POST /v1/protection-groups":
            return field.hasPrefix("sourceServerIds") ? ["name": "g", "region": "us-east-1", "sourceServerIds": ["s-1"]]
                : ["name": "g", "region": "us-east-1", "tagSelector": ["env": "x"]]
        case "POST /v1/plans":
            var wave: [String: Any] = ["name": "w", "protectionGroupIds": [group]]
            // A hook step's own fields need a valid step around them (name and kind first).
            for phase in ["before", "after"] where field.hasPrefix("waves[0].\(phase)[0].") {
                wave[phase] = [field.contains(".ssm.")
                    ? ["name": "s1", "kind": "SSM_AUTOMATION", "ssm": ["documentName": "AWS-RunShellScript"]]
                    : field.contains(".callout.")
                        ? ["name": "s1", "kind": "HTTP_CALLOUT",
                           "callout": ["url": "https://hooks.example/dr", "subscriptionId": UUID().uuidString]]
                        : ["name": "s1", "kind": "APPROVAL"]]
            }
            return ["name": "p", "waves": [wave]]
        default: return nil
        }
    }

    /// `body` with `value` at `field` (`a[0].b`), replacing what was there.
    static func merge(_ body: Any, _ field: String, _ value: Any) -> Any {
        let patch = Self.body(field, value)
        func merged(_ base: Any, _ patch: Any) -> Any {
            switch (base, patch) {
            case (let base as [String: Any], let patch as [String: Any]):
                return base.merging(patch) { old, new in merged(old, new) }
            case (let base as [Any], let patch as [Any]) where !base.isEmpty:
                return [merged(base[0], patch[0])] + base.dropFirst()
            default:
                return patch
            }
        }
        return merged(body, patch)
    }

    @Test func everyDocumentedMaxLengthIsEnforcedNamingTheFieldAndStoresNothing() async throws {
        let fields = try Self.documentedFields().filter { $0.maxLength != nil && $0.method == "POST" }
        #expect(fields.count >= 10, "the document states the limits the code enforces")
        var generator = SystemRandomNumberGenerator()
        try await PlannerTestApp.with { app in
            let team = try await app.team()
            try await app.account(team, awsAccountID: PlannerTestApp.awsAccountID(), servers: [])
            let group = try #require(try await app.call("POST", "/v1/protection-groups", token: team.operator,
                json: ["name": "g", "region": "us-east-1", "tagSelector": ["tier": "db"]])["id"] as? String)
            let before = try await rowCounts(app)
            var checked = 0
            for field in fields {
                let route = "\(field.method) \(field.path)"
                guard let base = Self.validBody(route, field: field.field, group: group), let maxLength = field.maxLength
                else { continue }
                let path = field.path.replacingOccurrences(of: "{teamId}", with: team.id)
                let token = field.path.hasPrefix("/v1/teams") ? PlannerTestApp.adminToken : team.admin
                // Over the limit by 1 and by a random amount, made of characters the field's pattern would accept.
                let filler: Character = field.field.hasPrefix("regions") ? "a" : field.field.hasPrefix("sourceServerIds") ? "9" : "x"
                let prefix = field.field.hasPrefix("sourceServerIds") ? "s-" : field.field.hasPrefix("regions") ? "us-" : ""
                for extra in [1, Int.random(in: 2...300, using: &generator)] {
                    var value = prefix + String(repeating: filler, count: maxLength + extra - prefix.count)
                    if field.field.hasPrefix("regions") { value = String(value.dropLast(2)) + "-1" }
                    if field.field == "credentials.roleArn" {
                        value = "arn:aws:iam::123456789012:role/" + String(repeating: "x", count: maxLength + extra - 31)
                    }
                    #expect(value.count == maxLength + extra)
                    let reply = try await app.call("POST", path, token: token, json: Self.merge(base, field.field, value))
                    #expect(reply.status == 422, "\(field) \(value.count) characters")
                    #expect(reply.error["field"] as? String == field.field, "\(field) \(value.count) characters")
                    checked += 1
                }
            }
            print("[figure] \(checked) over-long values over \(fields.count) documented maxLength fields")
            #expect(checked >= 20)
            #expect(try await rowCounts(app) == before, "nothing was stored")
        }
    }

    /// Rows per table of the app's schema.
    func rowCounts(_ app: PlannerTestApp) async throws -> [String: Int] {
        let tables = try await app.pool.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
            [app.schema]
        ).rows.map { try $0.decode(String.self, "table_name") }
        var counts: [String: Int] = [:]
        for table in tables {
            counts[table] = try await app.pool.query("SELECT count(*) AS n FROM \(app.schema).\"\(table)\"").rows[0]
                .decode(Int.self, "n")
        }
        return counts
    }
}
