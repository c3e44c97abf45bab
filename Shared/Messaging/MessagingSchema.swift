import MusterPostgres

/// The tables every service's schema carries for reliable messaging: the
/// transactional `outbox`, the idempotent `inbox` and `dead_letters`, where
/// consumers park records that can never be processed (DESIGN §12). Versions 1–99 of every
/// schema's migrations are reserved for these (and 190, `dead_letters.discarded_at`; 240, the
/// outbox's trace context); a service's own start at 100.
public enum MessagingSchema {
    /// The migrations creating `outbox`, `inbox` and `dead_letters` in `schema`.
    public static func migrations(schema: String) -> [Migration] {
        let schema = checked(schema)
        return [
        Migration(version: 1, name: "outbox", sql: """
            CREATE TABLE \(schema).outbox (
                seq          BIGSERIAL PRIMARY KEY,
                event_id     UUID NOT NULL UNIQUE,
                topic        TEXT NOT NULL,
                key          TEXT NOT NULL,
                type         TEXT NOT NULL,
                source       TEXT NOT NULL,
                subject      TEXT,
                event_time   TIMESTAMPTZ NOT NULL,
                data         BYTEA NOT NULL,
                created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
                published_at TIMESTAMPTZ
            );
            CREATE INDEX outbox_pending ON \(schema).outbox (seq) WHERE published_at IS NULL;
            """),
        Migration(version: 2, name: "inbox", sql: """
            CREATE TABLE \(schema).inbox (
                consumer   TEXT NOT NULL,
                event_id   UUID NOT NULL,
                topic      TEXT NOT NULL,
                partition  INTEGER NOT NULL,
                "offset"   BIGINT NOT NULL,
                handled_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                PRIMARY KEY (consumer, event_id)
            );
            """),
        Migration(version: 3, name: "dead_letters", sql: """
            CREATE TABLE \(schema).dead_letters (
                id              BIGSERIAL PRIMARY KEY,
                consumer        TEXT NOT NULL,
                event_id        UUID,
                topic           TEXT NOT NULL,
                partition       INTEGER NOT NULL,
                "offset"        BIGINT NOT NULL,
                key             BYTEA,
                headers         BYTEA NOT NULL,
                value           BYTEA NOT NULL,
                reason          TEXT NOT NULL,
                error           TEXT NOT NULL,
                attempts        INTEGER NOT NULL,
                first_failed_at TIMESTAMPTZ NOT NULL,
                last_failed_at  TIMESTAMPTZ NOT NULL,
                parked_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
                replayed_at     TIMESTAMPTZ,
                UNIQUE (consumer, topic, partition, "offset")
            );
            CREATE INDEX dead_letters_parked ON \(schema).dead_letters (consumer, id) WHERE replayed_at IS NULL;
            """),
        // From the range of issue 11's third round (190–199), in every schema: no service migration uses 190.
        Migration(version: 190, name: "dead_letters_discarded", sql: """
            ALTER TABLE \(schema).dead_letters ADD COLUMN discarded_at TIMESTAMPTZ;
            """),
        // The W3C trace context an outbox row was written in (DESIGN §12, tracing): the relay's
        // publish span is its child, and the record carries that span's `traceparent`.
        Migration(version: 240, name: "outbox trace context", sql: """
            ALTER TABLE \(schema).outbox ADD COLUMN traceparent TEXT, ADD COLUMN tracestate TEXT;
            """),
        ]
    }

    /// Schema names are code constants, never input; this guards that they
    /// are plain identifiers before they are spliced into SQL.
    static func checked(_ schema: String) -> String {
        precondition(
            !schema.isEmpty && schema.count <= 63
                && schema.allSatisfy { $0 == "_" || ($0.isASCII && ($0.isLowercase || $0.isNumber)) }
                && !(schema.first!.isNumber),
            "schema name must be a lowercase SQL identifier: \(schema)")
        return schema
    }
}
