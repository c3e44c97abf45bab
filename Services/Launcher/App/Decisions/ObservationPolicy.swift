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

    /// `postLaunchEnabled` tells, per source server, whether its launch
    /// configuration runs post-launch actions (nil: not known).
    init(_ job: Job, postLaunchEnabled: (SourceServerID) -> Bool? = { _ in nil }) {
        status = job.status.flatMap { DRSJobStatus(rawValue: $0.rawValue) } ?? .pending
        servers = (job.participatingServers ?? []).compactMap { server in
            guard let id = server.sourceServerID.map(SourceServerID.init(rawValue:)) else { return nil }
            let runs = (server.launchActionsStatus?.runs ?? []).map { run in
                MusterEvents.LaunchActionRun(
                    actionID: run.action?.actionId ?? run.runId ?? "", actionName: run.action?.name,
                    status: run.status.map { PostLaunchActionStatus(rawValue: $0.rawValue) } ?? .inProgress,
                    failureReason: run.failureReason)
            }
            return ObservedServer(
                sourceServerID: id,
                launchStatus: server.launchStatus.flatMap { DRSLaunchStatus(rawValue: $0.rawValue) } ?? .pending,
                recoveryInstanceID: server.recoveryInstanceID, launchActionRuns: runs,
                postLaunchActionsStatus: PostLaunchActionStatus.overall(runs.map(\.status)),
                postLaunchEnabled: postLaunchEnabled(id))
        }
        .sorted { $0.sourceServerID < $1.sourceServerID }
        endedAt = job.endDateTime.flatMap(DRSDateTime.date(from:))
        fingerprint = ([status.rawValue] + servers.map { server in
            ([server.sourceServerID.rawValue, server.launchStatus.rawValue, server.recoveryInstanceID ?? "-"]
                + server.launchActionRuns.map { "\($0.actionID)=\($0.status.rawValue)" }.sorted()).joined(separator: ",")
        }).joined(separator: "|")
    }

    static func event(_ log: JobLog) -> MusterEvents.JobLogEvent {
        MusterEvents.JobLogEvent(
            event: log.event?.rawValue ?? "UNKNOWN", time: log.logDateTime.flatMap(DRSDateTime.date(from:)) ?? Date(),
            sourceServerID: log.eventData?.sourceServerID.map(SourceServerID.init(rawValue:)), rawError: log.eventData?.rawError)
    }
}

/// When the launcher reads a job's log and publishes `job.observed`
/// (issue 10: a bounded number of events per job). Pure.
///
/// - The log is read when the snapshot changed (a status or a server's
///   phase moved), and again after a read that found new items, until one
///   finds none (DRS may list an item late), so the request budget goes to
///   StartRecovery and DescribeJobs. Items are told apart by content
///   (`JobLogDeduplicator`), never by position.
/// - `job.observed` is published only when the snapshot changed or new log
///   events appeared — or for a final poll, which must be answered.
/// - A job seen terminal is not looked at again — unless it is a recovery
///   job whose launched servers still await post-launch runs (DRS may end
///   the job before they run).
enum ObservationPolicy {
    /// Whether to read the job's log.
    static func readsLog(previous fingerprint: String?, current: JobSnapshot, lastReadFoundNew: Bool) -> Bool {
        lastReadFoundNew || fingerprint != current.fingerprint
    }

    /// Whether this look owes a `job.observed`.
    static func publishes(previous fingerprint: String?, current: JobSnapshot, newEvents: Int, isFinal: Bool) -> Bool {
        isFinal || newEvents > 0 || fingerprint != current.fingerprint
    }
}
