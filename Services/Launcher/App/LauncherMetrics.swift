import Metrics
import MusterDomain

/// The launcher's metrics (DESIGN §5, issue item 9), all prefixed
/// `muster_launcher_`. One place, so names stay consistent.
enum LauncherMetrics {
    /// A DRS call finished: `outcome` is `ok` or the DRS error type.
    static func drsCall(_ operation: String, outcome: String) {
        Counter(label: "muster_launcher_drs_calls_total", dimensions: [("operation", operation), ("outcome", outcome)])
            .increment()
    }

    /// A DRS call is repeated after throttling or a 5xx.
    static func retry(_ operation: String, reason: String) {
        Counter(label: "muster_launcher_retries_total", dimensions: [("operation", operation), ("reason", reason)])
            .increment()
    }

    /// A DRS job was started.
    static func launched(_ endpoint: Endpoint, jobType: DRSJobType, queuedFor seconds: Double) {
        Counter(label: "muster_launcher_launches_total", dimensions: [
            ("account", endpoint.accountID), ("region", endpoint.region), ("type", jobType.rawValue),
        ]).increment()
        Recorder(label: "muster_launcher_queue_wait_seconds", dimensions: [("account", endpoint.accountID)])
            .record(seconds)
    }

    /// Chunks waiting per endpoint.
    static func queueDepth(_ endpoint: Endpoint, _ depth: Int) {
        Gauge(label: "muster_launcher_queue_depth", dimensions: [("account", endpoint.accountID), ("region", endpoint.region)])
            .record(depth)
    }

    /// Age of the endpoint's oldest chunk in SUBMITTING (0 when none): a
    /// chunk stays there only while its StartRecovery is in flight or ambiguous.
    static func oldestSubmitting(_ endpoint: Endpoint, seconds: Double) {
        Gauge(label: "muster_launcher_oldest_submitting_seconds",
              dimensions: [("account", endpoint.accountID), ("region", endpoint.region)])
            .record(seconds)
    }

    /// Servers leased per endpoint.
    static func leasesHeld(_ endpoint: Endpoint, _ count: Int) {
        Gauge(label: "muster_launcher_leases_held", dimensions: [("account", endpoint.accountID), ("region", endpoint.region)])
            .record(count)
    }

    /// DRS answered ConflictException to a launch.
    static func conflict(_ endpoint: Endpoint) {
        Counter(label: "muster_launcher_conflicts_total", dimensions: [("account", endpoint.accountID)]).increment()
    }

    /// A server's launch settings were put back (issue 13).
    static func restored(_ endpoint: Endpoint) {
        Counter(label: "muster_launcher_restores_total", dimensions: [("account", endpoint.accountID)]).increment()
    }

    /// A chunk was given up (`job.launch-failed`).
    static func launchFailed(_ endpoint: Endpoint, code: String) {
        Counter(label: "muster_launcher_launch_failures_total", dimensions: [("account", endpoint.accountID), ("code", code)])
            .increment()
    }

    /// An intent left SUBMITTING was reconciled: `found`, `duplicate`, `not_yet` or `not_found`.
    static func reconciled(_ verdict: Reconciler.Verdict) {
        let outcome = switch verdict {
        case .found: "found"
        case .duplicate: "duplicate"
        case .notYet: "not_yet"
        case .notFound: "not_found"
        }
        Counter(label: "muster_launcher_reconciled_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// StartRecovery / TerminateRecoveryInstances ended without a known outcome.
    static func ambiguous(_ endpoint: Endpoint) {
        Counter(label: "muster_launcher_ambiguous_launches_total", dimensions: [("account", endpoint.accountID)]).increment()
    }

    /// DRS held more than one job for one chunk and attempt (the invariant broken).
    static func duplicates(_ endpoint: Endpoint, _ count: Int) {
        Counter(label: "muster_launcher_duplicate_jobs_total", dimensions: [("account", endpoint.accountID)])
            .increment(by: count)
    }

    /// Job ids of polls dropped because the job was already seen terminal.
    static func pollsDropped(_ count: Int) {
        guard count > 0 else { return }
        Counter(label: "muster_launcher_polls_dropped_total").increment(by: count)
    }

    /// A job was looked at; `published`: whether it owed a `job.observed`.
    static func observed(published: Bool) {
        Counter(label: "muster_launcher_observations_total", dimensions: [("published", published ? "true" : "false")])
            .increment()
    }
}
