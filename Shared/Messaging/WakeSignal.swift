import Synchronization

/// A one-slot wake-up: `signal()` ends the current or next `wait`. Signals
/// do not accumulate. Used by polling loops that should react at once to
/// local work (e.g. rows just committed) but otherwise poll on an interval.
public final class WakeSignal: Sendable {
    private enum State {
        case idle
        case signalled
        case waiting(CheckedContinuation<Void, Never>)
    }

    private let state = Mutex(State.idle)

    /// Creates an unsignalled signal.
    public init() {}

    /// Wakes the waiter, or the next one if nobody waits now.
    public func signal() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            switch state {
            case .waiting(let continuation):
                state = .idle
                return continuation
            case .idle, .signalled:
                state = .signalled
                return nil
            }
        }
        waiter?.resume()
    }

    /// Resumes the waiter, if one waits, without leaving a signal pending: a wait that ends by
    /// its due time or by cancellation consumes nothing that a later `signal()` would need.
    private func releaseWaiter() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            guard case .waiting(let continuation) = state else { return nil }
            state = .idle
            return continuation
        }
        waiter?.resume()
    }

    /// Returns at a signal, after `timeout`, or when the task is cancelled.
    /// Only one task may wait at a time.
    public func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            // The due time only ends this wait (the group cancels the waiter below); it never
            // leaves a pending signal behind, which would cost the next wait a spurious pass.
            group.addTask {
                try? await Task.sleep(for: timeout)
            }
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { continuation in
                        let resumeNow: Bool = self.state.withLock { state in
                            switch state {
                            case .signalled:
                                state = .idle
                                return true
                            case .idle:
                                // Cancelled before waiting (the release below already ran): do not wait.
                                if Task.isCancelled { return true }
                                state = .waiting(continuation)
                                return false
                            case .waiting:
                                preconditionFailure("WakeSignal supports one waiter at a time")
                            }
                        }
                        if resumeNow { continuation.resume() }
                    }
                } onCancel: {
                    self.releaseWaiter()
                }
            }
            await group.next()
            group.cancelAll()
        }
    }
}

/// A flag set once, readable from any thread.
public final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    /// Creates an unset flag.
    public init() {}
    /// Sets the flag.
    public func set() { value.store(true, ordering: .releasing) }
    /// Whether the flag was set.
    public var isSet: Bool { value.load(ordering: .acquiring) }
}
