import Foundation
import MusterDRS

extension DRSSimulation {
    /// `DescribeRecoveryInstances`: live recovery instances, filtered, paginated.
    public mutating func describeRecoveryInstances(
        _ request: DescribeRecoveryInstancesRequest, accountID: String, region: String, realNow: Date
    ) throws(DRSSimError) -> DescribeRecoveryInstancesResponse {
        try handle(.describeRecoveryInstances, accountID: accountID, region: region, realNow: realNow) { sim, key, _ throws(DRSSimError) in
            let estate = try sim.estate(key)
            var instances = estate.instanceOrder.compactMap { estate.instances[$0] }
            if let wanted = request.filters?.recoveryInstanceIDs, !wanted.isEmpty {
                try Validation.count(wanted.count, field: "filters.recoveryInstanceIDs", min: 0, max: 200)
                for (index, id) in wanted.enumerated() {
                    try Validation.recoveryInstanceID.check(id, field: "filters.recoveryInstanceIDs[\(index)]")
                }
                let set = Set(wanted)
                instances = instances.filter { $0.recoveryInstanceID.map(set.contains) ?? false }
            }
            if let servers = request.filters?.sourceServerIDs, !servers.isEmpty {
                for (index, id) in servers.enumerated() {
                    try Validation.sourceServerID.check(id, field: "filters.sourceServerIDs[\(index)]")
                }
                let set = Set(servers)
                instances = instances.filter { $0.sourceServerID.map(set.contains) ?? false }
            }
            let page = try Pagination.page(
                instances, maxResults: request.maxResults, nextToken: request.nextToken, scope: "DescribeRecoveryInstances"
            )
            return DescribeRecoveryInstancesResponse(nextToken: page.nextToken, items: page.items)
        }
    }

    /// `TerminateRecoveryInstances`: starts a TERMINATE job for 1–200 recovery instances.
    public mutating func terminateRecoveryInstances(
        _ request: TerminateRecoveryInstancesRequest, accountID: String, region: String, realNow: Date
    ) throws(DRSSimError) -> TerminateRecoveryInstancesResponse {
        try handle(.terminateRecoveryInstances, accountID: accountID, region: region, realNow: realNow) { sim, key, now throws(DRSSimError) in
            let ids = request.recoveryInstanceIDs
            try Validation.count(ids.count, field: "recoveryInstanceIDs", min: 1, max: 200)
            for (index, id) in ids.enumerated() {
                try Validation.recoveryInstanceID.check(id, field: "recoveryInstanceIDs[\(index)]")
            }
            if Set(ids).count != ids.count {
                throw .invalidField("recoveryInstanceIDs", "each recovery instance may appear only once")
            }
            var estate = try sim.estate(key)
            var targets: [(sourceServerID: String, instanceID: String)] = []
            for id in ids {
                guard let instance = estate.instances[id], let serverID = instance.sourceServerID else {
                    throw .notFound(
                        "Recovery instance \(id) not found in account \(key.accountID), region \(key.region). "
                            + "It may already be terminated; check with DescribeRecoveryInstances.",
                        resourceID: id, resourceType: "RECOVERY_INSTANCE"
                    )
                }
                if let holder = estate.activeJob(holding: serverID) {
                    throw .conflict(
                        "Recovery instance \(id) (source server \(serverID)) is being processed by job \(holder.id). "
                            + "Retry once that job is COMPLETED.",
                        resourceID: id, resourceType: "RECOVERY_INSTANCE"
                    )
                }
                targets.append((serverID, id))
            }
            try sim.checkJobQuotas(estate, adding: targets.count)

            let jobID = "drsjob-" + sim.random.ids.hex(17)
            let events = JobTimeline.terminate(
                created: now, targets: targets, profile: sim.configuration.timing, rng: &sim.random.timing
            )
            let job = Job(
                jobID: jobID, arn: key.arn("job/\(jobID)"), type: .terminate, initiatedBy: .terminateRecoveryInstances,
                creationDateTime: sim.timestamp(now), status: .pending,
                participatingServers: targets.map {
                    ParticipatingServer(sourceServerID: $0.sourceServerID, recoveryInstanceID: $0.instanceID, launchStatus: .pending)
                },
                tags: [:], participatingResources: []
            )
            estate.add(SimJob(job: job, isDrill: false, pending: events))
            sim.counters.terminateJobsStarted += 1
            sim.counters.recordConcurrency(estate: key, jobs: estate.activeJobIDs.count, servers: estate.serversInActiveJobs)
            sim.estates[key] = estate
            return TerminateRecoveryInstancesResponse(job: job)
        }
    }
}
