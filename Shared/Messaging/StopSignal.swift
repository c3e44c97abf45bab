import Synchronization

/// A stop request that ends every waiting back-off at once: set once, read
/// from any thread, and `sleep(for:)` returns early when it is set, so a
/// consumer retrying a record with a 30 s back-off still stops promptly.
public final class StopSignal: Sendable {
    private struct State {
        var isSet = false
        var nextID: UInt64 = 0
        var sleepers: [UInt64: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Creates an unset signal.
    public init() {}

    /// Sets the signal and wakes every sleeper.
    public func set() {
        let sleepers = state.withLock { state in
            state.isSet = true
            defer { state.sleepers = [:] }
            return Array(state.sleepers.values)
        }
        for sleeper in sleepers { sleeper.resume() }
    }

    /// Whether the signal was set.
    public var isSet: Bool { state.withLock { $0.isSet } }

    /// Sleeps for `duration`, or less if the signal is set or the task is cancelled.
    public func sleep(for duration: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: duration) }
            group.addTask { await self.waitUntilSet() }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitUntilSet() async {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if state.isSet || Task.isCancelled { return true }
                    state.sleepers[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.sleepers.removeValue(forKey: id) }?.resume()
        }
    }
}
