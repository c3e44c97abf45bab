import Foundation
import MusterEvents
import MusterKafka
import MusterPostgres

/// Whether retrying a failed record can ever help (DESIGN §12).
public enum FailureClass: String, Sendable, Equatable {
    /// The cause may go away by itself (connection lost, deadlock, broker
    /// unavailable, a bug fixed by the next deploy): retry within the budget.
    case transient
    /// The same record fails the same way every time (PostgreSQL classes 22
    /// and 23, undecodable content, `UnprocessableEvent`): park it at once.
    case deterministic

    /// Classifies a handler's error. Unknown errors are transient: they get
    /// the retry budget, then are parked.
    public static func of(_ error: any Error) -> FailureClass {
        switch error {
        case is UnprocessableEvent, is CloudEventError, is DecodingError, is EncodingError:
            return .deterministic
        case let error as PostgresError:
            switch error.kind {
            case .decoding, .invalidArgument:
                return .deterministic
            case .server:
                guard let state = error.sqlState else { return .transient }
                // 22: data exception (NUL in text, value out of range, bad input syntax);
                // 23: integrity constraint violation (unique, foreign key, check, not null).
                return state.hasPrefix("22") || state.hasPrefix("23") ? .deterministic : .transient
            case .connectionFailed, .connectionLost, .acquireTimeout, .poolClosed:
                return .transient
            }
        default:
            return .transient
        }
    }
}

/// How long a consumer keeps retrying one record before parking it.
public struct RetryBudget: Sendable, Equatable {
    /// Attempts (the first one included) after which a record is parked.
    public var maxAttempts: Int
    /// Time since the first failure after which a record is parked.
    public var maxDuration: Duration

    /// Creates a budget; both limits must be positive.
    public init(maxAttempts: Int = 10, maxDuration: Duration = .seconds(300)) {
        precondition(maxAttempts > 0 && maxDuration > .zero, "RetryBudget needs positive limits")
        self.maxAttempts = maxAttempts
        self.maxDuration = maxDuration
    }
}

/// The decision after a handler failure: pure, so it is tested without a
/// database or broker.
public enum FailureDecision: Sendable, Equatable {
    /// Try the same record again after the back-off.
    case retry
    /// Park the record (`reason` says why: deterministic or over budget) and move on.
    case park(reason: ParkReason)

    /// Decides for a failure of class `failure`, the `attempts`-th one
    /// (1-based), `elapsed` after the record first failed.
    public static func after(
        _ failure: FailureClass, attempts: Int, elapsed: Duration, budget: RetryBudget
    ) -> FailureDecision {
        if failure == .deterministic { return .park(reason: .deterministic) }
        if attempts >= budget.maxAttempts || elapsed >= budget.maxDuration { return .park(reason: .overBudget) }
        return .retry
    }
}

/// Why a record was parked; the `reason` label of the parked-records metric
/// and the `reason` column of `dead_letters`.
public enum ParkReason: String, Sendable, Equatable, CaseIterable {
    /// Not a CloudEvent, undecodable, or refused by the handler as `UnprocessableEvent`.
    case malformed
    /// A failure that repeats on every attempt (PostgreSQL classes 22/23, invalid arguments).
    case deterministic
    /// Still failing after the retry budget.
    case overBudget = "over-budget"
}
