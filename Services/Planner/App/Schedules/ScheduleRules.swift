import Foundation

/// The body of `POST /v1/plans/{id}/schedules`.
struct ScheduleInput: Decodable, Sendable {
    var cron: String
    var timeZone: String?
    var cleanupAfterMinutes: Int?
    var enabled: Bool?
}

/// A schedule that passed its rules.
struct ValidatedSchedule: Sendable {
    var cron: CronSchedule
    var timeZone: TimeZone
    var cleanupAfterMinutes: Int?
    var enabled: Bool
}

/// The scheduled-drill rules of issue 16, pure.
enum ScheduleRules {
    /// Most schedules one plan may carry.
    static let maxPerPlan = 10
    /// Longest hold before automatic clean-up: one week.
    static let cleanupAfterMinutes = 1...10080

    static func validate(_ input: ScheduleInput) throws -> ValidatedSchedule {
        guard input.cron.count <= 200 else {
            throw ValidationFailure(field: "cron", rule: "length", message: "must be at most 200 characters")
        }
        let cron: CronSchedule
        do {
            cron = try CronSchedule(input.cron)
        } catch {
            throw ValidationFailure(field: "cron", rule: "format", message: error.description)
        }
        let name = input.timeZone ?? "UTC"
        // Only IANA region names ("Europe/Berlin", "UTC"): abbreviations like "EST" are ambiguous.
        guard name.count <= 64, name == "UTC" || name.contains("/"), let zone = TimeZone(identifier: name) else {
            throw ValidationFailure(field: "timeZone", rule: "format",
                                    message: "\(name) is not an IANA time zone such as Europe/Berlin or UTC")
        }
        if let minutes = input.cleanupAfterMinutes {
            try FieldRules.range(minutes, cleanupAfterMinutes, field: "cleanupAfterMinutes", unit: "minutes")
        }
        return ValidatedSchedule(cron: cron, timeZone: zone, cleanupAfterMinutes: input.cleanupAfterMinutes,
                                 enabled: input.enabled ?? true)
    }

    /// Why a scheduled drill over `accounts` may not start beside `running` scheduled drills per account
    /// (nil: it may), so schedules never take the job slots a real recovery needs.
    static func refusal(accounts: [String], running: [String: Int], maxPerAccount: Int) -> String? {
        let full = accounts.filter { (running[$0] ?? 0) >= maxPerAccount }
        guard !full.isEmpty else { return nil }
        return "account \(full.joined(separator: ", ")) already runs \(maxPerAccount) scheduled drill(s), the most allowed"
    }
}
