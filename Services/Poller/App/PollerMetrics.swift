import Foundation
import Metrics
import MusterDomain

/// The poller's metrics (DESIGN §6 / issue 6): tracked jobs by phase, polls
/// sent, jobs per poll, lag from due to sent, timeouts.
public struct PollerMetrics: Sendable {
    private let pollsRegular = Counter(label: "muster_poller_polls_sent_total", dimensions: [("kind", "poll")])
    private let pollsFinal = Counter(label: "muster_poller_polls_sent_total", dimensions: [("kind", "final")])
    private let polledJobs = Counter(label: "muster_poller_polled_jobs_total")
    private let jobsPerPoll = Recorder(label: "muster_poller_jobs_per_poll", aggregate: true)
    private let lag = Timer(label: "muster_poller_due_to_sent_lag_seconds", preferredDisplayUnit: .seconds)
    private let timeOuts = Counter(label: "muster_poller_timeouts_total")
    private let deferred = Counter(label: "muster_poller_deferred_by_cap_total")

    /// Creates the handles (swift-metrics caches them by label).
    public init() {}

    /// A poll committed to the outbox.
    func pollSent(jobs: Int, isFinal: Bool) {
        (isFinal ? pollsFinal : pollsRegular).increment()
        polledJobs.increment(by: jobs)
        jobsPerPoll.record(jobs)
    }

    /// How late a due job's poll was sent.
    func lag(_ seconds: TimeInterval) {
        lag.recordNanoseconds(Int64(max(0, seconds) * 1e9))
    }

    /// `job.timed-out` committed to the outbox.
    func timedOut(_ count: Int) { if count > 0 { timeOuts.increment(by: count) } }

    /// Due jobs held back by the endpoint cap.
    func deferredByCap(_ count: Int) { if count > 0 { deferred.increment(by: count) } }

    /// Live (TRACKING or FINAL_REQUESTED) jobs per DRS phase, across all pollers.
    func tracked(_ counts: [DRSJobStatus: Int]) {
        for phase in DRSJobStatus.allCases {
            Gauge(label: "muster_poller_tracked_jobs", dimensions: [("phase", phase.rawValue)])
                .record(counts[phase] ?? 0)
        }
    }

    /// A finished job's looks over its life (calls per job).
    func looksPerJob(_ looks: Int) {
        Recorder(label: "muster_poller_looks_per_job", aggregate: true).record(looks)
    }

    /// An observed transition (STARTED or COMPLETED): how late it was seen and how well it was predicted.
    func transition(_ phase: DRSJobStatus, _ report: TransitionReport) {
        let name = phase.rawValue.lowercased()
        Timer(label: "muster_poller_transition_lag_seconds", dimensions: [("transition", name)],
              preferredDisplayUnit: .seconds).recordNanoseconds(Int64(report.lag * 1e9))
        if let error = report.error, let outcome = report.outcome {
            Timer(label: "muster_poller_prediction_error_seconds", dimensions: [("transition", name)],
                  preferredDisplayUnit: .seconds).recordNanoseconds(Int64(error * 1e9))
            Counter(label: "muster_poller_predictions_total",
                    dimensions: [("transition", name), ("outcome", outcome.rawValue)]).increment()
        }
    }

    /// A `job.observed` outcome (applied, stale, finished, unknown, timed-out).
    func observation(_ outcome: String) {
        Counter(label: "muster_poller_observations_total", dimensions: [("outcome", outcome)]).increment()
    }
}
