import Foundation
import MusterDomain
import MusterEvents
@testable import PollerApp
import TestSupport
import Testing

@Suite("Phase model and next-look policy (pure)")
struct NextLookPolicyTests {
    let created = Date(timeIntervalSince1970: 1_800_000_000)  // DRS time
    let tracked = Date(timeIntervalSince1970: 1_700_000_000)  // poller time
    let farDeadline = Date(timeIntervalSince1970: 1_700_100_000)
    let schedule = PollSchedule(minimumGap: .milliseconds(100), jitter: 0, batchWindow: .seconds(1))
    let settings = PredictionSettings(
        sweepStep: .seconds(2), sweepStepPerJob: .zero, watchInterval: .seconds(300), minimumSamples: 3, spread: 2)

    /// PENDING 780 ± ~40 s, STARTED 210 ± ~10 s (DRS seconds), like a drs-sim drill with jitter.
    var history: PhaseHistory {
        PhaseHistory(
            pending: PhaseStats(samples: 20, mean: 780, variance: 400, minimum: 740, maximum: 820),
            started: PhaseStats(samples: 20, mean: 210, variance: 100, minimum: 190, maximum: 230))
    }

    func facts(_ phase: DRSJobStatus, startedAfter: Double? = nil) -> JobTimelineFacts {
        JobTimelineFacts(
            phase: phase, createdAt: created, trackedAt: tracked,
            startedAt: startedAfter.map { created.addingTimeInterval($0) })
    }

    func next(_ job: JobTimelineFacts, at secondsAfterTracking: Double, served: Double? = nil,
              history: PhaseHistory? = nil, settings: PredictionSettings? = nil, endpointJobs: Int = 1,
              polledAgo: Double? = nil) -> NextLook? {
        let now = tracked.addingTimeInterval(secondsAfterTracking)
        return NextLookPolicy.next(
            job: job, history: history ?? self.history, now: now, served: served.map { tracked.addingTimeInterval($0) },
            lastPolledAt: polledAgo.map { now - $0 },
            deadline: farDeadline, endpointJobs: endpointJobs, settings: settings ?? self.settings, schedule: schedule)
    }

    func offset(_ look: NextLook?) -> Double? { look.map { $0.at.timeIntervalSince(tracked) } }

    // MARK: PhaseStats

    @Test func runningDistributionMatchesMeanAndVarianceThenFadesOldSamples() {
        let values: [Double] = [10, 12, 14, 16, 18]
        var stats = PhaseStats(first: values[0])
        for value in values.dropFirst() { stats = stats.adding(value, weight: 100) }
        #expect(stats.samples == 5)
        #expect(abs(stats.mean - 14) < 1e-9)
        #expect(abs(stats.variance - 8) < 1e-9, "population variance of 10…18 step 2")
        #expect(stats.minimum == 10 && stats.maximum == 18)
        // With a weight of 2, a run of 100 s values pulls the mean to ~100 quickly.
        var fading = stats
        for _ in 0..<10 { fading = fading.adding(100, weight: 2) }
        #expect(fading.mean > 99)
        var steady = stats
        for _ in 0..<10 { steady = steady.adding(100, weight: 1000) }
        #expect(steady.mean < 80, "without fading the old samples still count")
    }

    @Test func windowIsMeanPlusMinusSpreadInsideWhatWasSeenWidenedByTheExpectedShortfall() {
        // 10 samples over 95…120: the true extremes lie about 25 / 9 s beyond the ones seen.
        let stats = PhaseStats(samples: 10, mean: 100, variance: 25, minimum: 95, maximum: 120)
        #expect(abs(stats.extremeMargin - 25.0 / 9) < 1e-9)
        let window = stats.window(spread: 2)
        #expect(abs(window.lowerBound - (95 - 25.0 / 9)) < 1e-9, "below the shortest seen, inside mean − 2σ (90)")
        #expect(window.upperBound == 110, "mean + 2σ is inside the widened range (122.8)")
        #expect(stats.window(spread: 0) == 100...100)
        #expect(PhaseStats(first: 7).window(spread: 2) == 7...7)
        // A tight history (3 samples within 2 s, σ 5): the range seen, widened by 1 s each side.
        let tight = PhaseStats(samples: 3, mean: 200, variance: 25, minimum: 199, maximum: 201)
        #expect(tight.window(spread: 2) == 198...202)
        // Many samples: the margin vanishes and the window is the range seen (mean ± 2σ wider).
        let many = PhaseStats(samples: 1001, mean: 200, variance: 400, minimum: 180, maximum: 220)
        #expect(abs(many.window(spread: 3).lowerBound - 179.96) < 1e-9 && abs(many.window(spread: 3).upperBound - 220.04) < 1e-9)
    }

    @Test func historyWithTooFewSamplesIsNotUsed() {
        let thin = PhaseHistory(pending: PhaseStats(first: 700), started: history.started)
        #expect(thin.usable(minimumSamples: 3).pending == nil)
        #expect(thin.usable(minimumSamples: 3).started != nil)
        #expect(next(facts(.pending), at: 1, history: thin) == nil, "no PENDING history: the cadence")
        #expect(next(facts(.started, startedAfter: 780), at: 14, history: PhaseHistory()) == nil)
        #expect(next(facts(.pending), at: 1, settings: PredictionSettings(enabled: false)) == nil)
    }

    // MARK: DRS clock

    @Test func drsTimesMapThroughTheJobsCreationAndTheTimeScale() {
        let clock = DRSClock(createdAt: created, trackedAt: tracked, timeScale: 60)
        #expect(clock.local(created.addingTimeInterval(600)) == tracked.addingTimeInterval(10))
        #expect(clock.local(afterCreation: 60) == tracked.addingTimeInterval(1))
        #expect(clock.drs(tracked.addingTimeInterval(2)) == created.addingTimeInterval(120))
        #expect(DRSClock(createdAt: created, trackedAt: tracked, timeScale: 0).timeScale == 1, "a bad scale means AWS")
    }

    @Test func theClockIsAnchoredWhenTheLauncherAnnouncedTheJobUnlessThatIsAhead() {
        let trackedAt = tracked.addingTimeInterval(0.4)  // job.created spent 0.4 s in the outbox and the broker
        #expect(DRSClock.anchor(announcedAt: tracked, trackedAt: trackedAt) == tracked)
        #expect(DRSClock.anchor(announcedAt: trackedAt + 5, trackedAt: trackedAt) == trackedAt, "a clock ahead is ignored")
        #expect(DRSClock.anchor(announcedAt: nil, trackedAt: trackedAt) == trackedAt)
        // The completion look of a job anchored on the announcement comes 0.4 s sooner than on tracking.
        let wide = PredictionSettings(drsTimeScale: 60, sweepStep: .seconds(60), sweepStepPerJob: .zero, minimumSamples: 3)
        let now = tracked.addingTimeInterval(14)
        func look(anchor: Date) -> Date? {
            NextLookPolicy.next(
                job: JobTimelineFacts(phase: .started, createdAt: created, trackedAt: anchor,
                                      startedAt: created.addingTimeInterval(780)),
                history: history, now: now, lastPolledAt: nil, deadline: farDeadline, endpointJobs: 1, settings: wide,
                schedule: schedule)?.at
        }
        let announcedLook = look(anchor: DRSClock.anchor(announcedAt: tracked, trackedAt: trackedAt))
        let trackedLook = look(anchor: trackedAt)
        #expect(announcedLook.map { abs($0.timeIntervalSince(tracked) - 1010.0 / 60) < 1e-6 } == true)
        if let announcedLook, let trackedLook {
            #expect(abs(trackedLook.timeIntervalSince(announcedLook) - 0.4) < 1e-6)
        } else {
            Issue.record("no prediction")
        }
    }

    // MARK: STARTED: completion

    @Test func aWideStepLooksOnceJustAfterTheLatestLikelyCompletion() {
        // LAUNCH_START at DRS +780 s; STARTED window 190…230 s → completion likely by +1010 s.
        let wide = PredictionSettings(sweepStep: .seconds(60), sweepStepPerJob: .zero, minimumSamples: 3)
        let look = next(facts(.started, startedAfter: 780), at: 800, settings: wide)
        #expect(offset(look) == 1010)
        #expect(look?.kind == .completion)
        #expect(look?.expected == tracked.addingTimeInterval(990), "the mean, for the metrics")
    }

    @Test func aNarrowStepSweepsTheLikelyWindowFromItsStart() {
        let job = facts(.started, startedAfter: 780)
        // Grid from 1010 back by 2 s to ≥ 970 (window 190…230 after 780).
        #expect(offset(next(job, at: 800)) == 970)
        #expect(offset(next(job, at: 970)) == 972, "the next grid point, one step on")
        #expect(offset(next(job, at: 1000.5)) == 1002)
        #expect(offset(next(job, at: 1009)) == 1010)
    }

    @Test func aCompletionNothingWaitsForIsLookedAtOnceAtTheWindowsEnd() {
        // The same job as above, in the execution's last wave: no sweep from 970, one look at 1010.
        var last = facts(.started, startedAfter: 780)
        last.gatesNextStep = false
        #expect(offset(next(facts(.started, startedAfter: 780), at: 800)) == 970, "a job another step waits for is swept")
        let look = next(last, at: 800)
        #expect(offset(look) == 1010, "one look just after the latest likely completion")
        #expect(look?.kind == .completion && look?.step == 42, "its step: the 40 s window plus the 2 s step")
        #expect(offset(next(last, at: 1010)) == 1052, "past the window it backs off at least that step apart")
        #expect(offset(next(last, at: 1200)) == 1295, "then by half the overrun, like any other")
    }

    @Test func pastTheWindowLooksBackOffUpToTheWatchInterval() {
        let job = facts(.started, startedAfter: 780)
        #expect(offset(next(job, at: 1010.5)) == 1012.5, "just past: one step")
        #expect(offset(next(job, at: 1020)) == 1025, "the gap is half the overrun")
        #expect(offset(next(job, at: 2000)) == 2300, "capped by the watch interval")
        #expect(offset(next(job, at: 1012.5)) == 1014.5, "never less than one step")
    }

    @Test func aJobThatRodeAlongHasHadItsLookAndIsPlannedFromIt() {
        let job = facts(.started, startedAfter: 780)  // grid 970, 972, …, 1010
        #expect(offset(next(job, at: 969.5)) == 970, "polled on its own schedule: the next grid point")
        #expect(offset(next(job, at: 969.5, served: 970)) == 972, "its look at 970 was served early: the one after")
        #expect(offset(next(job, at: 1009.5, served: 1010)) == 1012, "the last one served: back-off from there")
        #expect(offset(next(facts(.pending), at: 819.5, served: 820)) == 822, "a PENDING look served early")
        #expect(offset(next(job, at: 969.5, served: 960)) == 970, "a look overdue is planned from now")
        #expect(offset(next(job, at: 969.5, served: 970, polledAgo: 0)) == 972, "the minimum gap still counts from now")
    }

    /// Jobs of one endpoint whose completion windows overlap, on grids out of phase, run through
    /// `Batching` and the policy like the scheduler does: their sweeps share polls (about one per
    /// step for all of them), and each job is still looked at at least once per step.
    @Test func overlappingSweepsShareOnePollPerStep() {
        let offsets: [Double] = [0, 0.3, 0.55, 0.9]  // LAUNCH_START after 780 s, DRS = local seconds here
        let jobs = offsets.map { facts(.started, startedAfter: 780 + $0) }
        let ids: [JobID] = offsets.indices.map { "job-\($0)" }
        var due = jobs.map { offset(next($0, at: 800)) ?? .nan }
        var looks: [[Double]] = Array(repeating: [], count: jobs.count)
        var polls = 0
        var now = due.min() ?? 0
        while now < 1013 {
            let candidates = ids.indices.map { index in
                PollCandidate(jobID: ids[index], nextDue: tracked.addingTimeInterval(due[index]), state: .tracking,
                              finalPolls: 0, deadline: farDeadline, lastPolledAt: nil, rideWindow: 2)
            }
            let plan = Batching.plan(candidates: candidates, now: tracked.addingTimeInterval(now), allowance: 10,
                                     schedule: schedule, timeout: TimeoutPolicy())
            polls += plan.polls.count
            for id in plan.polledJobIDs {
                guard let index = ids.firstIndex(of: id) else { continue }
                looks[index].append(now)
                due[index] = offset(next(jobs[index], at: now, served: due[index])) ?? .nan
            }
            now = max(now + 0.001, due.min() ?? 1013)
        }
        // The union of the windows is 970…1010.9: 21 steps of 2 s, then the look just past it.
        // (Planned from `now`, each rider's own grid point came due again: about 4 × 21 polls.)
        #expect(polls <= 23, "one poll per step for all four jobs, not one each (\(polls))")
        for (index, times) in looks.enumerated() {
            let begin = 970 + offsets[index], end = 1010 + offsets[index]
            let seen = [begin - 2] + times.filter { $0 > begin - 2 && $0 < end + 2 }
            let widest = zip(seen.dropFirst(), seen).map { $0 - $1 }.max() ?? .infinity
            #expect(widest <= 2.000_001, "job \(index) was looked at within every step of its window (\(widest))")
            #expect((seen.last ?? 0) >= end - 0.001, "and once at or after the window's end")
        }
    }

    @Test func busyEndpointsSweepWithAWiderStep() {
        let perJob = PredictionSettings(sweepStep: .seconds(2), sweepStepPerJob: .milliseconds(500), minimumSamples: 3)
        #expect(NextLookPolicy.step(settings: perJob, schedule: schedule, endpointJobs: 1) == 2)
        #expect(NextLookPolicy.step(settings: perJob, schedule: schedule, endpointJobs: 20) == 10)
        let gapped = PollSchedule(minimumGap: .seconds(5))
        #expect(NextLookPolicy.step(settings: perJob, schedule: gapped, endpointJobs: 1) == 5, "never inside the minimum gap")
        let job = facts(.started, startedAfter: 780)
        #expect(offset(next(job, at: 800, settings: perJob, endpointJobs: 20)) == 970, "grid 1010, 1000, …, 970")
        #expect(offset(next(job, at: 975, settings: perJob, endpointJobs: 20)) == 980)
    }

    @Test func aCompletionFarAheadIsWatchedNotSwept() {
        // The time scale is a poller setting: at 1/10 the DRS seconds take 10× longer locally.
        let slow = PredictionSettings(drsTimeScale: 0.1, sweepStep: .seconds(2), sweepStepPerJob: .zero,
                                      watchInterval: .seconds(300), minimumSamples: 3)
        let look = next(facts(.started, startedAfter: 780), at: 7800, settings: slow)
        #expect(offset(look) == 8100)
        #expect(look?.kind == .watch)
    }

    // MARK: PENDING

    @Test func aPendingJobIsLookedAtWhenItHasMostLikelyStartedAndRarelyBefore() {
        // PENDING window 740…820; earliest completion 740 + 190 = 930 is later: look at 820.
        let look = next(facts(.pending), at: 0)
        #expect(offset(look) == 300, "watch interval first")
        #expect(look?.kind == .watch)
        #expect(offset(next(facts(.pending), at: 600)) == 820)
        #expect(offset(next(facts(.pending), at: 0, settings: PredictionSettings(watchInterval: .seconds(3600)))) == 820)
    }

    @Test func whenStartedIsShortThePendingLookComesBeforeTheEarliestCompletion() {
        let short = PhaseHistory(
            pending: history.pending, started: PhaseStats(samples: 20, mean: 30, variance: 16, minimum: 24, maximum: 36))
        // PENDING high end 820, but completion may come at 740 + 24 − 12/19 (the shortest seen, less the
        // expected shortfall of 20 samples' extreme) ≈ 763.37.
        #expect(abs((offset(next(facts(.pending), at: 600, history: short)) ?? 0) - (764 - 12.0 / 19)) < 1e-6)
    }

    @Test func aPendingJobOverrunningItsWindowBacksOff() {
        #expect(offset(next(facts(.pending), at: 821)) == 823, "one step just past")
        #expect(offset(next(facts(.pending), at: 900)) == 940)
    }

    @Test func looksStayOutsideTheMinimumGapAndBeforeTheDeadline() {
        let job = facts(.started, startedAfter: 780)
        let gapped = PollSchedule(minimumGap: .seconds(5), jitter: 0)
        let now = tracked.addingTimeInterval(969)
        let look = NextLookPolicy.next(
            job: job, history: history, now: now, lastPolledAt: now, deadline: farDeadline, endpointJobs: 1,
            settings: settings, schedule: gapped)
        #expect(look.map { $0.at.timeIntervalSince(now) } == 5)
        let deadline = tracked.addingTimeInterval(900)
        let early = NextLookPolicy.next(
            job: job, history: history, now: tracked.addingTimeInterval(800), lastPolledAt: nil, deadline: deadline,
            endpointJobs: 1, settings: settings, schedule: schedule)
        #expect(early?.at == deadline)
    }

    // MARK: Snapshots and reports

    @Test func transitionTimesComeFromTheJobLog() {
        let group = LaunchGroupID(executionID: .named("e"), waveNumber: 1, endpoint: Endpoint(accountID: "111122223333", region: "us-east-1"))
        let observed = JobObserved(
            launchGroup: group, chunk: 0, jobID: "drsjob-1", status: .completed,
            servers: [ObservedServer(sourceServerID: "s-1", launchStatus: .launched),
                      ObservedServer(sourceServerID: "s-2", launchStatus: .launched)],
            newLogEvents: [
                JobLogEvent(event: "LAUNCH_START", time: created.addingTimeInterval(790), sourceServerID: "s-2"),
                JobLogEvent(event: "LAUNCH_START", time: created.addingTimeInterval(780), sourceServerID: "s-1"),
                JobLogEvent(event: "JOB_END", time: created.addingTimeInterval(1000)),
            ],
            observedAt: tracked)
        let facts = TransitionFacts(observed)
        #expect(facts.startedAt == created.addingTimeInterval(780), "the first server's launch")
        #expect(facts.endedAt == created.addingTimeInterval(1000))
        #expect(facts.allLaunched)
        var failed = observed
        failed.servers[1].launchStatus = .failed
        failed.endedAt = created.addingTimeInterval(1001)
        #expect(!TransitionFacts(failed).allLaunched, "a failed server teaches nothing")
        #expect(TransitionFacts(failed).endedAt == created.addingTimeInterval(1001), "DRS's end time wins")
    }

    @Test func reportsSayHowLateTheLookWasAndWhetherTheGuessWasEarly() {
        let actual = tracked.addingTimeInterval(100)
        let early = TransitionReport(actual: actual, seenAt: actual + 0.05, expected: actual - 2)
        #expect(early.outcome == .early && abs((early.error ?? 0) - 2) < 1e-6 && abs(early.lag - 0.05) < 1e-6)
        let late = TransitionReport(actual: actual, seenAt: actual + 1, expected: actual + 0.5)
        #expect(late.outcome == .late && abs((late.error ?? 0) - 0.5) < 1e-6)
        let unpredicted = TransitionReport(actual: actual, seenAt: actual - 1, expected: nil)
        #expect(unpredicted.outcome == nil && unpredicted.lag == 0, "clock noise never gives a negative lag")
    }

    @Test func completionLooksRideAlongOnlyWithinTheirStep() {
        let now = Date(timeIntervalSince1970: 1_700_000_000)
        let trigger = PollCandidate(jobID: "due", nextDue: now - 1, state: .tracking, finalPolls: 0,
                                    deadline: now + 3600, lastPolledAt: nil)
        func rider(_ id: JobID, dueIn: TimeInterval, window: TimeInterval?) -> PollCandidate {
            PollCandidate(jobID: id, nextDue: now + dueIn, state: .tracking, finalPolls: 0, deadline: now + 3600,
                          lastPolledAt: nil, rideWindow: window)
        }
        let plan = Batching.plan(
            candidates: [trigger, rider("watch", dueIn: 0.8, window: nil), rider("near", dueIn: 0.2, window: 0.3),
                         rider("far", dueIn: 0.5, window: 0.3)],
            now: now, allowance: 10, schedule: schedule, timeout: TimeoutPolicy())
        #expect(Set(plan.polledJobIDs) == ["due", "watch", "near"])
    }
}
