import Foundation
import MusterPostgres
import TestSupport
import Testing

@Suite("Migrator")
struct MigratorTests {
    static let migrations = [
        Migration(version: 1, name: "create_items", sql: "CREATE TABLE items (id integer PRIMARY KEY, v text)"),
        Migration(version: 2, name: "seed_item", sql: "INSERT INTO items VALUES (1, 'seed')"),
        Migration(
            version: 3, name: "add_column",
            sql: "ALTER TABLE items ADD COLUMN extra integer; CREATE INDEX items_v ON items (v)"),
    ]

    @Test("applies pending migrations once, in order, into the service's schema")
    func appliesOnce() async throws {
        let pool = try TestEnvironment.pool()
        let schema = TestEnvironment.uniqueName("pgtest")
        defer { Task { try? await TestDatabase.dropSchema(schema, pool); await pool.close() } }
        let first = try await Migrator.migrate(
            schema: schema, migrations: Array(Self.migrations.prefix(2).reversed()), pool: pool,
            logger: TestEnvironment.logger)
        #expect(first == [1, 2])
        let again = try await Migrator.migrate(
            schema: schema, migrations: Array(Self.migrations.prefix(2)), pool: pool, logger: TestEnvironment.logger)
        #expect(again.isEmpty)
        let third = try await Migrator.migrate(
            schema: schema, migrations: Self.migrations, pool: pool, logger: TestEnvironment.logger)
        #expect(third == [3])

        #expect(try await pool.query("SELECT count(*) FROM \(schema).items").rows[0].decode(Int.self, at: 0) == 1)
        let records = try await pool.query("SELECT version, name FROM \(schema).schema_migrations ORDER BY version")
        #expect(try records.rows.map { try $0.decode(Int.self, "version") } == [1, 2, 3])
        let names = try records.rows.map { try $0.decode(String.self, "name") }
        #expect(names == ["create_items", "seed_item", "add_column"])
        // Unqualified names went to the schema, not to public.
        let publicItems = try await pool.query("SELECT to_regclass('public.items') IS NULL").rows[0]
        #expect(try publicItems.decode(Bool.self, at: 0))
    }

    @Test("concurrent migrators (separate pools) apply each migration exactly once", arguments: 0..<3)
    func racing(_ round: Int) async throws {
        let schema = TestEnvironment.uniqueName("pgtest")
        let pools = try (0..<3).map { _ in try TestEnvironment.pool(size: 2) }
        defer {
            Task {
                try? await TestDatabase.dropSchema(schema, pools[0])
                for pool in pools { await pool.close() }
            }
        }
        let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
            for pool in pools {
                group.addTask {
                    try await Migrator.migrate(
                        schema: schema, migrations: Self.migrations, pool: pool, logger: TestEnvironment.logger)
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(applied.sorted() == [1, 2, 3])
        let items = try await pools[0].query("SELECT count(*) FROM \(schema).items")
        #expect(try items.rows[0].decode(Int.self, at: 0) == 1)
    }

    @Test("a failing migration is rolled back whole and not recorded; earlier ones stay")
    func failing() async throws {
        let pool = try TestEnvironment.pool()
        let schema = TestEnvironment.uniqueName("pgtest")
        defer { Task { try? await TestDatabase.dropSchema(schema, pool); await pool.close() } }
        let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE half (id int); SELECT * FROM nowhere")
        let error = await #expect(throws: PostgresError.self) {
            try await Migrator.migrate(
                schema: schema, migrations: [Self.migrations[0], broken], pool: pool, logger: TestEnvironment.logger)
        }
        #expect(error?.sqlState == "42P01")
        let versions = try await pool.query("SELECT version FROM \(schema).schema_migrations").rows
            .map { try $0.decode(Int.self, at: 0) }
        #expect(versions == [1])
        let half = try await pool.query("SELECT to_regclass($1) IS NULL", ["\(schema).half"]).rows[0]
        #expect(try half.decode(Bool.self, at: 0))
    }

    @Test("schema names that would need quoting are refused")
    func badSchema() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        let error = await #expect(throws: PostgresError.self) {
            try await Migrator.migrate(
                schema: "x; DROP SCHEMA public", migrations: [], pool: pool, logger: TestEnvironment.logger)
        }
        #expect(error?.kind == .invalidArgument)
    }
}
