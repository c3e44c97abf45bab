import Foundation

/// A token bucket: `burst` tokens, refilled at `ratePerSecond` in wall-clock time.
///
/// drs-sim limits DRS requests per account and region the way AWS does (a `ThrottlingException`
/// with `Retry-After`). It runs on wall-clock time, not simulated time: the client's request
/// pace is real.
public struct TokenBucket: Sendable, Equatable {
    /// Tokens added per second.
    public var ratePerSecond: Double
    /// Bucket capacity.
    public var burst: Double
    private var tokens: Double
    private var lastRefill: Date

    /// A full bucket at `now`.
    public init(ratePerSecond: Double, burst: Double, now: Date) {
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        self.tokens = max(1, burst)
        self.lastRefill = now
    }

    /// Takes one token, or answers how many seconds until one is available.
    ///
    /// - Returns: nil if the request may proceed, else the wait in seconds (> 0).
    public mutating func take(now: Date) -> Double? {
        refill(now: now)
        if tokens >= 1 {
            tokens -= 1
            return nil
        }
        guard ratePerSecond > 0 else { return .infinity }
        return (1 - tokens) / ratePerSecond
    }

    /// Changes rate and capacity, keeping the tokens already earned (capped at the new burst).
    public mutating func reconfigure(ratePerSecond: Double, burst: Double, now: Date) {
        refill(now: now)
        self.ratePerSecond = ratePerSecond
        self.burst = max(1, burst)
        tokens = min(tokens, self.burst)
    }

    private mutating func refill(now: Date) {
        let elapsed = max(0, now.timeIntervalSince(lastRefill))
        tokens = min(burst, tokens + elapsed * ratePerSecond)
        lastRefill = now
    }
}
