import Foundation
import MusterDomain
import MusterEvents

/// How long one phase of a DRS job lasted on an endpoint, as a small running
/// distribution (one row of `poller.phase_history` per account, region, job
/// type and phase). Durations are in DRS seconds, measured between DRS's own
/// timestamps, so they do not depend on the poller's clock or on drs-sim's
/// time scale. Recent jobs weigh more once `weight` samples are in (an
/// exponentially weighted mean and variance), so the model follows an
/// estate that gets slower or faster. Pure.
public struct PhaseStats: Sendable, Equatable, Codable {
    /// Samples seen (not capped).
    public var samples: Int
    /// Mean duration, DRS seconds.
    public var mean: Double
    /// Variance, DRS seconds².
    public var variance: Double
    /// Shortest duration seen.
    public var minimum: Double
    /// Longest duration seen.
    public var maximum: Double

    /// A distribution with these moments.
    public init(samples: Int, mean: Double, variance: Double, minimum: Double, maximum: Double) {
        self.samples = samples
        self.mean = mean
        self.variance = max(0, variance)
        self.minimum = minimum
        self.maximum = maximum
    }

    /// The distribution of one sample.
    public init(first seconds: Double) {
        self.init(samples: 1, mean: seconds, variance: 0, minimum: seconds, maximum: seconds)
    }

    /// Standard deviation, DRS seconds.
    public var deviation: Double { variance.squareRoot() }

    /// The distribution with `seconds` added; after `weight` samples each new
    /// one counts `1/weight` (older ones fade).
    public func adding(_ seconds: Double, weight: Int) -> PhaseStats {
        let n = Double(min(samples + 1, max(1, weight)))
        let delta = seconds - mean
        let newMean = mean + delta / n
        // Exponentially weighted variance (equals Welford's while samples < weight).
        let newVariance = (1 - 1 / n) * (variance + delta * delta / n)
        return PhaseStats(
            samples: samples + 1, mean: newMean, variance: newVariance, minimum: min(minimum, seconds),
            maximum: max(maximum, seconds))
    }

    /// How far the true shortest (longest) duration likely lies beyond the
    /// shortest (longest) one seen: of `n` samples spread evenly over a range,
    /// the extremes fall short of it by about `(maximum − minimum) / (n − 1)`.
    /// With few samples a new job outside the range seen is common (1 in
    /// `n + 1`): a window cut at the seen extremes sent such a job's look
    /// only after its transition (its sweep began too late, or ended too soon
    /// and backed off) — the hand-off's tail.
    public var extremeMargin: Double {
        samples > 1 ? max(0, maximum - minimum) / Double(samples - 1) : 0
    }

    /// Where the duration likely falls: mean ± `spread` deviations, inside what
    /// was seen widened by `extremeMargin` on each side.
    public func window(spread: Double) -> ClosedRange<Double> {
        let low = max(minimum - extremeMargin, mean - spread * deviation)
        let high = max(low, min(maximum + extremeMargin, mean + spread * deviation))
        return low...high
    }
}

/// The two phases the model times: creation → STARTED (snapshot and
/// conversion: `LAUNCH_START` in the job log), and STARTED → COMPLETED.
public struct PhaseHistory: Sendable, Equatable {
    /// Creation → STARTED, nil when there is not enough history.
    public var pending: PhaseStats?
    /// STARTED → COMPLETED, nil when there is not enough history.
    public var started: PhaseStats?

    /// History with these distributions.
    public init(pending: PhaseStats? = nil, started: PhaseStats? = nil) {
        self.pending = pending
        self.started = started
    }

    /// Only the distributions with at least `minimumSamples` samples.
    public func usable(minimumSamples: Int) -> PhaseHistory {
        PhaseHistory(
            pending: pending.flatMap { $0.samples >= minimumSamples ? $0 : nil },
            started: started.flatMap { $0.samples >= minimumSamples ? $0 : nil })
    }
}

/// DRS's clock seen from the poller's: a DRS time maps to the job's anchor
/// (`anchor(announcedAt:trackedAt:)`, stored as `tracked_at`) plus the DRS seconds since the job's creation,
/// divided by the time scale (1 against AWS; drs-sim's scale in stacks and
/// benchmarks). Only DRS-time differences are used, so clock skew between
/// DRS and the poller does not matter. Pure.
public struct DRSClock: Sendable, Equatable {
    /// The job's creation, DRS time.
    public var createdAt: Date
    /// Its anchor, poller time: when the launcher announced the job (or the
    /// poller started tracking it, if sooner).
    public var trackedAt: Date
    /// DRS seconds per poller second.
    public var timeScale: Double

    /// A clock anchored on one job.
    public init(createdAt: Date, trackedAt: Date, timeScale: Double) {
        self.createdAt = createdAt
        self.trackedAt = trackedAt
        self.timeScale = timeScale > 0 ? timeScale : 1
    }

    /// The poller time a job's DRS creation maps to: the `job.created` event's
    /// time (`announcedAt`, stamped by the launcher just after StartRecovery
    /// answered) when that is earlier than the moment the poller tracks the
    /// job, else the tracking moment (a launcher clock ahead of the poller's
    /// never makes a prediction late). Under load the event waits in the
    /// outbox, the broker and the consumer; anchoring on the tracking moment
    /// made every look at the job late by that wait (a poller that was down
    /// when the job was created: by the whole outage).
    public static func anchor(announcedAt: Date?, trackedAt: Date) -> Date {
        guard let announcedAt else { return trackedAt }
        return min(announcedAt, trackedAt)
    }

    /// The poller time of DRS time `drs`.
    public func local(_ drs: Date) -> Date {
        trackedAt.addingTimeInterval(drs.timeIntervalSince(createdAt) / timeScale)
    }

    /// The poller time `seconds` DRS seconds after creation.
    public func local(afterCreation seconds: Double) -> Date {
        trackedAt.addingTimeInterval(seconds / timeScale)
    }

    /// Poller seconds for a DRS duration.
    public func localSeconds(_ drsSeconds: Double) -> TimeInterval { drsSeconds / timeScale }

    /// The DRS time of poller time `local` (an estimate for transitions whose log line is missing).
    public func drs(_ local: Date) -> Date {
        createdAt.addingTimeInterval(local.timeIntervalSince(trackedAt) * timeScale)
    }
}

/// The transition times a `job.observed` reveals, DRS time, from the job log
/// (`LAUNCH_START`, `JOB_END`) and the job's end time. Pure.
public struct TransitionFacts: Sendable, Equatable {
    /// The first server's `LAUNCH_START`: the job turned STARTED.
    public var startedAt: Date?
    /// DRS's end time (or `JOB_END`): the job turned COMPLETED.
    public var endedAt: Date?
    /// True when every server launched: only such jobs teach the model
    /// (a failed snapshot ends a job early and says nothing about the next one).
    public var allLaunched: Bool

    /// Reads a snapshot.
    public init(_ observed: JobObserved) {
        startedAt = observed.newLogEvents.filter { $0.event == "LAUNCH_START" }.map(\.time).min()
        endedAt = observed.endedAt ?? observed.newLogEvents.filter { $0.event == "JOB_END" }.map(\.time).max()
        allLaunched = !observed.servers.isEmpty && observed.servers.allSatisfy { $0.launchStatus == .launched }
    }

    /// Facts given directly.
    public init(startedAt: Date?, endedAt: Date?, allLaunched: Bool) {
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.allLaunched = allLaunched
    }
}
