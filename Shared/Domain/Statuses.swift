/// Status vocabularies shared by every service, the database and the events
/// (DESIGN §7). Raw values are the wire and column values; never re-declare
/// these in a service.

/// Whether an execution is an isolated test or the real thing.
public enum ExecutionType: String, Sendable, Codable, CaseIterable {
    /// Isolated test: recovery instances are cleaned up afterwards.
    case drill = "DRILL"
    /// The real recovery.
    case recovery = "RECOVERY"
}

/// Lifecycle of one execution of a recovery plan.
public enum ExecutionStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING", running = "RUNNING", paused = "PAUSED", completed = "COMPLETED"
    case partial = "PARTIAL", failed = "FAILED", cancelled = "CANCELLED", timedOut = "TIMED_OUT"

    /// True when no further transition can happen.
    public var isTerminal: Bool {
        switch self {
        case .completed, .partial, .failed, .cancelled, .timedOut: true
        case .pending, .running, .paused: false
        }
    }
}

/// Lifecycle of one wave inside an execution.
public enum WaveStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING", waiting = "WAITING", queued = "QUEUED", launching = "LAUNCHING"
    case running = "RUNNING", completed = "COMPLETED", partial = "PARTIAL", failed = "FAILED"
    case skipped = "SKIPPED", timedOut = "TIMED_OUT"

    /// True when no further transition can happen.
    public var isTerminal: Bool {
        switch self {
        case .completed, .partial, .failed, .skipped, .timedOut: true
        case .pending, .waiting, .queued, .launching, .running: false
        }
    }
}

/// Lifecycle of one source server inside an execution.
public enum ServerStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING", launching = "LAUNCHING", inProgress = "IN_PROGRESS", launched = "LAUNCHED"
    case failed = "FAILED", terminated = "TERMINATED"

    /// True when no further transition can happen within the launch.
    public var isTerminal: Bool {
        switch self {
        case .launched, .failed, .terminated: true
        case .pending, .launching, .inProgress: false
        }
    }
}

/// A post-launch action run's status as DRS reports it
/// (`launchActionsStatus.runs[].status`), and the overall status of a
/// server's runs. DRS documents IN_PROGRESS, SUCCEEDED and FAILED; any other
/// word — a value AWS adds later — decodes as ``unknown(_:)`` (never a decoding
/// error, so a consumer neither parks nor stalls on it) and counts as not
/// finished. Encoded as the plain string.
public enum PostLaunchActionStatus: Sendable, Hashable, Codable, CustomStringConvertible {
    /// A run still in progress.
    case inProgress
    /// The run succeeded.
    case succeeded
    /// The run failed.
    case failed
    /// A word DRS did not document when Muster was written, kept as received.
    case unknown(String)

    /// Reads DRS's word, in any letter case.
    public init(rawValue: String) {
        switch rawValue.uppercased() {
        case "IN_PROGRESS": self = .inProgress
        case "SUCCEEDED": self = .succeeded
        case "FAILED": self = .failed
        default: self = .unknown(rawValue)
        }
    }

    /// DRS's word.
    public var rawValue: String {
        switch self {
        case .inProgress: "IN_PROGRESS"
        case .succeeded: "SUCCEEDED"
        case .failed: "FAILED"
        case .unknown(let raw): raw
        }
    }

    /// DRS's word.
    public var description: String { rawValue }

    /// Decodes the plain string.
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the plain string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// The overall status of one server's runs — the one rule, used by the
    /// launcher when it reports a job and by every reader of the report:
    /// FAILED when a run failed, SUCCEEDED when every run succeeded, else
    /// IN_PROGRESS (a run in progress, or in a state DRS added later); nil
    /// without runs.
    public static func overall(_ runs: [PostLaunchActionStatus]) -> PostLaunchActionStatus? {
        guard !runs.isEmpty else { return nil }
        if runs.contains(.failed) { return .failed }
        return runs.allSatisfy { $0 == .succeeded } ? .succeeded : .inProgress
    }
}
