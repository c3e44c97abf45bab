import Foundation
import MusterDRS

/// Decides what became of a launch intent left in SUBMITTING (DESIGN §4):
/// the process died, or StartRecovery failed ambiguously, between writing
/// the intent and recording the job id. Pure: the caller lists the jobs
/// created since the intent (`DescribeJobs(fromDate)`).
public enum Reconciler {
    /// The verdict for one intent.
    public enum Verdict: Equatable, Sendable {
        /// DRS has the job: record it, never launch again.
        case found(jobID: String)
        /// No job carries the intent's tags: the call never created one; launching is safe.
        case notFound
    }

    /// How far before the intent time `fromDate` reaches, against clock skew
    /// between this host and DRS.
    public static let clockSkewMargin: TimeInterval = 300

    /// The `fromDate` filter for an intent written at `intentAt`.
    public static func fromDate(for intentAt: Date) -> String {
        DRSDateTime.string(from: intentAt.addingTimeInterval(-clockSkewMargin))
    }

    /// Matches `identity` against `jobs` by tags. Several matches can only come
    /// from a broken invariant; the oldest is reported so it is tracked.
    public static func verdict(for identity: JobTags.Identity, among jobs: [Job]) -> Verdict {
        let matches = jobs.filter { JobTags.identity(of: $0.tags) == identity }
        guard let first = matches.min(by: { ($0.creationDateTime ?? "") < ($1.creationDateTime ?? "") }) else {
            return .notFound
        }
        return .found(jobID: first.jobID)
    }
}

extension Reconciler {
    /// TerminateRecoveryInstances takes no tags: a TERMINATE job is
    /// recognised by acting on exactly the chunk's recovery instances.
    public static func terminateVerdict(instances: [String], among jobs: [Job]) -> Verdict {
        let wanted = Set(instances)
        let match = jobs.first { job in
            job.type == .terminate
                && Set(job.participatingServers?.compactMap(\.recoveryInstanceID) ?? []) == wanted
        }
        return match.map { .found(jobID: $0.jobID) } ?? .notFound
    }
}
