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
public enum PostLaunchActionStatus: OpenVocabulary {
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

    /// `IN_PROGRESS`, `SUCCEEDED`, `FAILED`.
    public static var known: [Self] { [.inProgress, .succeeded, .failed] }

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

/// How one readiness check came out (`ok`, `warning`, `unknown`, `blocking`),
/// mildest first: a plan's verdict is its worst check. The planner's checks,
/// the launcher's `readiness.checked` answers and `plan.readiness-changed`
/// all use it. A word this build does not know (a newer launcher's) decodes
/// as ``unknown`` — "could not be answered" — never as a decoding error.
public enum ReadinessStatus: String, Sendable, Codable, CaseIterable, Comparable {
    /// Nothing to do.
    case ok
    /// The plan can run but something deserves a look.
    case warning
    /// The check could not be answered (e.g. the launcher did not reply in time).
    case unknown
    /// The plan would fail or harm a running recovery; starting it is refused without `force`.
    case blocking

    private var rank: Int {
        switch self {
        case .ok: 0
        case .warning: 1
        case .unknown: 2
        case .blocking: 3
        }
    }

    /// Milder first.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }

    /// Reads the word; an unknown one is ``unknown``.
    public init(from decoder: any Decoder) throws {
        self = Self(rawValue: try decoder.singleValueContainer().decode(String.self)) ?? .unknown
    }
}

/// SSM's `AutomationExecutionStatus` (botocore's enum), and Muster's own
/// `StartFailed` for an automation SSM refused to start. A value type over
/// the word rather than a closed enum: SSM adds statuses, and a word this
/// build does not know is kept as received (it is not terminal), never a
/// decoding error. Encoded as the plain word.
public struct AutomationExecutionStatus: RawRepresentable, Codable, Hashable, Sendable, ExpressibleByStringLiteral,
    CustomStringConvertible
{
    /// SSM's word.
    public let rawValue: String

    /// Wraps any word, known or not.
    public init(rawValue: String) { self.rawValue = rawValue }

    /// Wraps a literal word.
    public init(stringLiteral value: String) { self.rawValue = value }

    /// SSM's word.
    public var description: String { rawValue }

    /// `InProgress`.
    public static let inProgress: Self = "InProgress"
    /// `Success`.
    public static let success: Self = "Success"
    /// `Failed`.
    public static let failed: Self = "Failed"
    /// `TimedOut`.
    public static let timedOut: Self = "TimedOut"
    /// `Cancelled`.
    public static let cancelled: Self = "Cancelled"
    /// Muster's word for an automation SSM refused to start.
    public static let startFailed: Self = "StartFailed"

    /// The statuses after which nothing changes (botocore's enum).
    public static let terminal: Set<Self> = [
        "Success", "TimedOut", "Cancelled", "Failed", "Rejected", "Exited", "CompletedWithSuccess",
        "CompletedWithFailure", "ChangeCalendarOverrideRejected", startFailed,
    ]

    /// True once the automation ended (or could not start).
    public var isTerminal: Bool { Self.terminal.contains(self) }
}
