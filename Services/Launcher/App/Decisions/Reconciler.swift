import Foundation
import MusterDRS
import MusterDomain

/// Decides what became of a launch intent left in SUBMITTING (DESIGN §4,
/// §12): the process died, or StartRecovery answered ambiguously (timeout,
/// transport error, 5xx), between writing the intent and recording the job
/// id. Pure: the caller lists the jobs created since the intent
/// (`DescribeJobs(fromDate)`).
///
/// The rule that keeps "at most one DRS job per chunk and attempt": a
/// request that was sent may still land until `sentAt + window` (the client
/// timeout plus a margin for DRS's own processing). Until then "no job yet"
/// is not "no job": the intent is looked at again, never relaunched.
public enum Reconciler {
    /// The verdict for one intent.
    public enum Verdict: Equatable, Sendable {
        /// DRS has the job: record it, never launch again.
        case found(jobID: JobID)
        /// DRS has several jobs with the intent's tags (the invariant was
        /// broken): the oldest is the chunk's job, the others are reported.
        case duplicate(jobID: JobID, extra: [JobID])
        /// No job yet, but the request may still land: look again at `recheckAt`.
        case notYet(recheckAt: Date)
        /// No job, and none can appear any more (never sent, or the window
        /// has passed): launching is safe.
        case notFound
    }

    /// How far before the intent time `fromDate` reaches, against clock skew
    /// between this host and DRS.
    public static let clockSkewMargin: TimeInterval = 300

    /// The `fromDate` filter for an intent written at `intentAt`.
    public static func fromDate(for intentAt: Date) -> String {
        DRSDateTime.string(from: intentAt.addingTimeInterval(-clockSkewMargin))
    }

    /// When the ambiguity of a request sent at `sentAt` ends.
    public struct Window: Sendable, Equatable {
        /// The client's timeout for one DRS call.
        public var clientTimeout: TimeInterval
        /// What DRS may take beyond it (its own queueing and processing).
        public var margin: TimeInterval
        /// How often an unresolved intent is looked at again.
        public var recheck: TimeInterval

        /// Creates a window.
        public init(clientTimeout: TimeInterval, margin: TimeInterval, recheck: TimeInterval) {
            self.clientTimeout = clientTimeout
            self.margin = margin
            self.recheck = max(recheck, 0.01)
        }

        /// The last moment a request sent at `sentAt` could still create a job.
        public func closes(sentAt: Date) -> Date { sentAt.addingTimeInterval(clientTimeout + margin) }
    }

    /// The verdict for an intent whose request left at `sentAt` (nil: it
    /// never left), given `matches` — the jobs carrying its identity.
    public static func verdict(matches: [Job], sentAt: Date?, now: Date, window: Window) -> Verdict {
        let ordered = matches.sorted { ($0.creationDateTime ?? "", $0.jobID) < ($1.creationDateTime ?? "", $1.jobID) }
        if let first = ordered.first {
            let extra = ordered.dropFirst().map { JobID(rawValue: $0.jobID) }
            return extra.isEmpty ? .found(jobID: JobID(rawValue: first.jobID))
            : .duplicate(jobID: JobID(rawValue: first.jobID), extra: Array(extra))
        }
        guard let sentAt else { return .notFound }
        let closes = window.closes(sentAt: sentAt)
        guard now < closes else { return .notFound }
        return .notYet(recheckAt: min(now.addingTimeInterval(window.recheck), closes))
    }

    /// The launch jobs among `jobs` that carry `identity`'s tags.
    public static func launchMatches(_ identity: JobTags.Identity, among jobs: [Job]) -> [Job] {
        jobs.filter { JobTags.identity(of: $0.tags) == identity }
    }

    /// TerminateRecoveryInstances takes no tags: a TERMINATE job is
    /// recognised by acting on exactly the chunk's recovery instances.
    public static func terminateMatches(instances: [String], among jobs: [Job]) -> [Job] {
        let wanted = Set(instances)
        return jobs.filter { job in
            job.type == .terminate && Set(job.participatingServers?.compactMap(\.recoveryInstanceID) ?? []) == wanted
        }
    }
}
