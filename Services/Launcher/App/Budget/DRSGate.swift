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

        mutating func pause(until: Double) { pausedUntil = max(pausedUntil, until) }

        /// Spends a token at `now`; the seconds to wait for it and for any pause.
        mutating func take(now: Double) -> Double { max(pausedUntil - now, bucket.take(now: now)) }
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

    /// Every item of a paginated operation: `page` fetches the page after a
    /// token (nil: the first), each page within the budget, until DRS returns
    /// no `nextToken`.
    public func callAll<Page: Sendable, Item>(
        _ endpoint: Endpoint, _ operation: String, items: (Page) -> [Item]?, nextToken: (Page) -> String?,
        _ page: (DRSClient, String?) async throws -> Page
    ) async throws -> [Item] {
        var all: [Item] = []
        var token: String?
        repeat {
            let response = try await call(endpoint, operation) { [token] in try await page($0, token) }
            all += items(response) ?? []
            token = nextToken(response).flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return all
    }

    private func newBudget() -> Budget {
        Budget(bucket: TokenBucket(ratePerSecond: limits.requestsPerSecond, burst: limits.burst))
    }

    /// Seconds since the gate was made: the token buckets' monotonic time.
    private var now: Double { LauncherConfiguration.seconds(ContinuousClock.now - origin) }

    private func pause(_ endpoint: Endpoint, for delay: Duration) {
        let until = now + LauncherConfiguration.seconds(delay)
        budgets.withLock { $0[endpoint, default: newBudget()].pause(until: until) }
    }

    private func waitForBudget(_ endpoint: Endpoint) async throws {
        let now = self.now
        let wait = budgets.withLock { $0[endpoint, default: newBudget()].take(now: now) }
        if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
    }
}
