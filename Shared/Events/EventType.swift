/// Every `ce_type` Muster produces (DESIGN §3), in one place.
public enum EventType {
    /// `launch.requests.v1`: one launch group to start (the launcher's command; the
    /// public `wave.started` is `ExecutionEventType.waveStarted`).
    public static let launchGroupRequested = "launch-group.requested"
    /// `job.status.v1`: a launch group waits for leases or quota.
    public static let jobQueued = "job.queued"
    /// `job.status.v1`: a DRS job exists (one per chunk of a launch group).
    public static let jobCreated = "job.created"
    /// `job.status.v1`: a launch group (chunk) could not be launched.
    public static let jobLaunchFailed = "job.launch-failed"
    /// `job.status.v1`: a snapshot of a DRS job.
    public static let jobObserved = "job.observed"
    /// `job.status.v1`: DRS holds more than one job for one launch-group chunk and attempt
    /// (the at-most-one invariant was broken, e.g. by a request that landed after it was given up).
    public static let jobDuplicateDetected = "job.duplicate-detected"
    /// `job.status.v1`: the wave's timeout passed and DRS still reports the job live.
    public static let jobTimedOut = "job.timed-out"
    /// `job.poll.v1`: look at these jobs now.
    public static let jobPoll = "job.poll"
    /// `job.poll.v1`: last look before a timeout is declared.
    public static let jobPollFinal = "job.poll.final"
    /// `instances.terminate.v1`: drill cleanup.
    public static let instancesTerminate = "instances.terminate"
    /// `hook.requests.v1`: run an SSM Automation wave-hook step.
    public static let ssmAutomationRequested = "ssm.automation-requested"
    /// `hook.requests.v1`: stop an SSM Automation step's automation (its step ended without it).
    public static let ssmAutomationStopRequested = "ssm.automation-stop-requested"
    /// `job.status.v1`: an SSM Automation step started or ended.
    public static let ssmAutomationStatus = "ssm.automation-status"
    /// `inventory.v1`: one source server as DRS reports it.
    public static let sourceServerObserved = "source-server.observed"
    /// `accounts.v1`.
    public static let accountRegistered = "account.registered"
    /// `accounts.v1`.
    public static let accountUpdated = "account.updated"
    /// `accounts.v1`.
    public static let accountRemoved = "account.removed"
    /// `accounts.v1`: the planner asks the launcher for the AWS readiness checks of a plan in one account.
    public static let readinessCheckRequested = "readiness.check-requested"
    /// `inventory.v1`: the launcher's answer to `readiness.check-requested`.
    public static let readinessChecked = "readiness.checked"
    /// `teams.v1`: a team token was issued (digest only).
    public static let tokenIssued = "token.issued"
    /// `teams.v1`: a team token was revoked.
    public static let tokenRevoked = "token.revoked"
    /// `callouts.v1`: send an HTTP callout hook step.
    public static let calloutRequested = "callout.requested"
    /// `callout.results.v1`: a callout's POST was delivered or failed for good.
    public static let calloutCompleted = "callout.completed"
}

/// The `ce_source` of each service.
public enum EventSource {
    /// The planner.
    public static let planner = "/muster/planner"
    /// The launcher.
    public static let launcher = "/muster/launcher"
    /// The poller.
    public static let poller = "/muster/poller"
    /// The notifier.
    public static let notifier = "/muster/notifier"
}
