import Foundation
import MusterDRS

/// One scheduled change to a job and the estate around it.
///
/// A job's whole future is computed when it is created (from the seed, the servers' states
/// and any faults), so what a client observes at a given simulated time is a pure function of
/// the inputs; reading the state applies the events that are due.
struct TimelineEvent: Sendable, Equatable {
    /// Simulated time the event happens.
    var at: Date
    /// What happens.
    var effect: TimelineEffect
}

/// What a timeline event does.
enum TimelineEffect: Sendable, Equatable {
    /// Appends a job-log item.
    case log(JobLogEvent, JobLogEventData?)
    /// Sets the job's status (COMPLETED also sets `endDateTime` and frees its servers).
    case jobStatus(JobStatus)
    /// Sets a participating server's launch status.
    case launchStatus(sourceServerID: String, LaunchStatus)
    /// The EC2 instance for a server starts launching (recovery instance created, PENDING).
    case instanceCreated(sourceServerID: String, instanceID: String, snapshotTime: Date)
    /// A recovery instance changes EC2 state.
    case instanceState(instanceID: String, EC2InstanceState)
    /// A recovery instance is gone (terminated, or its launch failed).
    case instanceRemoved(instanceID: String)
    /// A post-launch action run starts or changes status (matched by `runId`).
    case actionRun(sourceServerID: String, LaunchActionRun)
    /// The source server's last-launch result is final.
    case lastLaunchResult(sourceServerID: String, LastLaunchResult, LaunchStatus)
}
