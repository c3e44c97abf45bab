import Foundation
import MusterDomain

/// The settings DRS launches a server with (issue 13): EC2 launch-template
/// settings written as a new default version of the server's launch template,
/// and DRS launch-configuration fields. Nil members leave what is configured.
public struct LaunchProfile: Codable, Sendable, Equatable {
    /// `subnet-…`: the primary network interface's subnet.
    public var subnetId: String?
    /// The subnet's IPv4 CIDR as the operator knows it: static IPs are checked
    /// against it when the plan is saved (the launcher checks EC2's own value).
    public var subnetCidr: String?
    /// `sg-…` ids of the primary network interface.
    public var securityGroupIds: [String]?
    /// EC2 instance type, e.g. `t3.medium`.
    public var instanceType: String?
    /// `arn:aws:iam::…:instance-profile/…`.
    public var iamInstanceProfileArn: String?
    /// EC2 key pair name.
    public var keyName: String?
    /// Tags of the launched instance.
    public var tags: [String: String]?
    /// DRS `launchDisposition`: STOPPED or STARTED.
    public var launchDisposition: DRSLaunchDisposition?
    /// DRS `copyPrivateIp`.
    public var copyPrivateIp: Bool?
    /// DRS `copyTags`.
    public var copyTags: Bool?
    /// DRS `licensing.osByol`.
    public var osByol: Bool?
    /// DRS `targetInstanceTypeRightSizingMethod`: NONE, BASIC or IN_AWS.
    public var targetInstanceTypeRightSizingMethod: DRSRightSizingMethod?
    /// DRS `postLaunchEnabled`.
    public var postLaunchEnabled: Bool?

    /// Creates a profile.
    public init(
        subnetId: String? = nil, subnetCidr: String? = nil, securityGroupIds: [String]? = nil, instanceType: String? = nil,
        iamInstanceProfileArn: String? = nil, keyName: String? = nil, tags: [String: String]? = nil,
        launchDisposition: DRSLaunchDisposition? = nil, copyPrivateIp: Bool? = nil, copyTags: Bool? = nil, osByol: Bool? = nil,
        targetInstanceTypeRightSizingMethod: DRSRightSizingMethod? = nil, postLaunchEnabled: Bool? = nil
    ) {
        self.subnetId = subnetId
        self.subnetCidr = subnetCidr
        self.securityGroupIds = securityGroupIds
        self.instanceType = instanceType
        self.iamInstanceProfileArn = iamInstanceProfileArn
        self.keyName = keyName
        self.tags = tags
        self.launchDisposition = launchDisposition
        self.copyPrivateIp = copyPrivateIp
        self.copyTags = copyTags
        self.osByol = osByol
        self.targetInstanceTypeRightSizingMethod = targetInstanceTypeRightSizingMethod
        self.postLaunchEnabled = postLaunchEnabled
    }

    private enum CodingKeys: String, CodingKey {
        case subnetId, subnetCidr, securityGroupIds, instanceType, iamInstanceProfileArn, keyName, tags
        case launchDisposition, copyPrivateIp, copyTags, osByol, targetInstanceTypeRightSizingMethod, postLaunchEnabled
    }

    /// The two id members as an event body's key rule reads `subnetId` and
    /// `securityGroupIds` (``EventCoding/swiftKey(_:)``); the REST API's
    /// decoder reads them as written.
    private enum EventKeys: String, CodingKey { case subnetID, securityGroupIDs }

    /// Reads a profile from the REST API's JSON or from an event body (either key spelling).
    public init(from decoder: any Decoder) throws {
        let members = try decoder.container(keyedBy: CodingKeys.self)
        let event = try decoder.container(keyedBy: EventKeys.self)
        self.init(
            subnetId: try members.decodeIfPresent(String.self, forKey: .subnetId)
                ?? event.decodeIfPresent(String.self, forKey: .subnetID),
            subnetCidr: try members.decodeIfPresent(String.self, forKey: .subnetCidr),
            securityGroupIds: try members.decodeIfPresent([String].self, forKey: .securityGroupIds)
                ?? event.decodeIfPresent([String].self, forKey: .securityGroupIDs),
            instanceType: try members.decodeIfPresent(String.self, forKey: .instanceType),
            iamInstanceProfileArn: try members.decodeIfPresent(String.self, forKey: .iamInstanceProfileArn),
            keyName: try members.decodeIfPresent(String.self, forKey: .keyName),
            tags: try members.decodeIfPresent([String: String].self, forKey: .tags),
            launchDisposition: try members.decodeIfPresent(DRSLaunchDisposition.self, forKey: .launchDisposition),
            copyPrivateIp: try members.decodeIfPresent(Bool.self, forKey: .copyPrivateIp),
            copyTags: try members.decodeIfPresent(Bool.self, forKey: .copyTags),
            osByol: try members.decodeIfPresent(Bool.self, forKey: .osByol),
            targetInstanceTypeRightSizingMethod: try members.decodeIfPresent(
                DRSRightSizingMethod.self, forKey: .targetInstanceTypeRightSizingMethod),
            postLaunchEnabled: try members.decodeIfPresent(Bool.self, forKey: .postLaunchEnabled))
    }

    /// The launch-configuration part of plan-wide `launchOverrides` (kept for compatibility).
    public init(overrides: LaunchOverrides) {
        self.init(launchDisposition: overrides.launchDisposition, copyPrivateIp: overrides.copyPrivateIp,
                  copyTags: overrides.copyTags, osByol: overrides.osByol,
                  targetInstanceTypeRightSizingMethod: overrides.targetInstanceTypeRightSizingMethod)
    }

    /// `other`'s set members over this profile's.
    public func merged(with other: LaunchProfile) -> LaunchProfile {
        LaunchProfile(
            subnetId: other.subnetId ?? subnetId, subnetCidr: other.subnetCidr ?? subnetCidr,
            securityGroupIds: other.securityGroupIds ?? securityGroupIds, instanceType: other.instanceType ?? instanceType,
            iamInstanceProfileArn: other.iamInstanceProfileArn ?? iamInstanceProfileArn, keyName: other.keyName ?? keyName,
            tags: other.tags ?? tags, launchDisposition: other.launchDisposition ?? launchDisposition,
            copyPrivateIp: other.copyPrivateIp ?? copyPrivateIp, copyTags: other.copyTags ?? copyTags,
            osByol: other.osByol ?? osByol,
            targetInstanceTypeRightSizingMethod: other.targetInstanceTypeRightSizingMethod ?? targetInstanceTypeRightSizingMethod,
            postLaunchEnabled: other.postLaunchEnabled ?? postLaunchEnabled)
    }

    /// Whether any EC2 launch-template setting is set (a template version is needed).
    public var touchesTemplate: Bool {
        subnetId != nil || securityGroupIds != nil || instanceType != nil || iamInstanceProfileArn != nil
            || keyName != nil || tags != nil
    }
}

/// One server's resolved launch settings, carried in `launch-group.requested`.
public struct ServerLaunchSettings: Codable, Sendable, Equatable {
    /// The profile's name (for logs, tags and the report).
    public var profile: String
    /// The resolved settings (plan, wave/group and server overrides applied).
    public var settings: LaunchProfile
    /// A static private IP for this server, inside the profile's subnet.
    public var privateIp: String?
    /// Leave the settings in place after the launch (a recovery whose plan says so);
    /// otherwise they are restored as soon as the job is past launch.
    public var keep: Bool

    /// Creates the settings.
    public init(profile: String, settings: LaunchProfile, privateIp: String? = nil, keep: Bool = false) {
        self.profile = profile
        self.settings = settings
        self.privateIp = privateIp
        self.keep = keep
    }
}

/// The point in time to recover to. Neither member set: the latest state
/// (DRS's default, no `recoverySnapshotID`).
public struct RecoveryPoint: Codable, Sendable, Equatable {
    /// Each server from its newest snapshot taken at or before this time.
    public var before: Date?
    /// Explicit snapshot ids per source server (`s-…` → `pit-…`).
    public var snapshots: [String: String]?

    /// Creates a recovery point.
    public init(before: Date? = nil, snapshots: [String: String]? = nil) {
        self.before = before
        self.snapshots = snapshots
    }

    /// True for "latest".
    public var isLatest: Bool { before == nil && (snapshots ?? [:]).isEmpty }
}

/// The snapshot a server was launched from (`job.created`), for the RPO report.
public struct RecoverySnapshotUsed: Codable, Sendable, Equatable {
    /// `s-…`.
    public var sourceServerID: SourceServerID
    /// `pit-…`; nil when DRS launched from the latest state.
    public var snapshotID: String?
    /// When the snapshot was taken (for "latest": the last snapshot DRS reported).
    public var snapshotTime: Date?

    /// Creates the record.
    public init(sourceServerID: SourceServerID, snapshotID: String?, snapshotTime: Date?) {
        self.sourceServerID = sourceServerID
        self.snapshotID = snapshotID
        self.snapshotTime = snapshotTime
    }
}
