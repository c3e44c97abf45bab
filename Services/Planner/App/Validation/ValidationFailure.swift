/// Input that breaks a documented rule. The API answers it with a 4xx whose
/// JSON body names the field (a JSON path such as `waves[2].dependsOn[0]`),
/// the rule and what to do.
public struct ValidationFailure: Error, Equatable, CustomStringConvertible {
    /// The offending field's path in the request body ("" for the whole body).
    public var field: String
    /// The rule broken: `required`, `type`, `enum`, `length`, `range`,
    /// `minItems`, `maxItems`, `unique`, `reference`, `acyclic`, `immutable`,
    /// `json`, `utf8`, `format`, `exclusive`, `maxServers`, `nonEmpty`, `assigned`, `inventory`.
    public var rule: String
    /// A sentence saying what is wrong and how to fix it.
    public var message: String

    /// Creates the failure.
    public init(field: String, rule: String, message: String) {
        self.field = field
        self.rule = rule
        self.message = message
    }

    /// The message.
    public var description: String { "\(field): \(message) (\(rule))" }
}

/// Documented limits of the API (see the OpenAPI document and docs/planner.md).
public struct PlannerLimits: Sendable, Equatable {
    /// Largest request body accepted, in bytes.
    public var maxBodyBytes = 1_048_576
    /// Most waves in a plan.
    public var maxWaves = 50
    /// Most protection groups in one wave.
    public var maxGroupsPerWave = 100
    /// Most servers a plan may launch, over all its waves.
    public var maxServersPerPlan = 1000
    /// Most servers in one protection group.
    public var maxServersPerGroup = 1000
    /// Longest name (teams, accounts, groups, plans, waves, tokens).
    public var maxNameLength = 128
    /// Shortest and longest wave timeout, minutes.
    public var waveTimeoutMinutes = 1...1440
    /// Shortest and longest RTO target, minutes.
    public var rtoTargetMinutes = 1...10080
    /// Shortest and longest drill frequency policy, days.
    public var drillFrequencyDays = 1...366

    /// The defaults.
    public init() {}
}

/// Checks shared by every body.
enum FieldRules {
    /// A name of at most `limits.maxNameLength` Unicode scalars (as the
    /// OpenAPI document's `maxLength` counts, before trimming) that is not
    /// only white space; returned trimmed.
    static func name(_ value: String, field: String, limits: PlannerLimits) throws -> String {
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            throw ValidationFailure(field: field, rule: "length", message: "must not be empty")
        }
        guard value.unicodeScalars.count <= limits.maxNameLength else {
            throw ValidationFailure(
                field: field, rule: "length", message: "must be at most \(limits.maxNameLength) characters")
        }
        guard !trimmed.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw ValidationFailure(field: field, rule: "format", message: "must not contain control characters")
        }
        return trimmed
    }

    /// `value` within `range`.
    static func range(_ value: Int, _ range: ClosedRange<Int>, field: String, unit: String) throws {
        guard range.contains(value) else {
            throw ValidationFailure(
                field: field, rule: "range",
                message: "must be between \(range.lowerBound) and \(range.upperBound) \(unit)")
        }
    }
}

import Foundation
