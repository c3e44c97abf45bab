import Foundation
import MusterMessaging
import MusterPostgres
import TestSupport
import Testing

/// `RetentionPruner` against the real PostgreSQL: only old published outbox
/// rows and old inbox entries go; pending rows and recent ones stay.
@Suite("Retention pruning", .serialized)
struct RetentionTests {
    @Test func deletesOnlyWhatIsPastItsRetentionInBatches() async throws {
        let schema = TestEnvironment.uniqueName("prune")
        let pool = try TestEnvironment.pool(size: 2)
        try await Migrator.migrate(schema: schema, migrations: MessagingSchema.migrations(schema: schema), pool: pool,
                                   logger: TestEnvironment.logger)
        // 5 old published, 2 recent published, 3 old pending outbox rows.
        for (age, published, count) in [("2 days", true, 5), ("1 hour", true, 2), ("3 days", false, 3)] {
            for _ in 0..<count {
                try await pool.query(
                    """
                    INSERT INTO \(schema).outbox (event_id, topic, key, type, source, event_time, data, created_at, published_at)
                    VALUES (gen_random_uuid(), 't', 'k', 'x', '/s', now(), '\\x00', now() - $1::interval,
                            CASE WHEN $2 THEN now() - $1::interval END)
                    """, [age, published])
            }
        }
        // 4 old and 1 recent inbox entries.
        for age in ["8 days", "8 days", "9 days", "30 days", "1 day"] {
            try await pool.query(
                """
                INSERT INTO \(schema).inbox (consumer, event_id, topic, partition, "offset", handled_at)
                VALUES ('c', gen_random_uuid(), 't', 0, 0, now() - $1::interval)
                """, [age])
        }
        var configuration = RetentionPruner.Configuration()
        configuration.batchSize = 2  // several batches
        let pruner = RetentionPruner(schema: schema, pool: pool, logger: TestEnvironment.logger, configuration: configuration)
        let deleted = try await pruner.pruneOnce()
        #expect(deleted.outbox == 5)
        #expect(deleted.inbox == 4)
        let left = try await pool.query(
            "SELECT count(*) FILTER (WHERE published_at IS NULL) AS pending, count(*) AS total FROM \(schema).outbox").rows[0]
        #expect(try left.decode(Int.self, "pending") == 3, "pending rows are never pruned")
        #expect(try left.decode(Int.self, "total") == 5)
        #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).inbox").rows[0].decode(Int.self, "n") == 1)
        let again = try await pruner.pruneOnce()
        #expect(again.outbox == 0 && again.inbox == 0, "a second pass finds nothing")
        _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
        await pool.close()
    }
}
