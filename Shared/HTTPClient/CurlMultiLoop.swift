import CCurl
import Foundation
import Logging
import Synchronization

/// A request handed from a caller's task to the loop thread.
struct Submission: Sendable {
    let id: UInt64
    let request: HTTPRequest
    let continuation: CheckedContinuation<HTTPResponse, any Error>
}

/// The `CURLM *` shared between the loop thread and callers.
///
/// `@unchecked Sendable` (C boundary): callers use the pointer only for
/// `curl_multi_wakeup`, which libcurl documents as callable from any thread,
/// and only under `CurlMultiLoop.shared`'s lock while the loop still runs;
/// every other use happens on the loop thread, which cleans the handle up
/// after marking the loop stopped under that same lock.
struct MultiHandle: @unchecked Sendable {
    let raw: UnsafeMutableRawPointer
}

/// Owns the libcurl multi handle and the dedicated thread that drives it.
/// Callers enqueue work under a mutex and wake the thread; the thread does all
/// libcurl work and resumes the callers' continuations.
final class CurlMultiLoop: Sendable {
    private enum Phase { case running, stopping, stopped }

    private struct Shared {
        var nextID: UInt64 = 1
        var phase = Phase.running
        var pending: [Submission] = []
        var cancelled: [UInt64] = []
        var shutdownWaiters: [CheckedContinuation<Void, Never>] = []
    }

    /// What the thread picks up on each turn of its loop.
    struct Work {
        var pending: [Submission]
        var cancelled: [UInt64]
        var stopping: Bool
    }

    private let shared = Mutex(Shared())
    private let multi: MultiHandle
    private let logger: Logger

    /// Creates the multi handle and starts the thread.
    init(maxConnectionsPerHost: Int, logger: Logger) {
        let initCode = CurlGlobal.ensureInitialized()
        precondition(initCode == 0, "curl_global_init failed with code \(initCode); libcurl is unusable")
        guard let raw = curl_multi_init() else {
            fatalError("curl_multi_init failed: libcurl could not allocate its multi handle (out of memory)")
        }
        _ = CCurl_multi_setopt_long(raw, CURLMOPT_MAX_HOST_CONNECTIONS, max(1, maxConnectionsPerHost))
        // Keep idle connections to every host we may talk to, for reuse.
        _ = CCurl_multi_setopt_long(raw, CURLMOPT_MAXCONNECTS, max(1, maxConnectionsPerHost) * 8)
        self.multi = MultiHandle(raw: raw)
        self.logger = logger
        let thread = Thread { [self] in
            CurlLoopWorker(loop: self, multi: multi.raw, logger: logger).run()
        }
        thread.name = "muster-http-curl"
        thread.start()
    }

    /// A fresh identifier for a request (used to cancel it).
    func makeID() -> UInt64 {
        shared.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
    }

    /// Queues a request for the thread, or fails it at once after shutdown.
    func submit(_ submission: Submission) {
        let accepted = shared.withLock { state in
            guard state.phase == .running else { return false }
            state.pending.append(submission)
            _ = curl_multi_wakeup(multi.raw)
            return true
        }
        if !accepted { submission.continuation.resume(throwing: HTTPClientError.shutDown) }
    }

    /// Asks the thread to abort request `id`. Unknown or finished ids are ignored.
    func cancel(_ id: UInt64) {
        shared.withLock { state in
            guard state.phase == .running else { return }
            state.cancelled.append(id)
            _ = curl_multi_wakeup(multi.raw)
        }
    }

    /// Starts shutting down without waiting (used from `deinit`).
    func requestShutdown() {
        shared.withLock { state in
            guard state.phase == .running else { return }
            state.phase = .stopping
            _ = curl_multi_wakeup(multi.raw)
        }
    }

    /// Shuts down and returns once the thread has failed every request and exited.
    func shutdown() async {
        await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
            let alreadyStopped = shared.withLock { state in
                switch state.phase {
                case .stopped:
                    return true
                case .running:
                    state.phase = .stopping
                    _ = curl_multi_wakeup(multi.raw)
                case .stopping:
                    break
                }
                state.shutdownWaiters.append(waiter)
                return false
            }
            if alreadyStopped { waiter.resume() }
        }
    }

    // MARK: Called by the loop thread

    /// Takes everything queued since the last turn.
    func takeWork() -> Work {
        shared.withLock { state in
            defer {
                state.pending.removeAll()
                state.cancelled.removeAll()
            }
            return Work(pending: state.pending, cancelled: state.cancelled, stopping: state.phase != .running)
        }
    }

    /// Marks the loop stopped (no more wakeups), frees the multi handle and
    /// releases everyone waiting in ``shutdown()``.
    func finishStopping() {
        let waiters = shared.withLock { state in
            state.phase = .stopped
            defer { state.shutdownWaiters.removeAll() }
            return state.shutdownWaiters
        }
        curl_multi_cleanup(multi.raw)
        logger.debug("HTTP client thread stopped")
        for waiter in waiters { waiter.resume() }
    }
}
