/// What drs-sim counted, so tests can assert on how a client behaved towards DRS.
///
/// Served as JSON by `GET /admin/counters` and as Prometheus text by `/metrics`.
public struct DRSSimCounters: Codable, Sendable, Equatable {
    /// Operation → account → calls (every authenticated DRS request, whatever its outcome).
    public var calls: [String: [String: Int]] = [:]
    /// Operation → error type → answers.
    public var errors: [String: [String: Int]] = [:]
    /// `ConflictException`s answered (a server already in a job).
    public var conflicts = 0
    /// `ThrottlingException`s answered.
    public var throttles = 0
    /// `ServiceQuotaExceededException`s answered.
    public var quotaExceeded = 0
    /// `ValidationException`s answered.
    public var validationErrors = 0
    /// `ResourceNotFoundException`s answered.
    public var notFound = 0
    /// `InternalServerException`s injected by a fault.
    public var injectedInternalErrors = 0
    /// Requests refused for their signature or key (403).
    public var authFailures = 0
    /// The most jobs seen active at once in one account and region.
    public var maxConcurrentJobs = 0
    /// `account/region` → the most jobs seen active at once there.
    public var maxConcurrentJobsByEstate: [String: Int] = [:]
    /// The most source servers seen in active jobs at once in one account and region.
    public var maxServersInActiveJobs = 0
    /// `muster:launchGroup` tag value → LAUNCH jobs started with it.
    public var jobsByLaunchGroup: [String: Int] = [:]
    /// LAUNCH jobs started through `StartRecovery`.
    public var jobsStarted = 0
    /// TERMINATE jobs started through `TerminateRecoveryInstances`.
    public var terminateJobsStarted = 0
    /// Jobs created by the `foreignJob` fault.
    public var foreignJobsStarted = 0
    /// Servers that reached LAUNCHED.
    public var serversLaunched = 0
    /// Servers that ended FAILED.
    public var serversFailed = 0
    /// Recovery instances removed by TERMINATE jobs.
    public var recoveryInstancesTerminated = 0
    /// EC2 requests answered RequestLimitExceeded (fault `ec2Throttling`).
    public var ec2Throttled = 0
    /// SSM Automation executions started (a repeated ClientToken starts none).
    public var ssmAutomationsStarted = 0
    /// StartAutomationExecution calls answered with an existing execution (same ClientToken).
    public var ssmIdempotentStarts = 0
    /// Automation executions stopped (StopAutomationExecution).
    public var ssmAutomationsStopped = 0

    /// All zero.
    public init() {}

    /// Calls of `operation` across accounts.
    public func calls(_ operation: String) -> Int {
        calls[operation, default: [:]].values.reduce(0, +)
    }

    mutating func recordCall(_ operation: String, account: String) {
        calls[operation, default: [:]][account, default: 0] += 1
    }

    mutating func recordError(_ operation: String, _ error: DRSSimError) {
        errors[operation, default: [:]][error.errorType, default: 0] += 1
        switch error.errorType {
        case "ConflictException": conflicts += 1
        case "ThrottlingException": throttles += 1
        case "ServiceQuotaExceededException": quotaExceeded += 1
        case "ValidationException": validationErrors += 1
        case "ResourceNotFoundException": notFound += 1
        default: break
        }
    }

    mutating func recordConcurrency(estate: EstateKey, jobs: Int, servers: Int) {
        maxConcurrentJobs = max(maxConcurrentJobs, jobs)
        maxConcurrentJobsByEstate[estate.description] = max(maxConcurrentJobsByEstate[estate.description] ?? 0, jobs)
        maxServersInActiveJobs = max(maxServersInActiveJobs, servers)
    }
}
