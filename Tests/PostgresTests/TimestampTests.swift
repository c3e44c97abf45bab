import Foundation
import Testing

@testable import MusterPostgres

@Suite("PostgresTimestamp (pure)")
struct TimestampTests {
    @Test("formats UTC with microseconds")
    func formats() {
        let date = Date(timeIntervalSince1970: 1_700_000_000.123456)
        #expect(PostgresTimestamp.format(date) == "2023-11-14T22:13:20.123456Z")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000000Z")
        #expect(PostgresTimestamp.format(Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59.500000Z")
    }

    @Test("parses PostgreSQL output with offsets, fractions, dates and BC")
    func parses() throws {
        let base = 1_700_000_000.0
        let cases: [(String, Double)] = [
            ("2023-11-14 22:13:20+00", base),
            ("2023-11-14 22:13:20.5+00", base + 0.5),
            ("2023-11-14 22:13:20.123456+00", base + 0.123456),
            ("2023-11-15 03:43:20+05:30", base),
            ("2023-11-14 14:13:20-08", base),
            ("2023-11-14T22:13:20.25Z", base + 0.25),
            ("2023-11-14 22:13:20", base),
            ("2023-11-14", base - 80_000),
            ("1969-12-31 23:59:59.5+00", -0.5),
        ]
        for (text, seconds) in cases {
            let parsed = try #require(PostgresTimestamp.parse(text), "\(text)")
            #expect(abs(parsed.timeIntervalSince1970 - seconds) < 1e-6, "\(text)")
        }
        let bc = try #require(PostgresTimestamp.parse("0001-01-01 00:00:00+00 BC"))
        #expect(PostgresTimestamp.format(bc) == "0001-01-01T00:00:00.000000Z BC")
        #expect(PostgresTimestamp.parse("infinity") == .distantFuture)
        #expect(PostgresTimestamp.parse("-infinity") == .distantPast)
    }

    @Test("rejects malformed text", arguments: ["", "2023-13-01", "2023-11-14 25", "2023-11-14 22:13:20+", "nonsense",
        "2023-11-14 22:13:20.+00", "2023-11-14 22:13:20 extra"])
    func rejects(_ text: String) {
        #expect(PostgresTimestamp.parse(text) == nil)
    }

    @Test("format and parse round-trip to the microsecond")
    func roundTrip() throws {
        for seconds in [0.0, 1_700_000_000.654321, -2_208_988_800.000001, 253_402_300_799.999999, 978_307_200.1] {
            let date = Date(timeIntervalSince1970: seconds)
            let back = try #require(PostgresTimestamp.parse(PostgresTimestamp.format(date)))
            #expect(abs(back.timeIntervalSince(date)) < 1e-6, "\(seconds)")
        }
    }

    @Test("civil calendar conversion agrees both ways")
    func civil() {
        for days in stride(from: Int64(-800_000), through: 800_000, by: 997) {
            let (year, month, day) = PostgresTimestamp.civil(fromDays: days)
            #expect(PostgresTimestamp.days(fromCivil: year, month, day) == days)
        }
        #expect(PostgresTimestamp.days(fromCivil: 2000, 3, 1) == 11_017)
    }
}
