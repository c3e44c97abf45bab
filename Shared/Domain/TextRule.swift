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
}
