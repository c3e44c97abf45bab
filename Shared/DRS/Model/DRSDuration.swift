import Foundation

/// DRS's durations (`dataReplicationInfo.lagDuration`): ISO 8601 durations
/// such as `PT0S`, `PT1M30.5S` or `P1DT2H`. The model only says "string", so
/// the parser takes every ISO 8601 form with days, hours, minutes and
/// (fractional) seconds, and refuses anything else (nil) rather than guess.
public enum DRSDuration {
    /// The duration in seconds, or nil when `text` is not an ISO 8601 duration
    /// (or uses years, months or weeks, whose length in seconds is not fixed).
    public static func seconds(from text: String) -> Double? {
        var rest = Substring(text.uppercased())
        guard rest.first == "P", rest.count > 1 else { return nil }
        rest = rest.dropFirst()
        var total = 0.0, inTime = false, number = "", sawUnit = false
        for character in rest {
            if character == "T" {
                guard !inTime, number.isEmpty else { return nil }
                inTime = true
            } else if character.isNumber || character == "." || character == "," {
                number.append(character == "," ? "." : character)
            } else {
                guard let value = Double(number), value >= 0 else { return nil }
                switch (character, inTime) {
                case ("D", false): total += value * 86_400
                case ("H", true): total += value * 3600
                case ("M", true): total += value * 60
                case ("S", true): total += value
                default: return nil
                }
                number = ""
                sawUnit = true
            }
        }
        return number.isEmpty && sawUnit ? total : nil
    }

    /// `seconds` as DRS writes it: `PT…S`, with up to three decimals.
    public static func string(seconds: Double) -> String {
        let millis = Int64((max(0, seconds) * 1000).rounded())
        let whole = millis / 1000, fraction = millis % 1000
        if fraction == 0 { return "PT\(whole)S" }
        var decimals = String(fraction)
        decimals = String(repeating: "0", count: 3 - decimals.count) + decimals
        while decimals.hasSuffix("0") { decimals.removeLast() }
        return "PT\(whole).\(decimals)S"
    }
}
