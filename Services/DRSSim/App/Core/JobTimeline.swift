import Foundation
import MusterDRS

/// What will happen to one server in a LAUNCH job, decided when the job is created.
struct ServerLaunchPlan: Sendable, Equatable {
    /// How the launch ends.
    enum Outcome: Sendable, Equatable {
        /// Snapshot, conversion and launch succeed.
        case launch
        /// No usable point-in-time snapshot (replication not in a launchable state).
        case snapshotFailure(String)
        /// Conversion succeeds but the EC2 launch fails (an injected fault).
        case launchFailure(String)
    }

    var sourceServerID: String
    var instanceID: String
    var conversionServerID: String
    var outcome: Outcome
    /// Post-launch action runs, in order (empty for drills or when disabled).
    var actionRuns: [LaunchActionRun]
}

/// Builds job timelines: pure functions of their inputs and the seeded timing stream.
enum JobTimeline {
    /// The timeline of a LAUNCH job (drill or recovery). Post-launch action runs end before
    /// `JOB_END` (`beforeJob`) or start only after it (`afterJob`: the SSM agent registers
    /// once the job has ended, so its first COMPLETED snapshot has no runs yet).
    static func launch(
        created: Date, plans: [ServerLaunchPlan], profile: JobTimingProfile, rng: inout SeededRandom,
        postLaunchOrder: DRSSimBehaviour.PostLaunchOrder = .beforeJob, ssmAgentDelay: Double = 30
    ) -> [TimelineEvent] {
        var events = Events()
        func j(_ seconds: Double) -> Double { rng.jitter(seconds, fraction: profile.jitter) }

        let jobStart = created.addingTimeInterval(j(profile.jobStartDelay))
        events.add(jobStart, .log(.jobStart, nil))
        var startedAt: Date?
        var lastServerDone = jobStart
        var afterJobRuns: [(id: String, launched: Date, runs: [LaunchActionRun])] = []

        func addRuns(_ runs: [LaunchActionRun], of id: String, from start: Date) -> Date {
            var runStart = start, done = start
            for var run in runs {
                run.status = .inProgress
                events.add(runStart, .actionRun(sourceServerID: id, run))
                let runEnd = runStart.addingTimeInterval(j(profile.postLaunchActionDuration))
                run.status = .succeeded
                events.add(runEnd, .actionRun(sourceServerID: id, run))
                runStart = runEnd
                done = runEnd
            }
            return done
        }

        for plan in plans {
            let id = plan.sourceServerID
            let server = JobLogEventData(sourceServerID: id)
            let snapshotStart = jobStart.addingTimeInterval(j(profile.snapshotStartDelay))
            events.add(snapshotStart, .log(.snapshotStart, server))

            if case .snapshotFailure(let reason) = plan.outcome {
                let failed = snapshotStart.addingTimeInterval(j(min(20, profile.snapshotDuration)))
                let data = JobLogEventData(sourceServerID: id, rawError: reason)
                events.add(failed, .log(.snapshotFail, data))
                events.add(failed, .log(.launchFailed, data))
                events.add(failed, .launchStatus(sourceServerID: id, .failed))
                events.add(failed, .lastLaunchResult(sourceServerID: id, .failed, .failed))
                startedAt = min(startedAt ?? failed, failed)
                lastServerDone = max(lastServerDone, failed)
                continue
            }

            let snapshotEnd = snapshotStart.addingTimeInterval(j(profile.snapshotDuration))
            events.add(snapshotEnd, .log(.snapshotEnd, server))
            let conversion = JobLogEventData(sourceServerID: id, conversionServerID: plan.conversionServerID)
            let conversionStart = snapshotEnd.addingTimeInterval(j(profile.conversionStartDelay))
            events.add(conversionStart, .log(.conversionStart, conversion))
            let conversionEnd = conversionStart.addingTimeInterval(j(profile.conversionDuration))
            events.add(conversionEnd, .log(.conversionEnd, conversion))

            let launchStart = conversionEnd.addingTimeInterval(j(profile.launchStartDelay))
            let target = JobLogEventData(sourceServerID: id, targetInstanceID: plan.instanceID)
            events.add(launchStart, .log(.launchStart, target))
            events.add(launchStart, .launchStatus(sourceServerID: id, .inProgress))
            events.add(
                launchStart,
                .instanceCreated(sourceServerID: id, instanceID: plan.instanceID, snapshotTime: snapshotEnd)
            )
            startedAt = min(startedAt ?? launchStart, launchStart)

            if case .launchFailure(let reason) = plan.outcome {
                let failed = launchStart.addingTimeInterval(j(profile.launchDuration / 3))
                events.add(
                    failed,
                    .log(.launchFailed, JobLogEventData(sourceServerID: id, targetInstanceID: plan.instanceID, rawError: reason))
                )
                events.add(failed, .launchStatus(sourceServerID: id, .failed))
                events.add(failed, .instanceRemoved(instanceID: plan.instanceID))
                events.add(failed, .lastLaunchResult(sourceServerID: id, .failed, .failed))
                lastServerDone = max(lastServerDone, failed)
                continue
            }

            let launched = launchStart.addingTimeInterval(j(profile.launchDuration))
            events.add(launched, .instanceState(instanceID: plan.instanceID, .running))
            events.add(launched, .launchStatus(sourceServerID: id, .launched))
            events.add(launched, .lastLaunchResult(sourceServerID: id, .succeeded, .launched))
            var done = launched
            // Post-launch actions run one after another once the SSM agent is seen.
            if postLaunchOrder == .afterJob, !plan.actionRuns.isEmpty {
                afterJobRuns.append((id, launched, plan.actionRuns))
            } else if !plan.actionRuns.isEmpty {
                done = addRuns(plan.actionRuns, of: id, from: launched.addingTimeInterval(j(ssmAgentDelay)))
            }
            lastServerDone = max(lastServerDone, done)
        }

        if let startedAt { events.add(startedAt, .jobStatus(.started)) }
        let end = lastServerDone.addingTimeInterval(j(profile.jobEndDelay))
        events.add(end, .log(.jobEnd, nil))
        events.add(end, .jobStatus(.completed))
        for entry in afterJobRuns {
            _ = addRuns(entry.runs, of: entry.id, from: end.addingTimeInterval(j(ssmAgentDelay)))
        }
        return events.sorted()
    }

    /// The timeline of a TERMINATE job for the given recovery instances.
    static func terminate(
        created: Date, targets: [(sourceServerID: String, instanceID: String)], profile: JobTimingProfile,
        rng: inout SeededRandom
    ) -> [TimelineEvent] {
        var events = Events()
        func j(_ seconds: Double) -> Double { rng.jitter(seconds, fraction: profile.jitter) }

        let jobStart = created.addingTimeInterval(j(profile.jobStartDelay))
        events.add(jobStart, .log(.jobStart, nil))
        var startedAt: Date?
        var lastDone = jobStart
        for target in targets {
            let data = JobLogEventData(sourceServerID: target.sourceServerID, targetInstanceID: target.instanceID)
            let cleanupStart = jobStart.addingTimeInterval(j(profile.snapshotStartDelay))
            events.add(cleanupStart, .log(.cleanupStart, data))
            events.add(cleanupStart, .launchStatus(sourceServerID: target.sourceServerID, .inProgress))
            events.add(cleanupStart, .instanceState(instanceID: target.instanceID, .shuttingDown))
            let cleanupEnd = cleanupStart.addingTimeInterval(j(profile.terminateDuration))
            events.add(cleanupEnd, .log(.cleanupEnd, data))
            events.add(cleanupEnd, .instanceRemoved(instanceID: target.instanceID))
            events.add(cleanupEnd, .launchStatus(sourceServerID: target.sourceServerID, .terminated))
            startedAt = min(startedAt ?? cleanupStart, cleanupStart)
            lastDone = max(lastDone, cleanupEnd)
        }
        if let startedAt { events.add(startedAt, .jobStatus(.started)) }
        let end = lastDone.addingTimeInterval(j(profile.jobEndDelay))
        events.add(end, .log(.jobEnd, nil))
        events.add(end, .jobStatus(.completed))
        return events.sorted()
    }

    /// Holds the job at its stall point (the first conversion or cleanup) for `seconds`
    /// simulated seconds, or forever if nil.
    static func stalled(_ events: [TimelineEvent], seconds: Double?) -> [TimelineEvent] {
        guard let point = events.first(where: \.isStallPoint)?.at else { return events }
        return events.compactMap { event in
            guard event.at >= point else { return event }
            guard let seconds else { return nil }
            return TimelineEvent(at: event.at.addingTimeInterval(seconds), effect: event.effect)
        }
    }

    /// Rescales a timeline so it ends `duration` simulated seconds after `created` (foreign jobs
    /// hold their servers for exactly as long as asked).
    static func compressed(_ events: [TimelineEvent], created: Date, to duration: Double) -> [TimelineEvent] {
        guard let last = events.last?.at, last > created else { return events }
        let factor = max(0, duration) / last.timeIntervalSince(created)
        return events.map {
            TimelineEvent(at: created.addingTimeInterval($0.at.timeIntervalSince(created) * factor), effect: $0.effect)
        }
    }
}

extension TimelineEvent {
    /// Where a stall fault holds a job: conversion for launches, cleanup for terminations.
    fileprivate var isStallPoint: Bool {
        if case .log(let event, _) = effect { return event == .conversionStart || event == .cleanupStart }
        return false
    }
}

/// Collects events and sorts them by time, keeping insertion order for equal times (so a log
/// item written before a status change at the same instant stays before it).
private struct Events {
    private var items: [(index: Int, event: TimelineEvent)] = []

    mutating func add(_ at: Date, _ effect: TimelineEffect) {
        items.append((items.count, TimelineEvent(at: at, effect: effect)))
    }

    func sorted() -> [TimelineEvent] {
        items.sorted { ($0.event.at, $0.index) < ($1.event.at, $1.index) }.map(\.event)
    }
}
