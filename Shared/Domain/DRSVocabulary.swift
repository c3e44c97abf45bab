/// DRS's own status words as they travel in Muster's events (DESIGN §7):
/// a DRS job's status is only PENDING | STARTED | COMPLETED; failure lives in
/// each participating server's launch status.

/// The status of a DRS job.
public enum DRSJobStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING", started = "STARTED", completed = "COMPLETED"

    /// Ordering used to refuse stale snapshots: a job never goes backwards.
    public var rank: Int {
        switch self {
        case .pending: 0
        case .started: 1
        case .completed: 2
        }
    }
}

/// The kind of DRS job.
public enum DRSJobType: String, Sendable, Codable, CaseIterable {
    /// StartRecovery.
    case launch = "LAUNCH"
    /// TerminateRecoveryInstances.
    case terminate = "TERMINATE"
    /// A converted-snapshot job (not started by Muster).
    case createConvertedSnapshot = "CREATE_CONVERTED_SNAPSHOT"
}

/// The per-server launch status inside a DRS job.
public enum DRSLaunchStatus: String, Sendable, Codable, CaseIterable {
    case pending = "PENDING", inProgress = "IN_PROGRESS", launched = "LAUNCHED", failed = "FAILED"
    case terminated = "TERMINATED"

    /// True when the server's part of the job is over.
    public var isTerminal: Bool {
        switch self {
        case .launched, .failed, .terminated: true
        case .pending, .inProgress: false
        }
    }
}

/// Identifies one launch group: an execution's wave restricted to one
/// (account, region) (DESIGN §3). Its string form is the `muster:launchGroup`
/// tag on every DRS job and the key of launch intents.
public struct LaunchGroupID: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The execution.
    public var executionID: ExecutionID
    /// The wave's number within the plan (1-based).
    public var waveNumber: Int
    /// The DRS endpoint.
    public var endpoint: Endpoint

    /// Creates an id.
    public init(executionID: ExecutionID, waveNumber: Int, endpoint: Endpoint) {
        self.executionID = executionID
        self.waveNumber = waveNumber
        self.endpoint = endpoint
    }

    /// `<executionId>:w<wave>:<accountId>:<region>`.
    public var description: String { "\(executionID):w\(waveNumber):\(endpoint.accountID):\(endpoint.region)" }

    /// Parses the string form; nil when malformed (the execution part must be a UUID).
    public init?(_ text: String) {
        guard case .success(let id) = Self.parse(text) else { return nil }
        self = id
    }

    /// The string form's parts, or what is wrong with it.
    private static func parse(_ text: String) -> Result<LaunchGroupID, MalformedIdentifier> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, parts[1].hasPrefix("w"), let wave = Int(parts[1].dropFirst()),
              !parts[2].isEmpty, !parts[3].isEmpty else {
            return .failure(MalformedIdentifier(kind: "launch group", text: text))
        }
        guard let execution = ExecutionID(rawValue: parts[0]) else {
            return .failure(MalformedIdentifier(kind: ExecutionID.kind, text: parts[0]))
        }
        return .success(LaunchGroupID(executionID: execution, waveNumber: wave,
                                      endpoint: Endpoint(accountID: parts[2], region: parts[3])))
    }

    /// Encoded as its string form; a malformed one is a `DecodingError` saying
    /// what the form is, or that the execution part is no UUID.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        switch Self.parse(try container.decode(String.self)) {
        case .success(let id): self = id
        case .failure(let malformed) where malformed.kind == ExecutionID.kind:
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "launch group: \(malformed)")
        case .failure:
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "launch group must be <executionId UUID>:w<wave>:<accountId>:<region>")
        }
    }

    /// Encoded as its string form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
