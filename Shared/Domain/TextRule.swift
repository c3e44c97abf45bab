/// The one rule for every user-supplied string (names, descriptions, tag keys
/// and values, subjects, URLs) and every string a consumer stores: no
/// control characters (Unicode category Cc: U+0000–U+001F, U+007F–U+009F),
/// which PostgreSQL `text` (NUL) or a log line (newlines, escapes) cannot
/// hold, and at most `maxLength` characters. APIs answer a violation with a
/// 422 naming the field; a consumer treats it as an unprocessable event.
public enum TextRule {
    /// Why a string breaks the rule.
    public enum Violation: Sendable, Equatable, CustomStringConvertible {
        /// A control character at this (0-based) character position.
        case controlCharacter(position: Int)
        /// Longer than this many characters.
        case tooLong(maxLength: Int)

        /// The rule name used in 422 bodies: `controlCharacters` or `maxLength`.
        public var rule: String {
            switch self {
            case .controlCharacter: "controlCharacters"
            case .tooLong: "maxLength"
            }
        }

        /// What is wrong and how to fix it.
        public var description: String {
            switch self {
            case .controlCharacter(let position):
                "must not contain control characters (found one at character \(position)); remove it"
            case .tooLong(let maxLength): "must be at most \(maxLength) characters"
            }
        }
    }

    /// The first violation of `value`, or nil when it is acceptable.
    public static func check(_ value: String, maxLength: Int) -> Violation? {
        var position = 0
        for character in value {
            if character.unicodeScalars.contains(where: isControl) {
                return .controlCharacter(position: position)
            }
            position += 1
            if position > maxLength { return .tooLong(maxLength: maxLength) }
        }
        return nil
    }

    /// Whether `scalar` is a control character (category Cc).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// `value` made safe to show in one line of a terminal, a log or a page:
    /// every control character is replaced by a visible stand-in (U+0000–
    /// U+001F by its Control Picture, ␀ … ␟; U+007F by ␡; U+0080–U+009F by
    /// U+FFFD). Used where free text that came from outside (a DRS failure
    /// message kept as-is by a consumer) is rendered.
    public static func visible(_ value: String) -> String {
        guard value.unicodeScalars.contains(where: isControl) else { return value }
        var scalars = String.UnicodeScalarView()
        for scalar in value.unicodeScalars {
            switch scalar.value {
            case 0x00..<0x20: scalars.append(Unicode.Scalar(0x2400 + scalar.value)!)
            case 0x7F: scalars.append("\u{2421}")
            case 0x80...0x9F: scalars.append("\u{FFFD}")
            default: scalars.append(scalar)
            }
        }
        return String(scalars)
    }

    /// The JSON path (`waves[2].name`) of the first string — value or object
    /// key — in `tree` (as `JSONSerialization` gives it) holding a control
    /// character, or nil. String values under a key in `exempt` (at any
    /// depth) are not checked: free text kept as received. A key named in the
    /// path has its control characters shown as U+FFFD.
    public static func controlCharacterPath(in tree: Any, exempt: Set<String> = [], path: String = "") -> String? {
        func hasControl(_ text: String) -> Bool { text.unicodeScalars.contains(where: isControl) }
        switch tree {
        case let text as String:
            return hasControl(text) ? path : nil
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                let shown = String(String.UnicodeScalarView(key.unicodeScalars.map { isControl($0) ? "\u{FFFD}" : $0 }))
                let child = path.isEmpty ? shown : "\(path).\(shown)"
                if hasControl(key) { return child }
                let value = object[key]!
                if exempt.contains(key), value is String { continue }
                if let found = controlCharacterPath(in: value, exempt: exempt, path: child) { return found }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = controlCharacterPath(in: element, exempt: exempt, path: "\(path)[\(index)]") {
                    return found
                }
            }
            return nil
        default:
            return nil
        }
    }
}
