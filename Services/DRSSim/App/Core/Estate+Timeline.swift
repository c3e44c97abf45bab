import Foundation
import MusterDRS

extension Estate {
    /// Applies every event due by `now` (simulated), job by job in creation order. A job's
    /// timeline may go on after it COMPLETED (post-launch runs in the `after-job` order).
    mutating func advance(to now: Date, counters: inout DRSSimCounters, format: DRSDateTime.Style) {
        for jobID in timelineJobIDs {
            guard var job = jobs[jobID] else { continue }
            while job.cursor < job.pending.count, job.pending[job.cursor].at <= now {
                let event = job.pending[job.cursor]
                job.cursor += 1
                apply(event, to: &job, counters: &counters, format: format)
            }
            if job.cursor == job.pending.count {
                job.pending = []
                job.cursor = 0
            }
            jobs[jobID] = job
        }
        activeJobIDs.removeAll { jobs[$0]?.isActive != true }
        timelineJobIDs.removeAll { jobs[$0]?.pending.isEmpty != false }
    }

    private mutating func apply(
        _ event: TimelineEvent, to job: inout SimJob, counters: inout DRSSimCounters, format: DRSDateTime.Style
    ) {
        let at = DRSDateTime.string(from: event.at, style: format)
        switch event.effect {
        case .log(let kind, let data):
            job.logs.append(JobLog(logDateTime: at, event: kind, eventData: data))
            job.logTimes.append(event.at)

        case .jobStatus(let status):
            job.job.status = status
            if status == .completed { job.job.endDateTime = at }

        case .launchStatus(let serverID, let status):
            job.updateServer(serverID) { $0.launchStatus = status }

        case .instanceCreated(let serverID, let instanceID, let snapshotTime):
            job.updateServer(serverID) { $0.recoveryInstanceID = instanceID }
            guard var source = servers[serverID] else { return }
            // A new launch replaces the server's previous recovery instance, as DRS does for drills.
            if let previous = source.server.recoveryInstanceId, previous != instanceID {
                removeInstance(previous)
            }
            source.server.lifeCycle?.lastLaunch?.status = .inProgress
            servers[serverID] = source
            putInstance(
                RecoveryInstanceFactory.make(
                    instanceID: instanceID, for: source, job: job, estate: key,
                    snapshotTime: DRSDateTime.string(from: job.launches[serverID]?.snapshotTime ?? snapshotTime, style: format),
                    now: at, network: job.launches[serverID]?.network
                )
            )

        case .instanceState(let instanceID, let state):
            instances[instanceID]?.ec2InstanceState = state

        case .instanceRemoved(let instanceID):
            if let serverID = instances[instanceID]?.sourceServerID, servers[serverID]?.server.recoveryInstanceId == instanceID {
                servers[serverID]?.server.recoveryInstanceId = nil
            }
            if job.job.type == .terminate { counters.recoveryInstancesTerminated += 1 }
            removeInstance(instanceID)

        case .actionRun(let serverID, let run):
            job.updateServer(serverID) { server in
                var status = server.launchActionsStatus ?? LaunchActionsStatus(ssmAgentDiscoveryDatetime: at, runs: [])
                var runs = status.runs ?? []
                if let index = runs.firstIndex(where: { $0.runId == run.runId }) {
                    runs[index] = run
                } else {
                    runs.append(run)
                }
                status.runs = runs
                server.launchActionsStatus = status
            }

        case .lastLaunchResult(let serverID, let result, let status):
            guard var source = servers[serverID] else { return }
            source.server.lastLaunchResult = result
            source.server.lifeCycle?.lastLaunch?.status = status
            if result == .succeeded {
                source.server.recoveryInstanceId = job.job.participatingServers?
                    .first { $0.sourceServerID == serverID }?.recoveryInstanceID
                counters.serversLaunched += 1
            } else {
                counters.serversFailed += 1
            }
            servers[serverID] = source
        }
    }
}

extension SimJob {
    /// Edits the participating-server entry for `serverID`.
    mutating func updateServer(_ serverID: String, _ edit: (inout ParticipatingServer) -> Void) {
        guard var list = job.participatingServers,
              let index = list.firstIndex(where: { $0.sourceServerID == serverID })
        else { return }
        edit(&list[index])
        job.participatingServers = list
    }
}
