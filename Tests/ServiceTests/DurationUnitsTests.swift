import MusterDomain
import Testing

/// The one place Muster turns a `Duration` into seconds, milliseconds or
/// nanoseconds: each rounding is the one its callers rely on.
@Suite struct DurationUnitsTests {
    @Test func fractionalSeconds() {
        #expect(Duration.milliseconds(1500).seconds == 1.5)
        #expect(Duration.zero.seconds == 0)
        #expect(Duration.seconds(-2).seconds == -2)
    }

    @Test func wholeMillisecondsRoundTowardZero() {
        #expect(Duration.microseconds(1999).wholeMilliseconds == 1)
        #expect(Duration.seconds(3).wholeMilliseconds == 3000)
        #expect(Duration.nanoseconds(1).wholeMilliseconds == 0)
    }

    @Test func timeoutsRoundUpSoNoneBecomesZero() {
        #expect(Duration.nanoseconds(1).millisecondsRoundedUp == 1)
        #expect(Duration.microseconds(1001).millisecondsRoundedUp == 2)
        #expect(Duration.milliseconds(250).millisecondsRoundedUp == 250)
        #expect(Duration.zero.millisecondsRoundedUp == 0)
        #expect(Duration.milliseconds(1).secondsRoundedUp == 1)
        #expect(Duration.seconds(2).secondsRoundedUp == 2)
        #expect(Duration.milliseconds(2001).secondsRoundedUp == 3)
    }

    @Test func wholeNanoseconds() {
        #expect(Duration.microseconds(3).wholeNanoseconds == 3000)
        #expect(Duration.seconds(1).wholeNanoseconds == 1_000_000_000)
    }
}
