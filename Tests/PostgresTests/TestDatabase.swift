import MusterPostgres
import Synchronization
import TestSupport
import Testing

/// Schema and backend helpers for the PostgreSQL tests, on top of TestSupport's `TestEnvironment`.
enum TestDatabase {
    /// Runs `body` with a pool and a fresh schema, then drops the schema and closes the pool.
    static func withSchema<T: Sendable>(
        poolSize: Int = 4, _ body: (PostgresPool, String) async throws -> T
    ) async throws -> T {
        let pool = try TestEnvironment.pool(size: poolSize)
        let schema = TestEnvironment.uniqueName("pgtest")
        try await pool.query("CREATE SCHEMA \(schema)")
        do {
            let value = try await body(pool, schema)
            try await dropSchema(schema, pool)
            await pool.close()
            return value
        } catch {
            try? await dropSchema(schema, pool)
            await pool.close()
            throw error
        }
    }

    static func dropSchema(_ schema: String, _ pool: PostgresPool) async throws {
        try await pool.query("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }

    /// Terminates `pid` from a separate pool and waits until the server has removed it.
    static func terminateBackend(_ pid: Int32) async throws {
        let admin = try TestEnvironment.pool(size: 1)
        defer { Task { await admin.close() } }
        let terminated = try await admin.query("SELECT pg_terminate_backend($1)", [pid])
        #expect(try terminated.rows[0].decode(Bool.self, at: 0))
        for _ in 0..<200 {
            let alive = try await admin.query("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", [pid])
            if try alive.rows[0].decode(Int.self, at: 0) == 0 { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        Issue.record("backend \(pid) still alive after pg_terminate_backend")
    }
}

/// Tracks how many callers are inside a section at once, and the most ever seen.
final class ConcurrencyGauge: Sendable {
    private let counts = Mutex((current: 0, peak: 0))

    func enter() {
        counts.withLock {
            $0.current += 1
            $0.peak = max($0.peak, $0.current)
        }
    }

    func leave() {
        counts.withLock { $0.current -= 1 }
    }

    var peak: Int { counts.withLock { $0.peak } }
}

/// Lets `parties` tasks wait until all of them have arrived.
actor Barrier {
    private let parties: Int
    private var arrived = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(parties: Int) {
        self.parties = parties
    }

    func arrive() async {
        arrived += 1
        if arrived >= parties {
            waiting.forEach { $0.resume() }
            waiting = []
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}

struct ExpectedFailure: Error, Equatable {}
