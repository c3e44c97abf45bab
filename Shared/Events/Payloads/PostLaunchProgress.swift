import Foundation
import MusterDomain

/// Where a server's post-launch actions stand in one `job.observed` snapshot.
///
/// AWS documents no order between a recovery job's `JOB_END` (status
/// COMPLETED) and its servers' post-launch action runs: SSM-based actions
/// start only once the launched instance boots and its agent registers, which
/// can be minutes after DRS ends the job, or DRS may hold the job open until
/// they finish. This one rule is correct under both orders; the planner gates
/// a RECOVERY wave on it and the poller keeps polling a COMPLETED job while
/// any of its servers is `waiting`.
public enum PostLaunchProgress: Sendable, Equatable {
    /// A drill (Muster does not wait for its actions), a server not launched,
    /// or post-launch actions disabled in the server's launch configuration.
    case notApplicable
    /// Runs in progress, or none reported yet while the launch configuration
    /// has them enabled (or is unknown) — whatever the job's status.
    case waiting
    /// DRS reports SUCCEEDED, or every run succeeded.
    case succeeded
    /// DRS reports FAILED, or a run failed; the reason names the run.
    case failed(reason: String)

    /// True while Muster must keep looking at the job for this server.
    public var isWaiting: Bool { self == .waiting }
}

extension ObservedServer {
    /// The post-launch verdict for this server. `isRecovery` is false for
    /// drills and TERMINATE jobs, whose actions Muster does not wait for.
    public func postLaunchProgress(isRecovery: Bool) -> PostLaunchProgress {
        guard isRecovery, launchStatus == .launched else { return .notApplicable }
        if let failed = launchActionRuns.first(where: { $0.status == .failed }) {
            let name = failed.actionName ?? failed.actionID
            return .failed(reason: "post-launch action \(name) failed" + (failed.failureReason.map { ": \($0)" } ?? ""))
        }
        if postLaunchActionsStatus == .failed { return .failed(reason: "DRS reported the post-launch actions FAILED") }
        let runs = PostLaunchActionStatus.overall(launchActionRuns.map(\.status))
        if postLaunchActionsStatus == .succeeded || runs == .succeeded { return .succeeded }
        if runs == nil, postLaunchEnabled == false { return .notApplicable }
        return .waiting
    }
}

extension JobObserved {
    /// True when a launched server of this snapshot still awaits its
    /// post-launch runs, even if DRS already reports the job COMPLETED.
    public func awaitsPostLaunch(isRecovery: Bool) -> Bool {
        servers.contains { $0.postLaunchProgress(isRecovery: isRecovery).isWaiting }
    }
}
