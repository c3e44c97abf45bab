import Foundation
import Hummingbird
import MusterAPI
import MusterConsole
import MusterDomain
import MusterEvents
import MusterPostgres

// What each console page shows, read from the planner's tables (Store/ConsoleStore.swift)
// and scoped to the session's team (another team's ids answer 404, as the API does).
extension PlannerConsole {
    static func format(_ date: Date?) -> String {
        guard let date else { return "" }
        return date.formatted(Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeSeparator: .colon,
                                                      timeZoneSeparator: .omitted, includingFractionalSeconds: false)
            .year().month().day().time(includingFractionalSeconds: false)) + " UTC"
    }

    func dashboard(_ team: TeamID) async throws -> DashboardPage {
        try await store.dashboard(team)
    }

    func executionPage(_ context: some RequestContext, _ user: SignedIn) async throws -> ExecutionPage {
        let id = try context.id(what: "execution")
        let team = user.session.team
        let (state, entries) = try await pool.withConnection { connection in
            guard let state = try await api.executions.get(ExecutionID(id), teamID: team, on: connection) else {
                throw APIError.notFound("execution")
            }
            let entries = try await EventLog(schema: schema).read(
                team: team, after: 0, filter: EventFilter(executionID: id), limit: 1000, on: connection)
            return (state, entries)
        }
        let now = Date()
        let servers = state.servers.values.sorted { ($0.wave, $0.id) < ($1.wave, $1.id) }
        let waves = state.waves.map { wave in
            let inWave = servers.filter { $0.wave == wave.number }
            return ExecutionPage.Wave(
                number: wave.number, name: wave.name, status: Badge(wave.status.rawValue),
                progress: Progress(done: inWave.filter { $0.status == .launched }.count, total: inWave.count),
                gate: wave.pauseBefore, queuedReason: wave.queuedReason,
                servers: inWave.map {
                    ExecutionPage.Server(id: $0.id, accountID: $0.accountID, region: $0.region, status: Badge($0.status.rawValue),
                                         jobID: $0.jobID, instanceID: $0.recoveryInstanceID, failureReason: $0.failureReason,
                                         log: ($0.logEvents ?? []).map {
                                             ExecutionPage.LogLine(at: Self.format($0.time), event: $0.event, error: $0.rawError)
                                         })
                },
                steps: (wave.steps ?? []).map { step in
                    ExecutionPage.Step(
                        name: step.step.name, kind: step.step.kind.rawValue, phase: step.phase.rawValue,
                        status: Badge(step.status.rawValue), startedAt: Self.format(step.startedAt),
                        endedAt: Self.format(step.endedAt), output: step.output, decidedBy: step.decidedBy,
                        canDecide: step.step.kind == .approval && step.status == .running
                            && user.session.principal.role >= max(.operator, step.step.approval?.role ?? .operator))
                })
        }
        var bars: [Timeline.Bar] = []
        for wave in state.waves {
            bars.append(.init(label: "\(wave.number). \(wave.name)", status: wave.status.rawValue, start: wave.startedAt,
                              end: wave.endedAt, wave: true))
            for server in servers where server.wave == wave.number {
                bars.append(.init(label: "  \(server.id)", status: server.status.rawValue, start: server.startedAt,
                                  end: server.launchedAt ?? server.endedAt, wave: false))
            }
        }
        let launched = servers.filter { $0.status == .launched }
        let lastLaunch = launched.compactMap(\.launchedAt).max()
        var rto = state.rtoTargetMinutes.map { "target \($0) min" } ?? "no target"
        if let lastLaunch, launched.count == servers.count {
            let minutes = lastLaunch.timeIntervalSince(state.createdAt) / 60
            rto += String(format: "; last server launched after %.1f min", minutes)
            if let target = state.rtoTargetMinutes { rto += minutes <= Double(target) ? " (met)" : " (missed)" }
        }
        var actions = ExecutionPage.Actions()
        if user.session.principal.role >= .operator {
            actions.pause = state.status == .running
            actions.resume = state.status == .paused && state.pausedByOperator
            actions.approve = state.status == .paused && !state.pausedByOperator
            actions.cancel = !state.status.isTerminal
            actions.cleanup = state.type == .drill && state.status.isTerminal
                && (state.cleanup == nil || state.cleanup?.completedAt != nil)
                && servers.contains { $0.recoveryInstanceID != nil && !(state.cleanup?.instanceIDs.contains($0.recoveryInstanceID!) ?? false) }
            actions.drill = state.type == .drill
        }
        let events = entries.reversed().map { entry in
            let payload = try? entry.event.decode(ExecutionEvent.self)
            var detail: [String] = []
            if let wave = payload?.wave { detail.append("wave \(wave.number) \(wave.name): \(wave.status.rawValue)") }
            if let server = payload?.server { detail.append("\(server.sourceServerID): \(server.status.rawValue)") }
            if let actor = payload?.actor { detail.append("by \(actor)") }
            if let reason = payload?.reason { detail.append(reason) }
            return ExecutionPage.Event(seq: String(entry.seq), type: entry.event.type, at: Self.format(entry.event.time),
                                       detail: detail.joined(separator: " · "))
        }
        return ExecutionPage(
            id: state.id.rawValue, planName: state.planName, type: state.type.rawValue, status: Badge(state.status.rawValue),
            initiatedBy: state.initiatedBy, createdAt: Self.format(state.createdAt), endedAt: Self.format(state.endedAt),
            rto: rto, progress: Progress(done: launched.count, total: servers.count), waves: waves,
            timeline: Timeline(bars: bars, origin: state.createdAt, now: state.endedAt ?? now, rtoMinutes: state.rtoTargetMinutes),
            events: Array(events), actions: actions, csrf: user.session.csrf, finished: state.status.isTerminal)
    }

    func executionAction(_ action: String, context: some RequestContext, user: SignedIn, form: FormBody) async throws
        -> Response
    {
        let id = try context.id(what: "execution")
        let principal = user.session.principal
        switch action {
        case "pause": _ = try await api.command(id, by: principal, action: "execution.pause") { .pause(actor: $0) }
        case "resume": _ = try await api.command(id, by: principal, action: "execution.resume") { .resume(actor: $0) }
        case "cancel":
            let terminate = form["terminateInstances"] == "true"
            _ = try await api.command(id, by: principal, action: "execution.cancel",
                                      detail: ["terminateInstances": "\(terminate)"]) {
                .cancel(actor: $0, terminateInstances: terminate)
            }
        default: _ = try await api.command(id, by: principal, action: "execution.cleanup") { .cleanup(actor: $0) }
        }
        return redirect("/console/executions/\(id.uuidString.lowercased())")
    }

    // MARK: Plans

    func plans(_ user: SignedIn) async throws -> PlansPage {
        PlansPage(plans: try await store.plans(user.session.team))
    }

    func plan(_ id: PlanID, team: TeamID) async throws -> ValidatedPlan {
        guard let plan = try await store.plan(id, team: team) else { throw APIError.notFound("plan") }
        return plan
    }

    func planPage(_ context: some RequestContext, _ user: SignedIn) async throws -> PlanPage {
        let id = try context.id(PlanID.self, what: "plan")
        let plan = try await plan(id, team: user.session.team)
        let names = try await store.groupNames(user.session.team)
        let running = try await store.runningExecution(plan: id, team: user.session.team)
        let graph = PlanGraph(plan.waves.map {
            PlanGraph.Wave(name: $0.name, groups: $0.protectionGroupIds.map { names[$0] ?? "?" }, dependsOn: $0.dependsOn,
                           pauseBefore: $0.pauseBefore, continueOnFailure: $0.continueOnFailure)
        })
        let now = Date()
        let evaluation = try await pool.withConnection { try await api.evaluate(plan, planID: id, now: now, on: $0) }
        let readiness = ReadinessPanel(
            verdict: evaluation.verdict.rawValue, evaluatedAt: Self.format(now),
            checks: evaluation.checks.map {
                .init(name: $0.name, status: $0.status.rawValue, servers: $0.servers, message: $0.message, fix: $0.fix)
            })
        return PlanPage(id: id.rawValue, name: plan.name,
                        rto: plan.rtoTargetMinutes.map { "\($0) min" } ?? "none", graph: graph,
                        canStart: user.session.principal.role >= .operator && running == nil, csrf: user.session.csrf,
                        running: running, readiness: readiness)
    }

    /// The blocking readiness findings of `plan`, one line each.
    func blockingReasons(_ plan: ValidatedPlan, id: PlanID) async throws -> [String] {
        try await pool.withConnection { try await api.evaluate(plan, planID: id, now: Date(), on: $0) }.blockingReasons
    }

    func compliance(_ user: SignedIn) async throws -> CompliancePage {
        let now = Date()
        let records = try await pool.withConnection {
            try await ComplianceStore(schema: schema).plans(team: user.session.team, on: $0)
        }
        return CompliancePage(rows: records.map { record in
            let entry = ComplianceRules.entry(
                planID: record.id, planName: record.plan.name,
                rtoTargetMinutes: record.plan.rtoTargetMinutes, rpoTargetMinutes: record.plan.rpoTargetMinutes,
                drillFrequencyDays: record.plan.drillFrequencyDays, planCreatedAt: record.createdAt,
                lastDrill: record.lastDrill.map(PlannerAPI.lastDrill), now: now)
            func met(_ value: Bool?, _ target: Int?) -> String {
                guard let target else { return "no target" }
                return value.map { $0 ? "met (\(target) min)" : "missed (\(target) min)" } ?? "– (\(target) min)"
            }
            return CompliancePage.Row(
                planID: entry.planId.rawValue, planName: entry.planName,
                lastDrill: entry.lastSuccessfulDrill.map { Self.format($0.endedAt) },
                executionID: entry.lastSuccessfulDrill?.executionId.rawValue,
                daysSince: entry.daysSince.map(String.init) ?? "–",
                policy: entry.drillFrequencyDays.map { "every \($0) days" } ?? "none",
                due: entry.dueAt.map { Self.format($0) } ?? "–",
                rto: met(entry.lastSuccessfulDrill?.rtoMet, entry.rtoTargetMinutes),
                rpo: met(entry.lastSuccessfulDrill?.rpoMet, entry.rpoTargetMinutes), overdue: entry.overdue)
        })
    }

    func startType(_ form: FormBody) throws -> ExecutionType {
        guard let type = form["type"].flatMap(ExecutionType.init(rawValue:)) else {
            throw APIError.badRequest(field: "type", rule: "enum", "type must be DRILL or RECOVERY")
        }
        return type
    }

    func confirmStart(_ context: some RequestContext, _ user: SignedIn, _ form: FormBody) async throws -> Response {
        try user.session.principal.require(.operator)
        let id = try context.id(PlanID.self, what: "plan")
        let plan = try await plan(id, team: user.session.team)
        let page = ConfirmStartPage(planID: id.rawValue, planName: plan.name,
                                    type: try startType(form).rawValue, csrf: user.session.csrf,
                                    blocking: try await blockingReasons(plan, id: id))
        return html(.ok, renderer.page("confirm-start", page, layout: Layout(title: "Confirm start", user: user.user,
                                                                               section: "plans")))
    }

    func start(_ context: some RequestContext, _ user: SignedIn, _ form: FormBody) async throws -> Response {
        let id = try context.id(PlanID.self, what: "plan")
        let plan = try await plan(id, team: user.session.team)
        let type = try startType(form)
        if type == .recovery && form["confirmation"]?.trimmingCharacters(in: .whitespaces) != plan.name {
            let page = ConfirmStartPage(planID: id.rawValue, planName: plan.name, type: type.rawValue,
                                        csrf: user.session.csrf,
                                        error: "Type the plan's name exactly to start a recovery.")
            return html(.unprocessableContent, renderer.page(
                "confirm-start", page, layout: Layout(title: "Confirm start", user: user.user, section: "plans")))
        }
        let state = try await api.start(.init(planId: id, type: type, force: form["force"] == "on"),
                                        by: user.session.principal)
        return redirect("/console/executions/\(state.id)")
    }

    // MARK: Inventory, history, audit

    func groups(_ request: Request, _ user: SignedIn) async throws -> GroupsPage {
        let team = user.session.team
        let query = request.uri.queryParameters["q"].map(String.init) ?? ""
        let state = request.uri.queryParameters["state"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let groups = try await store.groups(team)
        let servers = try await store.servers(team, query: query, state: state)
        let states = ["CONTINUOUS", "INITIAL_SYNC", "BACKLOG", "CREATING_SNAPSHOT", "RESCAN", "STALLED", "DISCONNECTED",
                      "STOPPED", "PAUSED", "NOT_STARTED"]
        return GroupsPage(groups: groups, servers: servers, query: query,
                          states: states.map { GroupsPage.Option(value: $0, selected: $0 == state) })
    }

    static func before(_ request: Request) throws -> Int64? {
        guard let raw = request.uri.queryParameters["before"] else { return nil }
        guard let value = Int64(String(raw)), value > 0 else {
            throw APIError.badRequest(field: "before", rule: "format", "before must be a positive number from an older-page link")
        }
        return value
    }

    func history(_ request: Request, _ user: SignedIn) async throws -> HistoryPage {
        let parameters = request.uri.queryParameters
        let status = parameters["status"].map(String.init).flatMap(ExecutionStatus.init(rawValue:))
        let type = parameters["type"].map(String.init).flatMap(ExecutionType.init(rawValue:))
        let limit = 25
        let rows = try await store.history(user.session.team, status: status, type: type, before: try Self.before(request),
                                           limit: limit + 1)
        var next: String?
        if rows.count > limit {
            var query = ["before=\(rows[limit - 1].seq)"]
            if let status { query.append("status=\(status.rawValue)") }
            if let type { query.append("type=\(type.rawValue)") }
            next = "/console/history?" + query.joined(separator: "&")
        }
        return HistoryPage(
            rows: rows.prefix(limit).map(\.row),
            statuses: ExecutionStatus.allCases.map { GroupsPage.Option(value: $0.rawValue, selected: $0 == status) },
            types: ["DRILL", "RECOVERY"].map { GroupsPage.Option(value: $0, selected: $0 == type?.rawValue) },
            next: next)
    }

    func audit(_ request: Request, _ user: SignedIn) async throws -> AuditPage {
        let limit = 50
        let rows = try await store.audit(user.session.team, before: try Self.before(request), limit: limit + 1)
        let next = rows.count > limit ? "/console/audit?before=\(rows[limit - 1].seq)" : nil
        return AuditPage(rows: rows.prefix(limit).map(\.row), next: next)
    }
}
