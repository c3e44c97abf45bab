import Foundation
import Hummingbird
import MusterAPI
import MusterDomain
import MusterPostgres

// Drill schedules of a plan: cron + IANA time zone, optional clean-up after a hold time.
extension PlannerAPI {
    func addScheduleRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("plans/:id/schedules") { request, context in try await createSchedule(request, context) }
        v1.get("plans/:id/schedules") { request, context in try await listSchedules(request, context) }
        v1.delete("plans/:id/schedules/:scheduleId") { request, context in try await deleteSchedule(request, context) }
    }

    func createSchedule(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try principal.team()
        try principal.require(.operator)
        let planID = try context.id(PlanID.self, what: "plan")
        let input = try await JSONBody.decode(
            ScheduleInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
        let schedule = try validated { try ScheduleRules.validate(input) }
        let store = ScheduleStore(schema: schema)
        let row = try await pool.transaction { connection in
            guard try await ReadinessStore(schema: schema).plan(planID, team: team, lock: true, on: connection) != nil
            else { throw APIError.notFound("plan") }
            guard try await store.count(plan: planID, on: connection) < ScheduleRules.maxPerPlan else {
                throw APIError.validation(field: "cron", rule: "maxSchedules",
                                          "a plan carries at most \(ScheduleRules.maxPerPlan) schedules; delete one first")
            }
            let id = UUID()
            let next = schedule.enabled ? schedule.cron.next(after: configuration.clock(), in: schedule.timeZone) : nil
            let row = try await store.insert(id: id, team: team, plan: planID, schedule: schedule, nextFireAt: next,
                                             createdBy: principal.subject, on: connection)
            try await audit(principal, team: team, action: "schedule.create", type: "plan", id: planID.uuid.uuidString,
                            detail: ["scheduleId": row.id, "cron": row.cron, "timeZone": row.timeZone], on: connection)
            return row
        }
        return try JSONResponse.make(.created, row)
    }

    func listSchedules(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        let planID = try context.id(PlanID.self, what: "plan")
        let rows = try await pool.withConnection { connection in
            guard try await ReadinessStore(schema: schema).plan(planID, team: team, on: connection) != nil
            else { throw APIError.notFound("plan") }
            return try await ScheduleStore(schema: schema).list(plan: planID, team: team, on: connection)
        }
        return try JSONResponse.make(.ok, Page(items: rows, nextCursor: nil))
    }

    func deleteSchedule(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try principal.team()
        try principal.require(.operator)
        let planID = try context.id(PlanID.self, what: "plan")
        let scheduleID = try context.id("scheduleId", what: "schedule")
        try await pool.transaction { connection in
            guard try await ScheduleStore(schema: schema).delete(scheduleID, plan: planID, team: team, on: connection)
            else { throw APIError.notFound("schedule") }
            try await audit(principal, team: team, action: "schedule.delete", type: "plan", id: planID.uuid.uuidString,
                            detail: ["scheduleId": scheduleID.uuidString.lowercased()], on: connection)
        }
        return JSONResponse.noContent()
    }
}
