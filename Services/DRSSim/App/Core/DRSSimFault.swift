/// A fault to inject, as posted to `POST /admin/faults`.
///
/// One flat JSON object whose `type` decides which fields matter (see the README):
/// - `launchFailure`: `sourceServerID`'s next `count` (default 1) launches fail at LAUNCH_START.
/// - `internalErrors`: DRS requests answer 500 with probability `rate` (0…1), optionally only
///   for `operations`, for `count` requests (default: until cleared).
/// - `latency`: DRS requests wait `milliseconds` before answering, optionally only `operations`.
///   With `phase` `after` (for `internalErrors` and `latency`), DRS acts first — the job exists —
///   and only then is the answer delayed or replaced by the 500: the client cannot tell.
/// - `stall`: the next `count` (default 1) jobs (touching `sourceServerID`, if given) stop at
///   conversion for `seconds` wall-clock seconds, or forever if `seconds` is absent.
/// - `foreignJob`: starts, right away, a drill job not made by the client on `sourceServerIDs`
///   that holds them for `seconds` wall-clock seconds (so the client meets `ConflictException`).
/// - `ec2Throttling`: EC2 requests (optionally only `operations`, e.g. `ModifyLaunchTemplate`)
///   answer `RequestLimitExceeded` (HTTP 503, as EC2 does) for `count` requests (default: until cleared).
/// `accountID` and `region` narrow any fault to one estate.
public struct DRSSimFault: Codable, Sendable, Equatable {
    /// The fault kinds.
    public enum Kind: String, Codable, Sendable {
        /// A server's next launch fails.
        case launchFailure
        /// 500s at a rate.
        case internalErrors
        /// Added latency.
        case latency
        /// A job that stalls.
        case stall
        /// A job started outside the client, holding servers.
        case foreignJob
        /// EC2 answers RequestLimitExceeded.
        case ec2Throttling
    }

    /// Which fault.
    public var type: Kind
    /// Only this account (all if absent).
    public var accountID: String?
    /// Only this region (all if absent).
    public var region: String?
    /// The server (`launchFailure`, optional for `stall`).
    public var sourceServerID: String?
    /// The servers (`foreignJob`).
    public var sourceServerIDs: [String]?
    /// How many times the fault fires before it is used up.
    public var count: Int?
    /// Probability per request (`internalErrors`).
    public var rate: Double?
    /// Operation names the fault applies to (`internalErrors`, `latency`); all if absent.
    public var operations: [String]?
    /// Added latency (`latency`).
    public var milliseconds: Int?
    /// Wall-clock seconds (`stall`, `foreignJob`), converted at the time scale in force.
    public var seconds: Double?
    /// The raw error a failed launch reports (`launchFailure`).
    public var message: String?
    /// `before` (default): the fault hits before DRS acts; `after`: DRS acts, then the
    /// answer is delayed (`latency`) or lost to a 500 (`internalErrors`).
    public var phase: Phase?

    /// When a fault hits a request.
    public enum Phase: String, Codable, Sendable {
        /// Before DRS acts on the request.
        case before
        /// After DRS acted on it.
        case after
    }

    /// `phase`, defaulting to `before`.
    var effectivePhase: Phase { phase ?? .before }

    /// Memberwise initializer.
    public init(
        type: Kind, accountID: String? = nil, region: String? = nil, sourceServerID: String? = nil,
        sourceServerIDs: [String]? = nil, count: Int? = nil, rate: Double? = nil, operations: [String]? = nil,
        milliseconds: Int? = nil, seconds: Double? = nil, message: String? = nil, phase: Phase? = nil
    ) {
        self.phase = phase
        self.type = type
        self.accountID = accountID
        self.region = region
        self.sourceServerID = sourceServerID
        self.sourceServerIDs = sourceServerIDs
        self.count = count
        self.rate = rate
        self.operations = operations
        self.milliseconds = milliseconds
        self.seconds = seconds
        self.message = message
    }

    func applies(to key: EstateKey) -> Bool {
        (accountID == nil || accountID == key.accountID) && (region == nil || region == key.region)
    }

    func applies(toOperation operation: String) -> Bool {
        operations.map { $0.contains(operation) } ?? true
    }
}

/// A fault in force, with how many more times it fires (nil: until cleared).
public struct ActiveFault: Codable, Sendable, Equatable {
    /// Id for listing and deleting (`fault-1`, …).
    public var id: String
    /// The fault as posted (with `seconds` already in simulated seconds for stalls).
    public var fault: DRSSimFault
    /// Firings left; nil means unlimited.
    public var remaining: Int?
}

/// The faults in force and the decisions they make.
struct FaultBook: Sendable, Equatable {
    private(set) var active: [ActiveFault] = []
    private var nextID = 1

    mutating func add(_ fault: DRSSimFault, remaining: Int?) -> ActiveFault {
        let entry = ActiveFault(id: "fault-\(nextID)", fault: fault, remaining: remaining)
        nextID += 1
        active.append(entry)
        return entry
    }

    mutating func remove(id: String) -> Bool {
        let before = active.count
        active.removeAll { $0.id == id }
        return active.count != before
    }

    mutating func removeAll() {
        active = []
    }

    /// The raw error for `serverID`'s launch, if a `launchFailure` fault claims it (used up once).
    mutating func takeLaunchFailure(_ key: EstateKey, serverID: String) -> String? {
        take { $0.type == .launchFailure && $0.applies(to: key) && $0.sourceServerID == serverID }
            .map { $0.message ?? "Injected fault: EC2 RunInstances failed for the recovery instance of \(serverID)." }
    }

    /// If a `stall` fault claims a job on `serverIDs`: `.some(simulated seconds or nil for forever)`.
    mutating func takeStall(_ key: EstateKey, serverIDs: [String]) -> Double?? {
        take { fault in
            fault.type == .stall && fault.applies(to: key)
                && (fault.sourceServerID.map { serverIDs.contains($0) } ?? true)
        }.map(\.seconds)
    }

    /// Milliseconds of latency to add to a request in `phase`.
    func latency(_ key: EstateKey, operation: String, phase: DRSSimFault.Phase = .before) -> Int {
        active.filter {
            $0.fault.type == .latency && $0.fault.applies(to: key) && $0.fault.applies(toOperation: operation)
                && $0.fault.effectivePhase == phase
        }
            .map { $0.fault.milliseconds ?? 0 }
            .max() ?? 0
    }

    /// Whether this request should fail with a 500, drawing from the fault stream.
    mutating func takeInternalError(
        _ key: EstateKey, operation: String, phase: DRSSimFault.Phase = .before, rng: inout SeededRandom
    ) -> Bool {
        guard let index = active.firstIndex(where: {
            $0.fault.type == .internalErrors && $0.fault.applies(to: key) && $0.fault.applies(toOperation: operation)
                && $0.fault.effectivePhase == phase
        }) else { return false }
        guard rng.unit() < (active[index].fault.rate ?? 1) else { return false }
        consume(at: index)
        return true
    }

    /// Whether this EC2 request is throttled (used up once).
    mutating func takeEC2Throttling(_ key: EstateKey, action: String) -> Bool {
        take { $0.type == .ec2Throttling && $0.applies(to: key) && $0.applies(toOperation: action) } != nil
    }

    private mutating func take(_ matches: (DRSSimFault) -> Bool) -> DRSSimFault? {
        guard let index = active.firstIndex(where: { matches($0.fault) }) else { return nil }
        let fault = active[index].fault
        consume(at: index)
        return fault
    }

    private mutating func consume(at index: Int) {
        guard let remaining = active[index].remaining else { return }
        if remaining <= 1 {
            active.remove(at: index)
        } else {
            active[index].remaining = remaining - 1
        }
    }
}
