import Foundation
import MusterPostgres
import TestSupport
import Testing

@Suite("Reconnecting after the server drops connections")
struct ReconnectTests {
    @Test("pool.query succeeds after the idle connection's backend was terminated")
    func queryAfterTermination() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        let before = try await backendPID(pool)
        try await TestDatabase.terminateBackend(before)
        let after = try await backendPID(pool)
        #expect(after != before)
    }

    @Test("withConnection and transaction hand out a fresh connection after termination")
    func checkoutAfterTermination() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        let first = try await backendPID(pool)
        try await TestDatabase.terminateBackend(first)
        let second = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid()") }
            .rows[0].decode(Int32.self, at: 0)
        #expect(second != first)
        try await TestDatabase.terminateBackend(second)
        let third = try await pool.transaction { try await $0.query("SELECT pg_backend_pid()") }
            .rows[0].decode(Int32.self, at: 0)
        #expect(third != second)
    }

    @Test("a connection killed while checked out fails with a connection error, then is replaced")
    func killedWhileLeased() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { connection in
                let pid = try await connection.query("SELECT pg_backend_pid()").rows[0].decode(Int32.self, at: 0)
                try await TestDatabase.terminateBackend(pid)
                try await connection.query("SELECT 1")
            }
        }
        #expect(error?.isConnectionError == true)
        #expect(try await pool.query("SELECT 1").rows.count == 1)
    }

    @Test("all idle connections of a pool recover after a mass termination (server restart)")
    func massTermination() async throws {
        let name = "pgtest-restart-\(UUID().uuidString.prefix(8))"
        let pool = try TestEnvironment.pool(size: 3, applicationName: name)
        defer { Task { await pool.close() } }
        // Open three connections at once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { try await pool.query("SELECT pg_sleep(0.1)") } }
            try await group.waitForAll()
        }
        let observer = try TestEnvironment.pool(size: 1)
        defer { Task { await observer.close() } }
        let pids = try await observer.query(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1", [name]
        ).rows.map { try $0.decode(Int32.self, at: 0) }
        #expect(pids.count == 3)
        for pid in pids { try await TestDatabase.terminateBackend(pid) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<6 { group.addTask { try await pool.query("SELECT 1") } }
            try await group.waitForAll()
        }
    }

    private func backendPID(_ pool: PostgresPool) async throws -> Int32 {
        try await pool.query("SELECT pg_backend_pid()").rows[0].decode(Int32.self, at: 0)
    }
}
