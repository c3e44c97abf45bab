import Foundation
import MusterDRS

/// The whole simulated DRS: estates, jobs, clock, quotas, rate limits, faults and counters.
///
/// A plain value with no I/O: every operation takes the wall-clock time of the request
/// (`realNow`) and derives simulated time from it, so tests drive it with chosen times and get
/// the same answers every run. `DRSSimEngine` wraps it in an actor for the HTTP server.
public struct DRSSimulation: Sendable {
    /// The configuration it started from (and returns to on reset).
    public let configuration: DRSSimConfiguration
    /// Wall clock → simulated clock.
    public internal(set) var clock: SimulatedClock
    /// Quotas in force.
    public internal(set) var quotas: DRSSimQuotas
    /// The request-rate limit in force.
    public internal(set) var rateLimit: DRSSimRateLimit
    /// What has been counted since start-up or the last reset.
    public internal(set) var counters = DRSSimCounters()
    /// The undocumented choices in force (see `DRSSimBehaviour`).
    public internal(set) var behaviour: DRSSimBehaviour

    var estates: [EstateKey: Estate] = [:]
    var credentials: [String: DRSSimCredential]
    var random: SimulationRandomStreams
    var faults = FaultBook()
    var limiters: [EstateKey: TokenBucket] = [:]
    /// The EC2 side: launch templates (issue 13).
    var ec2 = EC2World()
    /// The SSM side: Automation executions (issue 16).
    var ssm = SSMWorld()

    /// Builds the initial state from `configuration` and its seed document.
    ///
    /// - Throws: `DRSSimAdminError` if the seed document is invalid.
    public init(configuration: DRSSimConfiguration, realStart: Date) throws(DRSSimAdminError) {
        try self.init(
            configuration: configuration,
            clock: SimulatedClock(
                start: configuration.epoch ?? realStart, realStart: realStart, timeScale: configuration.timeScale
            ),
            seedDocument: configuration.seedDocument,
            realNow: realStart
        )
    }

    /// The state `configuration` describes, seeded with `seedDocument`, on `clock`.
    init(
        configuration: DRSSimConfiguration, clock: SimulatedClock, seedDocument: SeedDocument, realNow: Date
    ) throws(DRSSimAdminError) {
        self.configuration = configuration
        self.clock = clock
        self.quotas = configuration.quotas
        self.rateLimit = configuration.rateLimit
        self.behaviour = configuration.behaviour
        self.credentials = configuration.credentials
        self.random = SimulationRandomStreams(seed: configuration.seed)
        try seed(seedDocument, realNow: realNow)
    }

    /// The account an access key authenticates as, or nil for an unknown key.
    public func credential(forAccessKey accessKeyID: String) -> DRSSimCredential? {
        credentials[accessKeyID]
    }

    /// All access keys and their credentials (for building a signature verifier).
    public var allCredentials: [String: DRSSimCredential] { credentials }

    /// Latency a `latency` fault adds to this request, in milliseconds (0 if none).
    public func injectedLatencyMilliseconds(
        operation: String, accountID: String, region: String, phase: DRSSimFault.Phase = .before
    ) -> Int {
        faults.latency(EstateKey(accountID: accountID, region: region), operation: operation, phase: phase)
    }

    /// Counts a request refused before it reached DRS logic (bad signature, unknown key).
    public mutating func recordAuthFailure() {
        counters.authFailures += 1
    }

    /// Runs one DRS operation: counts it, applies the rate limit and injected 500s, checks the
    /// estate exists, brings it to the current simulated time, runs `body`, counts errors.
    mutating func handle<T>(
        _ operation: DRSOperation, accountID: String, region: String, realNow: Date,
        _ body: (inout DRSSimulation, EstateKey, Date) throws(DRSSimError) -> T
    ) throws(DRSSimError) -> T {
        let key = EstateKey(accountID: accountID, region: region)
        counters.recordCall(operation.name, account: accountID)
        do throws(DRSSimError) {
            try admit(operation, key: key, realNow: realNow)
            let now = clock.now(real: realNow)
            estates[key]?.advance(to: now, counters: &counters, format: behaviour.timestampFormat)
            let result = try body(&self, key, now)
            if faults.takeInternalError(key, operation: operation.name, phase: .after, rng: &random.faults) {
                // DRS acted; the answer is lost.
                counters.injectedInternalErrors += 1
                throw .internalError("Injected fault: internal error in \(operation.name) after it took effect.",
                                     retryAfterSeconds: 1)
            }
            return result
        } catch {
            counters.recordError(operation.name, error)
            throw error
        }
    }

    private mutating func admit(_ operation: DRSOperation, key: EstateKey, realNow: Date) throws(DRSSimError) {
        var bucket = limiters[key]
            ?? TokenBucket(ratePerSecond: rateLimit.requestsPerSecond, burst: rateLimit.burst, now: realNow)
        let wait = bucket.take(now: realNow)
        limiters[key] = bucket
        if let wait {
            throw .throttling(retryAfterSeconds: max(1, Int(wait.rounded(.up).clamped(to: 1...3600))))
        }
        if faults.takeInternalError(key, operation: operation.name, rng: &random.faults) {
            counters.injectedInternalErrors += 1
            throw .internalError("Injected fault: internal error in \(operation.name). Retry the request.", retryAfterSeconds: 1)
        }
        guard estates[key] != nil else {
            throw .uninitialized(accountID: key.accountID, region: key.region)
        }
    }

    /// Brings every estate to the simulated time at `realNow` (before reading counters or state).
    public mutating func advanceAll(realNow: Date) {
        let now = clock.now(real: realNow)
        for key in estates.keys.sorted() {
            estates[key]?.advance(to: now, counters: &counters, format: behaviour.timestampFormat)
        }
    }

    /// A timestamp in the configured wire form.
    func timestamp(_ date: Date) -> String {
        DRSDateTime.string(from: date, style: behaviour.timestampFormat)
    }

    /// The estate for `key`, or the `UninitializedAccountException` DRS answers without one.
    func estate(_ key: EstateKey) throws(DRSSimError) -> Estate {
        guard let estate = estates[key] else { throw .uninitialized(accountID: key.accountID, region: key.region) }
        return estate
    }
}

extension Double {
    fileprivate func clamped(to range: ClosedRange<Double>) -> Double {
        Swift.min(Swift.max(self, range.lowerBound), range.upperBound)
    }
}
