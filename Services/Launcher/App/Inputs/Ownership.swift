import MusterDomain
import Synchronization

/// Which endpoints this launcher instance may act for (DESIGN §3, §12): an
/// endpoint's records all land on one partition of the co-partitioned
/// inputs, and the instance the consumer group assigns that partition owns
/// the endpoint. Updated from the consumer's rebalance callback, so a
/// revoked owner stops submitting before the revoke completes, and a new
/// owner reconciles at once instead of waiting for a heartbeat to go stale.
final class Ownership: Sendable {
    private struct State {
        var assigned: Set<Int32> = []
        var partitions: [Endpoint: Int32] = [:]
        var generation = 0
    }

    private let state = Mutex(State())
    /// Called (off the poll thread's lock) after an assignment change.
    private let onChange: Mutex<(@Sendable () -> Void)?> = Mutex(nil)

    init() {}

    /// Runs `handler` after each assignment change.
    func onChange(_ handler: @escaping @Sendable () -> Void) {
        onChange.withLock { $0 = handler }
    }

    /// The group assigned `partitions` of the inputs to this instance.
    func assigned(_ partitions: [Int32]) {
        state.withLock {
            $0.assigned.formUnion(partitions)
            $0.generation += 1
        }
        onChange.withLock { $0 }?()
    }

    /// The group is taking `partitions` away.
    func revoked(_ partitions: [Int32]) {
        state.withLock {
            $0.assigned.subtract(partitions)
            $0.generation += 1
        }
        onChange.withLock { $0 }?()
    }

    /// The assigned partitions and a counter that moves with every change.
    var assignment: (partitions: Set<Int32>, generation: Int) {
        state.withLock { ($0.assigned, $0.generation) }
    }

    /// Records that `endpoint`'s records arrive on `partition`.
    func place(_ endpoint: Endpoint, on partition: Int32) {
        state.withLock { $0.partitions[endpoint] = partition }
    }

    /// Whether this instance may submit for `endpoint`: its partition is
    /// assigned here, or no partition places it yet (no input ever named it).
    func mayAct(for endpoint: Endpoint) -> Bool {
        state.withLock { state in
            guard let partition = state.partitions[endpoint] else { return true }
            return state.assigned.contains(partition)
        }
    }
}
