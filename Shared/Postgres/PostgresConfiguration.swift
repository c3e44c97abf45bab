/// How a `PostgresPool` reaches PostgreSQL and how many connections it may hold.
public struct PostgresConfiguration: Sendable {
    /// libpq connection string: a `postgresql://` URL or `key=value` conninfo.
    /// May hold a password; it never appears in logs, errors or `description`.
    public var url: String
    /// Most connections the pool opens at once.
    public var poolSize: Int
    /// Longest a single connection attempt may take (libpq `connect_timeout`, whole seconds, at least 2).
    public var connectTimeout: Duration
    /// Longest a caller waits for a free connection before getting `PostgresError.Kind.acquireTimeout`.
    public var acquireTimeout: Duration
    /// Shown in `pg_stat_activity.application_name`; `nil` keeps what the URL says.
    public var applicationName: String?
    /// Schemas set as the session `search_path` on every connection, e.g. the service's own schema
    /// followed by `public`; empty keeps the server default.
    public var searchPath: [String]

    /// A configuration with the given URL and the defaults above.
    public init(
        url: String,
        poolSize: Int = 10,
        connectTimeout: Duration = .seconds(5),
        acquireTimeout: Duration = .seconds(10)
    ) {
        self.url = url
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.acquireTimeout = acquireTimeout
        self.applicationName = nil
        self.searchPath = []
    }
}

extension PostgresConfiguration: CustomStringConvertible {
    /// The configuration with any password in the URL replaced by `***`.
    public var description: String {
        "PostgresConfiguration(url: \(ConnectionString.redacted(url)), poolSize: \(poolSize), "
            + "connectTimeout: \(connectTimeout), acquireTimeout: \(acquireTimeout))"
    }
}
