import Foundation
import MusterDRS

/// Input checks DRS applies beyond JSON well-formedness: the model's length limits and id
/// patterns. Each failure is a `ValidationException` naming the field and the rule.
enum Validation {
    static let sourceServerID = IDPattern(prefix: "s-", body: 17, alphabet: .alphanumeric, example: "s-0123456789abcdef0")
    static let jobID = IDPattern(prefix: "drsjob-", body: 17, alphabet: .alphanumeric, example: "drsjob-0123456789abcdef0")
    static let recoverySnapshotID = IDPattern(prefix: "pit-", body: 17, alphabet: .alphanumeric, example: "pit-0123456789abcdef0")
    static let recoveryInstanceID = IDPattern(prefix: "i-", body: 8...17, alphabet: .hex, example: "i-0123456789abcdef0")

    /// Checks a list's length against the model's bounds.
    static func count(_ count: Int, field: String, min: Int, max: Int) throws(DRSSimError) {
        guard count >= min, count <= max else {
            throw .invalidField(field, "must contain between \(min) and \(max) items, got \(count)")
        }
    }

    /// Checks `maxResults` (model: StrictlyPositiveInteger).
    static func maxResults(_ value: Int?) throws(DRSSimError) {
        if let value, value < 1 {
            throw .invalidField("maxResults", "must be at least 1, got \(value)")
        }
    }

    /// Checks a string's length.
    static func length(_ value: String, field: String, max: Int) throws(DRSSimError) {
        guard value.count <= max else {
            throw .invalidField(field, "must be at most \(max) characters, got \(value.count)")
        }
    }

    /// Checks an ISO 8601 date-time string and returns the date.
    static func dateTime(_ value: String, field: String) throws(DRSSimError) -> Date {
        // Both forms DRS itself writes: `…:00Z` and `…:00.324841+00:00`.
        guard let date = DRSDateTime.date(from: value) else {
            throw .invalidField(
                field, "must be an ISO 8601 date-time such as 2024-05-01T12:00:00Z or 2024-05-01T12:00:00.000000+00:00, got '\(value)'")
        }
        return date
    }

    /// Checks an enum value against the values the model knows.
    static func known<T: RawRepresentable>(_ value: T?, field: String, allowed: [T]) throws(DRSSimError)
    where T.RawValue == String, T: Equatable {
        guard let value, !allowed.contains(value) else { return }
        throw .invalidField(field, "must be one of \(allowed.map(\.rawValue).joined(separator: ", ")), got '\(value.rawValue)'")
    }

    /// Checks tags (keys and values at most 256 characters, at most 50 tags as AWS allows).
    static func tags(_ tags: [String: String]?, field: String = "tags") throws(DRSSimError) {
        guard let tags else { return }
        guard tags.count <= 50 else { throw .invalidField(field, "at most 50 tags are allowed, got \(tags.count)") }
        for (key, value) in tags {
            try length(key, field: "\(field).key", max: 256)
            try length(value, field: "\(field).\(key)", max: 256)
        }
    }
}

/// An id pattern of the model such as `s-[0-9a-zA-Z]{17}`.
struct IDPattern: Sendable {
    enum Alphabet: Sendable {
        case alphanumeric, hex

        func contains(_ c: Character) -> Bool {
            switch self {
            case .alphanumeric: c.isASCII && (c.isLetter || c.isNumber)
            case .hex: c.isHexDigit
            }
        }
    }

    let prefix: String
    let body: ClosedRange<Int>
    let alphabet: Alphabet
    let example: String

    init(prefix: String, body: Int, alphabet: Alphabet, example: String) {
        self.init(prefix: prefix, body: body...body, alphabet: alphabet, example: example)
    }

    init(prefix: String, body: ClosedRange<Int>, alphabet: Alphabet, example: String) {
        self.prefix = prefix
        self.body = body
        self.alphabet = alphabet
        self.example = example
    }

    func matches(_ value: String) -> Bool {
        guard value.hasPrefix(prefix) else { return false }
        let rest = value.dropFirst(prefix.count)
        return body.contains(rest.count) && rest.allSatisfy(alphabet.contains)
    }

    /// Throws a `ValidationException` naming `field` unless `value` matches.
    func check(_ value: String, field: String) throws(DRSSimError) {
        guard matches(value) else {
            throw .invalidField(field, "'\(value)' is not a valid id; expected the form \(example)")
        }
    }
}
