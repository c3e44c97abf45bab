import MusterDomain
/// Exponential backoff with full jitter: attempt n waits a uniformly random
/// time in [0, min(cap, base·2ⁿ)]. Pure; the caller sleeps.
public struct Backoff: Sendable, Equatable {
    /// The ceiling of the first attempt's delay.
    public var base: Duration
    /// The largest delay ever returned.
    public var cap: Duration

    /// Creates a policy.
    public init(base: Duration, cap: Duration) {
        precondition(base > .zero && cap >= base, "Backoff needs 0 < base <= cap")
        self.base = base
        self.cap = cap
    }

    /// The upper bound of the delay before retry number `attempt` (0-based).
    public func ceiling(attempt: Int) -> Duration {
        let grown = base * Double(1 << min(max(attempt, 0), 30))
        return min(grown, cap)
    }

    /// A full-jitter delay before retry number `attempt` (0-based).
    public func delay(attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        let nanos = ceiling.wholeNanoseconds
        guard nanos > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...nanos, using: &generator))
    }

    /// A full-jitter delay using the system generator.
    public func delay(attempt: Int) -> Duration {
        var generator = SystemRandomNumberGenerator()
        return delay(attempt: attempt, using: &generator)
    }
}
