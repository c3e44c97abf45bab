import Foundation
import MusterDomain

/// A plan's drill record against its policy (issue 16): the last successful
/// drill, how it did against the RTO and RPO targets, and whether the next
/// one is overdue. Pure; `ComplianceStore` gathers the inputs.
struct ComplianceEntry: Encodable, Equatable {
    /// The last drill that ended COMPLETED.
    struct LastDrill: Encodable, Equatable {
        var executionId: ExecutionID
        var endedAt: Date
        var secondsToLastLaunch: Double?
        var rtoMet: Bool?
        var worstAchievedRpoSeconds: Double?
        var rpoMet: Bool?
    }

    var planId: PlanID
    var planName: String
    var rtoTargetMinutes: Int?
    var rpoTargetMinutes: Int?
    /// The plan's policy: a successful drill at least every this many days (nil: no policy).
    var drillFrequencyDays: Int?
    var lastSuccessfulDrill: LastDrill?
    /// Whole days since the last successful drill ended (nil: never drilled).
    var daysSince: Int?
    /// True when the policy asks for a drill and the last successful one is older, or there is none.
    var overdue: Bool
    /// When the next drill is due (nil without a policy; the plan's creation counts as the start when never drilled).
    var dueAt: Date?
}

enum ComplianceRules {
    /// The entry of one plan at `now`.
    static func entry(planID: PlanID, planName: String, rtoTargetMinutes: Int?, rpoTargetMinutes: Int?,
                      drillFrequencyDays: Int?, planCreatedAt: Date, lastDrill: ComplianceEntry.LastDrill?,
                      now: Date) -> ComplianceEntry {
        let days = lastDrill.map { Int(now.timeIntervalSince($0.endedAt) / 86_400) }
        var due: Date?
        var overdue = false
        if let frequency = drillFrequencyDays {
            let from = lastDrill?.endedAt ?? planCreatedAt
            let deadline = from.addingTimeInterval(TimeInterval(frequency) * 86_400)
            due = deadline
            // Never drilled is overdue at once: a policy with no drill behind it is not met.
            overdue = lastDrill == nil || now > deadline
        }
        return ComplianceEntry(
            planId: planID, planName: planName, rtoTargetMinutes: rtoTargetMinutes, rpoTargetMinutes: rpoTargetMinutes,
            drillFrequencyDays: drillFrequencyDays, lastSuccessfulDrill: lastDrill, daysSince: days, overdue: overdue,
            dueAt: due)
    }
}
