import Logging
import MusterMessaging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

/// `LoopTiming` (pure) and `WorkLoop` (the one periodic loop): passes run
/// again at once, at their due time, at a wake-up, and never otherwise; stop,
/// graceful shutdown and fatal errors end the loop with the pass in hand finished.
/// The loops idle for an hour, so every pass after the first is caused by
/// what the test does, not by the clock.
@Suite("Work loop")
struct WorkLoopTests {
    private static let hour = Duration.seconds(3600)

    @Test func timingSleepsUntilTheDueTimeCappedByTheIdleInterval() {
        let timing = LoopTiming(idle: .seconds(5))
        #expect(timing.sleep(after: .immediately) == nil)
        #expect(timing.sleep(after: .idle) == .seconds(5))
        #expect(timing.sleep(after: .after(.milliseconds(300))) == .milliseconds(300))
        #expect(timing.sleep(after: .after(.seconds(60))) == .seconds(5))
        #expect(timing.sleep(after: .after(.zero)) == nil)
        #expect(timing.sleep(after: .after(.milliseconds(-5))) == nil)
    }

    @Test func untilTurnsAnInstantIntoADelay() {
        let now = ContinuousClock.now
        #expect(LoopTiming.until(now + .seconds(2), now: now) == .after(.seconds(2)))
        #expect(LoopTiming.until(now - .seconds(1), now: now) == .immediately)
        #expect(LoopTiming.until(now, now: now) == .immediately)
    }

    @Test func anIdleLoopRunsOnePassPerWakeUp() async throws {
        let loop = WorkLoop(name: "test", timing: LoopTiming(idle: Self.hour), logger: TestEnvironment.logger)
        let passes = Atomic<Int>(0)
        let task = Task { try await loop.run { passes.add(1, ordering: .relaxed); return .idle } }
        #expect(await eventually { passes.load(ordering: .relaxed) == 1 })
        for expected in 2...4 {
            loop.wake()
            #expect(await eventually { passes.load(ordering: .relaxed) == expected })
        }
        // No wake-up: no further pass (the next one would be an hour away).
        try await Task.sleep(for: .milliseconds(200))
        #expect(passes.load(ordering: .relaxed) == 4)
        loop.stop()
        try await task.value
        #expect(loop.isStopped)
    }

    @Test func aPassThatHitALimitRunsAgainAtOnceAndADueTimeEndsTheSleep() async throws {
        let loop = WorkLoop(name: "test", timing: LoopTiming(idle: Self.hour), logger: TestEnvironment.logger)
        let passes = Atomic<Int>(0)
        let task = Task {
            try await loop.run {
                let n = passes.add(1, ordering: .relaxed).newValue
                switch n {
                case 1...3: return .immediately
                case 4: return .after(.milliseconds(50))
                default: return .idle
                }
            }
        }
        // Three immediate repeats and one due time later, with no wake-up at all.
        #expect(await eventually { passes.load(ordering: .relaxed) == 5 })
        loop.stop()
        try await task.value
        #expect(passes.load(ordering: .relaxed) == 5)
    }

    @Test func aFailingPassIsRetriedWithBackOffAndAFatalErrorEndsTheLoop() async throws {
        struct Transient: Error {}
        struct Fatal: Error {}
        let loop = WorkLoop(
            name: "test",
            timing: LoopTiming(idle: Self.hour, retry: Backoff(base: .milliseconds(1), cap: .milliseconds(5))),
            logger: TestEnvironment.logger, isFatal: { $0 is Fatal })
        let passes = Atomic<Int>(0)
        let task = Task {
            try await loop.run {
                let n = passes.add(1, ordering: .relaxed).newValue
                if n < 4 { throw Transient() }
                throw Fatal()
            }
        }
        await #expect(throws: Fatal.self) { try await task.value }
        #expect(passes.load(ordering: .relaxed) == 4)
        #expect(loop.isStopped)
    }

    /// A wait that ends by its due time (or by cancellation) used to signal itself to end the
    /// waiter; when the waiter had already been resumed, that signal stayed pending and the next
    /// wait returned at once — a spurious pass (seen as a sixth pass in the test above).
    @Test func aWaitEndedByItsDueTimeLeavesNoSignalPending() async throws {
        let signal = WakeSignal()
        for index in 0..<3000 { await signal.wait(upTo: index.isMultiple(of: 2) ? .zero : .microseconds(50)) }
        let cancelled = Task { await signal.wait(upTo: Self.hour) }
        cancelled.cancel()
        await cancelled.value
        let woken = Atomic<Bool>(false)
        let waiter = Task {
            await signal.wait(upTo: Self.hour)
            woken.store(true, ordering: .relaxed)
        }
        // A pending signal would end this wait at once: give it every chance to.
        for _ in 0..<1000 { await Task.yield() }
        try await Task.sleep(for: .milliseconds(200))
        let wokenEarly = woken.load(ordering: .relaxed)
        #expect(!wokenEarly, "no signal was sent, so the wait must still be waiting")
        signal.signal()
        await waiter.value
        let wokenAtLast = woken.load(ordering: .relaxed)
        #expect(wokenAtLast)
    }

    @Test func stopLetsThePassInHandFinish() async throws {
        let loop = WorkLoop(name: "test", timing: LoopTiming(idle: Self.hour), logger: TestEnvironment.logger)
        let entered = Atomic<Bool>(false)
        let release = WakeSignal()
        let finished = Atomic<Int>(0)
        let task = Task {
            try await loop.run {
                entered.store(true, ordering: .relaxed)
                await release.wait(upTo: Self.hour)
                finished.add(1, ordering: .relaxed)
                return .immediately
            }
        }
        #expect(await eventually { entered.load(ordering: .relaxed) })
        loop.stop()
        release.signal()
        try await task.value
        // The pass asked to run again at once, but the loop was stopped: exactly one pass.
        #expect(finished.load(ordering: .relaxed) == 1)
    }

    @Test func gracefulShutdownEndsTheSleepOfALoopInAServiceGroup() async throws {
        final class Worker: Service {
            let loop: WorkLoop
            let passes = Atomic<Int>(0)
            init(loop: WorkLoop) { self.loop = loop }
            func run() async throws {
                try await loop.run { passes.add(1, ordering: .relaxed); return .idle }
            }
        }
        let loop = WorkLoop(name: "test", timing: LoopTiming(idle: Self.hour), logger: TestEnvironment.logger)
        let worker = Worker(loop: loop)
        let group = ServiceGroup(services: [worker], logger: TestEnvironment.logger)
        let running = Task { try await group.run() }
        #expect(await eventually { worker.passes.load(ordering: .relaxed) == 1 })
        await group.triggerGracefulShutdown()
        // The group returns only once the loop did: an hour's sleep ended at once.
        try await running.value
        #expect(loop.isStopped)
        #expect(worker.passes.load(ordering: .relaxed) == 1)
    }
}
