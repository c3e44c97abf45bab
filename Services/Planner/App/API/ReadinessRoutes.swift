import Foundation
import Hummingbird
import MusterAPI
import MusterDomain
import MusterMessaging
import MusterPostgres

// Readiness: evaluate a plan now (any role may ask), asking the launcher for
// the AWS checks with a bounded wait; `start` refuses a blocking plan unless
// forced, judged by the planner's checks now and the launcher's stored answers
// (a start never waits on Kafka).
extension PlannerAPI {
    struct ReadinessView: Encodable {
        var planId: PlanID, verdict: ReadinessStatus, evaluatedAt: Date, checks: [PlanReadinessCheck]
    }

    func addReadinessRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("plans/:id/evaluate") { request, context in try await evaluatePlan(request, context) }
    }

    func evaluatePlan(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        let planID = try context.id(PlanID.self, what: "plan")
        let evaluation = try await evaluateAskingLauncher(planID: planID, team: team, now: Date())
        return try JSONResponse.make(.ok, ReadinessView(
            planId: planID, verdict: evaluation.verdict, evaluatedAt: evaluation.at,
            checks: evaluation.evaluation.checks))
    }

    /// What the readiness of the planner (the API, the console, the start gate) and the monitor share.
    var readiness: ReadinessRecorder { ReadinessRecorder(configuration: configuration) }

    /// `POST /v1/plans/{id}/evaluate`: the planner's checks now, the launcher asked (one request per account,
    /// committed before the wait) and waited for at most `readinessLauncherWait`; an account that has not
    /// answered by then gives its launcher checks `unknown` with the reason — never a hang. The answer that
    /// arrives later is stored by the inventory consumer like any other.
    func evaluateAskingLauncher(planID: PlanID, team: TeamID?, now: Date) async throws
        -> (evaluation: ReadinessEvaluation, verdict: ReadinessStatus, at: Date)
    {
        let recorder = readiness, evaluationID = UUID()
        let (local, facts, asked) = try await pool.transaction { connection in
            guard let plan = try await recorder.store.plan(planID, team: team, on: connection)?.plan
            else { throw APIError.notFound("plan") }
            let (facts, local) = try await recorder.local(plan, planID: planID, now: now, on: connection)
            let requests = try recorder.requests(plan: plan, planID: planID, evaluationID: evaluationID, facts: facts, now: now)
            try await Outbox(schema: schema).enqueue(requests, on: connection)
            return (local, facts, requests.count)
        }
        let accounts = ReadinessRecorder.accounts(facts)
        if asked > 0 { wake() }
        let wait = configuration.readinessLauncherWait
        let deadline = ContinuousClock.now + wait
        var answers: [LauncherReadiness.Answer] = []
        while asked > 0 {
            answers = try await pool.withConnection {
                try await recorder.store.answers(plan: planID, evaluation: evaluationID, on: $0)
            }
            if answers.count >= accounts.count || ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let milliseconds = wait.wholeMilliseconds
        let launcher = LauncherReadiness.checks(accounts: accounts, answers: answers,
                                                ssmAccounts: Set(LauncherReadiness.ssmDocuments(facts).keys)) { _ in
            "the launcher did not answer within \(milliseconds) ms (it may be down or busy; its answer is stored when it comes)"
        }
        let evaluation = LauncherReadiness.merge(local, launcher)
        return (evaluation, evaluation.verdict, now)
    }

    /// Evaluates `plan` on `connection` (inside the caller's transaction when it has one): the planner's
    /// checks now merged with the launcher's latest stored answers — no waiting on the launcher.
    func evaluate(_ plan: ValidatedPlan, planID: PlanID, now: Date, on connection: PostgresConnection) async throws
        -> ReadinessEvaluation
    {
        let recorder = readiness
        let (facts, local) = try await recorder.local(plan, planID: planID, now: now, on: connection)
        let launcher = try await recorder.storedLauncherChecks(planID: planID, facts: facts, now: now, on: connection)
        return LauncherReadiness.merge(local, launcher)
    }

    /// The start-time gate: refuses a blocking plan with its reasons unless `force`; returns the audit detail.
    func readinessGate(_ plan: ValidatedPlan, planID: PlanID, force: Bool, on connection: PostgresConnection) async throws
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
