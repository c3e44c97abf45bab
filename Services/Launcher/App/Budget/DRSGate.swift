import Foundation
import Logging
import MusterDRS
import MusterDomain
import MusterEC2
import Synchronization

/// Every DRS and EC2 call passes here (DESIGN §5 "Per-endpoint budget"): it
/// waits for the endpoint's token bucket (one per endpoint, shared by both
/// services), and for a pause set by throttling (`Retry-After`, else backoff
/// with full jitter) that holds back every call of that service to that
/// endpoint, not just the throttled one — an EC2 pause never holds back DRS.
/// It counts calls per operation and outcome.
public final class DRSGate: Sendable {
    private let budgets = Mutex<[Endpoint: EndpointBudget]>([:])
    private let limits: EndpointLimits
    private let policy: ThrottlePolicy
    private let accounts: AccountDirectory
    private let logger: Logger
    private let origin = ContinuousClock.now
    /// Gives up repeating a 5xx after this many attempts (throttling is always ridden out).
    private let maxServerErrorAttempts = 6
    /// Gives up an EC2 call after this many attempts (throttled or failed).
    private let maxEC2Attempts = 6

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

    /// Whose call it is: launches, polls and clean-ups spend the budget; background work (readiness
    /// checks, issue 16) only spends tokens spare above a reserve of half the burst, is never repeated
    /// and never pauses the endpoint when throttled, so it cannot delay a StartRecovery.
    public enum Priority: Sendable {
        /// Launch work: first call on the budget.
        case launch
        /// Readiness checks: spare tokens only; a failure is returned at once.
        case background
    }

    /// Calls `body` with `endpoint`'s client within its budget.
    public func call<T: Sendable>(
        _ endpoint: Endpoint, _ operation: String, repeat mode: Repeat = .anyRetryable, priority: Priority = .launch,
        _ body: (DRSClient) async throws -> T
    ) async throws -> T {
        let client = try accounts.client(for: endpoint)
        var attempt = 0, serverErrors = 0
        while true {
            try await waitForBudget(endpoint, .drs, priority: priority)
            if priority == .background {
                do {
                    let result = try await body(client)
                    LauncherMetrics.drsCall(operation, outcome: "ok")
                    return result
                } catch let error as DRSError {
                    LauncherMetrics.drsCall(operation, outcome: error.errorType)
                    throw error
                }
            }
            do {
                let result = try await body(client)
                LauncherMetrics.drsCall(operation, outcome: "ok")
                return result
            } catch let error as DRSError {
                LauncherMetrics.drsCall(operation, outcome: error.errorType)
                var generator = SystemRandomNumberGenerator()
                let delay = policy.delay(retryAfterSeconds: error.retryAfterSeconds, attempt: attempt, using: &generator)
                if case .throttling = error {
                    pause(endpoint, .drs, for: delay)
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
        _ endpoint: Endpoint, _ operation: String, priority: Priority = .launch, items: (Page) -> [Item]?,
        nextToken: (Page) -> String?, _ page: (DRSClient, String?) async throws -> Page
    ) async throws -> [Item] {
        var all: [Item] = []
        var token: String?
        repeat {
            let response = try await call(endpoint, operation, priority: priority) { [token] in try await page($0, token) }
            all += items(response) ?? []
            token = nextToken(response).flatMap { $0.isEmpty ? nil : $0 }
        } while token != nil
        return all
    }

    /// Calls `body` with `endpoint`'s EC2 client within the endpoint's budget:
    /// throttling (`RequestLimitExceeded` …) pauses EC2 calls to the endpoint
    /// (backoff with full jitter; EC2 sends no `Retry-After`); 5xx and transport
    /// failures are repeated (every EC2 call the launcher makes is idempotent:
    /// reads, `SetDefaultVersion`, and versions created with a client token).
    /// After `maxEC2Attempts` the error is thrown, so a chunk whose settings EC2
    /// keeps refusing is requeued (throttled) instead of holding its admission
    /// pass — and with it the endpoint's other launches — indefinitely.
    public func callEC2<T: Sendable>(
        _ endpoint: Endpoint, _ operation: String, priority: Priority = .launch, _ body: (EC2Client) async throws -> T
    ) async throws -> T {
        try await callRepeating(
            endpoint, .ec2, operation, priority: priority, client: try accounts.ec2Client(for: endpoint), body: body
        ) {
            guard let error = $0 as? EC2Error else { return nil }
            return (error.code, error.isRetryable, error.isThrottling)
        }
    }

    /// Calls `body` with `endpoint`'s SSM client within the endpoint's budget
    /// (the same token bucket as DRS and EC2; its own throttling pause):
    /// throttling, 5xx and transport failures are repeated up to
    /// `maxEC2Attempts` times (every SSM call the launcher makes is
    /// idempotent), then the error is thrown and the caller retries later;
    /// at `.background` priority (readiness) a failure is thrown at once.
    public func callSSM<T: Sendable>(
        _ endpoint: Endpoint, _ operation: String, priority: Priority = .launch, _ body: (SSMClient) async throws -> T
    ) async throws -> T {
        try await callRepeating(endpoint, .ssm, operation, priority: priority, client: try accounts.ssmClient(for: endpoint),
                                body: body) {
            guard let error = $0 as? SSMError else { return nil }
            return (error.type, error.isRetryable, error.isThrottling)
        }
    }

    /// The EC2/SSM call loop: within `service`'s budget; an error `classify`
    /// knows is counted, and a retryable one repeated (throttling pauses the
    /// service at the endpoint, else backoff) up to `maxEC2Attempts` times —
    /// except at `.background` priority (readiness), which is never repeated.
    private func callRepeating<Client, T: Sendable>(
        _ endpoint: Endpoint, _ service: EndpointBudget.Service, _ operation: String, priority: Priority = .launch,
        client: Client,
        body: (Client) async throws -> T,
        classify: (any Error) -> (code: String, retryable: Bool, throttling: Bool)?
    ) async throws -> T {
        var attempt = 0
        while true {
            try await waitForBudget(endpoint, service, priority: priority)
            do {
                let result = try await body(client)
                LauncherMetrics.drsCall(operation, outcome: "ok")
                return result
            } catch {
                guard let known = classify(error) else { throw error }
                let code = known.code
                LauncherMetrics.drsCall(operation, outcome: code)
                if priority == .background { throw error }
                var generator = SystemRandomNumberGenerator()
                let delay = policy.delay(retryAfterSeconds: nil, attempt: attempt, using: &generator)
                guard known.retryable, attempt + 1 < maxEC2Attempts else { throw error }
                if known.throttling {
                    pause(endpoint, service, for: delay)
                } else {
                    try await Task.sleep(for: delay)
                }
                attempt += 1
                LauncherMetrics.retry(operation, reason: code)
                logger.debug("\(service.rawValue.uppercased()) call will be repeated", metadata: [
                    "endpoint": "\(endpoint)", "operation": "\(operation)", "error": "\(code)", "delay": "\(delay)",
                ])
            }
        }
    }

    /// When `service`'s calls to `endpoint` may go again, in the gate's seconds (0: not paused); for tests and metrics.
    public func pausedFor(_ endpoint: Endpoint, _ service: EndpointBudget.Service) -> Double {
        let now = self.now
        return max(0, budgets.withLock { $0[endpoint]?.pausedUntil(service) ?? 0 } - now)
    }

    private func newBudget() -> EndpointBudget {
        EndpointBudget(bucket: TokenBucket(ratePerSecond: limits.requestsPerSecond, burst: limits.burst))
    }

    /// Seconds since the gate was made: the token buckets' monotonic time.
    private var now: Double { LauncherConfiguration.seconds(ContinuousClock.now - origin) }

    private func pause(_ endpoint: Endpoint, _ service: EndpointBudget.Service, for delay: Duration) {
        let until = now + LauncherConfiguration.seconds(delay)
        budgets.withLock { $0[endpoint, default: newBudget()].pause(service, until: until) }
    }

    /// Waits out a pause of `service` (spending nothing meanwhile), then for a token.
    private func waitForBudget(_ endpoint: Endpoint, _ service: EndpointBudget.Service, priority: Priority = .launch)
        async throws
    {
        let reserve = limits.burst / 2
        while true {
            let now = self.now
            switch budgets.withLock({ budgets -> EndpointBudget.Admission in
                priority == .launch ? budgets[endpoint, default: newBudget()].take(service, now: now)
                    : budgets[endpoint, default: newBudget()].takeSpare(service, now: now, reserve: reserve)
            }) {
            case .granted(let wait):
                if wait > 0 { try await Task.sleep(for: .milliseconds(Int64(wait * 1000))) }
                return
            case .paused(let wait):
                try await Task.sleep(for: .milliseconds(max(1, Int64(wait * 1000))))
            }
        }
    }
}
