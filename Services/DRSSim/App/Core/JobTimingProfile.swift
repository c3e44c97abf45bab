/// How long each phase of a simulated DRS job takes, in simulated seconds.
///
/// The defaults follow what a DRS drill looks like: about 13 minutes PENDING (snapshot and
/// conversion), a few minutes STARTED (instance launch), about 17 minutes in all. Every
/// duration gets seeded jitter of ±`jitter`.
public struct JobTimingProfile: Codable, Sendable, Equatable {
    /// Job creation → `JOB_START`.
    public var jobStartDelay: Double
    /// `JOB_START` → a server's `SNAPSHOT_START`.
    public var snapshotStartDelay: Double
    /// `SNAPSHOT_START` → `SNAPSHOT_END`.
    public var snapshotDuration: Double
    /// `SNAPSHOT_END` → `CONVERSION_START`.
    public var conversionStartDelay: Double
    /// `CONVERSION_START` → `CONVERSION_END`.
    public var conversionDuration: Double
    /// `CONVERSION_END` → `LAUNCH_START` (the job turns STARTED; the server IN_PROGRESS).
    public var launchStartDelay: Double
    /// `LAUNCH_START` → the server LAUNCHED (or FAILED).
    public var launchDuration: Double
    /// How long each post-launch action run takes (recovery launches only).
    public var postLaunchActionDuration: Double
    /// The last server done → `JOB_END` (the job turns COMPLETED).
    public var jobEndDelay: Double
    /// `CLEANUP_START` → `CLEANUP_END` of a TERMINATE job.
    public var terminateDuration: Double
    /// Relative jitter applied to each duration (0.1 = ±10 %).
    public var jitter: Double

    /// The DRS-like defaults.
    public init(
        jobStartDelay: Double = 1, snapshotStartDelay: Double = 4, snapshotDuration: Double = 45,
        conversionStartDelay: Double = 10, conversionDuration: Double = 720, launchStartDelay: Double = 5,
        launchDuration: Double = 180, postLaunchActionDuration: Double = 120, jobEndDelay: Double = 30,
        terminateDuration: Double = 60, jitter: Double = 0.1
    ) {
        self.jobStartDelay = jobStartDelay
        self.snapshotStartDelay = snapshotStartDelay
        self.snapshotDuration = snapshotDuration
        self.conversionStartDelay = conversionStartDelay
        self.conversionDuration = conversionDuration
        self.launchStartDelay = launchStartDelay
        self.launchDuration = launchDuration
        self.postLaunchActionDuration = postLaunchActionDuration
        self.jobEndDelay = jobEndDelay
        self.terminateDuration = terminateDuration
        self.jitter = jitter
    }

    /// Simulated seconds a healthy drill of one server spends PENDING, without jitter.
    public var nominalPendingSeconds: Double {
        jobStartDelay + snapshotStartDelay + snapshotDuration + conversionStartDelay + conversionDuration
            + launchStartDelay
    }

    /// Simulated seconds a healthy drill of one server takes end to end, without jitter.
    public var nominalDrillSeconds: Double {
        nominalPendingSeconds + launchDuration + jobEndDelay
    }
}
