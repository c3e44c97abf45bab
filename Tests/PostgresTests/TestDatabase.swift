import Foundation
import Logging
import MusterPostgres
import Synchronization
import Testing

/// Reaches the test PostgreSQL named by MUSTER_DATABASE_URL (kept inside this target until the
/// shared TestSupport module provides the same).
enum TestDatabase {
    struct MissingURL: Error, CustomStringConvertible {
        var description: String {
            "MUSTER_DATABASE_URL is not set. Start the local infrastructure with `scripts/infra.sh start` "
                + "and `source .local/infra.env` before running PostgresTests."
        }
    }

    static var logger: Logger {
        var logger = Logger(label: "postgres-tests")
        logger.logLevel = .warning
        return logger
    }

    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["MUSTER_DATABASE_URL"], !url.isEmpty else {
            throw MissingURL()
        }
        return url
    }

    static func configuration(
        poolSize: Int = 4, acquireTimeout: Duration = .seconds(10), applicationName: String? = nil
    ) throws -> PostgresConfiguration {
        var configuration = PostgresConfiguration(url: try url(), poolSize: poolSize, acquireTimeout: acquireTimeout)
        configuration.applicationName = applicationName
        return configuration
    }

    static func pool(poolSize: Int = 4, acquireTimeout: Duration = .seconds(10), applicationName: String? = nil)
        throws -> PostgresPool
    {
        PostgresPool(
            configuration: try configuration(
                poolSize: poolSize, acquireTimeout: acquireTimeout, applicationName: applicationName),
            logger: logger)
    }

    /// A unique schema name; nothing is created.
    static func uniqueSchema() -> String {
        "pgtest_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// Runs `body` with a pool and a fresh schema, then drops the schema and closes the pool.
    static func withSchema<T: Sendable>(
        poolSize: Int = 4, acquireTimeout: Duration = .seconds(10),
        _ body: (PostgresPool, String) async throws -> T
    ) async throws -> T {
        let pool = try pool(poolSize: poolSize, acquireTimeout: acquireTimeout)
        let schema = uniqueSchema()
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
        let admin = try pool(poolSize: 1)
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
