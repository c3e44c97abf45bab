import Foundation
import MusterDomain

/// Where the poller stands with one DRS job. Column `poller.jobs.state`.
public enum TrackingState: String, Sendable, Codable, CaseIterable {
    /// Live: polled on the phase schedule.
    case tracking = "TRACKING"
    /// The wave's timeout passed; a `job.poll.final` is out and its answer awaited.
    case finalRequested = "FINAL_REQUESTED"
    /// Observed COMPLETED: never polled again.
    case done = "DONE"
    /// `job.timed-out` published: never polled again.
    case timedOut = "TIMED_OUT"

    /// True while the job is still scheduled.
    public var isActive: Bool { self == .tracking || self == .finalRequested }
}
