import Foundation
import MusterDomain
import MusterEvents

/// A plan's launch profiles (issue 13): named settings, which one a drill and
/// a recovery use (plan-wide, per wave, per protection group, per server),
/// static IPs per server. The most specific wins: server → group → wave → plan.
struct PlanLaunchProfiles: Codable, Sendable, Equatable {
    /// Per-server overrides.
    struct Server: Codable, Sendable, Equatable {
        /// A static private IP inside the profile's subnet.
        var privateIp: String?
        /// The drill profile for this server (overrides wave and plan).
        var drillProfile: String?
        /// The recovery profile for this server.
        var recoveryProfile: String?
    }

    /// Profiles by name.
    var profiles: [String: LaunchProfile] = [:]
    /// The plan's drill profile.
    var drillProfile: String?
    /// The plan's recovery profile.
    var recoveryProfile: String?
    /// Leave the recovery profile's settings in place after a recovery.
    var keepRecoverySettings = false
    /// Per wave index: (drill, recovery) overrides.
    var waves: [Int: WaveProfiles] = [:]
    /// Per source server.
    var servers: [String: Server] = [:]
    /// Per protection group of the plan's waves, by id as the API spells it (optional:
    /// plans stored before group overrides existed have none).
    var groups: [String: WaveProfiles]?

    /// A wave's overrides.
    struct WaveProfiles: Codable, Sendable, Equatable {
        var drillProfile: String?
        var recoveryProfile: String?
    }

    /// The settings `server` of protection group `group` in wave `wave` launches with in an
    /// execution of `type`; nil: as configured in DRS.
    func resolve(server: String, group: UUID? = nil, wave: Int, type: ExecutionType) -> ServerLaunchSettings? {
        let override = servers[server]
        let name: String?
        switch type {
        case .drill: name = override?.drillProfile ?? profileName(group: group, wave: wave, type: type)
        case .recovery: name = override?.recoveryProfile ?? profileName(group: group, wave: wave, type: type)
        }
        guard let name, let profile = profiles[name] else { return nil }
        // A static IP belongs to the drill network unless only a recovery profile exists.
        return ServerLaunchSettings(
            profile: name, settings: profile, privateIp: profile.subnetId == nil ? nil : override?.privateIp,
            keep: type == .recovery && keepRecoverySettings)
    }

    /// The profile a group (or, without one, a wave) uses: group → wave → plan.
    func profileName(group: UUID?, wave: Int, type: ExecutionType) -> String? {
        let byGroup = group.flatMap { groups?[$0.uuidString] }
        switch type {
        case .drill: return byGroup?.drillProfile ?? waves[wave]?.drillProfile ?? drillProfile
        case .recovery: return byGroup?.recoveryProfile ?? waves[wave]?.recoveryProfile ?? recoveryProfile
        }
    }

    /// True when a drill of wave `wave` (with protection groups `groups`) runs in a subnet of its
    /// own (not the recovery one) for every group.
    func drillIsIsolated(wave: Int, groups: [UUID] = []) -> Bool {
        (groups.isEmpty ? [nil] : groups.map { Optional($0) }).allSatisfy { group in
            let drill = profileName(group: group, wave: wave, type: .drill).flatMap { profiles[$0] }
            let recovery = profileName(group: group, wave: wave, type: .recovery).flatMap { profiles[$0] }
            guard let subnet = drill?.subnetId else { return false }
            return subnet != recovery?.subnetId
        }
    }
}

/// Validation of launch profiles, pure; every error names the field.
enum LaunchProfileRules {
    static let maxProfiles = 50
    static var instanceType: Regex<Substring> { #/^[a-z][a-z0-9-]*\.[a-z0-9]+$/# }
    static var subnet: Regex<Substring> { #/^subnet-[0-9a-f]{8}(?:[0-9a-f]{9})?$/# }
    static var group: Regex<Substring> { #/^sg-[0-9a-f]{8}(?:[0-9a-f]{9})?$/# }
    static var server: Regex<Substring> { #/^s-[0-9a-zA-Z]{1,40}$/# }

    /// Checks the profiles part of a plan.
    static func validate(_ input: PlanInput) throws -> PlanLaunchProfiles? {
        let profiles = input.launchProfiles ?? [:]
        let waveOverrides = (input.waves).enumerated().filter { $0.element.drillProfile != nil || $0.element.recoveryProfile != nil }
        if profiles.isEmpty && input.drillProfile == nil && input.recoveryProfile == nil && (input.servers ?? [:]).isEmpty
            && waveOverrides.isEmpty && (input.protectionGroups ?? [:]).isEmpty {
            return nil
        }
        guard profiles.count <= maxProfiles else {
            throw ValidationFailure(field: "launchProfiles", rule: "maxItems", message: "a plan has at most \(maxProfiles) launch profiles")
        }
        for name in profiles.keys.sorted() {
            guard let profile = profiles[name] else { continue }
            try validate(profile, field: "launchProfiles.\(name)")
        }
        func reference(_ name: String?, _ field: String) throws {
            if let name, profiles[name] == nil {
                throw ValidationFailure(field: field, rule: "reference",
                                        message: "no launch profile named \(name) in launchProfiles")
            }
        }
        try reference(input.drillProfile, "drillProfile")
        try reference(input.recoveryProfile, "recoveryProfile")
        var result = PlanLaunchProfiles(
            profiles: profiles, drillProfile: input.drillProfile, recoveryProfile: input.recoveryProfile,
            keepRecoverySettings: input.keepRecoverySettings ?? false)
        for (index, wave) in waveOverrides {
            try reference(wave.drillProfile, "waves[\(index)].drillProfile")
            try reference(wave.recoveryProfile, "waves[\(index)].recoveryProfile")
            result.waves[index] = .init(drillProfile: wave.drillProfile, recoveryProfile: wave.recoveryProfile)
        }
        let planGroups = Set(input.waves.flatMap(\.protectionGroupIds))
        for key in (input.protectionGroups ?? [:]).keys.sorted() {
            guard let group = input.protectionGroups?[key] else { continue }
            let field = "protectionGroups.\(key)"
            guard let id = UUID(uuidString: key) else {
                throw ValidationFailure(field: field, rule: "format", message: "\(key) is not a protection group id (a UUID)")
            }
            guard planGroups.contains(id) else {
                throw ValidationFailure(field: field, rule: "reference",
                                        message: "protection group \(key) is in none of the plan's waves; add it to a wave or remove the override")
            }
            guard group.drillProfile != nil || group.recoveryProfile != nil else {
                throw ValidationFailure(field: field, rule: "minProperties",
                                        message: "name a drillProfile or a recoveryProfile (or remove the entry)")
            }
            try reference(group.drillProfile, "\(field).drillProfile")
            try reference(group.recoveryProfile, "\(field).recoveryProfile")
            result.groups = (result.groups ?? [:]).merging(
                [id.uuidString: .init(drillProfile: group.drillProfile, recoveryProfile: group.recoveryProfile)]) { $1 }
        }
        var ipOwners: [String: String] = [:]
        for id in (input.servers ?? [:]).keys.sorted() {
            guard let server = input.servers?[id] else { continue }
            let field = "servers.\(id)"
            guard id.wholeMatch(of: Self.server) != nil else {
                throw ValidationFailure(field: field, rule: "format", message: "\(id) is not a source server id (s-…)")
            }
            try reference(server.drillProfile, "\(field).drillProfile")
            try reference(server.recoveryProfile, "\(field).recoveryProfile")
            if let ip = server.privateIp {
                guard let address = IPv4Address(ip) else {
                    throw ValidationFailure(field: "\(field).privateIp", rule: "format", message: "\(ip) is not an IPv4 address")
                }
                if let other = ipOwners[ip] {
                    throw ValidationFailure(field: "\(field).privateIp", rule: "unique",
                                            message: "\(ip) is already given to \(other); every static IP serves one server")
                }
                ipOwners[ip] = id
                // The IP belongs to every profile the server may launch with that has a subnet.
                let names = Set([server.drillProfile ?? input.drillProfile, server.recoveryProfile ?? input.recoveryProfile]
                    .compactMap { $0 })
                let withSubnet = names.compactMap { name in profiles[name].map { (name, $0) } }.filter { $0.1.subnetId != nil }
                guard !withSubnet.isEmpty else {
                    throw ValidationFailure(field: "\(field).privateIp", rule: "reference",
                                            message: "a static IP needs a profile with a subnetId for this server")
                }
                for (name, profile) in withSubnet {
                    if let cidrText = profile.subnetCidr, let cidr = IPv4CIDR(cidrText), !cidr.isAssignable(address) {
                        throw ValidationFailure(
                            field: "\(field).privateIp", rule: "subnet",
                            message: "\(ip) is not an assignable address of profile \(name)'s subnet \(cidr) "
                                + "(AWS reserves the first four and the last)")
                    }
                }
            }
            result.servers[id] = .init(privateIp: server.privateIp, drillProfile: server.drillProfile,
                                       recoveryProfile: server.recoveryProfile)
        }
        return result
    }

    private static func validate(_ profile: LaunchProfile, field: String) throws {
        if let value = profile.subnetId, value.wholeMatch(of: subnet) == nil {
            throw ValidationFailure(field: "\(field).subnetId", rule: "format", message: "\(value) is not a subnet id (subnet-…)")
        }
        if let value = profile.subnetCidr, IPv4CIDR(value) == nil {
            throw ValidationFailure(field: "\(field).subnetCidr", rule: "format", message: "\(value) is not an IPv4 CIDR such as 10.99.0.0/24")
        }
        if profile.subnetCidr != nil && profile.subnetId == nil {
            throw ValidationFailure(field: "\(field).subnetCidr", rule: "dependency", message: "subnetCidr describes subnetId; set both")
        }
        for (index, value) in (profile.securityGroupIds ?? []).enumerated() where value.wholeMatch(of: group) == nil {
            throw ValidationFailure(field: "\(field).securityGroupIds[\(index)]", rule: "format", message: "\(value) is not a security group id (sg-…)")
        }
        if let groups = profile.securityGroupIds, groups.count > 5 || groups.isEmpty {
            throw ValidationFailure(field: "\(field).securityGroupIds", rule: "range", message: "give 1 to 5 security groups")
        }
        if let value = profile.instanceType, value.wholeMatch(of: instanceType) == nil {
            throw ValidationFailure(field: "\(field).instanceType", rule: "format", message: "\(value) is not an EC2 instance type such as t3.medium")
        }
        if let value = profile.iamInstanceProfileArn, !value.hasPrefix("arn:"), !value.contains(":instance-profile/") {
            throw ValidationFailure(field: "\(field).iamInstanceProfileArn", rule: "format", message: "must be an instance-profile ARN")
        }
        if let value = profile.launchDisposition, !value.isKnown {
            throw ValidationFailure(field: "\(field).launchDisposition", rule: "enum",
                                    message: "must be one of \(PlanValidator.words(DRSLaunchDisposition.self))")
        }
        if let value = profile.targetInstanceTypeRightSizingMethod, !value.isKnown {
            throw ValidationFailure(field: "\(field).targetInstanceTypeRightSizingMethod", rule: "enum",
                                    message: "must be one of \(PlanValidator.words(DRSRightSizingMethod.self))")
        }
        for key in (profile.tags ?? [:]).keys where key.isEmpty || key.count > 128 || key.hasPrefix("aws:") {
            throw ValidationFailure(field: "\(field).tags", rule: "format", message: "tag key \(key) must be 1–128 characters and not start with aws:")
        }
    }
}
