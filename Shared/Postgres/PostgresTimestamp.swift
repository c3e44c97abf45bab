import Foundation

/// Pure conversion between `Date` and PostgreSQL's timestamp text, at microsecond precision
/// (PostgreSQL's). Works on integers so results are exact and need no formatter or locale.
enum PostgresTimestamp {
    /// Seconds from 1970-01-01 to 2001-01-01, `Date`'s reference date.
    private static let referenceDateOffset: Int64 = 978_307_200
    private static let microsPerSecond: Int64 = 1_000_000
    private static let microsPerDay: Int64 = 86_400_000_000

    /// `date` as `YYYY-MM-DDTHH:MM:SS.ffffffZ` (UTC), rounded to the nearest microsecond.
    static func format(_ date: Date) -> String {
        // From the reference date, where `Date` keeps its Double: less rounding than via 1970.
        let sinceReference = (date.timeIntervalSinceReferenceDate * 1_000_000).rounded()
        let micros = Int64(sinceReference) + referenceDateOffset * microsPerSecond
        var days = micros / microsPerDay
        var inDay = micros % microsPerDay
        if inDay < 0 {
            inDay += microsPerDay
            days -= 1
        }
        let (year, month, day) = civil(fromDays: days)
        let secondOfDay = inDay / microsPerSecond
        let fraction = inDay % microsPerSecond
        let era = year <= 0 ? " BC" : ""
        let displayYear = year <= 0 ? 1 - year : year
        return "\(pad(displayYear, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(fraction, 6))Z\(era)"
    }

    /// Parses PostgreSQL's ISO output of `timestamptz`, `timestamp` (taken as UTC) or `date`
    /// (midnight UTC): `2024-05-06 07:08:09.123456+05:30`, optional fraction, offset and ` BC`.
    /// `infinity` and `-infinity` become `Date.distantFuture` and `Date.distantPast`.
    static func parse(_ text: String) -> Date? {
        if text == "infinity" { return .distantFuture }
        if text == "-infinity" { return .distantPast }
        var scanner = Scanner(Array(text.utf8))
        guard var year = scanner.number(), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2),
            (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var micros: Int64 = 0
        if scanner.skip(" ") || scanner.skip("T") {
            guard let hour = scanner.number(digits: 2), scanner.skip(":"),
                let minute = scanner.number(digits: 2), scanner.skip(":"),
                let second = scanner.number(digits: 2),
                hour <= 24, minute < 60, second < 61
            else { return nil }
            micros = ((hour * 60 + minute) * 60 + second) * microsPerSecond
            if scanner.skip(".") {
                guard let (fraction, digits) = scanner.fraction() else { return nil }
                // Digits beyond microseconds (not produced by PostgreSQL) are truncated.
                var scaled = fraction
                if digits < 6 {
                    for _ in digits..<6 { scaled *= 10 }
                } else {
                    for _ in 6..<digits { scaled /= 10 }
                }
                micros += scaled
            }
            if scanner.skip("Z") {
                // UTC.
            } else if let sign = scanner.sign() {
                guard let offsetHours = scanner.number(digits: 2) else { return nil }
                var offset = offsetHours * 3600
                if scanner.skip(":") {
                    guard let offsetMinutes = scanner.number(digits: 2) else { return nil }
                    offset += offsetMinutes * 60
                    if scanner.skip(":") {
                        guard let offsetSeconds = scanner.number(digits: 2) else { return nil }
                        offset += offsetSeconds
                    }
                }
                micros -= sign * offset * microsPerSecond
            }
        }
        if scanner.skip(" BC") { year = 1 - year }
        guard scanner.atEnd else { return nil }
        let total = days(fromCivil: year, month, day) * microsPerDay + micros
            - referenceDateOffset * microsPerSecond
        return Date(timeIntervalSinceReferenceDate: Double(total) / 1_000_000)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01 (inverse of `days(fromCivil:)`).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }

    /// Minimal cursor over ASCII bytes.
    private struct Scanner {
        let bytes: [UInt8]
        var position = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { position == bytes.count }

        /// A run of decimal digits: exactly `digits` of them, or one or more when nil.
        mutating func number(digits: Int? = nil) -> Int64? {
            guard let (value, count) = fraction(), digits == nil || count == digits else { return nil }
            return value
        }

        /// One or more digits, with how many there were.
        mutating func fraction() -> (Int64, Int)? {
            let start = position
            var value: Int64 = 0
            while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]),
                position - start < 18
            {
                value = value * 10 + Int64(bytes[position] - UInt8(ascii: "0"))
                position += 1
            }
            return position > start ? (value, position - start) : nil
        }

        mutating func skip(_ literal: String) -> Bool {
            let literalBytes = Array(literal.utf8)
            guard bytes.count - position >= literalBytes.count,
                Array(bytes[position..<position + literalBytes.count]) == literalBytes
            else { return false }
            position += literalBytes.count
            return true
        }

        /// +1 for `+`, -1 for `-`, nil (nothing consumed) otherwise.
        mutating func sign() -> Int64? {
            if skip("+") { return 1 }
            if skip("-") { return -1 }
            return nil
        }
    }
}
