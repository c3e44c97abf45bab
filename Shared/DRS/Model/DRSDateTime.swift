import Foundation

/// Conversion between `Date` and the model's `ISO8601DatetimeString`.
///
/// The model types every DRS timestamp Muster reads as a string matching
/// `YYYY-MM-DDThh:mm:ss(.fraction)?Z`; the generated types keep it a `String` so nothing is
/// lost in a round trip, and callers convert with these functions where they need a `Date`.
public enum DRSDateTime {
    /// Formats a date as DRS does: UTC, millisecond fraction, `Z` suffix
    /// (e.g. `2024-05-01T12:00:00.123Z`).
    public static func string(from date: Date) -> String {
        date.formatted(withFraction)
    }

    /// Parses an ISO 8601 date-time with or without a fractional second; nil if malformed.
    public static func date(from string: String) -> Date? {
        if let date = try? withFraction.parse(string) { return date }
        return try? withoutFraction.parse(string)
    }

    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)
    private static let withoutFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt)
}
