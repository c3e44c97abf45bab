import Foundation
import Logging
import MusterDRS
import MusterDomain
import Synchronization

/// Every DRS call passes here (DESIGN §5 "Per-endpoint budget"): it waits
/// for the endpoint's token bucket, and for a pause set by a
/// ThrottlingException (`Retry-After`, else backoff with full jitter) that
/// holds back every call to that endpoint, not just the throttled one. It
/// counts calls per operation and outcome.
public final class DRSGate: Sendable {
    private struct Budget {
        var bucket: TokenBucket
        var pausedUntil: Double = 0
    }

    private let budgets = Mutex<[Endpoint: Budget]>([:])
    private let limits: EndpointLimits
    private let policy: ThrottlePolicy
    private let accounts: AccountDirectory
    private let logger: Logger
    private let origin = ContinuousClock.now
    /// Gives up repeating a 5xx after this many attempts (throttling is always ridden out).
    private let maxServerErrorAttempts = 6

    /// A gate applying `limits` per endpoint.
    public init(limits: EndpointLimits, policy: ThrottlePolicy, accounts: AccountDirectory, logger: Logger) {
        self.limits = limits
        self.policy = policy
        self.accounts = accounts
        self.logger = logger
    }

    /// How a failed call may be repeated in place.
    public enum Repeat: Sendable {
        /// Throttling only: the request certainly did nothing (StartRecovery).
        case throttlingOnly
        /// Throttling, 5xx and transport failures: the request is idempotent.
        case anyRetryable
    }

    /// Calls `body` with `endpoint`'s client within its budget.
    public func call<T: Sendable>(
        _ endpoint: Endpoint, _ operation: String, repeat mode: Repeat = .anyRetryable,
        _ body: (DRSClient) async throws -> T
    ) async throws -> T {
        let client = try accounts.client(for: endpoint)
        var attempt = 0, serverErrors = 0
        while true {
            try await waitForBudget(endpoint)
            do {
                let result = try await body(client)
                LauncherMetrics.drsCall(operation, outcome: "ok")
                return result
            } catch let error as DRSError {
                LauncherMetrics.drsCall(operation, outcome: error.errorType)
                var generator = SystemRandomNumberGenerator()
                let delay = policy.delay(retryAfterSeconds: error.retryAfterSeconds, attempt: attempt, using: &generator)
                if case .throttling = error {
                    pause(endpoint, for: delay)
                } else if mode == .anyRetryable, error.isRetryable, serverErrors + 1 < maxServerErrorAttempts {
                    serverErrors += 1
                    try await Task.sleep(for: delay)
                } else {
                    throw error
                }
                attempt += 1
                LauncherMetrics.retry(operation, reason: error.errorType)
                logger.debug("DRS call will be repeated", metadata: [
                    "endpoint": "\(endpoint)", "operation": "\(operation)", "error": "\(error.errorType)",
                    "delay": "\(delay)",
                ])
            }
        }
    }

    private func seconds(_ instant: ContinuousClock.Instant) -> Double {
        let elapsed = instant - origin
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private func pause(_ endpoint: Endpoint, for delay: Duration) {
        let until = seconds(.now) + Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18
        budgets.withLock { budgets in
            var budget = budgets[endpoint] ?? Budget(bucket: TokenBucket(ratePerSecond: limits.requestsPerSecond, burst: limits.burst))
            budget.pausedUntil = max(budget.pausedUntil, until)
            budgets[endpoint] = budget
        }
    }

    private func waitForBudget(_ endpoint: Endpoint) async throws {
        let now = seconds(.now)
        let wait: Double = budgets.withLock { budgets in
            var budget = budgets[endpoint] ?? Budget(bucket: TokenBucket(ratePerSecond: limits.requestsPerSecond, burst: limits.burst))
            let paused = max(0, budget.pausedUntil - now)
            let tokenWait = budget.bucket.take(now: now)
            budgets[endpoint] = budget
            return max(paused, tokenWait)
        }
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
    }
}
