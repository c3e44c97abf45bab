import Foundation

/// A five-field cron expression (minute hour day-of-month month day-of-week)
/// and its next firing time in an IANA time zone. Pure.
///
/// Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists,
/// and names for months (`JAN`) and weekdays (`MON`; 0 and 7 are Sunday);
/// `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly` are shorthands. As in
/// Vixie cron, when both day fields are restricted a day matching either fires.
/// Across time-zone changes: a local time that does not exist (spring forward)
/// is skipped; one that happens twice (fall back) fires once, at the first.
struct CronSchedule: Sendable, Equatable {
    /// Why an expression was refused (a sentence naming the field).
    struct Invalid: Error, Equatable, CustomStringConvertible {
        var description: String
    }

    let expression: String
    let minutes: [Int]
    let hours: [Int]
    let days: Set<Int>
    let months: Set<Int>
    let weekdays: Set<Int>
    let daysRestricted: Bool
    let weekdaysRestricted: Bool

    static let shorthands = [
        "@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0",
        "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    /// Parses `text`; throws `Invalid` naming the bad field.
    init(_ text: String) throws(Invalid) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let expanded = Self.shorthands[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw Invalid(description: "a cron expression has 5 fields (minute hour day-of-month month day-of-week), got \(fields.count)")
        }
        expression = trimmed
        minutes = try Self.field(fields[0], name: "minute", range: 0...59).sorted()
        hours = try Self.field(fields[1], name: "hour", range: 0...23).sorted()
        days = try Self.field(fields[2], name: "day-of-month", range: 1...31)
        months = try Self.field(fields[3], name: "month", range: 1...12, names: Self.monthNames, nameBase: 1)
        let weekdays = try Self.field(fields[4], name: "day-of-week", range: 0...7, names: Self.dayNames, nameBase: 0)
        self.weekdays = Set(weekdays.map { $0 % 7 })
        daysRestricted = !fields[2].hasPrefix("*")
        weekdaysRestricted = !fields[4].hasPrefix("*")
        guard days.contains(where: { day in months.contains { month in day <= Self.longest[month - 1] } }) else {
            throw Invalid(description: "day-of-month \(fields[2]) never occurs in month \(fields[3])")
        }
    }

    static let longest = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

    static func field(_ text: String, name: String, range: ClosedRange<Int>, names: [String] = [], nameBase: Int = 0)
        throws(Invalid) -> Set<Int>
    {
        func number(_ raw: Substring) throws(Invalid) -> Int {
            if let index = names.firstIndex(of: raw.uppercased()) { return index + nameBase }
            guard let value = Int(raw), range.contains(value) else {
                throw Invalid(description: "\(name) \(raw) is not a number in \(range.lowerBound)-\(range.upperBound)")
            }
            return value
        }
        var values = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2, let spanText = pieces.first, !spanText.isEmpty else {
                throw Invalid(description: "\(name) \(part) is not a value, range or step")
            }
            var step = 1
            if pieces.count == 2 {
                guard let value = Int(pieces[1]), value >= 1, value <= range.upperBound else {
                    throw Invalid(description: "\(name) step \(pieces[1]) must be 1-\(range.upperBound)")
                }
                step = value
            }
            var low = range.lowerBound, high = range.upperBound
            if spanText != "*" {
                let ends = spanText.split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else { throw Invalid(description: "\(name) \(spanText) is not a range") }
                low = try number(ends[0])
                high = ends.count == 2 ? try number(ends[1]) : (pieces.count == 2 ? range.upperBound : low)
                guard low <= high else { throw Invalid(description: "\(name) range \(spanText) runs backwards") }
            }
            values.formUnion(stride(from: low, through: high, by: step))
        }
        return values
    }

    /// The first firing strictly after `date` in `zone`, or nil if none within eight years.
    func next(after date: Date, in zone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let start = calendar.startOfDay(for: date)
        for offset in 0..<(366 * 8) {
            guard let day = calendar.date(byAdding: .day, value: offset, to: start) else { return nil }
            let parts = calendar.dateComponents([.year, .month, .day, .weekday], from: day)
            guard let year = parts.year, let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday,
                  months.contains(month), matches(day: dayOfMonth, weekday: weekday - 1) else { continue }
            for hour in hours {
                for minute in minutes {
                    let wanted = DateComponents(year: year, month: month, day: dayOfMonth, hour: hour, minute: minute)
                    guard let candidate = calendar.date(from: wanted), candidate > date else { continue }
                    // A wall-clock time skipped by a time-zone change comes back shifted: skip it.
                    let got = calendar.dateComponents([.day, .hour, .minute], from: candidate)
                    guard got.day == dayOfMonth, got.hour == hour, got.minute == minute else { continue }
                    return candidate
                }
            }
        }
        return nil
    }

    func matches(day: Int, weekday: Int) -> Bool {
        switch (daysRestricted, weekdaysRestricted) {
        case (true, true): days.contains(day) || weekdays.contains(weekday)
        case (true, false): days.contains(day)
        case (false, true): weekdays.contains(weekday)
        case (false, false): true
        }
    }
}
