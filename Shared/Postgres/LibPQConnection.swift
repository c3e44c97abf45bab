import Foundation
import CLibPQ
import Synchronization

/// The only place that touches libpq: one `PGconn` and its blocking calls.
///
/// `@unchecked Sendable` because the `PGconn` pointer is not thread-safe: every method except
/// `cancelRunningQuery` must run on the owning `PostgresConnection`'s serial queue, which is
/// the only code holding this object. `Canceller` is the thread-safe part (libpq documents
/// `PQcancel` as safe from any thread).
final class LibPQConnection: @unchecked Sendable {
    /// Where the connection stands with respect to transactions (`PQtransactionStatus`).
    enum TransactionStatus: Sendable, Equatable {
        case idle, active, inTransaction, inError, unknown
    }

    private var connection: OpaquePointer?
    /// Set once the connection was found dead before libpq itself noticed (see `isAliveWhileIdle`).
    private var abandoned = false
    let canceller: Canceller

    private init(connection: OpaquePointer) {
        self.connection = connection
        self.canceller = Canceller(PQgetCancel(connection).map(Canceller.Handle.init))
    }

    deinit {
        close()
    }

    /// Opens a connection (blocking). `parameters` are libpq keywords in order; a `dbname` holding a
    /// URL or conninfo is expanded, and later keywords override what it says.
    static func connect(parameters: [(String, String)], redactedTarget: String) throws(PostgresError)
        -> LibPQConnection
    {
        let keywords = parameters.map { strdup($0.0) }
        let values = parameters.map { strdup($0.1) }
        defer {
            keywords.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keywordPointers = keywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = values.map { UnsafePointer($0) } + [nil]
        guard let raw = PQconnectdbParams(keywordPointers, valuePointers, 1) else {
            throw PostgresError(kind: .connectionFailed, message: "libpq could not allocate a connection.")
        }
        guard PQstatus(raw) == CONNECTION_OK else {
            let reason = errorMessage(raw)
            PQfinish(raw)
            throw PostgresError(
                kind: .connectionFailed,
                message: "Could not connect to PostgreSQL at \(redactedTarget): \(reason). Check that the "
                    + "server is running and that the URL's host, port, user, password and database are right.")
        }
        CLibPQ_silence_notices(raw)
        return LibPQConnection(connection: raw)
    }

    /// The server process serving this connection.
    var backendPID: Int32 { connection.map { PQbackendPID($0) } ?? 0 }

    /// True when libpq knows the connection is unusable.
    var isBroken: Bool { abandoned || connection.map { PQstatus($0) != CONNECTION_OK } ?? true }

    /// The connection's transaction state after the last statement.
    var transactionStatus: TransactionStatus {
        guard let connection else { return .unknown }
        switch PQtransactionStatus(connection) {
        case PQTRANS_IDLE: return .idle
        case PQTRANS_ACTIVE: return .active
        case PQTRANS_INTRANS: return .inTransaction
        case PQTRANS_INERROR: return .inError
        default: return .unknown
        }
    }

    /// Checks, without blocking, that an idle connection is still usable. An idle connection
    /// receives nothing unprompted, so readable input means the server said goodbye (a terminated
    /// backend's FATAL, then EOF) — or at least that something unexpected happened on it.
    func isAliveWhileIdle() -> Bool {
        guard let connection, !abandoned, PQstatus(connection) == CONNECTION_OK else { return false }
        if CLibPQ_socket_readable(connection) == 0 { return true }
        abandoned = true
        return false
    }

    /// Runs `sql` and waits for its result (blocking). With `parameters` it is one statement sent
    /// with `PQsendQueryParams`; with nil it may be several statements (simple query protocol).
    func execute(_ sql: String, parameters: [any PostgresBindable]?) throws(PostgresError) -> PostgresResult {
        guard let connection, isAliveWhileIdle() else {
            throw PostgresError(
                kind: .connectionLost(querySent: false),
                message: "The connection to PostgreSQL was closed before the statement was sent; "
                    + "the pool replaces it.")
        }
        try send(sql, parameters: parameters, on: connection)
        return try collectResults(connection)
    }

    /// Closes the connection (sends Terminate). Safe to call twice.
    func close() {
        canceller.release()
        if let connection {
            PQfinish(connection)
            self.connection = nil
        }
    }

    private func send(_ sql: String, parameters: [any PostgresBindable]?, on connection: OpaquePointer)
        throws(PostgresError)
    {
        let sent: Int32
        if let parameters {
            var types: [Oid] = []
            var values: [UnsafeMutablePointer<CChar>?] = []
            var lengths: [Int32] = []
            var formats: [Int32] = []
            defer { values.forEach { free($0) } }
            for (position, parameter) in parameters.enumerated() {
                types.append(parameter.dynamicPostgresDataType.rawValue)
                switch parameter.postgresValue {
                case .null:
                    values.append(nil)
                    lengths.append(0)
                    formats.append(0)
                case .text(let text):
                    guard !text.utf8.contains(0) else {
                        throw PostgresError.invalidArgument(
                            "Parameter $\(position + 1) contains a NUL character, which PostgreSQL text "
                                + "cannot hold; bind the bytes as [UInt8] (bytea) instead.")
                    }
                    values.append(strdup(text))
                    lengths.append(0)
                    formats.append(0)
                case .binary(let bytes):
                    let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
                    bytes.withUnsafeBytes { source in
                        UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress!, byteCount: source.count)
                    }
                    values.append(buffer)
                    lengths.append(Int32(bytes.count))
                    formats.append(1)
                }
            }
            let valuePointers = values.map { $0.map { UnsafePointer($0) } }
            sent = PQsendQueryParams(
                connection, sql, Int32(parameters.count), types, valuePointers, lengths, formats, 0)
        } else {
            sent = PQsendQuery(connection, sql)
        }
        guard sent == 1 else {
            // Nothing reached the server (libpq fails before or while writing the message).
            throw PostgresError(
                kind: .connectionLost(querySent: false),
                message: "Could not send the statement to PostgreSQL: \(Self.errorMessage(connection)).")
        }
    }

    /// Reads every result of the statement(s) just sent; keeps the first error, else the last result.
    private func collectResults(_ connection: OpaquePointer) throws(PostgresError) -> PostgresResult {
        var firstError: PostgresError?
        var lastResult = PostgresResult(rows: [], affectedRows: 0)
        while let result = PQgetResult(connection) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
                lastResult = Self.convert(result)
            case PGRES_COPY_IN:
                _ = PQputCopyEnd(connection, "COPY FROM STDIN is not supported by MusterPostgres")
            case PGRES_COPY_OUT:
                var buffer: UnsafeMutablePointer<CChar>?
                while PQgetCopyData(connection, &buffer, 0) > 0 { PQfreemem(buffer) }
                firstError = firstError ?? .invalidArgument("COPY TO STDOUT is not supported by MusterPostgres.")
            default:
                firstError = firstError ?? Self.serverError(result, connection: connection)
            }
        }
        if PQstatus(connection) != CONNECTION_OK {
            var error = firstError ?? PostgresError(kind: .server, message: Self.errorMessage(connection))
            error.kind = .connectionLost(querySent: true)
            error.message = "The connection to PostgreSQL broke during the statement (it may or may not "
                + "have been applied): \(error.message)"
            throw error
        }
        if let firstError { throw firstError }
        return lastResult
    }

    private static func convert(_ result: OpaquePointer) -> PostgresResult {
        let columnCount = PQnfields(result)
        let columns = (0..<columnCount).map { index in
            PostgresColumn(
                name: String(cString: PQfname(result, index)),
                dataType: PostgresDataType(rawValue: PQftype(result, index)))
        }
        let layout = PostgresColumnLayout(columns)
        let rows = (0..<PQntuples(result)).map { row in
            PostgresRow(
                layout: layout,
                values: (0..<columnCount).map { column in
                    PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
                })
        }
        let affected = Int(String(cString: PQcmdTuples(result))) ?? 0
        return PostgresResult(rows: rows, affectedRows: affected)
    }

    private static func serverError(_ result: OpaquePointer, connection: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let message = field("M") ?? errorMessage(connection)
        return PostgresError(
            kind: .server, message: message, sqlState: field("C"), detail: field("D"), hint: field("H"),
            constraint: field("n"))
    }

    private static func errorMessage(_ connection: OpaquePointer) -> String {
        guard let raw = PQerrorMessage(connection) else { return "unknown libpq error" }
        let text = String(cString: raw).trimmingWhitespace()
        return text.isEmpty ? "unknown libpq error" : text.replacingOccurrences(of: "\n", with: " ")
    }
}

extension LibPQConnection {
    /// Sends cancel requests for the connection's running statement from any thread.
    final class Canceller: Sendable {
        /// A `PGcancel` pointer. `@unchecked Sendable` because libpq documents `PQcancel` as safe to
        /// call from any thread; the mutex below keeps it from racing `PQfreeCancel`.
        struct Handle: @unchecked Sendable {
            let pointer: OpaquePointer
        }

        private let handle: Mutex<Handle?>

        init(_ handle: Handle?) {
            self.handle = Mutex(handle)
        }

        deinit {
            release()
        }

        /// Asks the server to cancel whatever the connection runs now (blocking: opens a short
        /// connection to the server). Returns false when the request could not be delivered.
        @discardableResult
        func cancelRunningQuery() -> Bool {
            handle.withLock { handle in
                guard let handle else { return false }
                var errorBuffer = [CChar](repeating: 0, count: 256)
                return PQcancel(handle.pointer, &errorBuffer, Int32(errorBuffer.count)) == 1
            }
        }

        func release() {
            handle.withLock { handle in
                if let handle { PQfreeCancel(handle.pointer) }
                handle = nil
            }
        }
    }
}
