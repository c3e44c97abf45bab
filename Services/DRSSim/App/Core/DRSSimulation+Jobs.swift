import Foundation
import MusterDRS

extension DRSSimulation {
    /// `StartRecovery`: starts a drill or recovery LAUNCH job for 1–200 source servers.
    public mutating func startRecovery(
        _ request: StartRecoveryRequest, accountID: String, region: String, realNow: Date
    ) throws(DRSSimError) -> StartRecoveryResponse {
        try handle(.startRecovery, accountID: accountID, region: region, realNow: realNow) { sim, key, now throws(DRSSimError) in
            let ids = request.sourceServers.map(\.sourceServerID)
            try Validation.count(ids.count, field: "sourceServers", min: 1, max: 200)
            for (index, server) in request.sourceServers.enumerated() {
                try Validation.sourceServerID.check(server.sourceServerID, field: "sourceServers[\(index)].sourceServerID")
                if let pit = server.recoverySnapshotID {
                    try Validation.recoverySnapshotID.check(pit, field: "sourceServers[\(index)].recoverySnapshotID")
                }
            }
            if Set(ids).count != ids.count {
                throw .invalidField("sourceServers", "each source server may appear only once in a job")
            }
            try Validation.tags(request.tags)
            if ids.count > sim.quotas.maxServersPerJob {
                throw .quotaExceeded(
                    "A job may include at most \(sim.quotas.maxServersPerJob) source servers; split the \(ids.count) servers into several jobs.",
                    quotaCode: "drs-sim-max-servers-per-job", resourceType: "JOB"
                )
            }
            var snapshots: [String: String] = [:]
            for server in request.sourceServers { snapshots[server.sourceServerID] = server.recoverySnapshotID }
            let job = try sim.createLaunchJob(
                ids, isDrill: request.isDrill ?? false, tags: request.tags ?? [:], key: key, now: now, foreignSeconds: nil,
                snapshots: snapshots
            )
            sim.counters.jobsStarted += 1
            if let group = request.tags?["muster:launchGroup"] {
                sim.counters.jobsByLaunchGroup[group, default: 0] += 1
            }
            return StartRecoveryResponse(job: job)
        }
    }

    /// Checks the one-job-per-server rule and the quotas, then creates a LAUNCH job.
    ///
    /// - Parameter foreignSeconds: for a foreign job, how long (simulated) it holds its servers.
    mutating func createLaunchJob(
        _ ids: [String], isDrill: Bool, tags: [String: String], key: EstateKey, now: Date, foreignSeconds: Double?,
        snapshots: [String: String] = [:]
    ) throws(DRSSimError) -> Job {
        var estate = try estate(key)
        let unknown = ids.filter { estate.servers[$0] == nil }
        if let first = unknown.first {
            throw .notFound(
                "Source server(s) \(unknown.joined(separator: ", ")) not found in account \(key.accountID), region \(key.region). "
                    + "Check the ids with DescribeSourceServers.",
                resourceID: first, resourceType: "SOURCE_SERVER"
            )
        }
        let holders = estate.activeHolders()
        for id in ids {
            if let holder = holders[id] {
                throw .conflict(
                    "Source server \(id) is being processed by job \(holder); DRS runs one job per source server at a time. "
                        + "Retry once that job is COMPLETED.",
                    resourceID: id, resourceType: "SOURCE_SERVER"
                )
            }
        }
        try checkJobQuotas(estate, adding: ids.count)
        var launches: [String: SimLaunchFacts] = [:]
        for (index, id) in ids.enumerated() {
            guard let source = estate.servers[id] else { continue }
            var facts = SimLaunchFacts(network: instanceNetwork(for: source, key: key))
            if let wanted = snapshots[id] {
                guard let snapshot = self.snapshots(of: source, now: now).first(where: { $0.id == wanted }) else {
                    throw .invalidField(
                        "sourceServers[\(index)].recoverySnapshotID",
                        "recovery snapshot \(wanted) does not exist for source server \(id); list them with DescribeRecoverySnapshots")
                }
                facts.snapshotID = snapshot.id
                facts.snapshotTime = snapshot.time
            }
            launches[id] = facts
        }
        let inUse = privateIPsInUse(key)

        let jobID = "drsjob-" + random.ids.hex(17)
        let createdAt = timestamp(now)
        var plans: [ServerLaunchPlan] = []
        for id in ids {
            guard var source = estate.servers[id] else { continue }
            var launchPlan = plan(for: source, isDrill: isDrill, key: key)
            if case .launch = launchPlan.outcome, let ip = launches[id]?.network?.privateIP, let holder = inUse[ip] {
                launchPlan.outcome = .launchFailure(
                    "EC2 launch failed: InvalidIPAddress.InUse: address \(ip) of the launch template is in use by \(holder)")
            }
            plans.append(launchPlan)
            source.server.lastLaunchResult = .pending
            source.server.lifeCycle?.lastLaunch = LifeCycleLastLaunch(
                initiated: LifeCycleLastLaunchInitiated(apiCallDateTime: createdAt, jobID: jobID, type: isDrill ? .drill : .recovery),
                status: .pending
            )
            estate.servers[id] = source
        }
        var events = JobTimeline.launch(
            created: now, plans: plans, profile: configuration.timing, rng: &random.timing,
            postLaunchOrder: behaviour.postLaunchOrder, ssmAgentDelay: behaviour.ssmAgentDelaySeconds)
        if let foreignSeconds {
            events = JobTimeline.compressed(events, created: now, to: foreignSeconds)
        } else if let stall = faults.takeStall(key, serverIDs: ids) {
            events = JobTimeline.stalled(events, seconds: stall)
        }
        let job = Job(
            jobID: jobID, arn: key.arn("job/\(jobID)"), type: .launch,
            initiatedBy: isDrill ? .startDrill : .startRecovery, creationDateTime: createdAt, status: .pending,
            participatingServers: ids.map { ParticipatingServer(sourceServerID: $0, launchStatus: .pending) },
            tags: tags, participatingResources: []
        )
        estate.add(SimJob(job: job, isDrill: isDrill, pending: events, launches: launches))
        counters.recordConcurrency(estate: key, jobs: estate.activeJobIDs.count, servers: estate.serversInActiveJobs)
        estates[key] = estate
        return job
    }

    /// Enforces concurrent jobs and servers in all active jobs (`ServiceQuotaExceededException`).
    func checkJobQuotas(_ estate: Estate, adding servers: Int) throws(DRSSimError) {
        if estate.activeJobIDs.count >= quotas.maxConcurrentJobs {
            throw .quotaExceeded(
                "Account \(estate.key.accountID) already has \(estate.activeJobIDs.count) active jobs in \(estate.key.region) "
                    + "(quota: \(quotas.maxConcurrentJobs) concurrent jobs). Start more once running jobs complete.",
                quotaCode: "drs-sim-max-concurrent-jobs", resourceType: "JOB"
            )
        }
        let inJobs = estate.serversInActiveJobs
        if inJobs + servers > quotas.maxServersInActiveJobs {
            throw .quotaExceeded(
                "\(inJobs) source servers are already in active jobs in \(estate.key.region); adding \(servers) would exceed "
                    + "the quota of \(quotas.maxServersInActiveJobs) servers in all active jobs. Wait for running jobs to complete.",
                quotaCode: "drs-sim-max-servers-in-active-jobs", resourceType: "SOURCE_SERVER"
            )
        }
    }

    /// Decides how a server's launch will go: its replication state, injected failures, actions.
    private mutating func plan(for source: SimSourceServer, isDrill: Bool, key: EstateKey) -> ServerLaunchPlan {
        let instanceID = "i-" + random.ids.hex(17)
        let conversionServerID = "i-" + random.ids.hex(17)
        let outcome: ServerLaunchPlan.Outcome
        if !Self.launchableStates.contains(source.replicationState) {
            outcome = .snapshotFailure(
                "Source server \(source.id) replication state is \(source.replicationState.rawValue): no point-in-time "
                    + "snapshot can be taken to launch from. Launch once replication is CONTINUOUS."
            )
        } else if let reason = faults.takeLaunchFailure(key, serverID: source.id) {
            outcome = .launchFailure(reason)
        } else {
            outcome = .launch
        }
        var runs: [LaunchActionRun] = []
        if !isDrill, source.launchConfiguration.postLaunchEnabled == true {
            let actions = source.postLaunchActions.isEmpty ? [SourceServerFactory.defaultPostLaunchAction] : source.postLaunchActions
            runs = actions.filter { $0.active != false }
                .sorted { ($0.order ?? 0) < ($1.order ?? 0) }
                .map { LaunchActionRun(action: $0, runId: random.ids.uuid(), status: .inProgress) }
        }
        return ServerLaunchPlan(
            sourceServerID: source.id, instanceID: instanceID, conversionServerID: conversionServerID,
            outcome: outcome, actionRuns: runs
        )
    }

    /// Replication states with a consistent point-in-time snapshot to launch from.
    static let launchableStates: Set<DataReplicationState> = [.continuous, .backlog, .creatingSnapshot, .rescan]

    /// `DescribeJobs`: jobs newest first (as the DRS API reference documents), filtered by ids
    /// and creation dates, paginated.
    public mutating func describeJobs(
        _ request: DescribeJobsRequest, accountID: String, region: String, realNow: Date
    ) throws(DRSSimError) -> DescribeJobsResponse {
        try handle(.describeJobs, accountID: accountID, region: region, realNow: realNow) { sim, key, _ throws(DRSSimError) in
            let estate = try sim.estate(key)
            let filters = request.filters
            var ids = Array(estate.jobOrder.reversed())
            if let wanted = filters?.jobIDs, !wanted.isEmpty {
                try Validation.count(wanted.count, field: "filters.jobIDs", min: 0, max: 1000)
                for (index, id) in wanted.enumerated() {
                    try Validation.jobID.check(id, field: "filters.jobIDs[\(index)]")
                }
                let set = Set(wanted)
                ids = ids.filter(set.contains)
            }
            let from = try filters?.fromDate.map { d throws(DRSSimError) in try Validation.dateTime(d, field: "filters.fromDate") }
            let to = try filters?.toDate.map { d throws(DRSSimError) in try Validation.dateTime(d, field: "filters.toDate") }
            let jobs = ids.compactMap { estate.jobs[$0]?.job }.filter { job in
                guard from != nil || to != nil else { return true }
                guard let created = job.creationDateTime.flatMap(DRSDateTime.date(from:)) else { return false }
                return (from.map { created >= $0 } ?? true) && (to.map { created <= $0 } ?? true)
            }
            let page = try Pagination.page(jobs, maxResults: request.maxResults, nextToken: request.nextToken, scope: "DescribeJobs")
            return DescribeJobsResponse(items: page.items, nextToken: page.nextToken)
        }
    }

    /// `DescribeJobLogItems`: a job's log, paginated, oldest or newest first (`behaviour.logOrder`:
    /// the API reference states no order), each item listed up to `logJitterSeconds` after it
    /// happened, so with jitter an older item can appear after newer ones were listed.
    public mutating func describeJobLogItems(
        _ request: DescribeJobLogItemsRequest, accountID: String, region: String, realNow: Date
    ) throws(DRSSimError) -> DescribeJobLogItemsResponse {
        try handle(.describeJobLogItems, accountID: accountID, region: region, realNow: realNow) { sim, key, now throws(DRSSimError) in
            try Validation.jobID.check(request.jobID, field: "jobID")
            guard let job = try sim.estate(key).jobs[request.jobID] else {
                throw .notFound(
                    "Job \(request.jobID) not found in account \(key.accountID), region \(key.region).",
                    resourceID: request.jobID, resourceType: "JOB"
                )
            }
            var visible = job.logs.indices.filter { index in
                index >= job.logTimes.count
                    || job.logTimes[index].addingTimeInterval(sim.behaviour.logDelay(jobID: job.id, index: index)) <= now
            }.map { job.logs[$0] }
            if sim.behaviour.logOrder == .newestFirst { visible.reverse() }
            let page = try Pagination.page(
                visible, maxResults: request.maxResults, nextToken: request.nextToken, scope: "DescribeJobLogItems.\(request.jobID)"
            )
            return DescribeJobLogItemsResponse(items: page.items, nextToken: page.nextToken)
        }
    }
}
