/// `Duration` in the units Muster's configuration, timeouts and figures use:
/// one place for the arithmetic on `Duration.components` (seconds +
/// attoseconds), so no file repeats it with its own rounding.
extension Duration {
    private static let attosecondsPerMillisecond: Int64 = 1_000_000_000_000_000
    private static let attosecondsPerNanosecond: Int64 = 1_000_000_000

    /// The duration in fractional seconds (`TimeInterval`'s unit).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// Whole milliseconds, rounded toward zero (for logs and messages).
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / Self.attosecondsPerMillisecond
    }

    /// Milliseconds rounded up, so a timeout is never shorter than asked and a
    /// tiny positive one never becomes 0 (which C libraries read as "none").
    public var millisecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        let part = attoseconds / Self.attosecondsPerMillisecond
            + (attoseconds % Self.attosecondsPerMillisecond > 0 ? 1 : 0)
        return seconds * 1000 + part
    }

    /// Whole seconds, rounded up.
    public var secondsRoundedUp: Int64 {
        components.seconds + (components.attoseconds > 0 ? 1 : 0)
    }

    /// Whole nanoseconds, rounded toward zero.
    public var wholeNanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / Self.attosecondsPerNanosecond
    }
}
