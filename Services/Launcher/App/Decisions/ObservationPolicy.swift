import Foundation
import MusterDRS
import MusterDomain
import MusterEvents

/// A DRS job reduced to what `job.observed` carries, with a fingerprint
/// that changes whenever anything reported changes (status, a server's
/// launch status or recovery instance, a post-launch action run). Pure.
struct JobSnapshot: Equatable {
    var status: DRSJobStatus
    var servers: [ObservedServer]
    var endedAt: Date?
    var fingerprint: String

    init(_ job: Job) {
        status = job.status.flatMap { DRSJobStatus(rawValue: $0.rawValue) } ?? .pending
        servers = (job.participatingServers ?? []).compactMap { server in
            guard let id = server.sourceServerID else { return nil }
            let runs = (server.launchActionsStatus?.runs ?? []).map { run in
                MusterEvents.LaunchActionRun(
                    actionID: run.action?.actionId ?? run.runId ?? "", actionName: run.action?.name,
                    status: run.status?.rawValue ?? "IN_PROGRESS", failureReason: run.failureReason)
            }
            return ObservedServer(
                sourceServerID: id,
                launchStatus: server.launchStatus.flatMap { DRSLaunchStatus(rawValue: $0.rawValue) } ?? .pending,
                recoveryInstanceID: server.recoveryInstanceID, launchActionRuns: runs,
                postLaunchActionsStatus: Self.overall(runs))
        }
        .sorted { $0.sourceServerID < $1.sourceServerID }
        endedAt = job.endDateTime.flatMap(DRSDateTime.date(from:))
        fingerprint = ([status.rawValue] + servers.map { server in
            ([server.sourceServerID, server.launchStatus.rawValue, server.recoveryInstanceID ?? "-"]
                + server.launchActionRuns.map { "\($0.actionID)=\($0.status)" }.sorted()).joined(separator: ",")
        }).joined(separator: "|")
    }

    /// SUCCEEDED when every run succeeded, FAILED when one failed, else IN_PROGRESS; nil without runs.
    static func overall(_ runs: [MusterEvents.LaunchActionRun]) -> String? {
        guard !runs.isEmpty else { return nil }
        if runs.contains(where: { $0.status == "FAILED" }) { return "FAILED" }
        return runs.allSatisfy { $0.status == "SUCCEEDED" } ? "SUCCEEDED" : "IN_PROGRESS"
    }

    static func event(_ log: JobLog) -> MusterEvents.JobLogEvent {
        MusterEvents.JobLogEvent(
            event: log.event?.rawValue ?? "UNKNOWN", time: log.logDateTime.flatMap(DRSDateTime.date(from:)) ?? Date(),
            sourceServerID: log.eventData?.sourceServerID, rawError: log.eventData?.rawError)
    }
}

/// When the launcher reads a job's log and publishes `job.observed`
/// (issue 10: a bounded number of events per job). Pure.
///
/// - The log is read only when the snapshot changed (a status or a
///   server's phase moved), so the request budget goes to StartRecovery
///   and DescribeJobs.
/// - Log events are told apart by their content (event, time, server,
///   error), never by position: DescribeJobLogItems states no order.
/// - `job.observed` is published only when the snapshot changed or new log
///   events appeared — or for a final poll, which must be answered.
/// - A job already seen terminal is not looked at again: the poller's polls
///   for it are dropped without a DRS call.
enum ObservationPolicy {
    /// Whether to read the job's log.
    static func readsLog(previous fingerprint: String?, current: JobSnapshot) -> Bool {
        fingerprint != current.fingerprint
    }

    /// The content key of a log event.
    static func key(_ event: MusterEvents.JobLogEvent) -> String {
        [event.event, EventCoding.formatTime(event.time), event.sourceServerID ?? "-", event.rawError ?? "-"]
            .joined(separator: "|")
    }

    /// The events of `logs` not among `seen`, oldest first, each once.
    static func newEvents(_ logs: [MusterEvents.JobLogEvent], seen: Set<String>) -> [MusterEvents.JobLogEvent] {
        var keys = seen
        return logs.sorted { ($0.time, key($0)) < ($1.time, key($1)) }.filter { keys.insert(key($0)).inserted }
    }

    /// Whether this look owes a `job.observed`.
    static func publishes(previous fingerprint: String?, current: JobSnapshot, newEvents: Int, isFinal: Bool) -> Bool {
        isFinal || newEvents > 0 || fingerprint != current.fingerprint
    }
}
