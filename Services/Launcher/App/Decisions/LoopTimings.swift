import MusterMessaging

/// How often the launcher's loops look again when nothing wakes them. Pure.
extension LauncherConfiguration {
    /// An endpoint's admission and polling loops. Every event that concerns them wakes them (a handled
    /// record of the endpoint, a job that ended, a finished submission), and each pass returns its own next
    /// due time (back-off, reconcile, restore, SSM step, budget), so the idle look every `schedulerInterval`
    /// is only the safety net for work nobody signals — an idle endpoint costs one pass per interval
    /// (docs/benchmarks.md "Idle stack"). A failed pass is retried with back-off of at most 500 ms (or
    /// the interval, if shorter), whatever the interval.
    var endpointLoopTiming: LoopTiming {
        LoopTiming(
            idle: schedulerInterval,
            retry: Backoff(base: min(.milliseconds(100), schedulerInterval), cap: min(schedulerInterval, .milliseconds(500))))
    }

    /// The instance loop (heartbeat, ownership, accounts): every four scheduler intervals (at least
    /// 800 ms), as before the interval grew, but no longer than a sixth of `instanceStaleAfter` (or 2 s,
    /// if that is longer), so a live instance is never presumed dead because its interval is long.
    var instanceLoopTiming: LoopTiming {
        LoopTiming(idle: min(max(schedulerInterval, .milliseconds(200)) * 4, max(instanceStaleAfter / 6, .seconds(2))))
    }
}
