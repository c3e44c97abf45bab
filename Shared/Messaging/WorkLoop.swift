import Logging
import ServiceLifecycle
import Synchronization

/// What a ``WorkLoop`` pass asks for: when to run the next pass unless a
/// wake-up comes first.
public enum NextPass: Sendable, Equatable {
    /// At once: the pass stopped at a limit and more work is waiting.
    case immediately
    /// No sooner than `delay` from now (a back-off or a planned look),
    /// and no later than the loop's idle interval.
    case after(Duration)
    /// Nothing is due: sleep until a wake-up or the idle interval.
    case idle
}

/// When a ``WorkLoop`` runs its next pass. Pure: the loop sleeps.
public struct LoopTiming: Sendable, Equatable {
    /// The longest sleep: the safety net for work nobody signals (rows of a
    /// crashed instance, a clock that moved). Wake-ups do the real work.
    public var idle: Duration
    /// Back-off after a failed pass (database or broker down).
    public var retry: Backoff

    /// Creates a timing.
    public init(idle: Duration, retry: Backoff = Backoff(base: .milliseconds(100), cap: .seconds(10))) {
        precondition(idle > .zero, "a WorkLoop's idle interval must be positive")
        self.idle = idle
        self.retry = retry
    }

    /// How long to sleep after a pass that asked for `next`; nil runs the next pass at once.
    public func sleep(after next: NextPass) -> Duration? {
        switch next {
        case .immediately: return nil
        case .idle: return idle
        case .after(let delay): return delay <= .zero ? nil : min(delay, idle)
        }
    }

    /// The `.after` that wakes at `instant` (a planned due time), measured from `now`.
    public static func until(_ instant: ContinuousClock.Instant, now: ContinuousClock.Instant = .now) -> NextPass {
        instant <= now ? .immediately : .after(now.duration(to: instant))
    }

    /// The `.after` that wakes `seconds` from now (a due time read from the database's clock, or a
    /// `Date` ahead); at once when it is not ahead.
    public static func after(seconds: Double) -> NextPass {
        seconds <= 0 ? .immediately : .after(.milliseconds(Int64(seconds * 1000) + 1))
    }
}

/// The one periodic loop of every worker (outbox relay, poll scheduler,
/// delivery dispatcher, launcher admission and polling, inventory, pruning):
/// it runs a pass, then sleeps until the pass's next due time, a ``wake()``,
/// or ``stop()``/graceful shutdown/cancellation, whichever comes first. A
/// failing pass is logged and retried with back-off; an error `isFatal`
/// accepts ends the loop and is rethrown. A pass in hand always finishes:
/// stopping only ends sleeps.
///
/// An idle worker therefore costs nothing but one pass per idle interval,
/// and work that another part of the process commits is picked up at once
/// through `wake()`.
public final class WorkLoop: Sendable {
    /// Names the loop in logs.
    public let name: String
    /// Sleep lengths.
    public let timing: LoopTiming
    private let logger: Logger
    private let signal = WakeSignal()
    private let stopped = StopFlag()
    private let isFatal: @Sendable (any Error) -> Bool

    /// A loop named `name`; `isFatal` picks the errors that end it (none by default).
    public init(
        name: String, timing: LoopTiming, logger: Logger,
        isFatal: @escaping @Sendable (any Error) -> Bool = { _ in false }
    ) {
        self.name = name
        self.timing = timing
        self.logger = logger
        self.isFatal = isFatal
    }

    /// Ends the current sleep (or the next one): look for work now.
    public func wake() { signal.signal() }

    /// Ends the loop after the pass in hand.
    public func stop() {
        stopped.set()
        signal.signal()
    }

    /// Whether ``stop()`` was called or the loop ended by shutdown.
    public var isStopped: Bool { stopped.isSet }

    /// Runs `pass` until stopped, graceful shutdown or cancellation; rethrows a fatal error.
    public func run(_ pass: () async throws -> NextPass) async throws {
        try await withTaskCancellationOrGracefulShutdownHandler {
            var failures = 0
            while !stopped.isSet && !Task.isCancelled {
                let sleep: Duration?
                do {
                    sleep = timing.sleep(after: try await pass())
                    failures = 0
                } catch {
                    if isFatal(error) {
                        stopped.set()
                        throw error
                    }
                    if error is CancellationError || stopped.isSet { break }
                    sleep = timing.retry.delay(attempt: failures)
                    failures += 1
                    logger.warning("\(name) pass failed; will retry", metadata: [
                        "loop": "\(name)", "error": "\(error)", "attempt": "\(failures)",
                    ])
                }
                if let sleep, !stopped.isSet { await signal.wait(upTo: sleep) }
            }
        } onCancelOrGracefulShutdown: {
            self.stop()
        }
    }
}
