/// The words of a wave hook step (issue 12), shared by the planner's plans
/// and state and the `step` of public execution events. Raw values are the
/// JSON and column values.

/// When a wave hook step runs: before the wave's launch groups are handed to
/// the launcher, or after every server of the wave is resolved.
public enum HookPhase: String, Codable, Sendable, Equatable, CaseIterable {
    /// Before the wave's launch groups are handed to the launcher.
    case before = "BEFORE"
    /// After every server of the wave is resolved.
    case after = "AFTER"
}

/// What a hook step does.
public enum HookKind: String, Codable, Sendable, Equatable, CaseIterable {
    /// `ssm:StartAutomationExecution` in the wave's account and region, then
    /// `GetAutomationExecution` until terminal (run by the launcher).
    case ssmAutomation = "SSM_AUTOMATION"
    /// A signed POST carrying a one-time callback URL (sent by the notifier).
    case httpCallout = "HTTP_CALLOUT"
    /// Waits for a person to approve or decline.
    case approval = "APPROVAL"
}

/// A hook step's lifecycle.
public enum StepStatus: String, Codable, Sendable, Equatable, CaseIterable {
    /// Not started.
    case pending = "PENDING"
    /// Running (an approval: waiting for its decision).
    case running = "RUNNING"
    /// Ended well.
    case succeeded = "SUCCEEDED"
    /// Ended badly.
    case failed = "FAILED"
    /// Did not end within its timeout.
    case timedOut = "TIMED_OUT"
    /// An approval that was declined.
    case declined = "DECLINED"
    /// Never ran (its wave failed or the execution ended first).
    case skipped = "SKIPPED"

    /// True when no further transition can happen.
    public var isTerminal: Bool { ![.pending, .running].contains(self) }
}
