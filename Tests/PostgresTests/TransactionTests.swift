import Foundation
import MusterPostgres
import TestSupport
import Testing

@Suite("Transactions")
struct TransactionTests {
    @Test("a transaction commits and returns the body's value")
    func commits() async throws {
        try await TestDatabase.withSchema { pool, schema in
            try await pool.query("CREATE TABLE \(schema).items (v integer)")
            let returned = try await pool.transaction { connection in
                try await connection.query("INSERT INTO \(schema).items VALUES ($1), ($2)", [1, 2])
                return "done"
            }
            #expect(returned == "done")
            #expect(try await count(pool, schema) == 2)
        }
    }

    @Test("a throwing body rolls back and its error is rethrown")
    func rollsBack() async throws {
        try await TestDatabase.withSchema(poolSize: 1) { pool, schema in
            try await pool.query("CREATE TABLE \(schema).items (v integer)")
            await #expect(throws: ExpectedFailure.self) {
                try await pool.transaction { connection in
                    try await connection.query("INSERT INTO \(schema).items VALUES ($1)", [1])
                    throw ExpectedFailure()
                }
            }
            #expect(try await count(pool, schema) == 0)
            #expect(try await isOutsideTransaction(pool))
        }
    }

    @Test("a server error the body swallowed still fails the transaction")
    func swallowedError() async throws {
        try await TestDatabase.withSchema(poolSize: 1) { pool, schema in
            try await pool.query("CREATE TABLE \(schema).items (v integer PRIMARY KEY)")
            let error = await #expect(throws: PostgresError.self) {
                try await pool.transaction { connection in
                    try await connection.query("INSERT INTO \(schema).items VALUES ($1)", [1])
                    _ = try? await connection.query("INSERT INTO \(schema).items VALUES ($1)", [1])
                }
            }
            #expect(error?.sqlState == "25P02")
            #expect(try await count(pool, schema) == 0)
        }
    }

    @Test("cancelling a task inside a transaction rolls it back and frees the connection")
    func cancelled() async throws {
        try await TestDatabase.withSchema(poolSize: 1) { pool, schema in
            try await pool.query("CREATE TABLE \(schema).items (v integer)")
            let started = Barrier(parties: 2)
            // Cancelled while awaiting something else…
            let idle = Task {
                try await pool.transaction { connection in
                    try await connection.query("INSERT INTO \(schema).items VALUES ($1)", [1])
                    await started.arrive()
                    try await Task.sleep(for: .seconds(30))
                }
            }
            await started.arrive()
            idle.cancel()
            await #expect(throws: CancellationError.self) { try await idle.value }

            // …and while a statement runs on the server.
            let running = Task {
                try await pool.transaction { connection in
                    try await connection.query("INSERT INTO \(schema).items VALUES ($1)", [2])
                    try await connection.query("SELECT pg_sleep(30)")
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            let clock = ContinuousClock()
            let start = clock.now
            running.cancel()
            await #expect(throws: CancellationError.self) { try await running.value }
            #expect(clock.now - start < .seconds(5))

            #expect(try await count(pool, schema) == 0)
            #expect(try await isOutsideTransaction(pool))
        }
    }

    @Test("a transaction begun by hand in withConnection is rolled back on return")
    func manualTransaction() async throws {
        try await TestDatabase.withSchema(poolSize: 1) { pool, schema in
            try await pool.query("CREATE TABLE \(schema).items (v integer)")
            try await pool.withConnection { connection in
                try await connection.query("BEGIN")
                try await connection.query("INSERT INTO \(schema).items VALUES ($1)", [1])
            }
            #expect(try await isOutsideTransaction(pool))
            #expect(try await count(pool, schema) == 0)
        }
    }

    @Test("FOR UPDATE SKIP LOCKED lets concurrent transactions claim disjoint rows")
    func skipLocked() async throws {
        try await TestDatabase.withSchema(poolSize: 2) { pool, schema in
            try await pool.query("CREATE TABLE \(schema).jobs (id integer PRIMARY KEY, owner text)")
            try await pool.query("INSERT INTO \(schema).jobs SELECT generate_series(1, 10)")
            let bothClaimed = Barrier(parties: 2)
            let claim: @Sendable (String) async throws -> [Int] = { owner in
                try await pool.transaction { connection in
                    let rows = try await connection.query(
                        "SELECT id FROM \(schema).jobs ORDER BY id LIMIT 5 FOR UPDATE SKIP LOCKED").rows
                    let ids = try rows.map { try $0.decode(Int.self, "id") }
                    try await connection.query(
                        "UPDATE \(schema).jobs SET owner = $1 WHERE id = ANY(string_to_array($2, ',')::int[])",
                        [owner, ids.map(String.init).joined(separator: ",")])
                    // Hold the locks until the other transaction has claimed too.
                    await bothClaimed.arrive()
                    return ids
                }
            }
            async let first = claim("a")
            async let second = claim("b")
            let (a, b) = try await (first, second)
            #expect(a.count == 5 && b.count == 5)
            #expect(Set(a).isDisjoint(with: b))
            #expect(Set(a + b) == Set(1...10))
            let owners = try await pool.query(
                "SELECT count(DISTINCT owner) FROM \(schema).jobs WHERE owner IS NOT NULL")
            #expect(try owners.rows[0].decode(Int.self, at: 0) == 2)
        }
    }

    private func count(_ pool: PostgresPool, _ schema: String) async throws -> Int {
        try await pool.query("SELECT count(*) FROM \(schema).items").rows[0].decode(Int.self, at: 0)
    }

    /// True when the pool's next connection is not inside a transaction: after a statement on it,
    /// the server reports its backend as plain `idle`, not `idle in transaction`.
    private func isOutsideTransaction(_ pool: PostgresPool) async throws -> Bool {
        let pid = try await pool.query("SELECT pg_backend_pid()").rows[0].decode(Int32.self, at: 0)
        let observer = try TestEnvironment.pool(size: 1)
        defer { Task { await observer.close() } }
        let state = try await observer.query("SELECT state FROM pg_stat_activity WHERE pid = $1", [pid])
        return try state.rows.first?.decode(String.self, "state") == "idle"
    }
}
