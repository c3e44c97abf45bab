/// A parsed XML element, just enough for AWS Query-protocol answers: elements,
/// text and the five predefined entities plus numeric references. Attributes
/// are skipped (EC2 uses only `xmlns`), as are the declaration and comments.
public struct XMLNode: Sendable, Equatable {
    /// The element's name without any prefix.
    public var name: String
    /// Its child elements, in document order.
    public var children: [XMLNode]
    /// Its text content (unescaped, untrimmed), from the text between children.
    public var text: String

    /// Creates a node.
    public init(name: String, children: [XMLNode] = [], text: String = "") {
        self.name = name
        self.children = children
        self.text = text
    }

    /// The first child named `name`.
    public func child(_ name: String) -> XMLNode? { children.first { $0.name == name } }

    /// The trimmed text of the first child named `name`, nil when absent or empty.
    public func string(_ name: String) -> String? {
        guard let value = child(name)?.trimmedText, !value.isEmpty else { return nil }
        return value
    }

    /// The `<item>` children of the child named `name` (EC2's list encoding).
    public func items(_ name: String) -> [XMLNode] { child(name)?.children.filter { $0.name == "item" } ?? [] }

    /// The text, with surrounding whitespace removed.
    public var trimmedText: String {
        var slice = Substring(text)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }

    /// The first element at or below this one named `name` (depth first).
    public func first(_ name: String) -> XMLNode? {
        if self.name == name { return self }
        for child in children { if let found = child.first(name) { return found } }
        return nil
    }

    /// Parses a document; nil when it is not well-formed enough to read.
    public static func parse(_ bytes: [UInt8]) -> XMLNode? {
        var parser = Parser(scalars: Array(String(decoding: bytes, as: UTF8.self).unicodeScalars))
        return parser.document()
    }

    /// Escapes text for an element's content.
    public static func escape(_ text: String) -> String {
        var output = ""
        for character in text {
            switch character {
            case "<": output += "&lt;"
            case ">": output += "&gt;"
            case "&": output += "&amp;"
            case "\"": output += "&quot;"
            case "'": output += "&apos;"
            default: output.append(character)
            }
        }
        return output
    }

    private struct Parser {
        var scalars: [Unicode.Scalar]
        var index = 0

        mutating func document() -> XMLNode? {
            while index < scalars.count {
                skipWhitespace()
                guard index < scalars.count, scalars[index] == "<" else { return nil }
                if peek("<?") { skip(past: "?>"); continue }
                if peek("<!--") { skip(past: "-->"); continue }
                if peek("<!") { skip(past: ">"); continue }
                return element()
            }
            return nil
        }

        mutating func element() -> XMLNode? {
            guard index < scalars.count, scalars[index] == "<" else { return nil }
            index += 1
            let rawName = readName()
            guard !rawName.isEmpty else { return nil }
            var node = XMLNode(name: Self.localName(rawName))
            // Attributes are skipped up to the end of the tag.
            var selfClosing = false
            while index < scalars.count, scalars[index] != ">" {
                if scalars[index] == "\"" || scalars[index] == "'" {
                    let quote = scalars[index]
                    index += 1
                    while index < scalars.count, scalars[index] != quote { index += 1 }
                }
                if scalars[index] == "/" { selfClosing = true }
                index += 1
            }
            guard index < scalars.count else { return nil }
            index += 1
            if selfClosing { return node }
            var text = ""
            while index < scalars.count {
                if scalars[index] == "<" {
                    if peek("</") {
                        index += 2
                        _ = readName()
                        skip(past: ">")
                        node.text = Self.unescape(text)
                        return node
                    }
                    if peek("<!--") { skip(past: "-->"); continue }
                    if peek("<![CDATA[") {
                        index += 9
                        while index < scalars.count, !peek("]]>") { text.unicodeScalars.append(scalars[index]); index += 1 }
                        index += 3
                        continue
                    }
                    guard let child = element() else { return nil }
                    node.children.append(child)
                } else {
                    text.unicodeScalars.append(scalars[index])
                    index += 1
                }
            }
            return nil
        }

        mutating func readName() -> String {
            var name = ""
            while index < scalars.count {
                let scalar = scalars[index]
                if scalar == ">" || scalar == "/" || scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" { break }
                name.unicodeScalars.append(scalar)
                index += 1
            }
            return name
        }

        func peek(_ literal: String) -> Bool {
            var position = index
            for scalar in literal.unicodeScalars {
                guard position < scalars.count, scalars[position] == scalar else { return false }
                position += 1
            }
            return true
        }

        mutating func skip(past literal: String) {
            while index < scalars.count, !peek(literal) { index += 1 }
            index = min(scalars.count, index + literal.unicodeScalars.count)
        }

        mutating func skipWhitespace() {
            while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
        }

        static func localName(_ raw: String) -> String {
            raw.split(separator: ":").last.map(String.init) ?? raw
        }

        static func unescape(_ text: String) -> String {
            guard text.contains("&") else { return text }
            var output = ""
            var rest = Substring(text)
            while let amp = rest.firstIndex(of: "&") {
                output += rest[..<amp]
                guard let semicolon = rest[amp...].firstIndex(of: ";"), rest.distance(from: amp, to: semicolon) <= 10 else {
                    output += "&"
                    rest = rest[rest.index(after: amp)...]
                    continue
                }
                let entity = rest[rest.index(after: amp)..<semicolon]
                switch entity {
                case "lt": output += "<"
                case "gt": output += ">"
                case "amp": output += "&"
                case "quot": output += "\""
                case "apos": output += "'"
                default:
                    let digits = entity.dropFirst()
                    let value = entity.hasPrefix("#x") ? UInt32(digits.dropFirst(), radix: 16)
                        : entity.hasPrefix("#") ? UInt32(digits, radix: 10) : nil
                    if let scalar = value.flatMap(Unicode.Scalar.init) { output.unicodeScalars.append(scalar) } else {
                        output += "&\(entity);"
                    }
                }
                rest = rest[rest.index(after: semicolon)...]
            }
            return output + rest
        }
    }
}
