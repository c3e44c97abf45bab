import Foundation
import MusterDRS
import MusterDomain
import MusterEC2
import MusterEvents

/// The rules of applying a server's launch settings and restoring them
/// (issue 13, DESIGN §12 "Launch profiles"), pure: what to change, what to
/// put back, when, and whether a profile fits EC2's subnets and groups.
enum LaunchSettingsRules {
    /// The settings a chunk's server launches with: its resolved profile, else
    /// the plan-wide `launchOverrides` (restored like a profile), else none.
    static func settings(for server: SourceServerID, in request: LaunchGroupRequested) -> ServerLaunchSettings? {
        if let settings = request.launchSettings?[server.rawValue] {
            guard let overrides = request.launchOverrides else { return settings }
            var merged = settings
            merged.settings = LaunchProfile(overrides: overrides).merged(with: settings.settings)
            return merged
        }
        guard let overrides = request.launchOverrides else { return nil }
        return ServerLaunchSettings(profile: "launchOverrides", settings: LaunchProfile(overrides: overrides))
    }

    /// The launch-template settings to write as the new default version; nil when the profile sets none.
    static func templateSettings(_ settings: ServerLaunchSettings) -> LaunchTemplateSettings? {
        let profile = settings.settings
        let template = LaunchTemplateSettings(
            instanceType: profile.instanceType, subnetID: profile.subnetId, securityGroupIDs: profile.securityGroupIds,
            privateIPAddress: settings.privateIp, iamInstanceProfileARN: profile.iamInstanceProfileArn,
            keyName: profile.keyName, tags: profile.tags)
        return template.isEmpty ? nil : template
    }

    /// The UpdateLaunchConfiguration that gives `current` the profile's DRS
    /// fields (and, when the profile sets template settings, points DRS at
    /// the template's default as it is); nil when nothing differs.
    static func configurationUpdate(
        current: LaunchConfiguration, server: SourceServerID, settings: ServerLaunchSettings
    ) -> UpdateLaunchConfigurationRequest? {
        let profile = settings.settings
        var request = UpdateLaunchConfigurationRequest(sourceServerID: server.rawValue)
        var changed = false
        if let value = profile.copyPrivateIp, value != current.copyPrivateIp {
            request.copyPrivateIp = value; changed = true
        }
        // A static IP from the profile only holds if DRS does not copy the source's IP over it.
        if settings.privateIp != nil, current.copyPrivateIp == true, profile.copyPrivateIp == nil {
            request.copyPrivateIp = false; changed = true
        }
        if let value = profile.copyTags, value != current.copyTags { request.copyTags = value; changed = true }
        if let value = profile.launchDisposition, value.rawValue != current.launchDisposition?.rawValue {
            request.launchDisposition = LaunchDisposition(rawValue: value.rawValue); changed = true
        }
        if let value = profile.targetInstanceTypeRightSizingMethod,
           value.rawValue != current.targetInstanceTypeRightSizingMethod?.rawValue {
            request.targetInstanceTypeRightSizingMethod = TargetInstanceTypeRightSizingMethod(rawValue: value.rawValue); changed = true
        }
        // Right-sizing overwrites the template's instance type at launch: an explicit type turns it off.
        if profile.instanceType != nil, profile.targetInstanceTypeRightSizingMethod == nil,
           current.targetInstanceTypeRightSizingMethod != TargetInstanceTypeRightSizingMethod.none {
            request.targetInstanceTypeRightSizingMethod = TargetInstanceTypeRightSizingMethod.none; changed = true
        }
        if let value = profile.osByol, value != current.licensing?.osByol { request.licensing = Licensing(osByol: value); changed = true }
        if let value = profile.postLaunchEnabled, value != current.postLaunchEnabled {
            request.postLaunchEnabled = value; changed = true
        }
        return changed ? request : nil
    }

    /// The UpdateLaunchConfiguration that puts every field Muster may change back as it was.
    static func restore(_ previous: LaunchConfiguration, server: SourceServerID) -> UpdateLaunchConfigurationRequest {
        var request = UpdateLaunchConfigurationRequest(sourceServerID: server.rawValue)
        request.copyPrivateIp = previous.copyPrivateIp
        request.copyTags = previous.copyTags
        request.launchDisposition = previous.launchDisposition
        request.targetInstanceTypeRightSizingMethod = previous.targetInstanceTypeRightSizingMethod
        request.licensing = previous.licensing
        request.postLaunchEnabled = previous.postLaunchEnabled
        return request
    }

    /// Whether `current` already equals `previous` in every field Muster changes (nothing to put back).
    static func isRestored(_ current: LaunchConfiguration, previous: LaunchConfiguration) -> Bool {
        current.copyPrivateIp == previous.copyPrivateIp && current.copyTags == previous.copyTags
            && current.launchDisposition == previous.launchDisposition
            && current.targetInstanceTypeRightSizingMethod == previous.targetInstanceTypeRightSizingMethod
            && current.licensing?.osByol == previous.licensing?.osByol
            && current.postLaunchEnabled == previous.postLaunchEnabled
    }

    /// Why a server's settings cannot be applied, naming the field; empty when they can.
    /// `subnets` and `groups` are what EC2 answered for the ids the chunk names.
    static func problems(
        server: SourceServerID, settings: ServerLaunchSettings, subnets: [String: EC2Subnet], groups: Set<String>,
        ipsInChunk: [String: SourceServerID]
    ) -> [String] {
        var problems: [String] = []
        let profile = settings.settings
        var subnet: EC2Subnet?
        if let id = profile.subnetId {
            subnet = subnets[id]
            if subnet == nil { problems.append("\(server): subnetId \(id) does not exist in the server's region") }
        }
        for group in profile.securityGroupIds ?? [] where !groups.contains(group) {
            problems.append("\(server): securityGroupIds names \(group), which does not exist")
        }
        if let ip = settings.privateIp {
            if let address = IPv4Address(ip) {
                if profile.subnetId == nil {
                    problems.append("\(server): privateIp \(ip) needs a subnetId in the profile")
                } else if let subnet, let cidr = IPv4CIDR(subnet.cidrBlock), !cidr.isAssignable(address) {
                    problems.append("\(server): privateIp \(ip) is not an assignable address of \(subnet.subnetID) (\(cidr))")
                }
                if let other = ipsInChunk[ip], other != server {
                    problems.append("\(server): privateIp \(ip) is also asked for \(other)")
                }
            } else {
                problems.append("\(server): privateIp \(ip) is not an IPv4 address")
            }
        }
        return problems
    }

    /// The servers of a LAUNCH job whose settings may be put back: DRS has
    /// launched (or failed) them, or the job is over.
    static func pastLaunch(_ observed: JobObserved) -> [SourceServerID] {
        guard observed.jobType == .launch else { return [] }
        if observed.status == .completed { return observed.servers.map(\.sourceServerID) }
        return observed.servers.filter { [.launched, .failed, .terminated].contains($0.launchStatus) }.map(\.sourceServerID)
    }
}

/// Choosing each server's recovery snapshot (issue 13 "Recovery points"), pure.
enum RecoveryPointRules {
    /// The newest snapshot taken at or before `before`, nil when there is none.
    static func newest(_ snapshots: [RecoverySnapshot], atOrBefore before: Date) -> (id: String, time: Date)? {
        snapshots.compactMap { snapshot -> (String, Date)? in
            guard let time = DRSDateTime.date(from: snapshot.timestamp ?? snapshot.expectedTimestamp), time <= before else {
                return nil
            }
            return (snapshot.snapshotID, time)
        }.max { $0.1 < $1.1 }
    }
}
