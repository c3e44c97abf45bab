import Foundation
import MusterPostgres
import TestSupport
import Testing

@Suite("Connection pool")
struct PoolTests {
    @Test("never more than poolSize connections; extra callers wait their turn")
    func limit() async throws {
        let name = "pgtest-limit-\(UUID().uuidString.prefix(8))"
        let pool = try TestEnvironment.pool(size: 2, applicationName: name)
        defer { Task { await pool.close() } }
        let gauge = ConcurrencyGauge()
        let clock = ContinuousClock()
        let start = clock.now
        let serverCounts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await pool.withConnection { connection in
                        gauge.enter()
                        defer { gauge.leave() }
                        try await connection.query("SELECT pg_sleep(0.3)")
                        return try await connection.query(
                            "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", [name]
                        ).rows[0].decode(Int.self, at: 0)
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(gauge.peak == 2)
        #expect(serverCounts.allSatisfy { $0 <= 2 })
        // The third caller had to wait for one of the first two (~0.3 s each).
        #expect(clock.now - start >= .milliseconds(600))
    }

    @Test("waiting longer than acquireTimeout fails with an explanation")
    func acquireTimeout() async throws {
        let pool = try TestEnvironment.pool(size: 1, acquireTimeout: .milliseconds(200))
        defer { Task { await pool.close() } }
        let holding = Barrier(parties: 2)
        let holder = Task {
            try await pool.withConnection { _ in
                await holding.arrive()
                try await Task.sleep(for: .seconds(10))  // cancelled below
            }
        }
        await holding.arrive()
        let clock = ContinuousClock()
        let start = clock.now
        let error = await #expect(throws: PostgresError.self) {
            try await pool.withConnection { _ in }
        }
        #expect(error?.kind == .acquireTimeout)
        #expect(error?.message.contains("poolSize") == true)
        // Failed after the 200 ms timeout, long before the holder lets go (1.6 s once, under four CPU hogs).
        #expect(clock.now - start < .seconds(5))
        holder.cancel()
        _ = try? await holder.value
        // The pool still works once the holder is gone.
        #expect(try await pool.query("SELECT 1").rows.count == 1)
    }

    @Test("a cancelled waiter leaves the queue")
    func cancelledWaiter() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        let holding = Barrier(parties: 2)
        let holder = Task {
            try await pool.withConnection { _ in
                await holding.arrive()
                try await Task.sleep(for: .milliseconds(500))
            }
        }
        await holding.arrive()
        let waiter = Task { try await pool.query("SELECT 1") }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        try await holder.value
        #expect(try await pool.query("SELECT 2").rows[0].decode(Int.self, at: 0) == 2)
    }

    @Test("a closed pool refuses work")
    func closed() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        try await pool.query("SELECT 1")
        await pool.close()
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error?.kind == .poolClosed)
    }

    @Test("isReachable answers true for the test server and false, in time, for a dead address")
    func reachability() async throws {
        let pool = try TestEnvironment.pool(size: 1)
        defer { Task { await pool.close() } }
        #expect(await pool.isReachable(timeout: .seconds(2)))

        let dead = PostgresPool(
            configuration: PostgresConfiguration(url: "postgresql://muster:s3cr3t@127.0.0.1:1/muster"),
            logger: TestEnvironment.logger)
        defer { Task { await dead.close() } }
        let clock = ContinuousClock()
        let start = clock.now
        #expect(await dead.isReachable(timeout: .milliseconds(500)) == false)
        #expect(clock.now - start < .seconds(2))
    }

    @Test("connection errors explain what to check and never show the password")
    func connectionError() async throws {
        let pool = PostgresPool(
            configuration: PostgresConfiguration(url: "postgresql://muster:s3cr3t@127.0.0.1:1/muster"),
            logger: TestEnvironment.logger)
        defer { Task { await pool.close() } }
        let error = await #expect(throws: PostgresError.self) { try await pool.query("SELECT 1") }
        #expect(error?.kind == .connectionFailed)
        #expect(error?.isConnectionError == true)
        #expect(error?.description.contains("s3cr3t") == false)
        #expect(error?.description.contains("muster:***@127.0.0.1:1") == true)
    }
}
