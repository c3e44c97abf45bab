import Logging
import Synchronization

/// A bounded pool of PostgreSQL connections. At most `poolSize` connections exist; callers beyond
/// that wait (first come, first served) up to `acquireTimeout`. Broken connections are closed
/// when they come back, so after a server restart the next checkout opens a fresh one.
public final class PostgresPool: Sendable {
    private typealias Machine = PoolStateMachine<PostgresConnection>

    private struct State {
        var machine: Machine
        var continuations: [Int: CheckedContinuation<Machine.Grant, any Error>] = [:]
        var timers: [Int: Task<Void, Never>] = [:]
        var nextID = 0
    }

    /// What the pool was created with.
    public let configuration: PostgresConfiguration
    private let logger: Logger
    private let state: Mutex<State>

    /// A pool that opens connections lazily, on first use.
    public init(configuration: PostgresConfiguration, logger: Logger) {
        self.configuration = configuration
        var logger = logger
        logger[metadataKey: "postgres"] = "\(ConnectionString.redacted(configuration.url))"
        self.logger = logger
        self.state = Mutex(State(machine: Machine(capacity: configuration.poolSize)))
    }

    /// Lends a connection to `body` and takes it back afterwards, also when `body` throws. A
    /// transaction `body` left open is rolled back before the connection is reused.
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await lease(verify: true)
        do {
            let value = try await body(connection)
            await giveBack(connection)
            return value
        } catch {
            await giveBack(connection)
            throw error
        }
    }

    /// Runs `body` inside `BEGIN` … `COMMIT` and returns its value. When `body` throws (or is
    /// cancelled) the transaction is rolled back and the error rethrown. `SELECT … FOR UPDATE
    /// SKIP LOCKED` inside `body` keeps its row locks until the commit.
    public func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection { connection in
            try Task.checkCancellation()
            try await connection.runInternal("BEGIN")
            let value: T
            do {
                value = try await body(connection)
            } catch {
                await connection.rollbackIfNeeded()
                throw error
            }
            if connection.transactionStatus == .inError {
                // COMMIT would quietly roll back; make that visible instead.
                await connection.rollbackIfNeeded()
                throw PostgresError(
                    kind: .server,
                    message: "The transaction was aborted by an earlier statement error that the body caught, "
                        + "so it was rolled back; rethrow the error or use a savepoint.",
                    sqlState: "25P02")
            }
            try await connection.runInternal("COMMIT")
            return value
        }
    }

    /// Runs one statement on any free connection. If the connection turns out to have been dead
    /// before the statement was sent, it is retried on another; after a server restart every idle
    /// connection may be dead, so up to `poolSize` retries (each discards one dead connection).
    @discardableResult
    public func query(_ sql: String, _ binds: [any PostgresBindable] = []) async throws -> PostgresResult {
        var attempt = 1
        while true {
            let connection = try await lease(verify: false)
            do {
                let result = try await connection.query(sql, binds)
                await giveBack(connection)
                return result
            } catch let error as PostgresError
                where attempt <= configuration.poolSize && error.kind == .connectionLost(querySent: false) {
                await giveBack(connection)
                logger.info("PostgreSQL connection was dead before sending; retrying on another")
                attempt += 1
            } catch {
                await giveBack(connection)
                throw error
            }
        }
    }

    /// True when `SELECT 1` succeeds within `timeout` (for readiness probes). Never throws and never
    /// waits much longer than `timeout`, even if connecting hangs.
    public func isReachable(timeout: Duration) async -> Bool {
        let outcome = Mutex<CheckedContinuation<Bool, Never>?>(nil)
        let finish: @Sendable (Bool) -> Void = { reachable in
            outcome.withLock { continuation in
                continuation?.resume(returning: reachable)
                continuation = nil
            }
        }
        return await withCheckedContinuation { continuation in
            outcome.withLock { $0 = continuation }
            // Unstructured on purpose: a blocked connect must not hold up the answer.
            let probe = Task {
                let result = try? await self.query("SELECT 1")
                finish(result?.rows.count == 1)
            }
            let timer = Task {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                finish(false)
                probe.cancel()
            }
            Task {
                await probe.value
                timer.cancel()
            }
        }
    }

    /// Closes idle connections and fails waiting callers; leased connections close when returned.
    public func close() async {
        let (idle, waiters) = state.withLock { state in
            let (idle, waiterIDs) = state.machine.close()
            let waiters = waiterIDs.compactMap { id in
                state.timers.removeValue(forKey: id)?.cancel()
                return state.continuations.removeValue(forKey: id)
            }
            return (idle, waiters)
        }
        for waiter in waiters { waiter.resume(throwing: Self.closedError) }
        for connection in idle { await connection.close() }
        logger.debug("PostgreSQL pool closed")
    }

    // MARK: - Leasing

    /// Takes a connection: idle, newly opened, or handed over after waiting. With `verify`, an
    /// idle connection is first checked to be alive (replaced if not), so `body` starts on a good one.
    private func lease(verify: Bool) async throws -> PostgresConnection {
        while true {
            let connection = try await acquire()
            guard verify, !(await connection.isAlive()) else { return connection }
            logger.info(
                "Replacing a PostgreSQL connection the server closed", metadata: ["connection": "\(connection.id)"])
            await giveBack(connection)
        }
    }

    private func acquire() async throws -> PostgresConnection {
        let id = state.withLock { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        let grant: Machine.Grant = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let action = state.withLock { state -> Machine.AcquireAction in
                    if Task.isCancelled { return .fail }
                    let action = state.machine.acquire(waiter: id)
                    if case .wait = action {
                        state.continuations[id] = continuation
                        state.timers[id] = Task { [configuration] in
                            try? await Task.sleep(for: configuration.acquireTimeout)
                            guard !Task.isCancelled else { return }
                            self.abandonWait(id, error: self.acquireTimeoutError())
                        }
                    }
                    return action
                }
                switch action {
                case .use(let connection): continuation.resume(returning: .connection(connection))
                case .open: continuation.resume(returning: .open)
                case .wait: break
                case .fail:
                    continuation.resume(throwing: Task.isCancelled ? CancellationError() : Self.closedError)
                }
            }
        } onCancel: {
            abandonWait(id, error: CancellationError())
        }
        switch grant {
        case .connection(let connection): return connection
        case .open: return try await open(id: id)
        }
    }

    private func open(id: Int) async throws -> PostgresConnection {
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: id)
            let followUp = state.withLock { $0.machine.opened(connection) }
            if case .close = followUp {
                await connection.close()
                throw Self.closedError
            }
            logger.debug("Opened PostgreSQL connection", metadata: ["connection": "\(id)"])
            return connection
        } catch {
            perform(state.withLock { state in take(state.machine.openFailed(), from: &state) })
            throw error
        }
    }

    /// Returns a connection: rolls back a transaction left open, closes it if broken.
    private func giveBack(_ connection: PostgresConnection) async {
        await connection.rollbackIfNeeded()
        let reusable = connection.isReusable && connection.transactionStatus == .idle
        if !reusable {
            // Close before freeing the slot so the server never sees more than poolSize connections.
            await connection.close()
            logger.debug("Closed unusable PostgreSQL connection", metadata: ["connection": "\(connection.id)"])
        }
        let followUp = state.withLock { state in
            take(state.machine.release(connection, reusable: reusable), from: &state)
        }
        if case .close(let connection) = followUp.action { await connection.close() }
        perform(followUp)
    }

    private func abandonWait(_ id: Int, error: any Error) {
        let continuation = state.withLock { state -> CheckedContinuation<Machine.Grant, any Error>? in
            guard state.machine.removeWaiter(id) else { return nil }
            state.timers.removeValue(forKey: id)?.cancel()
            return state.continuations.removeValue(forKey: id)
        }
        continuation?.resume(throwing: error)
    }

    private struct Resumption {
        var action: Machine.FollowUp
        var continuation: CheckedContinuation<Machine.Grant, any Error>?
    }

    /// Pairs a follow-up with the waiter's continuation (inside the lock).
    private func take(_ followUp: Machine.FollowUp, from state: inout State) -> Resumption {
        guard case .resume(let waiter, _) = followUp else { return Resumption(action: followUp) }
        state.timers.removeValue(forKey: waiter)?.cancel()
        return Resumption(action: followUp, continuation: state.continuations.removeValue(forKey: waiter))
    }

    /// Resumes a waiter (outside the lock).
    private func perform(_ resumption: Resumption) {
        guard case .resume(_, let grant) = resumption.action else { return }
        resumption.continuation?.resume(returning: grant)
    }

    private func acquireTimeoutError() -> PostgresError {
        PostgresError(
            kind: .acquireTimeout,
            message: "No PostgreSQL connection became free within \(configuration.acquireTimeout) "
                + "(poolSize \(configuration.poolSize)); raise poolSize or acquireTimeout, or look for "
                + "slow queries holding connections.")
    }

    private static let closedError = PostgresError(
        kind: .poolClosed, message: "The PostgreSQL pool is closed; create a new one to run queries.")
}
