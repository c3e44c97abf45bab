import Dispatch
import Logging
import Synchronization

/// One PostgreSQL connection, handed out by `PostgresPool` to one task at a time.
///
/// libpq blocks, so every call runs on the connection's own serial `DispatchQueue` (serial queues
/// use GCD's overcommit pool, which adds a thread instead of waiting) and resumes the caller
/// through a continuation: Swift's cooperative threads never block on the network.
public final class PostgresConnection: Sendable {
    /// Distinguishes connections in logs.
    let id: Int
    private let queue: DispatchQueue
    private let handle: LibPQConnection
    private let state: Mutex<State>

    private struct State {
        var transactionStatus: LibPQConnection.TransactionStatus = .idle
        var isBroken = false
        /// A cancel request may still reach the server after the statement ended and hit the next
        /// one, so a connection that had one is never reused.
        var cancelRequested = false
    }

    private init(id: Int, queue: DispatchQueue, handle: LibPQConnection) {
        self.id = id
        self.queue = queue
        self.handle = handle
        self.state = Mutex(State())
    }

    /// Opens a connection and prepares its session (UTC, ISO dates, hex bytea, search path).
    static func connect(configuration: PostgresConfiguration, id: Int) async throws -> PostgresConnection {
        let queue = DispatchQueue(label: "muster.postgres.connection.\(id)")
        let parameters = SessionSetup.connectParameters(configuration)
        let target = ConnectionString.redacted(configuration.url)
        let setup = SessionSetup.sql(searchPath: configuration.searchPath)
        let handle: LibPQConnection = try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(
                    with: Result { () throws(PostgresError) -> LibPQConnection in
                        let handle = try LibPQConnection.connect(parameters: parameters, redactedTarget: target)
                        _ = try handle.execute(setup, parameters: nil)
                        return handle
                    })
            }
        }
        return PostgresConnection(id: id, queue: queue, handle: handle)
    }

    /// Runs one statement with `binds` as `$1`, `$2`… parameters and returns its rows and count.
    /// Throws `PostgresError` (a server error carries its `sqlState`), or `CancellationError` when
    /// the task is cancelled (a running statement is cancelled on the server too).
    @discardableResult
    public func query(_ sql: String, _ binds: [any PostgresBindable] = []) async throws -> PostgresResult {
        try Task.checkCancellation()
        return try await run(sql, binds, cancellable: true)
    }

    /// Runs several `;`-separated statements with no parameters (migrations). Statements after a
    /// failing one do not run.
    public func execute(script sql: String) async throws {
        try Task.checkCancellation()
        _ = try await run(sql, nil, cancellable: true)
    }

    /// The server process serving this connection (`pg_backend_pid()`).
    public var backendPID: Int32 {
        get async { await onQueue { $0.backendPID } }
    }

    var transactionStatus: LibPQConnection.TransactionStatus { state.withLock { $0.transactionStatus } }

    /// False once the connection broke or had a cancel request: the pool then closes it.
    var isReusable: Bool { state.withLock { !$0.isBroken && !$0.cancelRequested } }

    /// Runs a statement the library itself issues (BEGIN, COMMIT, ROLLBACK); never cancelled, so a
    /// cancelled task still cleans up its transaction.
    func runInternal(_ sql: String) async throws {
        _ = try await run(sql, nil, cancellable: false)
    }

    /// Rolls back an open or failed transaction; on failure marks the connection broken.
    func rollbackIfNeeded() async {
        let status = transactionStatus
        guard status == .inTransaction || status == .inError || status == .active, isReusable else { return }
        do {
            try await runInternal("ROLLBACK")
        } catch {
            state.withLock { $0.isBroken = true }
        }
    }

    /// Non-blocking check that an idle connection still works (see `LibPQConnection.isAliveWhileIdle`).
    func isAlive() async -> Bool {
        let alive = await onQueue { $0.isAliveWhileIdle() }
        if !alive { state.withLock { $0.isBroken = true } }
        return alive
    }

    /// Closes the connection; its queue finishes what it was doing first.
    func close() async {
        await onQueue { $0.close() }
        state.withLock { $0.isBroken = true }
    }

    private func run(_ sql: String, _ binds: [any PostgresBindable]?, cancellable: Bool) async throws
        -> PostgresResult
    {
        guard cancellable else { return try await runOnQueue(sql, binds) }
        do {
            return try await withTaskCancellationHandler {
                try await runOnQueue(sql, binds)
            } onCancel: {
                requestCancel()
            }
        } catch let error as PostgresError where error.sqlState == "57014" && Task.isCancelled {
            throw CancellationError()
        }
    }

    private func runOnQueue(_ sql: String, _ binds: [any PostgresBindable]?) async throws -> PostgresResult {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { [self] in
                let outcome = Result { () throws(PostgresError) in try handle.execute(sql, parameters: binds) }
                let (status, broken) = (handle.transactionStatus, handle.isBroken)
                state.withLock {
                    $0.transactionStatus = status
                    $0.isBroken = $0.isBroken || broken
                }
                continuation.resume(with: outcome.mapError { $0 as any Error })
            }
        }
    }

    private func requestCancel() {
        let alreadyRequested = state.withLock { state in
            defer { state.cancelRequested = true }
            return state.cancelRequested
        }
        guard !alreadyRequested else { return }
        // PQcancel blocks for a round trip, so not on the cancelling (possibly cooperative) thread.
        let canceller = handle.canceller
        DispatchQueue.global().async { canceller.cancelRunningQuery() }
    }

    private func onQueue<T: Sendable>(_ work: @escaping @Sendable (LibPQConnection) -> T) async -> T {
        let handle = self.handle
        return await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: work(handle)) }
        }
    }
}
