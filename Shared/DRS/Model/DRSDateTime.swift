import Foundation

/// Conversion between `Date` and the model's `ISO8601DatetimeString`.
///
/// The model types every DRS timestamp as a string; the generated types keep
/// it a `String` so nothing is lost in a round trip, and callers convert with
/// these functions where they need a `Date`. Real DRS answers with
/// microseconds and a numeric offset (`2024-09-16T04:42:46.324841+00:00`);
/// `date(from:)` reads that form, the `Z` form, and either without a fraction.
public enum DRSDateTime {
    /// How a timestamp is written.
    public enum Style: String, Sendable, Codable, CaseIterable {
        /// UTC, millisecond fraction, `Z` suffix: `2024-05-01T12:00:00.123Z`.
        case milliseconds = "millis"
        /// What real DRS returns: UTC, microsecond fraction, `+00:00`:
        /// `2024-09-16T04:42:46.324841+00:00`.
        case aws
    }

    /// Formats a date as `style` (milliseconds and `Z` by default).
    public static func string(from date: Date, style: Style = .milliseconds) -> String {
        switch style {
        case .milliseconds:
            return date.formatted(withFraction)
        case .aws:
            // Whole seconds from the formatter, the fraction computed here:
            // the formatter keeps at most three fractional digits.
            let seconds = date.timeIntervalSince1970.rounded(.down)
            var micros = Int(((date.timeIntervalSince1970 - seconds) * 1_000_000).rounded())
            var whole = Date(timeIntervalSince1970: seconds)
            if micros >= 1_000_000 {
                micros -= 1_000_000
                whole = whole.addingTimeInterval(1)
            }
            let base = whole.formatted(withoutFraction).dropLast()  // drop "Z"
            let fraction = String(micros)
            return "\(base).\(String(repeating: "0", count: 6 - fraction.count))\(fraction)+00:00"
        }
    }

    /// Parses an ISO 8601 date-time — `Z` or a `±hh:mm` / `±hhmm` offset,
    /// with or without a fraction of any length — or nil if malformed.
    public static func date(from string: String) -> Date? {
        let chars = Array(string.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= chars.count else { return nil }
            var value = 0
            for c in chars[from..<(from + count)] {
                guard (48...57).contains(c) else { return nil }
                value = value * 10 + Int(c - 48)
            }
            return value
        }
        func at(_ i: Int, _ c: Character) -> Bool { i < chars.count && chars[i] == c.asciiValue! }
        guard let year = number(0, 4), at(4, "-"), let month = number(5, 2), at(7, "-"), let day = number(8, 2),
              at(10, "T") || at(10, "t"), let hour = number(11, 2), at(13, ":"), let minute = number(14, 2),
              at(16, ":"), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var index = 19
        var fraction = 0.0
        if at(index, ".") {
            var digits = 0, scale = 0.1
            index += 1
            while index < chars.count, (48...57).contains(chars[index]) {
                fraction += Double(chars[index] - 48) * scale
                scale /= 10
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
        }
        var offset = 0
        if at(index, "Z") || at(index, "z") {
            index += 1
        } else if at(index, "+") || at(index, "-") {
            let sign = at(index, "-") ? -1 : 1
            guard let hours = number(index + 1, 2) else { return nil }
            var next = index + 3
            if at(next, ":") { next += 1 }
            guard let minutes = number(next, 2), hours < 24, minutes < 60 else { return nil }
            offset = sign * (hours * 3600 + minutes * 60)
            index = next + 2
        } else {
            return nil
        }
        guard index == chars.count else { return nil }
        var components = DateComponents()
        (components.year, components.month, components.day) = (year, month, day)
        (components.hour, components.minute, components.second) = (hour, minute, second)
        guard let base = utc.date(from: components) else { return nil }
        return base.addingTimeInterval(fraction - Double(offset))
    }

    private static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt  // Foundation's own zone: "UTC" by name would go through ICU
        return calendar
    }()

    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let withoutFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt)
}
