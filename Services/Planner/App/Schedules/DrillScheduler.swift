import Foundation
import Logging
import MusterAPI
import MusterDomain
import MusterPostgres

/// Fires due drill schedules and cleans their drills up after the hold
/// time. Time comes from `clock`, so a test can move it. Each schedule fires
/// in one transaction with the execution it starts (or the reason it did
/// not), so a kill between the two neither loses nor doubles a drill; a
/// schedule missed while the planner was down fires once, then resumes.
struct DrillScheduler: Sendable {
    let api: PlannerAPI
    let store: ScheduleStore
    let clock: @Sendable () -> Date
    let maxPerAccount: Int
    let logger: Logger

    init(api: PlannerAPI, logger: Logger) {
        self.api = api
        self.store = ScheduleStore(schema: api.schema)
        self.clock = api.configuration.clock
        self.maxPerAccount = api.configuration.schedules.maxConcurrentPerAccount
        self.logger = logger
    }

    /// One pass: fires what is due, requests what clean-ups are due; returns how many of each.
    @discardableResult
    func tick() async throws -> (fired: Int, cleaned: Int) {
        let now = clock()
        var fired = 0, cleaned = 0
        while let outcome = try await fireOne(now: now) {
            fired += 1
            logger.info("drill schedule fired", metadata: ["outcome": .string(outcome)])
        }
        while try await cleanOne(now: now) { cleaned += 1 }
        if fired + cleaned > 0 { api.wake() }
        return (fired, cleaned)
    }

    /// Fires the first due schedule; nil when none is due.
    func fireOne(now: Date) async throws -> String? {
        try await api.pool.transaction { connection -> String? in
            guard let due = try await store.lockDue(now: now, limit: 1, on: connection).first else { return nil }
            let next = (try? CronSchedule(due.cron)).flatMap { cron in
                TimeZone(identifier: due.timeZone).flatMap { cron.next(after: now, in: $0) }
            }
            let outcome = try await fire(due, now: now, on: connection)
            try await store.recordFire(due.id, firedAt: now, next: next, outcome: outcome, on: connection)
            return outcome
        }
    }

    func fire(_ due: ScheduleStore.Due, now: Date, on connection: PostgresConnection) async throws -> String {
        let actor = "schedule:\(due.id.uuidString.lowercased())"
        guard let plan = try await ReadinessStore(schema: api.schema).plan(due.plan, team: nil, on: connection)?.plan
        else { return "skipped: the plan is gone" }
        let accounts = try await store.accounts(plan: plan, on: connection)
        let running = try await store.runningScheduledDrills(on: connection)
        if let refusal = ScheduleRules.refusal(accounts: accounts, running: running, maxPerAccount: maxPerAccount) {
            return "skipped: \(refusal)"
        }
        let principal = Principal(teamID: due.team, subject: actor, role: .operator)
        do {
            // A scheduled drill is never forced: a blocking readiness skips this firing with its reasons.
            let state = try await api.start(
                PlannerAPI.StartInput(planId: due.plan, type: .drill, recoveryPoint: nil, force: false),
                by: principal, on: connection)
            try await store.recordRun(execution: state.id.uuid, schedule: due.id,
                                      cleanupAfterMinutes: due.cleanupAfterMinutes, on: connection)
            return "started \(state.id)"
        } catch let refused as APIError {
            return "skipped: \(refused.message)"
        }
    }

    /// Requests the clean-up of one drill past its hold time; false when none is due.
    func cleanOne(now: Date) async throws -> Bool {
        try await api.pool.transaction { connection -> Bool in
            guard let due = try await store.lockCleanupDue(now: now, limit: 1, on: connection).first else { return false }
            let (executionID, scheduleID) = due
            let actor = "schedule:\(scheduleID.uuidString.lowercased())"
            var outcome = "requested"
            if let old = try await api.executions.lock(ExecutionID(executionID), teamID: nil, on: connection) {
                do {
                    let (new, effects) = try ExecutionStateMachine.apply(.cleanup(actor: actor), to: old, now: Date())
                    try await api.executions.save(from: old, to: new, effects: effects, on: connection)
                    try await api.audit(Principal(teamID: old.teamID, subject: actor, role: .operator),
                                        team: old.teamID, action: "execution.cleanup", type: "execution",
                                        id: old.id.rawValue, detail: ["reason": "scheduled hold time over"], on: connection)
                } catch let refused as ExecutionCommandRefused {
                    outcome = "refused: \(refused.reason)"
                }
            }
            try await store.recordCleanup(execution: executionID, at: now, outcome: outcome, on: connection)
            return true
        }
    }
}
