// The console's page models: plain values the templates read. Everything a
// template shows is a String, Int or Bool computed here, so the templates
// hold no logic beyond sections.

import MusterDomain

/// A status as a badge: its text and a CSS class derived from it.
public struct Badge: Sendable {
    /// e.g. `RUNNING`.
    public var text: String
    /// `ok`, `bad`, `warn`, `live` or `idle`.
    public var tone: String

    /// A badge for an execution, wave or server status.
    public init(_ status: String) {
        text = status
        switch status {
        case "COMPLETED", "LAUNCHED": tone = "ok"
        case "FAILED", "TIMED_OUT", "CANCELLED", "TERMINATED": tone = "bad"
        case "PARTIAL", "PAUSED", "QUEUED", "SKIPPED": tone = "warn"
        case "RUNNING", "LAUNCHING", "IN_PROGRESS": tone = "live"
        default: tone = "idle"
        }
    }
}

/// A progress bar: done of total.
public struct Progress: Sendable {
    /// Finished items.
    public var done: Int
    /// All items.
    public var total: Int
    /// 0–100.
    public var percent: Int

    /// `done` of `total`.
    public init(done: Int, total: Int) {
        self.done = done
        self.total = total
        percent = total == 0 ? 0 : min(100, done * 100 / total)
    }
}

/// The dashboard.
public struct DashboardPage: Sendable {
    /// An execution that is running or paused.
    public struct Active: Sendable {
        public var id: String, planName: String, type: String, status: Badge, progress: Progress, startedAt: String
        public init(id: String, planName: String, type: String, status: Badge, progress: Progress, startedAt: String) {
            self.id = id; self.planName = planName; self.type = type; self.status = status; self.progress = progress
            self.startedAt = startedAt
        }
    }
    /// DRS capacity in use at one endpoint.
    public struct Capacity: Sendable {
        public var accountID: String, region: String, activeJobs: Int, jobLimit: Int, serversInJobs: Int, queuedGroups: Int
        public var jobs: Progress
        public init(accountID: String, region: String, activeJobs: Int, serversInJobs: Int, queuedGroups: Int, jobLimit: Int = 20) {
            self.accountID = accountID; self.region = region; self.activeJobs = activeJobs; self.jobLimit = jobLimit
            self.serversInJobs = serversInJobs; self.queuedGroups = queuedGroups
            jobs = Progress(done: activeJobs, total: jobLimit)
        }
    }
    /// A recent failure.
    public struct Failure: Sendable {
        public var executionID: String, planName: String, what: String, reason: String, at: String
        public init(executionID: String, planName: String, what: String, reason: String, at: String) {
            self.executionID = executionID; self.planName = planName; self.what = what; self.reason = reason; self.at = at
        }
    }
    public var active: [Active]
    public var capacity: [Capacity]
    public var failures: [Failure]
    public var hasActive: Bool { !active.isEmpty }
    public init(active: [Active], capacity: [Capacity], failures: [Failure]) {
        self.active = active; self.capacity = capacity; self.failures = failures
        noActive = active.isEmpty; noCapacity = capacity.isEmpty; noFailures = failures.isEmpty
    }
    var noActive: Bool, noCapacity: Bool, noFailures: Bool
}

/// One execution, its live part and its report.
public struct ExecutionPage: Sendable {
    /// One DRS job-log item of a server.
    public struct LogLine: Sendable {
        public var at: String, event: String, error: String
        public init(at: String, event: String, error: String?) {
            self.at = at; self.event = event; self.error = error ?? ""
        }
    }
    public struct Server: Sendable {
        public var id: String, accountID: String, region: String, status: Badge, jobID: String, instanceID: String
        public var failureReason: String
        /// Its DRS job-log items, oldest first.
        public var log: [LogLine]
        var hasLog: Bool, logCount: Int
        public init(id: String, accountID: String, region: String, status: Badge, jobID: String?, instanceID: String?,
                    failureReason: String?, log: [LogLine] = []) {
            self.id = id; self.accountID = accountID; self.region = region; self.status = status
            self.jobID = jobID ?? ""; self.instanceID = instanceID ?? ""; self.failureReason = TextRule.visible(failureReason ?? "")  // free text from DRS: shown, never raw
            self.log = log; hasLog = !log.isEmpty; logCount = log.count
        }
    }
    /// A wave hook step: start, end, outcome, output; an approval waiting for this user shows its form.
    public struct Step: Sendable {
        public var name: String, kind: String, phase: String, status: Badge, startedAt: String, endedAt: String
        public var output: String, decidedBy: String, canDecide: Bool
        public init(name: String, kind: String, phase: String, status: Badge, startedAt: String, endedAt: String,
                    output: String?, decidedBy: String?, canDecide: Bool) {
            self.name = name; self.kind = kind; self.phase = phase; self.status = status; self.startedAt = startedAt
            self.endedAt = endedAt; self.output = output ?? ""; self.decidedBy = decidedBy ?? ""; self.canDecide = canDecide
        }
    }
    public struct Wave: Sendable {
        public var number: Int, name: String, status: Badge, progress: Progress, gate: Bool, queuedReason: String
        public var servers: [Server]
        public var steps: [Step], hasSteps: Bool
        public init(number: Int, name: String, status: Badge, progress: Progress, gate: Bool, queuedReason: String?,
                    servers: [Server], steps: [Step] = []) {
            self.number = number; self.name = name; self.status = status; self.progress = progress; self.gate = gate
            self.queuedReason = queuedReason ?? ""; self.servers = servers; self.steps = steps; hasSteps = !steps.isEmpty
        }
    }
    public struct Event: Sendable {
        public var seq: String, type: String, at: String, detail: String
        public init(seq: String, type: String, at: String, detail: String) {
            self.seq = seq; self.type = type; self.at = at; self.detail = detail
        }
    }
    /// Which actions the role and status allow.
    public struct Actions: Sendable {
        public var pause = false, resume = false, approve = false, cancel = false, cleanup = false, drill = false
        public var any: Bool { pause || resume || approve || cancel || cleanup }
        public init() {}
    }
    public var id: String, planName: String, type: String, status: Badge, initiatedBy: String, createdAt: String
    public var endedAt: String, rto: String, progress: Progress, waves: [Wave], timeline: Timeline, events: [Event]
    public var actions: Actions, showActions: Bool, csrf: String, finished: Bool
    public init(id: String, planName: String, type: String, status: Badge, initiatedBy: String, createdAt: String,
                endedAt: String, rto: String, progress: Progress, waves: [Wave], timeline: Timeline, events: [Event],
                actions: Actions, csrf: String, finished: Bool) {
        self.id = id; self.planName = planName; self.type = type; self.status = status; self.initiatedBy = initiatedBy
        self.createdAt = createdAt; self.endedAt = endedAt; self.rto = rto; self.progress = progress; self.waves = waves
        self.timeline = timeline; self.events = events; self.actions = actions; self.csrf = csrf; self.finished = finished
        showActions = actions.any
        anyAction = actions.any
    }
    var anyAction: Bool
}

/// The plans list.
public struct PlansPage: Sendable {
    public struct Row: Sendable {
        public var id: String, name: String, waves: Int, rto: String
        public init(id: String, name: String, waves: Int, rto: String) {
            self.id = id; self.name = name; self.waves = waves; self.rto = rto
        }
    }
    public var plans: [Row]
    var none: Bool
    public init(plans: [Row]) { self.plans = plans; none = plans.isEmpty }
}

/// One plan: its DAG and the start form.
public struct PlanPage: Sendable {
    public var id: String, name: String, rto: String, graph: PlanGraph, canStart: Bool, csrf: String
    public var running: String
    var isRunning: Bool
    /// The plan's readiness now, if it was evaluated for the page.
    public var readiness: ReadinessPanel?
    public init(id: String, name: String, rto: String, graph: PlanGraph, canStart: Bool, csrf: String, running: String?,
                readiness: ReadinessPanel? = nil) {
        self.id = id; self.name = name; self.rto = rto; self.graph = graph; self.canStart = canStart; self.csrf = csrf
        self.running = running ?? ""; isRunning = running != nil; self.readiness = readiness
    }
}

/// A plan's readiness evaluation: the verdict and each check with its servers and fix.
public struct ReadinessPanel: Sendable {
    public struct Check: Sendable {
        public var name: String, status: Badge, servers: String, message: String, fix: String
        var hasFix: Bool
        public init(name: String, status: String, servers: [String], message: String, fix: String?) {
            self.name = name; self.status = ReadinessPanel.badge(status); self.servers = servers.joined(separator: ", ")
            self.message = message; self.fix = fix ?? ""; hasFix = fix != nil
        }
    }
    public var verdict: Badge, evaluatedAt: String, checks: [Check]
    public init(verdict: String, evaluatedAt: String, checks: [Check]) {
        self.verdict = Self.badge(verdict); self.evaluatedAt = evaluatedAt; self.checks = checks
    }

    /// ok / warning / unknown / blocking as a badge.
    static func badge(_ status: String) -> Badge {
        var badge = Badge(status.uppercased())
        badge.tone = ["ok": "ok", "warning": "warn", "blocking": "bad"][status] ?? "idle"
        return badge
    }
}

/// Per plan: the last successful drill against the targets and the drill policy.
public struct CompliancePage: Sendable {
    public struct Row: Sendable {
        public var planID: String, planName: String, lastDrill: String, executionID: String, daysSince: String
        public var policy: String, due: String, rto: String, rpo: String, overdue: Badge
        var hasDrill: Bool
        public init(planID: String, planName: String, lastDrill: String?, executionID: String?, daysSince: String,
                    policy: String, due: String, rto: String, rpo: String, overdue: Bool) {
            self.planID = planID; self.planName = planName; self.lastDrill = lastDrill ?? "never"
            self.executionID = executionID ?? ""; hasDrill = executionID != nil; self.daysSince = daysSince
            self.policy = policy; self.due = due; self.rto = rto; self.rpo = rpo
            var badge = Badge(overdue ? "OVERDUE" : "ON TIME")
            badge.tone = overdue ? "bad" : "ok"
            self.overdue = badge
        }
    }
    public var rows: [Row]
    var none: Bool
    public init(rows: [Row]) { self.rows = rows; none = rows.isEmpty }
}

/// The confirmation before a start.
public struct ConfirmStartPage: Sendable {
    public var planID: String, planName: String, type: String, recovery: Bool, csrf: String, error: String
    var hasError: Bool
    /// The blocking readiness findings; starting then needs the force box ticked.
    public var blocking: [String]
    var isBlocking: Bool
    public init(planID: String, planName: String, type: String, csrf: String, error: String? = nil, blocking: [String] = []) {
        self.planID = planID; self.planName = planName; self.type = type; recovery = type == "RECOVERY"
        self.csrf = csrf; self.error = error ?? ""; hasError = error != nil
        self.blocking = blocking; isBlocking = !blocking.isEmpty
    }
}

/// Protection groups and source servers.
public struct GroupsPage: Sendable {
    public struct Server: Sendable {
        public var id: String, hostname: String, accountID: String, region: String, replication: String
        public var lastSeen: String, group: String, tags: String
        var assigned: Bool
        public init(id: String, hostname: String, accountID: String, region: String, replication: String,
                    lastSeen: String, group: String?, tags: String) {
            self.id = id; self.hostname = hostname; self.accountID = accountID; self.region = region
            self.replication = replication; self.lastSeen = lastSeen; self.group = group ?? ""; self.tags = tags
            assigned = group != nil
        }
    }
    public struct Group: Sendable {
        public var name: String, region: String, servers: Int
        public init(name: String, region: String, servers: Int) { self.name = name; self.region = region; self.servers = servers }
    }
    public var groups: [Group], servers: [Server], query: String, states: [Option]
    public struct Option: Sendable {
        public var value: String, selected: Bool
        public init(value: String, selected: Bool) { self.value = value; self.selected = selected }
    }
    public init(groups: [Group], servers: [Server], query: String, states: [Option]) {
        self.groups = groups; self.servers = servers; self.query = query; self.states = states
    }
}

/// Executions with filters and paging.
public struct HistoryPage: Sendable {
    public struct Row: Sendable {
        public var id: String, planName: String, type: String, status: Badge, initiatedBy: String, createdAt: String
        public var endedAt: String
        public init(id: String, planName: String, type: String, status: Badge, initiatedBy: String, createdAt: String,
                    endedAt: String) {
            self.id = id; self.planName = planName; self.type = type; self.status = status; self.initiatedBy = initiatedBy
            self.createdAt = createdAt; self.endedAt = endedAt
        }
    }
    public var rows: [Row], statuses: [GroupsPage.Option], types: [GroupsPage.Option], next: String
    var hasNext: Bool
    public init(rows: [Row], statuses: [GroupsPage.Option], types: [GroupsPage.Option], next: String?) {
        self.rows = rows; self.statuses = statuses; self.types = types; self.next = next ?? ""; hasNext = next != nil
    }
}

/// The team's audit trail.
public struct AuditPage: Sendable {
    public struct Row: Sendable {
        public var at: String, actor: String, action: String, resource: String, detail: String
        public init(at: String, actor: String, action: String, resource: String, detail: String) {
            self.at = at; self.actor = actor; self.action = action; self.resource = resource; self.detail = detail
        }
    }
    public var rows: [Row], next: String
    var hasNext: Bool
    public init(rows: [Row], next: String?) { self.rows = rows; self.next = next ?? ""; hasNext = next != nil }
}

/// The sign-in form.
public struct SignInPage: Sendable {
    public var error: String, oidc: Bool
    var hasError: Bool
    public init(error: String? = nil, oidc: Bool = false) { self.error = error ?? ""; hasError = error != nil; self.oidc = oidc }
}

/// An error page (404, 403).
public struct MessagePage: Sendable {
    public var heading: String, message: String
    public init(heading: String, message: String) { self.heading = heading; self.message = message }
}
