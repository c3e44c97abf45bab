import Foundation
import MusterPostgres

/// The hostile-input property over an OpenAPI document (issue 11), shared by
/// the planner's and the notifier's tests: every string field of every request
/// body the document describes — nested objects, array items and map values
/// included — and generators of values that break the text rule: control
/// characters, lone UTF-16 surrogate escapes, over-long values.
public enum HostileInput {
    /// One documented string field of one request body.
    public struct Field: CustomStringConvertible, Sendable {
        /// `POST`, `PATCH`, …
        public var method: String
        /// The documented path, placeholders included (`/v1/plans/{id}`).
        public var path: String
        /// JSONBody's spelling: `waves[0].protectionGroupIds[0]`, `tagSelector.k`.
        public var field: String
        /// The document's `maxLength`, if it states one.
        public var maxLength: Int?
        public var description: String { "\(method) \(path) \(field)" }
    }

    /// The repository file at `relative` (found from this source file's location).
    public static func repositoryFile(_ relative: String) -> URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Services").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent(relative)
    }

    /// Every string field of every JSON request body in the OpenAPI document at `document` (repository-relative).
    public static func documentedFields(_ document: String) throws -> [Field] {
        let data = try Data(contentsOf: repositoryFile(document))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [] }
        let schemas = (root["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        func resolve(_ schema: [String: Any]) -> [String: Any] {
            guard let ref = schema["$ref"] as? String else { return schema }
            return resolve(schemas[String(ref.split(separator: "/").last!)] as? [String: Any] ?? [:])
        }
        /// `"string"`, or `["string", "null"]`: the non-null type.
        func type(of schema: [String: Any]) -> String? {
            if let single = schema["type"] as? String { return single }
            return (schema["type"] as? [String])?.first { $0 != "null" }
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
            switch type(of: schema) {
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
        for (path, operations) in (root["paths"] as? [String: Any] ?? [:]).sorted(by: { $0.key < $1.key }) {
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
    public static func body(_ field: String, _ value: Any) -> Any {
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

    /// `body` with `value` at `field` (`a[0].b`), replacing what was there.
    public static func merge(_ body: Any, _ field: String, _ value: Any) -> Any {
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

    /// The 65 control characters (Unicode Cc: U+0000–U+001F, U+007F–U+009F).
    public static let controls = (0x00..<0x20).map { Unicode.Scalar($0)! } + (0x7F...0x9F).map { Unicode.Scalar($0)! }

    static let printable = Array("abcXYZ019-_./:@ é✓")

    static func filler(using generator: inout some RandomNumberGenerator) -> String {
        String((0..<Int.random(in: 0...12, using: &generator)).map { _ in printable.randomElement(using: &generator)! })
    }

    /// `count` hostile values: random printable text around one control
    /// character, the characters taken in turn from `start` so that every
    /// one is used.
    public static func hostile(count: Int, start: Int, using generator: inout some RandomNumberGenerator) -> [String] {
        (0..<count).map { index in
            let control = Character(controls[(start + index) % controls.count])
            return filler(using: &generator) + String(control) + filler(using: &generator)
        }
    }

    /// `value` with its control characters spelled `U+…`, for a test message.
    public static func shown(_ value: String) -> String {
        value.unicodeScalars.map { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) ? "U+\(String($0.value, radix: 16))" : String($0) }
            .joined()
    }

    /// The kinds of lone surrogate escape, taken in turn.
    public static let surrogateEscapes = [
        #"\ud800"#,          // the first high surrogate, alone
        #"\udbff"#,          // the last high surrogate, alone
        #"\udc00"#,          // the first low surrogate, alone
        #"\uDFFF"#,          // the last low surrogate, upper-case hex
        #"\udc00\ud800"#,    // a pair in the wrong order
        #"\ud800\u0041"#,    // a high surrogate followed by an escape that is no low surrogate
        #"\ud83d\ud83d"#,    // two high surrogates
    ]

    /// A stand-in the JSON serialiser writes as is (a private-use character), replaced by the escape afterwards.
    static let marker = "\u{E000}"

    /// `count` raw JSON bodies holding, at `field`, random printable text
    /// around a lone surrogate escape (the kinds from `start` in turn; every
    /// fourth one a random code unit of U+D800–U+DFFF), inside `base` (or an
    /// otherwise empty body). JSON text, since no string can hold a lone surrogate.
    public static func loneSurrogateBodies(
        field: String, base: Any? = nil, count: Int, start: Int, using generator: inout some RandomNumberGenerator
    ) throws -> [[UInt8]] {
        try (0..<count).map { index in
            let escape = (start + index) % 4 == 3
                ? "\\u" + String(UInt16.random(in: 0xD800...0xDFFF, using: &generator), radix: 16)
                : surrogateEscapes[(start + index) % surrogateEscapes.count]
            let value = filler(using: &generator) + marker + filler(using: &generator)
            let json = base.map { merge($0, field, value) } ?? body(field, value)
            let text = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
            precondition(text.components(separatedBy: marker).count == 2, "the marker appears once")
            return Array(text.replacingOccurrences(of: marker, with: escape).utf8)
        }
    }

    /// What is wrong with `reply` as the refusal of a hostile `field`: nil
    /// when it is a 422 naming exactly `field` with `rule`.
    public static func refusal(_ reply: JSONReply, field: String, rule: String) -> String? {
        let named = reply.error["field"] as? String, broken = reply.error["rule"] as? String
        guard reply.status == 422, named == field, broken == rule else {
            return "expected 422 naming \(field) (\(rule)), got \(reply.status): \(reply.text)"
        }
        return nil
    }

    /// The property's run: for each of `fields`, `controlsPerField` bodies
    /// holding a control character (the 65 in turn across fields) and four
    /// holding a lone surrogate escape, sent with `send`; each must be a 422
    /// naming the field (rules `controlCharacters`, `unicode`). Returns how
    /// many of each were sent and what went wrong, one line per bad reply.
    public static func sendHostileBodies(
        _ fields: [Field], controlsPerField: Int, using generator: inout some RandomNumberGenerator,
        send: (Field, [UInt8]) async throws -> JSONReply
    ) async throws -> (controls: Int, surrogates: Int, problems: [String]) {
        var controls = 0, surrogates = 0, problems: [String] = []
        for (number, field) in fields.enumerated() {
            let values = hostile(count: controlsPerField, start: number * controlsPerField, using: &generator)
            for value in values {
                let bytes = Array(try JSONSerialization.data(withJSONObject: Self.body(field.field, value)))
                if let problem = refusal(try await send(field, bytes), field: field.field, rule: "controlCharacters") {
                    problems.append("\(field) with \(shown(value)): \(problem)")
                }
                controls += 1
            }
            for body in try loneSurrogateBodies(field: field.field, count: 4, start: number * 4, using: &generator) {
                if let problem = refusal(try await send(field, body), field: field.field, rule: "unicode") {
                    problems.append("\(field) with \(String(decoding: body, as: UTF8.self)): \(problem)")
                }
                surrogates += 1
            }
        }
        return (controls, surrogates, problems)
    }

    /// Rows per table of `schema`: compared before and after to show nothing was stored.
    public static func rowCounts(_ pool: PostgresPool, schema: String) async throws -> [String: Int] {
        let tables = try await pool.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
            [schema]
        ).rows.map { try $0.decode(String.self, "table_name") }
        var counts: [String: Int] = [:]
        for table in tables {
            counts[table] = try await pool.query("SELECT count(*) AS n FROM \(schema).\"\(table)\"").rows[0]
                .decode(Int.self, "n")
        }
        return counts
    }
}
