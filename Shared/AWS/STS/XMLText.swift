/// Just enough XML reading for AWS Query-protocol responses: the text of the
/// first element with a given name. AWS's XML here is flat, attribute-free
/// (except `xmlns`) and never uses CDATA or prefixes, so no full parser is needed.
enum XMLText {
    /// The raw content between `<name …>` and `</name>`, or nil.
    static func element(_ name: String, in xml: Substring) -> Substring? {
        var searchStart = xml.startIndex
        while let open = xml[searchStart...].range(of: "<\(name)") {
            let afterName = open.upperBound
            guard afterName < xml.endIndex else { return nil }
            let next = xml[afterName]
            if next == ">" || next == "/" || next == " " || next == "\t" || next == "\n" || next == "\r" {
                guard let tagEnd = xml[afterName...].firstIndex(of: ">") else { return nil }
                let contentStart = xml.index(after: tagEnd)
                if xml[..<tagEnd].hasSuffix("/") { return xml[contentStart..<contentStart] }  // <name/>
                guard let close = xml[contentStart...].range(of: "</\(name)>") else { return nil }
                return xml[contentStart..<close.lowerBound]
            }
            searchStart = afterName  // a longer name sharing the prefix, e.g. <CodeX>
        }
        return nil
    }

    /// The unescaped, trimmed text of the first element `name`, or nil.
    static func text(_ name: String, in xml: Substring) -> String? {
        element(name, in: xml).map { unescape($0).trimmingWhitespace() }
    }

    /// Resolves the five predefined entities and numeric character references.
    static func unescape(_ text: Substring) -> String {
        guard text.contains("&") else { return String(text) }
        var output = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            output += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";"),
                rest.distance(from: amp, to: semicolon) <= 10
            else {
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
                if let scalar = numericReference(entity) {
                    output.unicodeScalars.append(scalar)
                } else {
                    output += "&\(entity);"
                }
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return output + rest
    }

    private static func numericReference(_ entity: Substring) -> Unicode.Scalar? {
        guard entity.hasPrefix("#") else { return nil }
        let digits = entity.dropFirst()
        let value = digits.hasPrefix("x") || digits.hasPrefix("X")
            ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10)
        return value.flatMap(Unicode.Scalar.init)
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while slice.first?.isWhitespace == true { slice.removeFirst() }
        while slice.last?.isWhitespace == true { slice.removeLast() }
        return String(slice)
    }
}
