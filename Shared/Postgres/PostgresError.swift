/// Any failure of MusterPostgres: a server error (with its SQLSTATE), a lost or refused
/// connection, a pool timeout or a value that does not decode.
public struct PostgresError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, broadly; decides whether retrying can help.
    public enum Kind: Sendable, Equatable {
        /// The server rejected a statement; see `sqlState`.
        case server
        /// A connection could not be opened (server down, wrong host, bad credentials).
        case connectionFailed
        /// The connection broke while in use. `querySent` false means the statement never
        /// reached the server, so running it again cannot apply it twice.
        case connectionLost(querySent: Bool)
        /// No connection became free within `PostgresConfiguration.acquireTimeout`.
        case acquireTimeout
        /// The pool was closed.
        case poolClosed
        /// A result column could not be decoded as the requested Swift type.
        case decoding
        /// A value could not be sent as a parameter, or a caller passed something invalid.
        case invalidArgument
    }

    /// What went wrong, broadly.
    public var kind: Kind
    /// The server's SQLSTATE code, e.g. "23505" for a unique violation; nil when not a server error.
    public var sqlState: String?
    /// Human-readable explanation, saying what to do where possible. Never holds a password.
    public var message: String
    /// The server's DETAIL field, if any (e.g. which key collided).
    public var detail: String?
    /// The server's HINT field, if any.
    public var hint: String?
    /// The constraint the server names, if any (unique, foreign key, check constraints).
    public var constraint: String?

    /// An error of the given kind.
    public init(
        kind: Kind, message: String, sqlState: String? = nil, detail: String? = nil,
        hint: String? = nil, constraint: String? = nil
    ) {
        self.kind = kind
        self.message = message
        self.sqlState = sqlState
        self.detail = detail
        self.hint = hint
        self.constraint = constraint
    }

    /// One line with the kind, SQLSTATE, message, detail and hint.
    public var description: String {
        var text = "PostgresError(\(kind))"
        if let sqlState { text += " [\(sqlState)]" }
        text += ": \(message)"
        if let constraint { text += " (constraint \(constraint))" }
        if let detail { text += " — \(detail)" }
        if let hint { text += " Hint: \(hint)" }
        return text
    }

    /// SQLSTATE 23505: a unique or primary-key constraint rejected a duplicate.
    public var isUniqueViolation: Bool { sqlState == "23505" }
    /// SQLSTATE 23503: a foreign-key constraint failed.
    public var isForeignKeyViolation: Bool { sqlState == "23503" }
    /// SQLSTATE 23514: a check constraint failed.
    public var isCheckViolation: Bool { sqlState == "23514" }
    /// SQLSTATE 40001: a serializable transaction must be retried.
    public var isSerializationFailure: Bool { sqlState == "40001" }
    /// SQLSTATE 40P01: the server broke a deadlock by aborting this transaction; retry it.
    public var isDeadlock: Bool { sqlState == "40P01" }
    /// The connection could not be opened or broke; the pool opens a fresh one next time.
    public var isConnectionError: Bool {
        switch kind {
        case .connectionFailed, .connectionLost: true
        default: sqlState?.hasPrefix("08") == true || sqlState?.hasPrefix("57P") == true
        }
    }
}

extension PostgresError {
    static func decoding(_ message: String) -> PostgresError {
        PostgresError(kind: .decoding, message: message)
    }

    static func invalidArgument(_ message: String) -> PostgresError {
        PostgresError(kind: .invalidArgument, message: message)
    }
}
