import Foundation

/// A JSON Schema checker for the subset the planner's documents use:
/// `$ref` (local), `type` (string or list), `enum`, `properties`,
/// `required`, `additionalProperties` (false or a schema), `items`, `oneOf`,
/// `anyOf`, `not`, `const`, `format` (uuid, date-time), `minimum`/`maximum`,
/// `minItems`/`maxItems`, `uniqueItems`, `minLength`/`maxLength` (Unicode
/// scalars, as JSON Schema counts), `pattern`, `propertyNames`,
/// `minProperties`/`maxProperties`.
/// Anything else in a schema is rejected, so the subset cannot silently grow.
struct SchemaValidator {
    let document: [String: Any]

    init(url: URL) throws {
        document = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    static let supported: Set<String> = [
        "$ref", "type", "enum", "properties", "required", "additionalProperties", "items", "oneOf", "format",
        "minimum", "maximum", "minItems", "maxItems", "description", "default", "maxLength", "pattern", "title",
        "$schema", "$id", "$defs", "anyOf", "not", "const", "minLength", "uniqueItems", "propertyNames",
        "minProperties", "maxProperties", "writeOnly",
    ]

    /// Problems found validating `value` against `schema`, as `path: problem` lines.
    func validate(_ value: Any, against schema: [String: Any], path: String = "$") -> [String] {
        if let unknown = schema.keys.first(where: { !Self.supported.contains($0) }) {
            return ["\(path): schema keyword \(unknown) is not supported by the test validator"]
        }
        if let ref = schema["$ref"] as? String { return validate(value, against: resolve(ref), path: path) }
        var problems: [String] = []
        if let oneOf = schema["oneOf"] as? [[String: Any]] {
            let matches = oneOf.filter { validate(value, against: $0, path: path).isEmpty }.count
            if matches != 1 { problems.append("\(path): matches \(matches) of oneOf, expected exactly 1") }
        }
        if let anyOf = schema["anyOf"] as? [[String: Any]], !anyOf.contains(where: { validate(value, against: $0, path: path).isEmpty }) {
            problems.append("\(path): matches none of anyOf")
        }
        if let not = schema["not"] as? [String: Any], validate(value, against: not, path: path).isEmpty {
            problems.append("\(path): matches a schema it must not match")
        }
        if let constant = schema["const"], "\(constant)" != "\(value)" {
            problems.append("\(path): \(value) is not \(constant)")
        }
        if let text = value as? String {
            let length = text.unicodeScalars.count
            if let minLength = schema["minLength"] as? Int, length < minLength { problems.append("\(path): shorter than \(minLength)") }
            if let maxLength = schema["maxLength"] as? Int, length > maxLength { problems.append("\(path): longer than \(maxLength)") }
            if let pattern = schema["pattern"] as? String,
               (try? NSRegularExpression(pattern: pattern))?.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                problems.append("\(path): does not match \(pattern)")
            }
        }
        if let types = (schema["type"] as? [String]) ?? (schema["type"] as? String).map({ [$0] }),
           !types.contains(where: { Self.matches(value, $0) }) {
            return problems + ["\(path): \(Self.describe(value)) is not \(types.joined(separator: " or "))"]
        }
        if let options = schema["enum"] as? [Any], !options.contains(where: { "\($0)" == "\(value)" }) {
            problems.append("\(path): \(value) is not one of \(options)")
        }
        if let format = schema["format"] as? String, let text = value as? String {
            switch format {
            case "uuid" where UUID(uuidString: text) == nil: problems.append("\(path): \(text) is not a uuid")
            case "date-time" where (try? Date(text, strategy: .iso8601)) == nil
                && (try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))) == nil:
                problems.append("\(path): \(text) is not a date-time")
            default: break
            }
        }
        if let text = value as? String {
            let length = text.unicodeScalars.count  // JSON Schema counts code points
            if let minLength = schema["minLength"] as? Int, length < minLength { problems.append("\(path): shorter than \(minLength)") }
            if let maxLength = schema["maxLength"] as? Int, length > maxLength { problems.append("\(path): longer than \(maxLength)") }
            if let pattern = schema["pattern"] as? String {
                guard let regex = try? NSRegularExpression(pattern: pattern) else {
                    return problems + ["\(path): pattern \(pattern) does not compile"]
                }
                if regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) == nil {
                    problems.append("\(path): \(text) does not match \(pattern)")
                }
            }
        }
        if let number = value as? NSNumber, !(value is Bool) {
            if let minimum = schema["minimum"] as? Double, number.doubleValue < minimum { problems.append("\(path): below minimum") }
            if let maximum = schema["maximum"] as? Double, number.doubleValue > maximum { problems.append("\(path): above maximum") }
        }
        if let object = value as? [String: Any] {
            if let names = schema["propertyNames"] as? [String: Any] {
                for key in object.keys { problems += validate(key, against: names, path: "\(path).\(key) (name)") }
            }
            if let minimum = schema["minProperties"] as? Int, object.count < minimum { problems.append("\(path): too few properties") }
            if let maximum = schema["maxProperties"] as? Int, object.count > maximum { problems.append("\(path): too many properties") }
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                problems.append("\(path): missing required \(key)")
            }
            for (key, child) in object {
                if let property = properties[key] {
                    problems += validate(child, against: property, path: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] as? Bool, !additional {
                    problems.append("\(path): unexpected property \(key)")
                } else if let additional = schema["additionalProperties"] as? [String: Any] {
                    problems += validate(child, against: additional, path: "\(path).\(key)")
                }
            }
        }
        if let array = value as? [Any] {
            if let minItems = schema["minItems"] as? Int, array.count < minItems { problems.append("\(path): too few items") }
            if let maxItems = schema["maxItems"] as? Int, array.count > maxItems { problems.append("\(path): too many items") }
            if (schema["uniqueItems"] as? Bool) == true, Set(array.map { "\($0)" }).count != array.count {
                problems.append("\(path): items are not unique")
            }
            if let items = schema["items"] as? [String: Any] {
                for (index, child) in array.enumerated() { problems += validate(child, against: items, path: "\(path)[\(index)]") }
            }
        }
        return problems
    }

    func resolve(_ ref: String) -> [String: Any] {
        var node: Any = document
        for part in ref.dropFirst(2).split(separator: "/") {
            node = (node as! [String: Any])[String(part)]!
        }
        return node as! [String: Any]
    }

    static func matches(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "boolean": return Self.isBoolean(value)
        case "integer":
            guard let number = value as? NSNumber, !matches(value, "boolean") else { return false }
            return number.doubleValue == number.doubleValue.rounded()
        case "number": return value is NSNumber && !matches(value, "boolean")
        case "string": return value is String
        case "array": return value is [Any]
        case "object": return value is [String: Any]
        default: return false
        }
    }

    /// JSONSerialization gives booleans as NSNumber; their `objCType` is "c".
    static func isBoolean(_ value: Any) -> Bool {
        guard let number = value as? NSNumber else { return false }
        return String(cString: number.objCType) == "c"
    }

    static func describe(_ value: Any) -> String { value is NSNull ? "null" : "\(type(of: value)) \(value)" }

    // MARK: OpenAPI

    /// Validates an API response against the OpenAPI operation for
    /// `method path` and `status`; an undocumented status is a problem too.
    func validateResponse(method: String, path: String, status: Int, body: [UInt8]) -> [String] {
        let paths = document["paths"] as! [String: [String: Any]]
        guard let (_, item) = paths.first(where: { Self.template($0.key, matches: path) }) else {
            return ["\(method) \(path): not in the OpenAPI document"]
        }
        guard let operation = item[method.lowercased()] as? [String: Any],
              let responses = operation["responses"] as? [String: [String: Any]] else {
            return ["\(method) \(path): operation not documented"]
        }
        guard let response = responses["\(status)"] else {
            return ["\(method) \(path): status \(status) not documented"]
        }
        guard let content = response["content"] as? [String: [String: Any]],
              let schema = content["application/json"]?["schema"] as? [String: Any] else {
            return body.isEmpty ? [] : ["\(method) \(path) \(status): body present but none documented"]
        }
        guard let value = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else {
            return ["\(method) \(path) \(status): body is not JSON"]
        }
        return validate(value, against: schema)
    }

    static func template(_ template: String, matches path: String) -> Bool {
        let a = template.split(separator: "/"), b = path.split(separator: "?")[0].split(separator: "/")
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { $0.hasPrefix("{") || $0 == $1 }
    }
}

/// Finds files of the repository from the test's source location.
enum RepositoryFile {
    static func url(_ relative: String) -> URL {
        var directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: directory.appendingPathComponent("Services/Planner").path) {
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent(relative)
    }
}
