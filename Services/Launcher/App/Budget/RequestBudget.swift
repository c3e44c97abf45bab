import Foundation
import MusterDRS
import MusterMessaging

/// A token bucket capping one endpoint's DRS request rate (DESIGN §5: DRS
/// publishes no TPS figure, so the rate is configurable). Pure: the caller
/// passes monotonic seconds and sleeps for the returned wait.
public struct TokenBucket: Sendable, Equatable {
    /// Tokens added per second.
    public var ratePerSecond: Double
    /// The most tokens held.
    public var burst: Double
    private var tokens: Double
    private var last: Double?

    /// A full bucket.
    public init(ratePerSecond: Double, burst: Double) {
        self.ratePerSecond = max(ratePerSecond, 0.001)
        self.burst = max(burst, 1)
        self.tokens = self.burst
    }

    /// Takes one token at `now`: returns 0 when one was available, else the
    /// seconds until one will be (the token is then already spent, so callers
    /// that wait are served in order).
    public mutating func take(now: Double) -> Double {
        refill(now: now)
        tokens -= 1
        return tokens >= 0 ? 0 : -tokens / ratePerSecond
    }

    /// Takes one token at `now` only if `reserve` tokens (at most `burst - 1`) remain after it — so
    /// background work (readiness checks) never spends what launches need, and never queues ahead of
    /// a launch that waits (a waiting launch leaves the bucket below zero). Returns 0 when it took
    /// one, else the seconds until one may be spare (nothing is spent then).
    public mutating func takeSpare(now: Double, reserve: Double) -> Double {
        refill(now: now)
        let floor = min(max(reserve, 0), burst - 1)
        if tokens - 1 >= floor {
            tokens -= 1
            return 0
        }
        return max(0.001, (floor + 1 - tokens) / ratePerSecond)
    }

    private mutating func refill(now: Double) {
        if let last { tokens = min(burst, tokens + max(0, now - last) * ratePerSecond) }
        last = now
    }
}

/// One endpoint's request budget (DESIGN §5), shared by every AWS service
/// the launcher calls there (DRS, EC2 for launch templates, SSM for wave hooks): one token
/// bucket, so EC2 calls count against the same rate as DRS's, and a pause per
/// service, so a throttled EC2 holds back EC2 calls only and never starves
/// StartRecovery. Pure: the caller passes monotonic seconds.
public struct EndpointBudget: Sendable, Equatable {
    /// Which AWS service a call goes to.
    public enum Service: String, Sendable, Hashable, CaseIterable {
        /// Elastic Disaster Recovery.
        case drs
        /// EC2 (launch templates, subnets, security groups).
        case ec2
        /// Systems Manager (SSM Automation wave-hook steps).
        case ssm
    }

    /// What `take` decided.
    public enum Admission: Sendable, Equatable {
        /// A token is spent; go after waiting this many seconds (0: now).
        case granted(wait: Double)
        /// The service is paused (throttled) for this many seconds more; no
        /// token was spent — ask again after waiting.
        case paused(wait: Double)
    }

    /// The shared token bucket.
    public private(set) var bucket: TokenBucket
    private var pauses: [Service: Double] = [:]

    /// A full bucket, nothing paused.
    public init(bucket: TokenBucket) {
        self.bucket = bucket
    }

    /// Holds back `service`'s calls until `until` (a later pause wins).
    public mutating func pause(_ service: Service, until: Double) {
        pauses[service] = max(pauses[service] ?? 0, until)
    }

    /// When `service` may call again (0: not paused).
    public func pausedUntil(_ service: Service) -> Double { pauses[service] ?? 0 }

    /// Asks for a token for `service` at `now`.
    public mutating func take(_ service: Service, now: Double) -> Admission {
        let paused = (pauses[service] ?? 0) - now
        if paused > 0 { return .paused(wait: paused) }
        return .granted(wait: bucket.take(now: now))
    }

    /// Asks for a spare token (``TokenBucket/takeSpare(now:reserve:)``) for background work: granted
    /// with no wait, or `.paused` with the wait before asking again (no token spent).
    public mutating func takeSpare(_ service: Service, now: Double, reserve: Double) -> Admission {
        let paused = (pauses[service] ?? 0) - now
        if paused > 0 { return .paused(wait: paused) }
        let wait = bucket.takeSpare(now: now, reserve: reserve)
        return wait == 0 ? .granted(wait: 0) : .paused(wait: wait)
    }
}

/// How long to wait before repeating a DRS call DRS asked to slow down for
/// (ThrottlingException 429, InternalServerException 500, other 5xx): the
/// `Retry-After` it sent, else exponential backoff with full jitter. Pure.
public struct ThrottlePolicy: Sendable, Equatable {
    /// Backoff when DRS names no delay.
    public var backoff: Backoff
    /// The longest `Retry-After` honoured (a larger one is capped).
    public var maxRetryAfter: Duration

    /// Creates a policy.
    public init(backoff: Backoff = Backoff(base: .milliseconds(200), cap: .seconds(20)), maxRetryAfter: Duration = .seconds(60)) {
        self.backoff = backoff
        self.maxRetryAfter = maxRetryAfter
    }

    /// The delay before retry number `attempt` (0-based) after `retryAfterSeconds`.
    public func delay(retryAfterSeconds: Int?, attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        if let seconds = retryAfterSeconds, seconds >= 0 { return min(.seconds(seconds), maxRetryAfter) }
        return backoff.delay(attempt: attempt, using: &generator)
    }
}

/// The per-endpoint quotas and limits of DESIGN §5.
public struct EndpointLimits: Sendable, Equatable {
    /// Requests per second.
    public var requestsPerSecond: Double
    /// Bucket size.
    public var burst: Double
    /// Concurrent jobs (AWS: 20).
    public var maxConcurrentJobs: Int
    /// Servers in all active jobs.
    public var maxServersInActiveJobs: Int
    /// Servers per job (1…200).
    public var maxServersPerJob: Int

    /// Creates limits; the defaults are DESIGN's.
    public init(
        requestsPerSecond: Double = 10, burst: Double = 20, maxConcurrentJobs: Int = 20,
        maxServersInActiveJobs: Int = 200, maxServersPerJob: Int = 100
    ) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
        self.maxConcurrentJobs = maxConcurrentJobs
        self.maxServersInActiveJobs = maxServersInActiveJobs
        self.maxServersPerJob = maxServersPerJob
    }

    /// The chunk size actually used: a chunk must fit both the per-job limit
    /// and the servers-in-active-jobs quota, else it could never start.
    public var effectiveServersPerJob: Int {
        max(1, min(maxServersPerJob, maxServersInActiveJobs, Chunking.apiMaximum))
    }

    /// The admission quotas.
    public var quotas: LaunchQueue.Quotas {
        LaunchQueue.Quotas(maxConcurrentJobs: maxConcurrentJobs, maxServersInActiveJobs: maxServersInActiveJobs)
    }
}
