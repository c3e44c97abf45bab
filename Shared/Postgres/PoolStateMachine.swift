/// The pool's bookkeeping as a plain value: which connections are idle, how many are leased or
/// being opened, who waits. Methods return what to do; `PostgresPool` does it. No I/O here, so
/// the size limit and hand-over rules are unit tested without a database.
struct PoolStateMachine<Connection> {
    /// What a caller asking for a connection should do.
    enum AcquireAction {
        /// Use this idle connection.
        case use(Connection)
        /// Open a new connection (a slot is reserved for it).
        case open
        /// Wait: the pool is full; the caller is queued under its waiter id.
        case wait
        /// The pool is closed.
        case fail
    }

    /// What a waiting caller is given when its turn comes.
    enum Grant {
        case connection(Connection)
        case open
    }

    /// What to do after a release or a finished connection attempt.
    enum FollowUp {
        case none
        /// Resume waiter `waiter` with `grant`.
        case resume(waiter: Int, grant: Grant)
        /// The pool is closed: close this connection.
        case close(Connection)
    }

    let capacity: Int
    private(set) var idle: [Connection] = []
    private(set) var leased = 0
    private(set) var opening = 0
    private(set) var waiters: [Int] = []
    private(set) var isClosed = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Connections that exist or are being opened.
    var total: Int { idle.count + leased + opening }

    mutating func acquire(waiter: Int) -> AcquireAction {
        if isClosed { return .fail }
        if let connection = idle.popLast() {
            leased += 1
            return .use(connection)
        }
        if total < capacity {
            opening += 1
            return .open
        }
        waiters.append(waiter)
        return .wait
    }

    /// A leased connection comes back; `reusable` false means the caller closes it.
    mutating func release(_ connection: Connection, reusable: Bool) -> FollowUp {
        leased -= 1
        if isClosed { return reusable ? .close(connection) : .none }
        if reusable {
            if !waiters.isEmpty {
                leased += 1
                return .resume(waiter: waiters.removeFirst(), grant: .connection(connection))
            }
            idle.append(connection)
            return .none
        }
        return handSlotToWaiter()
    }

    /// An attempt started by `.open` / `.open` grant succeeded: the new connection is leased.
    mutating func opened(_ connection: Connection) -> FollowUp {
        opening -= 1
        if isClosed { return .close(connection) }
        leased += 1
        return .none
    }

    /// An attempt failed: its slot goes to the next waiter, who tries for itself.
    mutating func openFailed() -> FollowUp {
        opening -= 1
        if isClosed { return .none }
        return handSlotToWaiter()
    }

    /// Removes a waiter that gave up (timeout, cancellation); false if it was already served.
    mutating func removeWaiter(_ waiter: Int) -> Bool {
        guard let index = waiters.firstIndex(of: waiter) else { return false }
        waiters.remove(at: index)
        return true
    }

    /// Closes the pool: returns the idle connections to close and the waiters to fail.
    mutating func close() -> (idle: [Connection], waiters: [Int]) {
        isClosed = true
        defer {
            idle = []
            waiters = []
        }
        return (idle, waiters)
    }

    private mutating func handSlotToWaiter() -> FollowUp {
        guard !waiters.isEmpty else { return .none }
        opening += 1
        return .resume(waiter: waiters.removeFirst(), grant: .open)
    }
}

extension PoolStateMachine.Grant: Sendable where Connection: Sendable {}
extension PoolStateMachine.AcquireAction: Sendable where Connection: Sendable {}
extension PoolStateMachine.FollowUp: Sendable where Connection: Sendable {}
