import Foundation
import MusterDomain
import MusterMessaging

/// When a failed delivery is tried again, and when it is given up (DESIGN §8):
/// exponential backoff with full jitter, for a bounded window counted from
/// the first attempt. Pure: the dispatcher applies its decisions.
public struct RetryPolicy: Sendable, Equatable {
    /// Delay before retry n.
    public var backoff: Backoff
    /// How long after its first attempt a delivery keeps being retried.
    public var window: Duration

    /// Creates a policy.
    public init(backoff: Backoff = Backoff(base: .seconds(1), cap: .seconds(3600)), window: Duration = .seconds(86_400)) {
        self.backoff = backoff
        self.window = window
    }

    /// What happens to a delivery after an attempt.
    public enum Decision: Sendable, Equatable {
        /// The receiver answered 2xx.
        case delivered
        /// Try again at this time.
        case retry(at: Date)
        /// Give up: parked as dead with the last error.
        case dead
    }

    /// The decision after attempt number `attempts` (1-based, this one
    /// included) that started at `now`, of a delivery first attempted at
    /// `firstAttemptAt`. The last retry is moved to the window's end, so a
    /// delivery dies within the window plus one attempt's timeout. `deadline`
    /// (a callout step's timeout) ends the window earlier when it comes first.
    public func decide(succeeded: Bool, attempts: Int, firstAttemptAt: Date, now: Date, deadline: Date? = nil,
                       using generator: inout some RandomNumberGenerator) -> Decision {
        if succeeded { return .delivered }
        let giveUpAt = min(firstAttemptAt.addingTimeInterval(window.seconds), deadline ?? .distantFuture)
        guard now < giveUpAt else { return .dead }
        let delay = backoff.delay(attempt: max(attempts - 1, 0), using: &generator)
        return .retry(at: min(now.addingTimeInterval(delay.seconds), giveUpAt))
    }

    /// `decide` with the system random generator.
    public func decide(succeeded: Bool, attempts: Int, firstAttemptAt: Date, now: Date, deadline: Date? = nil)
        -> Decision
    {
        var generator = SystemRandomNumberGenerator()
        return decide(succeeded: succeeded, attempts: attempts, firstAttemptAt: firstAttemptAt, now: now,
                      deadline: deadline, using: &generator)
    }
}
