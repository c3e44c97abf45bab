import Foundation
import MusterDomain

/// Blocking librdkafka calls run here, never on Swift's cooperative pool (which has one thread per core; a
/// blocked pool thread stalls unrelated tasks).
enum DedicatedThread {
    /// Starts a long-lived named thread running `body` (a poll loop).
    static func start(name: String, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        thread.start()
    }

    /// Runs one blocking `body` on a fresh thread and suspends until it returns.
    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable () throws(KafkaError) -> T) async throws(KafkaError) -> T {
        let result: Result<T, KafkaError> = await withCheckedContinuation { continuation in
            start(name: name) {
                continuation.resume(returning: Result { () throws(KafkaError) -> T in try body() })
            }
        }
        return try result.get()
    }
}

extension Duration {
    /// Whole milliseconds, clamped to librdkafka's `int` timeouts (negative becomes 0).
    var clampedMilliseconds: Int32 {
        Int32(clamping: max(0, millisecondsRoundedUp))
    }
}
