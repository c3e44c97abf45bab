import Foundation
@testable import PlannerApp
import Testing

/// Cron parsing and next-fire computation in IANA time zones, DST included.
@Suite("Cron schedules")
struct CronScheduleTests {
    func time(_ text: String) throws -> Date {
        try #require(ISO8601DateFormatter().date(from: text))
    }

    func zone(_ id: String) throws -> TimeZone { try #require(TimeZone(identifier: id)) }

    @Test func nextFireInUTCAndInAZone() throws {
        let weekly = try CronSchedule("30 2 * * MON")
        // 2026-11-30 is a Monday.
        #expect(weekly.next(after: try time("2026-11-30T02:29:59Z"), in: .gmt) == (try time("2026-11-30T02:30:00Z")))
        #expect(weekly.next(after: try time("2026-11-30T02:30:00Z"), in: .gmt) == (try time("2026-12-07T02:30:00Z")),
                "strictly after")
        // 02:30 in Berlin (UTC+1 in winter) is 01:30Z.
        #expect(weekly.next(after: try time("2026-11-29T12:00:00Z"), in: try zone("Europe/Berlin"))
                == (try time("2026-11-30T01:30:00Z")))
        let steps = try CronSchedule("*/20 9-10 * * *")
        #expect(steps.next(after: try time("2026-11-30T09:41:00Z"), in: .gmt) == (try time("2026-11-30T10:00:00Z")))
        #expect(steps.next(after: try time("2026-11-30T10:40:00Z"), in: .gmt) == (try time("2026-12-01T09:00:00Z")))
    }

    @Test func dayOfMonthOrDayOfWeekWhenBothAreRestricted() throws {
        // The 1st or any Friday: after Monday 2026-11-30 comes Tuesday 12-01 (the 1st), then Friday 12-04.
        let either = try CronSchedule("0 12 1 * 5")
        #expect(either.next(after: try time("2026-11-30T13:00:00Z"), in: .gmt) == (try time("2026-12-01T12:00:00Z")))
        #expect(either.next(after: try time("2026-12-01T13:00:00Z"), in: .gmt) == (try time("2026-12-04T12:00:00Z")))
        let leap = try CronSchedule("0 0 29 2 *")
        #expect(leap.next(after: try time("2026-03-01T00:00:00Z"), in: .gmt) == (try time("2028-02-29T00:00:00Z")))
        #expect(try CronSchedule("@monthly").next(after: try time("2026-11-30T00:00:00Z"), in: .gmt)
                == (try time("2026-12-01T00:00:00Z")))
        #expect(try CronSchedule("0 0 * * 7").weekdays == [0], "7 is Sunday too")
    }

    @Test func aSkippedLocalTimeIsSkippedAndARepeatedOneFiresOnce() throws {
        let newYork = try zone("America/New_York")
        // 2026-03-08: 02:00-02:59 does not exist in New York; the next 02:30 is on the 9th (06:30Z, EDT).
        let spring = try CronSchedule("30 2 * * *")
        #expect(spring.next(after: try time("2026-03-08T05:00:00Z"), in: newYork) == (try time("2026-03-09T06:30:00Z")))
        // 2026-11-01: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST); it fires once.
        let autumn = try CronSchedule("30 1 * * *")
        let first = try #require(autumn.next(after: try time("2026-11-01T04:00:00Z"), in: newYork))
        #expect(first == (try time("2026-11-01T05:30:00Z")))
        #expect(autumn.next(after: first, in: newYork) == (try time("2026-11-02T06:30:00Z")))
    }

    @Test func badExpressionsNameTheField() {
        let cases = [
            ("* * * *", "5 fields"), ("60 * * * *", "minute 60"), ("* 24 * * *", "hour"), ("* * 0 * *", "day-of-month"),
            ("* * * 13 *", "month"), ("* * * * 8", "day-of-week"), ("*/0 * * * *", "step"), ("5-1 * * * *", "backwards"),
            ("* * 31 2 *", "never occurs"), ("a * * * *", "minute a"), ("1,,2 * * * *", "minute"),
        ]
        for (text, words) in cases {
            #expect {
                _ = try CronSchedule(text)
            } throws: { error in
                (error as? CronSchedule.Invalid)?.description.contains(words) == true
            }
        }
    }
}
