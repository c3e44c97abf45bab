import Foundation

/// What to do after DRS answered ConflictException to a StartRecovery
/// (DESIGN §5: a job Muster did not start holds a server): back off 30 s,
/// 60 s, 120 s … (capped) and retry, failing only once the deadline since the
/// first conflict has passed. `scale` shrinks every duration for tests. Pure.
public struct ConflictPolicy: Sendable, Equatable {
    /// The first back-off.
    public var initialDelay: TimeInterval
    /// Growth per conflict.
    public var multiplier: Double
    /// The longest back-off.
    public var maxDelay: TimeInterval
    /// Give up this long after the first conflict.
    public var deadline: TimeInterval
    /// Multiplies every duration above (1 in production; e.g. 0.01 in tests).
    public var scale: Double

    /// Creates a policy; the defaults are DESIGN's.
    public init(
        initialDelay: TimeInterval = 30, multiplier: Double = 2, maxDelay: TimeInterval = 480,
        deadline: TimeInterval = 3600, scale: Double = 1
    ) {
        self.initialDelay = initialDelay
        self.multiplier = max(multiplier, 1)
        self.maxDelay = max(maxDelay, initialDelay)
        self.deadline = deadline
        self.scale = scale
    }

    /// The decision.
    public enum Decision: Equatable, Sendable {
        /// Retry at this time.
        case retry(at: Date)
        /// The deadline has passed: fail the chunk.
        case giveUp
    }

    /// The back-off after the `conflicts`-th conflict (1-based).
    public func delay(afterConflicts conflicts: Int) -> TimeInterval {
        let grown = initialDelay * pow(multiplier, Double(max(conflicts - 1, 0)))
        return min(grown, maxDelay) * scale
    }

    /// The decision after the `conflicts`-th conflict, the first at `firstConflictAt`.
    public func decide(conflicts: Int, firstConflictAt: Date, now: Date) -> Decision {
        let end = firstConflictAt.addingTimeInterval(deadline * scale)
        guard now < end else { return .giveUp }
        return .retry(at: min(now.addingTimeInterval(delay(afterConflicts: conflicts)), end))
    }
}
