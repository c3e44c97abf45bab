import Foundation
import MusterDomain
import MusterEvents

/// The body of `POST /v1/plans` and `PUT /v1/plans/{id}`.
struct PlanInput: Codable, Sendable {
    /// One wave as submitted.
    struct Wave: Codable, Sendable {
        var name: String
        var protectionGroupIds: [UUID]
        var dependsOn: [String]?
        var pauseBefore: Bool?
        var continueOnFailure: Bool?
        var timeoutMinutes: Int?
        /// This wave's drill / recovery profile (overrides the plan's).
        var drillProfile: String?
        var recoveryProfile: String?
        /// Hook steps run before the wave launches, and after its servers are resolved (issue 16).
        var before: [HookStepInput]?
        var after: [HookStepInput]?
    }

    var name: String
    var description: String?
    var rtoTargetMinutes: Int?
    var waves: [Wave]
    /// Launch-configuration overrides applied to every launch of the plan.
    var launchOverrides: LaunchOverrides?
    /// Named launch profiles (issue 13).
    var launchProfiles: [String: LaunchProfile]?
    /// The profile drills launch with; the one recoveries launch with.
    var drillProfile: String?
    var recoveryProfile: String?
    /// Leave the recovery profile's settings in place after a recovery.
    var keepRecoverySettings: Bool?
    /// Per source server: static IP and profile overrides.
    var servers: [String: PlanLaunchProfiles.Server]?
    /// Per protection group (by id): drill / recovery profile overrides.
    var protectionGroups: [String: PlanLaunchProfiles.WaveProfiles]?
    /// The recovery point objective, in minutes (for the report).
    var rpoTargetMinutes: Int?
    /// The drill policy: a successful drill at least every this many days (compliance view).
    var drillFrequencyDays: Int?
}

/// A plan that passed every rule that needs no database: names, limits,
/// references between waves, the DAG. Waves refer to each other by index.
struct ValidatedPlan: Codable, Sendable, Equatable {
    /// A validated wave.
    struct Wave: Codable, Sendable, Equatable {
        var name: String
        var protectionGroupIds: [UUID]
        /// Indices (0-based) of the waves it depends on.
        var dependsOn: [Int]
        var pauseBefore: Bool
        var continueOnFailure: Bool
        var timeoutMinutes: Int
        /// Hook steps (nil: none).
        var before: [HookStep]? = nil
        var after: [HookStep]? = nil
    }

    var name: String
    var description: String?
    var rtoTargetMinutes: Int?
    var waves: [Wave]
    /// Validated overrides; nil when none were given (or all were empty).
    var launchOverrides: LaunchOverrides?
    /// Validated launch profiles; nil when the plan has none.
    var launchProfiles: PlanLaunchProfiles?
    /// The RPO target in minutes.
    var rpoTargetMinutes: Int?
    /// A successful drill is due at least every this many days.
    var drillFrequencyDays: Int?

    /// Every protection group the plan uses.
    var protectionGroupIds: [UUID] { waves.flatMap(\.protectionGroupIds) }
}

/// The plan rules of DESIGN §7 and the issue, pure.
enum PlanValidator {
    /// Default wave timeout (DESIGN §6: 60 minutes).
    static let defaultTimeoutMinutes = 60

    /// Checks everything that needs no database.
    static func validate(_ input: PlanInput, limits: PlannerLimits) throws -> ValidatedPlan {
        let name = try FieldRules.name(input.name, field: "name", limits: limits)
        if let description = input.description, description.unicodeScalars.count > 2000 {
            throw ValidationFailure(field: "description", rule: "length", message: "must be at most 2000 characters")
        }
        if let rto = input.rtoTargetMinutes {
            try FieldRules.range(rto, limits.rtoTargetMinutes, field: "rtoTargetMinutes", unit: "minutes")
        }
        guard !input.waves.isEmpty else {
            throw ValidationFailure(field: "waves", rule: "minItems", message: "a plan needs at least one wave")
        }
        guard input.waves.count <= limits.maxWaves else {
            throw ValidationFailure(
                field: "waves", rule: "maxItems", message: "a plan has at most \(limits.maxWaves) waves")
        }
        var indexByName: [String: Int] = [:]
        var names: [String] = []
        for (index, wave) in input.waves.enumerated() {
            let waveName = try FieldRules.name(wave.name, field: "waves[\(index)].name", limits: limits)
            guard indexByName[waveName.lowercased()] == nil else {
                throw ValidationFailure(
                    field: "waves[\(index)].name", rule: "unique",
                    message: "wave name \(waveName) is used twice; give every wave its own name")
            }
            indexByName[waveName.lowercased()] = index
            names.append(waveName)
        }
        var seenGroups: [UUID: String] = [:]
        var waves: [ValidatedPlan.Wave] = []
        for (index, wave) in input.waves.enumerated() {
            let field = "waves[\(index)]"
            guard !wave.protectionGroupIds.isEmpty else {
                throw ValidationFailure(
                    field: "\(field).protectionGroupIds", rule: "minItems",
                    message: "wave \(names[index]) is empty; give it at least one protection group")
            }
            guard wave.protectionGroupIds.count <= limits.maxGroupsPerWave else {
                throw ValidationFailure(
                    field: "\(field).protectionGroupIds", rule: "maxItems",
                    message: "a wave has at most \(limits.maxGroupsPerWave) protection groups")
            }
            for (position, group) in wave.protectionGroupIds.enumerated() {
                if let other = seenGroups[group] {
                    throw ValidationFailure(
                        field: "\(field).protectionGroupIds[\(position)]", rule: "unique",
                        message: "protection group \(group.uuidString.lowercased()) is already in wave \(other); "
                            + "a protection group belongs to one wave of a plan")
                }
                seenGroups[group] = names[index]
            }
            var dependsOn: [Int] = []
            for (position, dependency) in (wave.dependsOn ?? []).enumerated() {
                guard let target = indexByName[dependency.trimmingCharacters(in: .whitespaces).lowercased()] else {
                    throw ValidationFailure(
                        field: "\(field).dependsOn[\(position)]", rule: "reference",
                        message: "no wave named \(dependency) in this plan")
                }
                if !dependsOn.contains(target) { dependsOn.append(target) }
            }
            let timeout = wave.timeoutMinutes ?? defaultTimeoutMinutes
            try FieldRules.range(timeout, limits.waveTimeoutMinutes, field: "\(field).timeoutMinutes", unit: "minutes")
            waves.append(.init(
                name: names[index], protectionGroupIds: wave.protectionGroupIds, dependsOn: dependsOn,
                pauseBefore: wave.pauseBefore ?? false, continueOnFailure: wave.continueOnFailure ?? false,
                timeoutMinutes: timeout))
        }
        for (index, hooks) in try HookRules.validate(input.waves).enumerated() {
            waves[index].before = hooks.before.isEmpty ? nil : hooks.before
            waves[index].after = hooks.after.isEmpty ? nil : hooks.after
        }
        if let cycle = WaveGraph.findCycle(waves.map(\.dependsOn)) {
            let path = cycle.map { names[$0] }.joined(separator: " → ")
            throw ValidationFailure(
                field: "waves", rule: "acyclic",
                message: "waves depend on each other in a cycle: \(path); remove one of these dependsOn entries")
        }
        if let rpo = input.rpoTargetMinutes {
            try FieldRules.range(rpo, limits.rtoTargetMinutes, field: "rpoTargetMinutes", unit: "minutes")
        }
        if let days = input.drillFrequencyDays {
            try FieldRules.range(days, limits.drillFrequencyDays, field: "drillFrequencyDays", unit: "days")
        }
        return ValidatedPlan(name: name, description: input.description, rtoTargetMinutes: input.rtoTargetMinutes,
                             waves: waves, launchOverrides: try launchOverrides(input.launchOverrides),
                             launchProfiles: try LaunchProfileRules.validate(input), rpoTargetMinutes: input.rpoTargetMinutes,
                             drillFrequencyDays: input.drillFrequencyDays)
    }

    /// The words of a DRS vocabulary a request may use (`STOPPED, STARTED`): a
    /// word this build does not know is carried by events, never accepted from an operator.
    static func words<Word: OpenVocabulary>(_: Word.Type) -> String {
        Word.known.map(\.rawValue).joined(separator: ", ")
    }

    /// The overrides with their enum fields checked; an empty object means none.
    static func launchOverrides(_ input: LaunchOverrides?) throws -> LaunchOverrides? {
        guard let input, input != LaunchOverrides() else { return nil }
        for (isKnown, allowed, field) in [
            (input.launchDisposition?.isKnown, words(DRSLaunchDisposition.self), "launchDisposition"),
            (input.targetInstanceTypeRightSizingMethod?.isKnown, words(DRSRightSizingMethod.self),
             "targetInstanceTypeRightSizingMethod"),
        ] where isKnown == false {
            throw ValidationFailure(
                field: "launchOverrides.\(field)", rule: "enum",
                message: "must be one of \(allowed) (DRS spells them in upper case)")
        }
        return input
    }

    /// Checks the plan against its team's protection groups: `serverCounts`
    /// maps each of the team's group ids to how many servers it holds.
    static func validateReferences(_ plan: ValidatedPlan, serverCounts: [UUID: Int], limits: PlannerLimits) throws {
        var total = 0
        for (index, wave) in plan.waves.enumerated() {
            var waveServers = 0
            for (position, group) in wave.protectionGroupIds.enumerated() {
                guard let count = serverCounts[group] else {
                    throw ValidationFailure(
                        field: "waves[\(index)].protectionGroupIds[\(position)]", rule: "reference",
                        message: "no protection group \(group.uuidString.lowercased()) in your team")
                }
                waveServers += count
            }
            guard waveServers > 0 else {
                throw ValidationFailure(
                    field: "waves[\(index)]", rule: "nonEmpty",
                    message: "wave \(wave.name) has no servers: its protection groups are empty")
            }
            total += waveServers
        }
        guard total <= limits.maxServersPerPlan else {
            throw ValidationFailure(
                field: "waves", rule: "maxServers",
                message: "the plan launches \(total) servers; the limit is \(limits.maxServersPerPlan)")
        }
    }
}
