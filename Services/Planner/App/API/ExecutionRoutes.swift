import Foundation
import Hummingbird
import MusterAPI
import MusterDomain
import MusterEvents
import MusterPostgres

// Executions: start (202 at once), read, list, operator commands, report, audit.
extension PlannerAPI {
    struct StartInput: Decodable {
        var planId: PlanID
        var type: ExecutionType
        /// `{"before": "<time>"}` or `{"snapshots": {"s-…": "pit-…"}}`; absent or `{}`: latest.
        var recoveryPoint: RecoveryPointInput?
        /// Start even when the readiness evaluation is blocking (recorded in the audit trail).
        var force: Bool?
    }
    /// The start body's recovery point as sent (the time is an ISO 8601 string).
    struct RecoveryPointInput: Decodable { var before: String?; var snapshots: [String: String]? }
    struct CancelInput: Decodable { var terminateInstances: Bool? }
    struct AuditEntry: Encodable { var at: Date; var actor: String; var action: String; var detail: [String: String] }

    func addExecutionRoutes<Context: RequestContext>(to v1: RouterGroup<Context>) {
        v1.post("executions") { request, _ in try await startExecution(request) }
        v1.get("executions") { request, _ in try await listExecutions(request) }
        v1.get("executions/:id") { request, context in try await getExecution(request, context) }
        v1.get("executions/:id/report") { request, context in try await executionReport(request, context) }
        v1.get("executions/:id/audit") { request, context in try await executionAudit(request, context) }
        v1.post("executions/:id/pause") { request, context in
            try await command(request, context, action: "execution.pause") { .pause(actor: $0) }
        }
        v1.post("executions/:id/resume") { request, context in
            try await command(request, context, action: "execution.resume") { .resume(actor: $0) }
        }
        v1.post("executions/:id/cancel") { request, context in try await cancelExecution(request, context) }
        v1.post("executions/:id/cleanup") { request, context in
            try await command(request, context, action: "execution.cleanup", status: .accepted) { .cleanup(actor: $0) }
        }
    }

    func getExecution(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try JSONResponse.make(.ok, ExecutionViews.detail(try await readExecution(request, context)))
    }

    func executionReport(_ request: Request, _ context: some RequestContext) async throws -> Response {
        try JSONResponse.make(.ok, ExecutionViews.report(try await readExecution(request, context)))
    }

    func executionAudit(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let state = try await readExecution(request, context)
        let entries = try await AuditStore(schema: schema).execution(state.id.rawValue, pool: pool)
        return try JSONResponse.make(.ok, Page(items: entries, nextCursor: nil))
    }

    func cancelExecution(_ request: Request, _ context: some RequestContext) async throws -> Response {
        let input = try await JSONBody.decodeOptional(
            CancelInput.self, from: request, limit: limits.maxBodyBytes, fallback: CancelInput(terminateInstances: nil),
            wording: .explained)
        let terminate = input.terminateInstances ?? false
        return try await command(request, context, action: "execution.cancel",
                                 detail: ["terminateInstances": "\(terminate)"]) {
            .cancel(actor: $0, terminateInstances: terminate)
        }
    }

    func readExecution(_ request: Request, _ context: some RequestContext) async throws -> ExecutionState {
        let team = try await auth.authenticate(request).team()
        let executionID = try context.id(what: "execution")
        guard let state = try await pool.withConnection({ try await executions.get(ExecutionID(executionID), teamID: team, on: $0) })
        else { throw APIError.notFound("execution") }
        return state
    }

    func startExecution(_ request: Request) async throws -> Response {
        let principal = try await auth.authenticate(request)
        let input = try await JSONBody.decode(
            StartInput.self, from: request, limit: limits.maxBodyBytes, wording: .explained)
        let state = try await start(input, by: principal)
        return try JSONResponse.make(.accepted, ExecutionViews.Accepted(
            id: state.id, status: state.status, location: "/v1/executions/\(state.id)"))
    }

    /// Starts `input` for `principal` (an operator of a team); shared by the API and the console.
    func start(_ input: StartInput, by principal: Principal) async throws -> ExecutionState {
        let state = try await pool.transaction { try await start(input, by: principal, on: $0) }
        wake()
        return state
    }

    /// Starts `input` in the caller's transaction (the scheduler fires a schedule in the one that advances it);
    /// an `APIError` is thrown before anything is written.
    func start(_ input: StartInput, by principal: Principal, on connection: PostgresConnection) async throws
        -> ExecutionState
    {
        let team = try principal.team()
        try principal.require(.operator)
        let executionID = UUID()
        guard let plan = try await executions.lockPlan(input.planId, team: team, on: connection) else {
            throw APIError.validation(ValidationFailure(field: "planId", rule: "reference",
                                                        message: "no plan \(input.planId) in your team"))
        }
        if let running = try await PlanStore.runningExecution(of: input.planId, schema: schema, on: connection) {
            throw APIError.conflict(field: "planId", rule: "executionRunning",
                "execution \(running.uuidString.lowercased()) of this plan is still running")
        }
        let readiness = try await readinessGate(plan, planID: input.planId, force: input.force ?? false, on: connection)
        let blueprint = try await blueprint(
            plan, planID: input.planId, executionID: executionID, team: team, type: input.type,
            initiatedBy: principal.subject, on: connection)
        var frozen = blueprint
        frozen.recoveryPoint = try Self.recoveryPoint(input.recoveryPoint, blueprint: blueprint)
        let (state, effects) = ExecutionStateMachine.start(frozen, now: Date())
        try await executions.insert(state, effects: effects, on: connection)
        try await audit(principal, team: team, action: "execution.start", type: "execution",
                        id: state.id.rawValue,
                        detail: ["type": input.type.rawValue, "planId": state.planID.rawValue].merging(readiness) { $1 },
                        on: connection)
        return state
    }

    /// Freezes the plan with its groups' current servers.
    func blueprint(_ plan: ValidatedPlan, planID: PlanID, executionID: UUID, team: TeamID, type: ExecutionType,
                   initiatedBy: String, on connection: PostgresConnection) async throws -> ExecutionBlueprint {
        let byGroup = try await executions.servers(ofGroups: plan.protectionGroupIds, on: connection)
        var waves: [ExecutionBlueprint.Wave] = []
        var settings: [String: ServerLaunchSettings] = [:]
        for (index, wave) in plan.waves.enumerated() {
            for group in wave.protectionGroupIds {
                for server in byGroup[group] ?? [] {
                    settings[server.id] = plan.launchProfiles?.resolve(server: server.id, group: group, wave: index, type: type)
                }
            }
            let servers = wave.protectionGroupIds.flatMap { byGroup[$0] ?? [] }
            guard !servers.isEmpty else {
                throw APIError.validation(ValidationFailure(
                    field: "planId", rule: "nonEmpty",
                    message: "wave \(wave.name) (waves[\(index)]) has no servers now; fix its protection groups"))
            }
            var frozen = ExecutionBlueprint.Wave(
                name: wave.name, dependsOn: wave.dependsOn.map { $0 + 1 }, pauseBefore: wave.pauseBefore,
                continueOnFailure: wave.continueOnFailure, timeoutSeconds: wave.timeoutMinutes * 60, servers: servers)
            frozen.before = try HookRules.resolve(wave.before ?? [], servers: servers, field: "waves[\(index)].before")
            frozen.after = try HookRules.resolve(wave.after ?? [], servers: servers, field: "waves[\(index)].after")
            waves.append(frozen)
        }
        let total = waves.reduce(0) { $0 + $1.servers.count }
        guard total <= limits.maxServersPerPlan else {
            throw APIError.validation(ValidationFailure(
                field: "planId", rule: "maxServers",
                message: "the plan now launches \(total) servers; the limit is \(limits.maxServersPerPlan)"))
        }
        // Static IPs are unique within an execution (the plan checks its own map; this holds the resolved view).
        var owners: [String: String] = [:]
        for id in settings.keys.sorted() {
            guard let ip = settings[id]?.privateIp else { continue }
            if let other = owners[ip] {
                throw APIError.validation(ValidationFailure(
                    field: "servers.\(id).privateIp", rule: "unique", message: "\(ip) is also given to \(other)"))
            }
            owners[ip] = id
        }
        var blueprint = ExecutionBlueprint(
            executionID: ExecutionID(executionID), teamID: team,
            planID: planID, planName: plan.name, type: type, initiatedBy: initiatedBy,
            rtoTargetMinutes: plan.rtoTargetMinutes, waves: waves, launchOverrides: plan.launchOverrides)
        blueprint.launchSettings = settings.isEmpty ? nil : settings
        blueprint.rpoTargetMinutes = plan.rpoTargetMinutes
        return blueprint
    }

    /// The start body's recovery point, checked: explicit snapshots only for servers of the plan.
    static func recoveryPoint(_ raw: RecoveryPointInput?, blueprint: ExecutionBlueprint) throws -> RecoveryPoint? {
        guard let raw else { return nil }
        var input = RecoveryPoint(snapshots: raw.snapshots)
        if let text = raw.before {
            guard let date = EventCoding.parseTime(text) else {
                throw APIError.validation(ValidationFailure(
                    field: "recoveryPoint.before", rule: "format", message: "\(text) is not an ISO 8601 time such as 2026-01-01T10:00:00Z"))
            }
            input.before = date
        }
        guard !input.isLatest else { return nil }
        if input.before != nil && input.snapshots != nil {
            throw APIError.validation(ValidationFailure(
                field: "recoveryPoint", rule: "exclusive", message: "give either before or snapshots, not both"))
        }
        if let before = input.before, before > Date().addingTimeInterval(60) {
            throw APIError.validation(ValidationFailure(
                field: "recoveryPoint.before", rule: "range", message: "a recovery point cannot be in the future"))
        }
        let servers = Set(blueprint.waves.flatMap { $0.servers.map(\.id) })
        for (server, snapshot) in (input.snapshots ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard servers.contains(server) else {
                throw APIError.validation(ValidationFailure(
                    field: "recoveryPoint.snapshots.\(server)", rule: "reference", message: "\(server) is not a server of this plan"))
            }
            guard snapshot.hasPrefix("pit-"), snapshot.count == 21 else {
                throw APIError.validation(ValidationFailure(
                    field: "recoveryPoint.snapshots.\(server)", rule: "format", message: "\(snapshot) is not a recovery snapshot id (pit-…)"))
            }
        }
        return input
    }

    /// Runs an operator command through the state machine in one transaction.
    func command(_ request: Request, _ context: some RequestContext, action: String, detail: [String: String] = [:],
                 status: HTTPResponse.Status = .ok, _ input: @Sendable (String) -> ExecutionInput) async throws -> Response
    {
        let principal = try await auth.authenticate(request)
        let state = try await command(try context.id(what: "execution"), by: principal, action: action, detail: detail, input)
        return try JSONResponse.make(status, ExecutionViews.detail(state))
    }

    /// Applies an operator command for `principal`; shared by the API and the console.
    func command(_ executionID: UUID, by principal: Principal, action: String, detail: [String: String] = [:],
                 _ input: @Sendable (String) -> ExecutionInput) async throws -> ExecutionState {
        let team = try principal.team()
        try principal.require(.operator)
        let state = try await pool.transaction { connection in
            guard let old = try await executions.lock(ExecutionID(executionID), teamID: team, on: connection) else {
                throw APIError.notFound("execution")
            }
            let (new, effects): (ExecutionState, [ExecutionEffect])
            do {
                (new, effects) = try ExecutionStateMachine.apply(input(principal.subject), to: old, now: Date())
            } catch let refused as ExecutionCommandRefused {
                throw APIError.conflict(rule: "state", refused.reason)
            } catch let forbidden as ExecutionCommandForbidden {
                throw APIError.forbidden(forbidden.reason)
            }
            try await executions.save(from: old, to: new, effects: effects, on: connection)
            try await audit(principal, team: team, action: action, type: "execution", id: old.id.rawValue, detail: detail,
                            on: connection)
            return new
        }
        wake()
        return state
    }

    func listExecutions(_ request: Request) async throws -> Response {
        let team = try await auth.authenticate(request).team()
        let query = request.uri.queryParameters
        let status = try query["status"].map { raw in
            guard let value = ExecutionStatus(rawValue: String(raw)) else {
                throw APIError.badRequest(field: "status", rule: "enum",
                    "status must be one of \(ExecutionStatus.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return value.rawValue
        }
        let type = try query["type"].map { raw in
            guard let value = ExecutionType(rawValue: String(raw)) else {
                throw APIError.badRequest(field: "type", rule: "enum", "type must be DRILL or RECOVERY")
            }
            return value.rawValue
        }
        let planID = try query["planId"].map { raw in
            guard let id = PlanID(rawValue: String(raw)) else {
                throw APIError.badRequest(field: "planId", rule: "format", "planId must be a UUID")
            }
            return id
        }
        if let format = query["format"].map(String.init) {
            guard format == "csv" || format == "json" else {
                throw APIError.badRequest(field: "format", rule: "enum", "format must be csv or json")
            }
            return try await exportHistory(format: format, team: team,
                                           filter: .init(status: status, type: type, planID: planID))
        }
        let page = try PageRequest(request)
        let (items, next) = try await executions.list(
            team: team, filter: .init(status: status, type: type, planID: planID), page: page, pool: pool)
        return try JSONResponse.make(.ok, Page(items: items, nextCursor: next))
    }
}

extension ExecutionType: PostgresDecodable {}
extension ExecutionStatus: PostgresDecodable {}
