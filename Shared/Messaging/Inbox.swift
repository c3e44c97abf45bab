import Foundation
import MusterPostgres

/// The idempotent inbox of one service schema: a consumer records each
/// `ce_id` it handles in the same transaction as the handling, so a
/// redelivered event is recognised and skipped.
public struct Inbox: Sendable {
    /// The service's schema holding the `inbox` table.
    public let schema: String

    /// An inbox in `schema` (a lowercase identifier).
    public init(schema: String) {
        self.schema = MessagingSchema.checked(schema)
    }

    /// Records that `consumer` is handling `eventID`; false when it already
    /// did (the caller then skips the event). Must run in the handler's
    /// transaction: if that rolls back, the claim does too.
    public func claim(
        consumer: String, eventID: UUID, topic: String, partition: Int32, offset: Int64,
        on connection: PostgresConnection
    ) async throws -> Bool {
        let result = try await connection.query(
            """
            INSERT INTO \(schema).inbox (consumer, event_id, topic, partition, "offset")
            VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
            """,
            [consumer, eventID, topic, partition, offset]
        )
        return result.affectedRows == 1
    }
}
