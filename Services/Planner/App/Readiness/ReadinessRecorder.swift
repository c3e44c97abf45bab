import Foundation
import MusterDomain
import MusterEvents
import MusterMessaging
import MusterPostgres

/// Evaluates a plan from the planner's tables plus the launcher's stored
/// answers, records the verdict, and says what is owed: `plan.readiness-changed`
/// when the verdict changed, and `readiness.check-requested` per account when
/// the launcher is to be asked again. Used by the periodic monitor, by the
/// inventory consumer when an answer arrives, and by the API.
struct ReadinessRecorder: Sendable {
    let schema: String
    let quotas: ReadinessQuotas
    let topics: Topics
    /// An answer older than twice this is reported `unknown` (the launcher stopped answering).
    let interval: Duration

    init(configuration: PlannerConfiguration) {
        schema = configuration.schema
        quotas = configuration.quotas
        topics = configuration.topics
        interval = configuration.readinessInterval
    }

    var store: ReadinessStore { ReadinessStore(schema: schema) }

    /// The planner's own checks of `plan`, and the facts they came from.
    func local(_ plan: ValidatedPlan, planID: PlanID, now: Date, on connection: PostgresConnection) async throws
        -> (facts: ReadinessFacts, evaluation: ReadinessEvaluation)
    {
        let facts = try await store.facts(plan: plan, planID: planID, quotas: quotas, now: now, on: connection)
        return (facts, ReadinessRules.evaluate(facts))
    }

    /// The accounts of `facts` (servers' and SSM steps'), sorted.
    static func accounts(_ facts: ReadinessFacts) -> [String] { LauncherReadiness.accounts(facts) }

    /// The launcher's stored checks for the plan's accounts: an account never answered is left out (its
    /// answer is on its way); one whose last answer is older than twice the interval is `unknown`.
    func storedLauncherChecks(planID: PlanID, facts: ReadinessFacts, now: Date, on connection: PostgresConnection) async throws
        -> [PlanReadinessCheck]
    {
        let answers = try await store.answers(plan: planID, on: connection)
        let maxAge = 2 * Double(interval.components.seconds)
        let fresh = answers.filter { now.timeIntervalSince($0.checkedAt) <= maxAge }
        let stale = Dictionary(answers.filter { now.timeIntervalSince($0.checkedAt) > maxAge }.map { ($0.accountID, $0.checkedAt) },
                               uniquingKeysWith: { first, _ in first })
        return LauncherReadiness.checks(accounts: Self.accounts(facts), answers: fresh,
                                        ssmAccounts: Set(LauncherReadiness.ssmDocuments(facts).keys)) { account in
            stale[account].map { "the launcher has not answered since \(ISO8601DateFormatter().string(from: $0))" }
        }
    }

    /// One `readiness.check-requested` per account of `facts` for evaluation `evaluationID`.
    func requests(plan: ValidatedPlan, planID: PlanID, evaluationID: UUID, facts: ReadinessFacts, now: Date) throws
        -> [OutboxMessage]
    {
        try LauncherReadiness.requests(planID: planID, evaluationID: evaluationID, facts: facts,
                                       profiles: plan.launchProfiles, now: now).map { request in
            try OutboxMessage(request, source: EventSource.planner, topics: topics)
        }
    }

    /// Re-evaluates `plan` (the caller holds its row), records the verdict, and returns the event owed when it
    /// changed plus, when `ask`, the requests to the launcher.
    func reevaluate(planID: PlanID, team: TeamID, plan: ValidatedPlan, now: Date, ask: Bool,
                    on connection: PostgresConnection) async throws -> (event: OutboxMessage?, requests: [OutboxMessage]) {
        let (facts, local) = try await self.local(plan, planID: planID, now: now, on: connection)
        let launcher = try await storedLauncherChecks(planID: planID, facts: facts, now: now, on: connection)
        let evaluation = LauncherReadiness.merge(local, launcher)
        let previous = try await store.verdict(plan: planID, on: connection)
        try await store.record(plan: planID, evaluation: evaluation, at: now, on: connection)
        let requests = ask ? try self.requests(plan: plan, planID: planID, evaluationID: UUID(), facts: facts, now: now) : []
        // A first evaluation is news only when something is wrong.
        guard previous.map({ $0 != evaluation.verdict }) ?? (evaluation.verdict != .ok) else { return (nil, requests) }
        return (try ReadinessMonitor.message(plan: planID, team: team, name: plan.name, evaluation: evaluation,
                                             previous: previous, at: now, topics: topics), requests)
    }

    /// A launcher answer arrived: store it and, when the plan was evaluated before, re-evaluate it with
    /// the answer (the event owed, if the verdict changed). An answer for a deleted plan is dropped.
    func answered(_ answer: ReadinessChecked, now: Date, on connection: PostgresConnection) async throws -> OutboxMessage? {
        let planID = answer.planID
        guard let (team, plan) = try await store.plan(planID, team: nil, lock: true, on: connection),
              try await store.storeAnswer(answer, plan: planID, on: connection),
              try await store.verdict(plan: planID, on: connection) != nil else { return nil }
        return try await reevaluate(planID: planID, team: team, plan: plan, now: now, ask: false, on: connection).event
    }
}
