import Foundation
import Hummingbird
import MusterAPI
import MusterDomain
import MusterEvents

// Recovery plans: validated (names, limits, references, DAG) before
// anything is stored; not editable while one of their executions runs.
// SQL: Store/PlanStore.swift.
extension PlannerAPI {
    struct PlanView: Encodable {
        struct Wave: Encodable {
            var name: String, protectionGroupIds: [UUID], dependsOn: [String], pauseBefore: Bool
            var continueOnFailure: Bool, timeoutMinutes: Int
            var before: [HookStepInput]?, after: [HookStepInput]?
        }
        var id: PlanID, name: String, description: String?, rtoTargetMinutes: Int?, waves: [Wave], version: Int
        var createdAt: Date, updatedAt: Date
        var launchOverrides: LaunchOverrides?
        var launchProfiles: [String: LaunchProfile]?
        var drillProfile: String?
        var recoveryProfile: String?
        var keepRecoverySettings: Bool?
        var servers: [String: PlanLaunchProfiles.Server]?
        /// Per protection group (by id): drill / recovery profile overrides.
        var protectionGroups: [String: PlanLaunchProfiles.WaveProfiles]?
        var rpoTargetMinutes: Int?
        /// Whether a drill runs in a subnet of its own in every wave (the CLI's "isolated").
        var drillIsolated: Bool
        /// The drill policy in days, if any.
        var drillFrequencyDays: Int?
    }

    func addPlanRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("plans") { request, _ in try await savePlan(request, existing: nil) }
        v1.put("plans/:id") { request, context in try await savePlan(request, existing: try context.id(PlanID.self, what: "plan")) }
        v1.get("plans") { request, _ in try await listPlans(request) }
        v1.get("plans/:id") { request, context in try await getPlan(request, context) }
        v1.delete("plans/:id") { request, context in try await deletePlan(request, context) }
    }

    func listPlans(_ request: Request) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        return try JSONResponse.make(.ok, Page(items: try await plans.plans(of: team), nextCursor: nil))
    }

    func getPlan(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        guard let view = try await plans.plan(try context.id(PlanID.self, what: "plan"), of: team) else { throw APIError.notFound("plan") }
        return try JSONResponse.make(.ok, view)
    }

    func deletePlan(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try principal.team()
        try principal.require(.operator)
        try await plans.remove(try context.id(PlanID.self, what: "plan"), of: team, by: principal.subject)
        return JSONResponse.noContent()
    }

    func savePlan(_ request: Request, existing: PlanID?) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let team = try principal.team()
        try principal.require(.operator)
        let input = try await JSONBody.decode(
            PlanInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
        let plan = try validated { try PlanValidator.validate(input, limits: limits) }
        let view = try await uniqueConflict(field: "name", message: "a plan named \(plan.name) exists in your team") {
            try await plans.save(plan, id: existing ?? .random(), existing: existing != nil, team: team, by: principal.subject) {
                serverCounts in
                try validated { try PlanValidator.validateReferences(plan, serverCounts: serverCounts, limits: limits) }
            }
        }
        return try JSONResponse.make(existing == nil ? .created : .ok, view)
    }

    /// A stored plan as the API shows it.
    static func planView(id: PlanID, plan: ValidatedPlan, version: Int, createdAt: Date, updatedAt: Date) -> PlanView {
        PlanView(
            id: id, name: plan.name, description: plan.description,
            rtoTargetMinutes: plan.rtoTargetMinutes,
            waves: plan.waves.map { wave in
                .init(name: wave.name, protectionGroupIds: wave.protectionGroupIds,
                      dependsOn: wave.dependsOn.map { plan.waves[$0].name }, pauseBefore: wave.pauseBefore,
                      continueOnFailure: wave.continueOnFailure, timeoutMinutes: wave.timeoutMinutes,
                      before: wave.before?.map(HookStepInput.init), after: wave.after?.map(HookStepInput.init))
            },
            version: version, createdAt: createdAt, updatedAt: updatedAt, launchOverrides: plan.launchOverrides,
            launchProfiles: plan.launchProfiles?.profiles, drillProfile: plan.launchProfiles?.drillProfile,
            recoveryProfile: plan.launchProfiles?.recoveryProfile, keepRecoverySettings: plan.launchProfiles?.keepRecoverySettings,
            servers: plan.launchProfiles?.servers.isEmpty == false ? plan.launchProfiles?.servers : nil,
            protectionGroups: plan.launchProfiles?.groups,
            rpoTargetMinutes: plan.rpoTargetMinutes,
            drillIsolated: plan.waves.indices.allSatisfy {
                plan.launchProfiles?.drillIsIsolated(wave: $0, groups: plan.waves[$0].protectionGroupIds) ?? false
            },
            drillFrequencyDays: plan.drillFrequencyDays)
    }
}
