import Foundation
import MusterDomain

/// One check's answer: what, how bad, which servers, and what to do.
struct PlanReadinessCheck: Sendable, Codable, Equatable {
    /// The check's stable name (`servers.exist`, `servers.replicating`, …).
    var name: String
    /// Its outcome.
    var status: ReadinessStatus
    /// The servers concerned (empty when the check is about the plan or account).
    var servers: [String]
    /// What was found.
    var message: String
    /// What to do about it (nil when the check is ok).
    var fix: String?

    /// Creates a check.
    init(name: String, status: ReadinessStatus, servers: [String] = [], message: String, fix: String? = nil) {
        self.name = name
        self.status = status
        self.servers = servers
        self.message = message
        self.fix = fix
    }
}

/// The checks of one evaluation and their verdict.
struct ReadinessEvaluation: Sendable, Codable, Equatable {
    /// Every check, in a fixed order.
    var checks: [PlanReadinessCheck]
    /// The worst status among the checks (`ok` for none).
    var verdict: ReadinessStatus { checks.map(\.status).max() ?? .ok }
    /// The checks that block a start.
    var blocking: [PlanReadinessCheck] { checks.filter { $0.status == .blocking } }

    /// Wraps `checks`.
    init(checks: [PlanReadinessCheck]) { self.checks = checks }

    /// One line per blocking check, for a refusal or the audit trail.
    var blockingReasons: [String] {
        blocking.map { check in
            let servers = check.servers.isEmpty ? "" : " [\(check.servers.joined(separator: ", "))]"
            return "\(check.name): \(check.message)\(servers)" + (check.fix.map { " — fix: \($0)" } ?? "")
        }
    }
}

/// The account quotas a plan must fit in (DRS's defaults; configurable so
/// an account with raised quotas, or drs-sim with lowered ones, is judged right).
public struct ReadinessQuotas: Sendable, Equatable {
    /// Concurrent DRS jobs per account (DRS default 20).
    public var concurrentJobs = 20
    /// Source servers in one job (DRS default 100).
    public var serversPerJob = 100
    /// Source servers in all active jobs of an account (DRS default 500).
    public var serversInActiveJobs = 500
    /// The defaults.
    public init() {}
}

/// Everything an evaluation looks at, gathered by `ReadinessStore` (and, for
/// the AWS parts, by the launcher); the rules below are pure over it.
struct ReadinessFacts: Sendable, Equatable {
    /// One server of the plan as the inventory knows it.
    struct Server: Sendable, Equatable {
        var id: String
        var accountID: String
        var wave: Int
        /// False when the inventory has never seen it (deleted, or the account is not registered).
        var inInventory: Bool
        var replicationState: String?
        var recoveryInstanceID: String?
        var observedAt: Date?
        /// An active execution (of any plan) that holds this server unresolved, if any.
        var liveExecutionID: String?
        /// Its region and protection group (what the launcher is asked about, and which launch profile applies).
        var region: String
        var groupID: UUID?

        init(id: String, accountID: String, wave: Int, inInventory: Bool, replicationState: String?,
                    recoveryInstanceID: String?, observedAt: Date?, liveExecutionID: String?,
                    region: String = "us-east-1", groupID: UUID? = nil) {
            self.id = id
            self.accountID = accountID
            self.region = region
            self.groupID = groupID
            self.wave = wave
            self.inInventory = inInventory
            self.replicationState = replicationState
            self.recoveryInstanceID = recoveryInstanceID
            self.observedAt = observedAt
            self.liveExecutionID = liveExecutionID
        }
    }

    /// What other executions hold in one account right now.
    struct AccountLoad: Sendable, Equatable {
        var activeJobs: Int
        var serversInActiveJobs: Int
        init(activeJobs: Int, serversInActiveJobs: Int) {
            self.activeJobs = activeJobs
            self.serversInActiveJobs = serversInActiveJobs
        }
    }

    /// One wave-hook step of the plan.
    struct Hook: Sendable, Equatable {
        /// The wave's name.
        var waveName: String
        /// The step as the plan defines it.
        var step: HookStep
        /// The `account/region` endpoints of the wave's servers, sorted (where an SSM step without its own runs).
        var waveEndpoints: [String]

        init(waveName: String, step: HookStep, waveEndpoints: [String]) {
            self.waveName = waveName
            self.step = step
            self.waveEndpoints = waveEndpoints
        }

        /// Where an SSM step runs: its own account and region, else its wave's only endpoint (as
        /// `HookRules.resolve` decides at start); nil for other kinds and when the wave spans none or several.
        var ssmEndpoint: (accountID: String, region: String)? {
            guard let ssm = step.ssm else { return nil }
            if let account = ssm.accountID, let region = ssm.region { return (account, region) }
            guard waveEndpoints.count == 1 else { return nil }
            let parts = waveEndpoints[0].split(separator: "/", maxSplits: 1).map(String.init)
            return parts.count == 2 ? (parts[0], parts[1]) : nil
        }

        /// `step NAME (wave WAVE)`.
        var label: String { "step \(step.name) (wave \(waveName))" }
    }

    /// The plan's waves by name, in order (a wave without servers is a finding).
    var waves: [String]
    var servers: [Server]
    /// Load per AWS account id.
    var load: [String: AccountLoad]
    var quotas: ReadinessQuotas
    /// The plan's wave-hook steps, wave by wave, before then after.
    var hooks: [Hook]
    /// When the facts were gathered.
    var now: Date

    init(waves: [String], servers: [Server], load: [String: AccountLoad], quotas: ReadinessQuotas,
                hooks: [Hook] = [], now: Date) {
        self.waves = waves
        self.servers = servers
        self.load = load
        self.quotas = quotas
        self.hooks = hooks
        self.now = now
    }

    /// The hook steps of `plan`, each with its wave's endpoints among `servers` (whose `wave` is the index).
    static func hooks(of plan: ValidatedPlan, servers: [Server]) -> [Hook] {
        plan.waves.enumerated().flatMap { index, wave in
            let endpoints = Array(Set(servers.filter { $0.wave == index }.map { "\($0.accountID)/\($0.region)" })).sorted()
            return ((wave.before ?? []) + (wave.after ?? [])).map {
                Hook(waveName: wave.name, step: $0, waveEndpoints: endpoints)
            }
        }
    }
}

/// The readiness rules of issue 16, pure: facts in, checks out.
enum ReadinessRules {
    /// DRS `dataReplicationState` values a drill can launch from at once.
    static let launchable: Set<String> = ["CONTINUOUS"]
    /// States that still launch (from the last consistent snapshot) but lag or are about to.
    static let degraded: Set<String> = [
        "BACKLOG", "CREATING_SNAPSHOT", "RESCAN", "PENDING_SNAPSHOT_SHIPPING", "SHIPPING_SNAPSHOT",
    ]
    /// An inventory observation older than this is reported as stale.
    static let staleAfter: TimeInterval = 6 * 3600

    /// Evaluates every check over `facts`.
    static func evaluate(_ facts: ReadinessFacts) -> ReadinessEvaluation {
        ReadinessEvaluation(checks: [
            assigned(facts), exist(facts), replicating(facts), freshness(facts), liveJobs(facts),
            leftovers(facts), quotas(facts), hooks(facts),
        ])
    }

    static func ids(_ servers: [ReadinessFacts.Server]) -> [String] { servers.map(\.id).sorted() }

    static func assigned(_ facts: ReadinessFacts) -> PlanReadinessCheck {
        let used = Set(facts.servers.map(\.wave))
        let empty = facts.waves.indices.filter { !used.contains($0) }.map { facts.waves[$0] }
        guard empty.isEmpty else {
            return PlanReadinessCheck(
                name: "servers.assigned", status: .blocking,
                message: "wave\(empty.count == 1 ? "" : "s") \(empty.joined(separator: ", ")) ha\(empty.count == 1 ? "s" : "ve") no servers",
                fix: "add servers to the wave's protection groups or remove the wave")
        }
        return PlanReadinessCheck(name: "servers.assigned", status: .ok,
                              message: "every wave has servers (\(facts.servers.count) in all)")
    }

    static func exist(_ facts: ReadinessFacts) -> PlanReadinessCheck {
        let missing = facts.servers.filter { !$0.inInventory }
        guard missing.isEmpty else {
            return PlanReadinessCheck(
                name: "servers.exist", status: .blocking, servers: ids(missing),
                message: "\(missing.count) server(s) are not in the DRS inventory",
                fix: "check the server still exists in DRS and its account is registered, or remove it from its protection group")
        }
        return PlanReadinessCheck(name: "servers.exist", status: .ok, message: "every server is in the DRS inventory")
    }

    static func replicating(_ facts: ReadinessFacts) -> PlanReadinessCheck {
        let known = facts.servers.filter(\.inInventory)
        let stopped = known.filter { server in
            let state = server.replicationState ?? ""
            return !launchable.contains(state) && !degraded.contains(state)
        }
        let lagging = known.filter { degraded.contains($0.replicationState ?? "") }
        if !stopped.isEmpty {
            let states = Set(stopped.map { $0.replicationState ?? "unknown" }).sorted().joined(separator: ", ")
            return PlanReadinessCheck(
                name: "servers.replicating", status: .blocking, servers: ids(stopped),
                message: "\(stopped.count) server(s) do not replicate (\(states))",
                fix: "restore replication in DRS (agent running, replication server reachable) until the state is CONTINUOUS")
        }
        if !lagging.isEmpty {
            return PlanReadinessCheck(
                name: "servers.replicating", status: .warning, servers: ids(lagging),
                message: "\(lagging.count) server(s) replicate with a backlog; a launch uses an older snapshot",
                fix: "wait for the state to return to CONTINUOUS, or accept the older recovery point")
        }
        return PlanReadinessCheck(name: "servers.replicating", status: .ok, message: "every server replicates continuously")
    }

    static func freshness(_ facts: ReadinessFacts) -> PlanReadinessCheck {
        let stale = facts.servers.filter { server in
            guard let seen = server.observedAt else { return false }
            return facts.now.timeIntervalSince(seen) > staleAfter
        }
        guard stale.isEmpty else {
            return PlanReadinessCheck(
                name: "inventory.fresh", status: .warning, servers: ids(stale),
                message: "\(stale.count) server(s) were last seen more than \(Int(staleAfter / 3600)) hours ago",
                fix: "check the launcher's inventory sweep for the account (credentials, throttling)")
        }
        return PlanReadinessCheck(name: "inventory.fresh", status: .ok, message: "the inventory is current")
    }

    /// A warning, not a blocker: the launcher's per-server leases make a second execution wait for the
    /// first's jobs (two plans sharing servers is supported), so the plan runs, later.
    static func liveJobs(_ facts: ReadinessFacts) -> PlanReadinessCheck {
        let busy = facts.servers.filter { $0.liveExecutionID != nil }
        guard busy.isEmpty else {
            let executions = Set(busy.compactMap(\.liveExecutionID)).sorted().joined(separator: ", ")
            return PlanReadinessCheck(
                name: "servers.noLiveJob", status: .warning, servers: ids(busy),
                message: "\(busy.count) server(s) are held by running execution \(executions); their launches will wait for it",
                fix: "wait for that execution to end, or cancel it")
        }
        return PlanReadinessCheck(name: "servers.noLiveJob", status: .ok, message: "no server is in a live job")
    }

    static func leftovers(_ facts: ReadinessFacts) -> PlanReadinessCheck {
        let left = facts.servers.filter { $0.recoveryInstanceID != nil && $0.liveExecutionID == nil }
        guard left.isEmpty else {
            return PlanReadinessCheck(
                name: "servers.noRecoveryInstance", status: .blocking, servers: ids(left),
                message: "\(left.count) server(s) still have a recovery instance from an earlier launch",
                fix: "clean up the earlier drill (muster cleanup EXECUTION) or terminate the recovery instances in DRS")
        }
        return PlanReadinessCheck(name: "servers.noRecoveryInstance", status: .ok,
                              message: "no server has an unterminated recovery instance")
    }

    /// Each wave launches its servers at once. A largest wave that exceeds an account's quotas on its own is a
    /// plan to fix (blocking); one that fits alone but not beside the jobs running now will only wait for job
    /// slots — the launcher queues it — so that is a warning: in a regional disaster every team starts at
    /// once, and a busy account must never refuse a recovery.
    static func quotas(_ facts: ReadinessFacts) -> PlanReadinessCheck {
        let quotas = facts.quotas
        var tooLarge: [String] = [], busy: [String] = []
        var blockingServers: [String] = [], waitingServers: [String] = []
        let accounts = Set(facts.servers.map(\.accountID)).sorted()
        for account in accounts {
            let mine = facts.servers.filter { $0.accountID == account }
            let perWave = Dictionary(grouping: mine, by: \.wave).values.map(\.count)
            let peakServers = perWave.max() ?? 0
            let peakJobs = perWave.map { ($0 + quotas.serversPerJob - 1) / quotas.serversPerJob }.max() ?? 0
            let load = facts.load[account] ?? .init(activeJobs: 0, serversInActiveJobs: 0)
            if peakJobs > quotas.concurrentJobs {
                tooLarge.append("account \(account): the largest wave needs \(peakJobs) jobs, more than the \(quotas.concurrentJobs) concurrent jobs")
                blockingServers += mine.map(\.id)
            } else if peakServers > quotas.serversInActiveJobs {
                tooLarge.append("account \(account): the largest wave has \(peakServers) servers, more than the \(quotas.serversInActiveJobs) in active jobs")
                blockingServers += mine.map(\.id)
            } else if load.activeJobs + peakJobs > quotas.concurrentJobs {
                busy.append("account \(account): \(load.activeJobs) active job(s) + \(peakJobs) for the largest wave exceed the \(quotas.concurrentJobs) concurrent jobs")
                waitingServers += mine.map(\.id)
            } else if load.serversInActiveJobs + peakServers > quotas.serversInActiveJobs {
                busy.append("account \(account): \(load.serversInActiveJobs) server(s) in active jobs + \(peakServers) in the largest wave exceed \(quotas.serversInActiveJobs)")
                waitingServers += mine.map(\.id)
            }
        }
        if !tooLarge.isEmpty {
            return PlanReadinessCheck(
                name: "account.quotas", status: .blocking, servers: blockingServers.sorted(),
                message: (tooLarge + busy).joined(separator: "; "),
                fix: "split the largest wave, or raise the DRS quota")
        }
        if !busy.isEmpty {
            return PlanReadinessCheck(
                name: "account.quotas", status: .warning, servers: waitingServers.sorted(),
                message: busy.joined(separator: "; ") + ": launches will wait for job slots",
                fix: "nothing is required (the launcher queues the launches); to launch sooner, wait for running jobs to end or raise the DRS quota")
        }
        return PlanReadinessCheck(name: "account.quotas", status: .ok,
                              message: "the largest wave fits the account quotas beside the jobs running now")
    }

    /// What the planner can say about the wave hooks by itself: an SSM step whose account and region cannot
    /// be resolved blocks (a start would be refused); an HTTP callout's target is not probed (`unknown` — the
    /// URL passed the save-time rules, but only the notifier holds the subscription and a probe would be a
    /// side effect at the receiver). Whether an SSM step's document exists is the launcher's `hooks.reachable`
    /// (`ssm:DescribeDocument`), merged over this one.
    static func hooks(_ facts: ReadinessFacts) -> PlanReadinessCheck {
        guard !facts.hooks.isEmpty else {
            return PlanReadinessCheck(name: "hooks.reachable", status: .ok, message: "no hooks")
        }
        let ssm = facts.hooks.filter { $0.step.kind == .ssmAutomation }
        let unresolved = ssm.filter { $0.ssmEndpoint == nil }
        if !unresolved.isEmpty {
            let why = unresolved.map { hook in
                hook.label + (hook.waveEndpoints.isEmpty ? " has no accountId and region, and its wave has no servers"
                    : " has no accountId and region, and its wave spans \(hook.waveEndpoints.joined(separator: ", "))")
            }
            return PlanReadinessCheck(
                name: "hooks.reachable", status: .blocking, message: why.joined(separator: "; "),
                fix: "give the SSM step its own accountId and region")
        }
        let callouts = facts.hooks.filter { $0.step.kind == .httpCallout }
        let documents = ssm.isEmpty ? nil : "\(ssm.count) SSM step(s) whose documents the launcher checks"
        if !callouts.isEmpty {
            let targets = callouts.map { hook in
                "\(hook.label) → \(URL(string: hook.step.callout?.url ?? "")?.host ?? "?")"
            }
            return PlanReadinessCheck(
                name: "hooks.reachable", status: .unknown,
                message: "callout targets are not probed: " + targets.joined(separator: ", ")
                    + (documents.map { "; \($0)" } ?? ""),
                fix: "check that each callout URL answers and its subscription exists in the notifier; "
                    + "a callout that cannot be delivered fails its step as its onFailure says")
        }
        let approvals = facts.hooks.count - ssm.count
        return PlanReadinessCheck(
            name: "hooks.reachable", status: .ok,
            message: [documents, approvals > 0 ? "\(approvals) approval step(s) (nothing to reach)" : nil]
                .compactMap { $0 }.joined(separator: "; "))
    }
}
