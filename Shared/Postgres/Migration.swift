/// One versioned schema change of a service: SQL applied once, in version order.
public struct Migration: Sendable, Hashable {
    /// Position in the sequence; positive and unique within a service.
    public var version: Int
    /// Short label stored with the record, e.g. "create_executions".
    public var name: String
    /// Statements run inside one transaction with `search_path` set to the service's schema, so
    /// unqualified names land there. Must not contain BEGIN/COMMIT or `CREATE INDEX CONCURRENTLY`.
    public var sql: String

    /// A migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Pure rules for migrations: what is valid and what is still to apply.
enum MigrationPlan {
    /// `schema` if it is a plain lower-case identifier (so it needs no quoting anywhere), else an error.
    static func validate(schema: String) throws(PostgresError) {
        let allowed = schema.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
        guard allowed, let first = schema.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
            schema.utf8.count <= 63
        else {
            throw PostgresError.invalidArgument(
                "Schema name \"\(schema)\" is not allowed; use 1–63 lower-case letters, digits and "
                    + "underscores, starting with a letter or underscore.")
        }
    }

    /// `migrations` sorted by version, or an error if versions repeat or are not positive.
    static func ordered(_ migrations: [Migration]) throws(PostgresError) -> [Migration] {
        var seen = Set<Int>()
        for migration in migrations {
            guard migration.version > 0 else {
                throw PostgresError.invalidArgument(
                    "Migration \"\(migration.name)\" has version \(migration.version); versions must be positive.")
            }
            guard seen.insert(migration.version).inserted else {
                throw PostgresError.invalidArgument(
                    "Two migrations have version \(migration.version); give each a unique version.")
            }
        }
        return migrations.sorted { $0.version < $1.version }
    }

    /// The migrations whose versions are not in `applied`, in order.
    static func pending(_ ordered: [Migration], applied: Set<Int>) -> [Migration] {
        ordered.filter { !applied.contains($0.version) }
    }
}
