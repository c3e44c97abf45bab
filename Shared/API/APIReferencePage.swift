import Foundation

/// The readable reference page of an ``APIDocument`` (`GET /docs`): every
/// operation with its parameters, body and answers, then every schema with
/// each property's type, whether it is required and its constraints
/// (lengths, pattern, enum, range). Rendered once at start-up from the same
/// bytes as `/openapi.json`, self-contained (no scripts, no external assets),
/// every value HTML-escaped.
public enum APIReferencePage {
    /// The page for `document`.
    public static func render(_ document: APIDocument) -> String {
        let root = (try? JSONSerialization.jsonObject(with: Data(document.bytes))) as? [String: Any] ?? [:]
        let info = root["info"] as? [String: Any] ?? [:]
        let paths = root["paths"] as? [String: Any] ?? [:]
        let schemas = (root["components"] as? [String: Any])?["schemas"] as? [String: Any] ?? [:]
        var html = """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>\(escape(document.title))</title>
            <style>
            body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;line-height:1.4}
            code,.path{font-family:ui-monospace,monospace}table{border-collapse:collapse;margin:.5rem 0}
            td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left;vertical-align:top}
            .method{font-weight:bold;text-transform:uppercase}section{margin-bottom:1.5rem}
            </style></head><body>
            <h1>\(escape(document.title)) \(escape(info["version"] as? String ?? ""))</h1>
            <p>\(escape(info["description"] as? String ?? ""))</p>
            <p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI \(escape(root["openapi"] as? String ?? ""))).
            Methods not listed for a path are answered 405 with <code>Allow</code>.</p>
            <h2>Operations</h2>

            """
        for item in document.paths {
            let pathItem = paths[item.template] as? [String: Any] ?? [:]
            let shared = pathItem["parameters"] as? [Any] ?? []
            for method in item.methods {
                let operation = pathItem[method.lowercased()] as? [String: Any] ?? [:]
                let anchor = escape("\(method)-\(item.template)")
                html += "<section id=\"\(anchor)\"><h3><span class=\"method\">\(escape(method))</span> "
                html += "<span class=\"path\">\(escape(item.template))</span></h3>\n"
                html += "<p>\(escape(operation["summary"] as? String ?? ""))</p>\n"
                if let description = operation["description"] as? String { html += "<p>\(escape(description))</p>\n" }
                let parameters = shared + (operation["parameters"] as? [Any] ?? [])
                if !parameters.isEmpty {
                    html += "<table><tr><th>Parameter</th><th>In</th><th>Required</th><th>Type and rules</th></tr>\n"
                    for case let parameter as [String: Any] in parameters {
                        let schema = parameter["schema"] as? [String: Any] ?? [:]
                        html += "<tr><td><code>\(escape(parameter["name"] as? String ?? ""))</code></td>"
                        html += "<td>\(escape(parameter["in"] as? String ?? ""))</td>"
                        html += "<td>\((parameter["required"] as? Bool) == true ? "yes" : "no")</td>"
                        html += "<td>\(describe(schema))</td></tr>\n"
                    }
                    html += "</table>\n"
                }
                if let body = operation["requestBody"] as? [String: Any] {
                    let schema = ((body["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"]
                    html += "<p>Body (JSON\((body["required"] as? Bool) == true ? ", required" : "")): "
                    html += "\(describe(schema as? [String: Any] ?? [:]))</p>\n"
                }
                let responses = operation["responses"] as? [String: Any] ?? [:]
                html += "<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>\n"
                for status in responses.keys.sorted() {
                    let response = responses[status] as? [String: Any] ?? [:]
                    let content = response["content"] as? [String: Any] ?? [:]
                    let body = content.keys.sorted().map { type in
                        "\(escape(type)) \(describe((content[type] as? [String: Any])?["schema"] as? [String: Any] ?? [:]))"
                    }.joined(separator: "<br>")
                    html += "<tr><td>\(escape(status))</td><td>\(escape(response["description"] as? String ?? ""))</td>"
                    html += "<td>\(body)</td></tr>\n"
                }
                html += "</table></section>\n"
            }
        }
        html += "<h2>Schemas</h2>\n"
        for name in schemas.keys.sorted() {
            let schema = schemas[name] as? [String: Any] ?? [:]
            html += "<section id=\"schema-\(escape(name))\"><h3>\(escape(name))</h3>\n"
            if let description = schema["description"] as? String { html += "<p>\(escape(description))</p>\n" }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            let required = Set(schema["required"] as? [String] ?? [])
            if properties.isEmpty {
                html += "<p>\(describe(schema))</p>\n"
            } else {
                html += "<table><tr><th>Field</th><th>Required</th><th>Type and rules</th><th>Description</th></tr>\n"
                for property in properties.keys.sorted() {
                    let value = properties[property] as? [String: Any] ?? [:]
                    html += "<tr><td><code>\(escape(property))</code></td><td>\(required.contains(property) ? "yes" : "no")</td>"
                    html += "<td>\(describe(value))</td><td>\(escape(value["description"] as? String ?? ""))</td></tr>\n"
                }
                html += "</table>\n"
            }
            html += "</section>\n"
        }
        return html + "</body></html>\n"
    }

    /// A schema in a few words: its type or the schema it refers to, then its rules.
    static func describe(_ schema: [String: Any]) -> String {
        if let reference = schema["$ref"] as? String {
            let name = reference.split(separator: "/").last.map(String.init) ?? reference
            return "<a href=\"#schema-\(escape(name))\">\(escape(name))</a>"
        }
        var parts: [String] = []
        if let alternatives = (schema["oneOf"] ?? schema["anyOf"]) as? [[String: Any]] {
            parts.append("one of: " + alternatives.map(describe).joined(separator: " | "))
        }
        if let type = schema["type"] {
            let types = (type as? [String]) ?? [type as? String ?? ""]
            parts.append(escape(types.joined(separator: " or ")))
        }
        if let items = schema["items"] as? [String: Any] { parts.append("of " + describe(items)) }
        if let format = schema["format"] as? String { parts.append("format " + escape(format)) }
        let rules: [(String, String)] = [
            ("minLength", "at least %@ characters"), ("maxLength", "at most %@ characters"),
            ("minimum", "≥ %@"), ("maximum", "≤ %@"), ("minItems", "at least %@ items"), ("maxItems", "at most %@ items"),
            ("default", "default %@"),
        ]
        for (key, wording) in rules {
            if let value = schema[key] { parts.append(wording.replacingOccurrences(of: "%@", with: escape("\(value)"))) }
        }
        if (schema["uniqueItems"] as? Bool) == true { parts.append("no duplicates") }
        if let pattern = schema["pattern"] as? String { parts.append("pattern <code>\(escape(pattern))</code>") }
        if let values = schema["enum"] as? [Any] {
            parts.append("one of " + values.map { "<code>\(escape("\($0)"))</code>" }.joined(separator: ", "))
        }
        if let value = schema["const"] { parts.append("exactly <code>\(escape("\(value)"))</code>") }
        return parts.isEmpty ? "any" : parts.joined(separator: "; ")
    }

    /// `text` safe inside HTML text and attribute values.
    static func escape(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&#39;"
            default: result.append(character)
            }
        }
        return result
    }
}
