import Synchronization

/// A shareable box around a `Mutex`, for test state captured by escaping
/// closures (a `Mutex` itself cannot be captured: it is non-copyable).
public final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    /// A box holding `value`.
    public init(_ value: Value) { mutex = Mutex(value) }

    /// Runs `body` with exclusive access.
    public func withLock<Result: Sendable>(_ body: (inout sending Value) throws -> sending Result) rethrows -> Result {
        try mutex.withLock(body)
    }

    /// A copy of the current value.
    public var value: Value { mutex.withLock { $0 } }
}
