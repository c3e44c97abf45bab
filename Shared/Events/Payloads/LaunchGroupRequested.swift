import Foundation
import MusterDomain

/// `launch-group.requested` on `launch.requests.v1`, key `accountId/region`: one launch
/// group — an execution's wave restricted to one (account, region) — for the
/// launcher to start. `attempt` > 1 when the planner retries a launch group.
public struct LaunchGroupRequested: Codable, Sendable, Equatable {
    /// Identifies the launch group (and so the execution, wave and endpoint).
    public var launchGroup: LaunchGroupID
    /// DRILL or RECOVERY (`isDrill` of StartRecovery).
    public var executionType: ExecutionType
    /// The plan's id and name (job tags).
    public var planID: PlanID
    /// The plan's name.
    public var planName: String
    /// The wave's name (job tag).
    public var waveName: String
    /// The team that owns the execution (job tag).
    public var team: TeamID
    /// The user whose token started the execution (job tag), never from a body.
    public var initiatedBy: String
    /// The source servers to launch (`s-…`), all in `launchGroup.endpoint`.
    public var sourceServerIDs: [SourceServerID]
    /// When the wave started; its timeout counts from here.
    public var waveStartedAt: Date
    /// The wave's timeout in seconds (plan setting, default 3600).
    public var timeoutSeconds: Int
    /// 1 for the first launch of this group; higher for a retry.
    public var attempt: Int
    /// Per-plan launch-configuration overrides, applied before launch.
    public var launchOverrides: LaunchOverrides?
    /// Resolved launch settings per source server (`s-…`); absent servers launch as configured.
    public var launchSettings: [String: ServerLaunchSettings]?
    /// The point in time to recover to; nil = latest.
    public var recoveryPoint: RecoveryPoint?
    /// Whether another step of the execution waits for this launch group to complete: a later wave
    /// that depends on its wave, or a hook after it. The poller gives such jobs the tightest look
    /// (docs/poller.md "Completion as the priority"); nil (an older planner) counts as true.
    public var gatesNextStep: Bool?

    /// Creates the payload.
    public init(
        launchGroup: LaunchGroupID, executionType: ExecutionType, planID: PlanID, planName: String, waveName: String,
        team: TeamID, initiatedBy: String, sourceServerIDs: [SourceServerID], waveStartedAt: Date, timeoutSeconds: Int = 3600,
        attempt: Int = 1, launchOverrides: LaunchOverrides? = nil, launchSettings: [String: ServerLaunchSettings]? = nil,
        recoveryPoint: RecoveryPoint? = nil, gatesNextStep: Bool? = nil
    ) {
        self.gatesNextStep = gatesNextStep
        self.launchGroup = launchGroup
        self.executionType = executionType
        self.planID = planID
        self.planName = planName
        self.waveName = waveName
        self.team = team
        self.initiatedBy = initiatedBy
        self.sourceServerIDs = sourceServerIDs
        self.waveStartedAt = waveStartedAt
        self.timeoutSeconds = timeoutSeconds
        self.attempt = attempt
        self.launchOverrides = launchOverrides
        self.launchSettings = launchSettings
        self.recoveryPoint = recoveryPoint
    }
}

/// Launch-configuration settings a plan may override (fields of DRS's
/// UpdateLaunchConfiguration; nil = leave as configured in DRS).
public struct LaunchOverrides: Codable, Sendable, Equatable {
    /// `copyPrivateIp`.
    public var copyPrivateIp: Bool?
    /// `copyTags`.
    public var copyTags: Bool?
    /// `launchDisposition`: STOPPED or STARTED.
    public var launchDisposition: DRSLaunchDisposition?
    /// `targetInstanceTypeRightSizingMethod`: NONE, BASIC or IN_AWS.
    public var targetInstanceTypeRightSizingMethod: DRSRightSizingMethod?
    /// `licensing.osByol`.
    public var osByol: Bool?

    /// Creates overrides.
    public init(
        copyPrivateIp: Bool? = nil, copyTags: Bool? = nil, launchDisposition: DRSLaunchDisposition? = nil,
        targetInstanceTypeRightSizingMethod: DRSRightSizingMethod? = nil, osByol: Bool? = nil
    ) {
        self.copyPrivateIp = copyPrivateIp
        self.copyTags = copyTags
        self.launchDisposition = launchDisposition
        self.targetInstanceTypeRightSizingMethod = targetInstanceTypeRightSizingMethod
        self.osByol = osByol
    }
}
