/// Renders drs-sim's counters in the Prometheus text exposition format for `/metrics`.
enum MetricsText {
    static func render(_ counters: DRSSimCounters, activeJobs: Int, timeScale: Double) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: [(String, String)], value: String)]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples {
                let labels = sample.labels.isEmpty
                    ? ""
                    : "{" + sample.labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
                out += "\(name)\(labels) \(sample.value)\n"
            }
        }
        func single(_ name: String, _ type: String, _ help: String, _ value: Int) {
            metric(name, type, help, [([], String(value))])
        }

        metric(
            "drs_sim_requests_total", "counter", "DRS requests by operation and account.",
            counters.calls.keys.sorted().flatMap { op in
                (counters.calls[op] ?? [:]).keys.sorted().map { account in
                    ([("operation", op), ("account", account)], String(counters.calls[op]?[account] ?? 0))
                }
            }
        )
        metric(
            "drs_sim_errors_total", "counter", "DRS error answers by operation and error type.",
            counters.errors.keys.sorted().flatMap { op in
                (counters.errors[op] ?? [:]).keys.sorted().map { type in
                    ([("operation", op), ("type", type)], String(counters.errors[op]?[type] ?? 0))
                }
            }
        )
        single("drs_sim_conflicts_total", "counter", "ConflictException answers.", counters.conflicts)
        single("drs_sim_throttles_total", "counter", "ThrottlingException answers.", counters.throttles)
        single("drs_sim_quota_exceeded_total", "counter", "ServiceQuotaExceededException answers.", counters.quotaExceeded)
        single("drs_sim_injected_internal_errors_total", "counter", "Injected InternalServerException answers.", counters.injectedInternalErrors)
        single("drs_sim_auth_failures_total", "counter", "Requests refused for their signature or key.", counters.authFailures)
        single("drs_sim_jobs_started_total", "counter", "LAUNCH jobs started by StartRecovery.", counters.jobsStarted)
        single("drs_sim_terminate_jobs_started_total", "counter", "TERMINATE jobs started.", counters.terminateJobsStarted)
        single("drs_sim_servers_launched_total", "counter", "Source servers that reached LAUNCHED.", counters.serversLaunched)
        single("drs_sim_servers_failed_total", "counter", "Source servers whose launch FAILED.", counters.serversFailed)
        single("drs_sim_max_concurrent_jobs", "gauge", "Most jobs seen active at once in one account and region.", counters.maxConcurrentJobs)
        single("drs_sim_active_jobs", "gauge", "Jobs not yet COMPLETED.", activeJobs)
        metric(
            "drs_sim_jobs_by_launch_group_total", "counter", "LAUNCH jobs by muster:launchGroup tag.",
            counters.jobsByLaunchGroup.keys.sorted().map { ([("launch_group", $0)], String(counters.jobsByLaunchGroup[$0] ?? 0)) }
        )
        metric("drs_sim_time_scale", "gauge", "Simulated seconds per wall-clock second.", [([], String(timeScale))])
        return out
    }

    private static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }
}
