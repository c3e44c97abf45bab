import Foundation
import Hummingbird
import MusterAPI
import MusterPostgres

// Readiness: evaluate a plan now (any role may ask); `start` refuses a
// blocking plan unless forced.
extension PlannerAPI {
    struct ReadinessView: Encodable {
        var planId: String, verdict: ReadinessStatus, evaluatedAt: Date, checks: [PlanReadinessCheck]
    }

    func addReadinessRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("plans/:id/evaluate") { request, context in
            let team = try await auth.authenticate(request).team()
            let planID = try context.id(what: "plan")
            let now = Date()
            let evaluation = try await pool.withConnection { connection in
                guard let plan = try await ReadinessStore(schema: schema).plan(planID, team: team, on: connection)
                else { throw APIError.notFound("plan") }
                return try await evaluate(plan, planID: planID, now: now, on: connection)
            }
            return try JSONResponse.make(.ok, ReadinessView(
                planId: planID.uuidString.lowercased(), verdict: evaluation.verdict, evaluatedAt: now,
                checks: evaluation.checks))
        }
    }

    /// Evaluates `plan` on `connection` (inside the caller's transaction when it has one).
    func evaluate(_ plan: ValidatedPlan, planID: UUID, now: Date, on connection: PostgresConnection) async throws
        -> ReadinessEvaluation
    {
        let facts = try await ReadinessStore(schema: schema).facts(
            plan: plan, planID: planID, quotas: configuration.quotas, now: now, on: connection)
        return ReadinessRules.evaluate(facts)
    }

    /// The start-time gate: refuses a blocking plan with its reasons unless `force`; returns the audit detail.
    func readinessGate(_ plan: ValidatedPlan, planID: UUID, force: Bool, on connection: PostgresConnection) async throws
        -> [String: String]
    {
        let evaluation = try await evaluate(plan, planID: planID, now: Date(), on: connection)
        guard evaluation.verdict == .blocking else { return ["readiness": evaluation.verdict.rawValue] }
        let reasons = evaluation.blockingReasons.joined(separator: "; ")
        guard force else {
            throw APIError.conflict(
                field: "planId", rule: "readiness",
                "the plan is not ready: \(reasons). Fix these, or start with \"force\": true to launch anyway")
        }
        return ["readiness": "blocking", "forced": "true", "readinessReasons": reasons]
    }
}
