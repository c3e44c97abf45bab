import Logging

/// Applies a service's versioned migrations to its own schema.
public enum Migrator {
    /// Creates `schema` if missing and applies, in version order, the migrations not yet recorded in
    /// `schema.schema_migrations` — each in its own transaction together with its record. Safe when
    /// several processes start at once: every step holds `pg_advisory_xact_lock` keyed by the schema
    /// name and re-reads what is applied. Returns the versions this call applied.
    @discardableResult
    public static func migrate(
        schema: String, migrations: [Migration], pool: PostgresPool, logger: Logger
    ) async throws -> [Int] {
        try MigrationPlan.validate(schema: schema)
        let ordered = try MigrationPlan.ordered(migrations)
        let table = "\(schema).schema_migrations"

        let known = try await pool.transaction { connection in
            try await lock(schema, connection)
            try await connection.execute(
                script: """
                    CREATE SCHEMA IF NOT EXISTS \(schema);
                    CREATE TABLE IF NOT EXISTS \(table) (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """)
            return try await appliedVersions(table, connection)
        }
        if let newest = known.max(), let latest = ordered.last?.version, newest > latest {
            logger.warning(
                "Database schema has migrations newer than this build",
                metadata: ["schema": "\(schema)", "databaseVersion": "\(newest)", "codeVersion": "\(latest)"])
        }

        var applied: [Int] = []
        for migration in MigrationPlan.pending(ordered, applied: known) {
            let didApply = try await pool.transaction { connection in
                try await lock(schema, connection)
                // Another process may have applied it while we waited for the lock.
                guard try await !appliedVersions(table, connection).contains(migration.version) else { return false }
                try await connection.query("SELECT set_config('search_path', $1, true)", ["\(schema), public"])
                try await connection.execute(script: migration.sql)
                try await connection.query(
                    "INSERT INTO \(table) (version, name) VALUES ($1, $2)", [migration.version, migration.name])
                return true
            }
            if didApply {
                applied.append(migration.version)
                logger.info(
                    "Applied migration",
                    metadata: ["schema": "\(schema)", "version": "\(migration.version)", "name": "\(migration.name)"])
            }
        }
        return applied
    }

    /// Serializes migrators of the same schema until the transaction ends.
    private static func lock(_ schema: String, _ connection: PostgresConnection) async throws {
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", ["muster.migrations.\(schema)"])
    }

    private static func appliedVersions(_ table: String, _ connection: PostgresConnection) async throws -> Set<Int> {
        let result = try await connection.query("SELECT version FROM \(table)")
        return Set(try result.rows.map { try $0.decode(Int.self, at: 0) })
    }
}
