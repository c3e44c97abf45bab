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
