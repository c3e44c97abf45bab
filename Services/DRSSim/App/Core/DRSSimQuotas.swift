/// The limits DRS enforces, per account and region (AWS service quotas are regional).
public struct DRSSimQuotas: Codable, Sendable, Equatable {
    /// Jobs not yet COMPLETED at once (AWS: 20).
    public var maxConcurrentJobs: Int
    /// Source servers in all active jobs together (AWS default: 200).
    public var maxServersInActiveJobs: Int
    /// Source servers in one `StartRecovery` (API maximum: 200).
    public var maxServersPerJob: Int

    /// AWS's defaults.
    public init(maxConcurrentJobs: Int = 20, maxServersInActiveJobs: Int = 200, maxServersPerJob: Int = 200) {
        self.maxConcurrentJobs = maxConcurrentJobs
        self.maxServersInActiveJobs = maxServersInActiveJobs
        self.maxServersPerJob = maxServersPerJob
    }
}

/// The request-rate limit per account and region: a token bucket in wall-clock time.
public struct DRSSimRateLimit: Codable, Sendable, Equatable {
    /// Sustained requests per second.
    public var requestsPerSecond: Double
    /// Requests allowed in a burst.
    public var burst: Double

    /// Defaults generous enough not to throttle a well-behaved client.
    public init(requestsPerSecond: Double = 50, burst: Double = 100) {
        self.requestsPerSecond = requestsPerSecond
        self.burst = burst
    }
}
