import MusterPostgres

/// The notifier's tables (versions from 100): the token replica fed by
/// `teams.v1`, subscriptions, and deliveries (one row per event and matching
/// subscription, created in the inbox transaction: the outbox pattern
/// pointed at HTTP).
enum NotifierSchema {
    static let migrations: [Migration] = [
        Migration(version: 100, name: "tokens", sql: """
            -- Replica of the planner's tokens: digests only (teams.v1).
            -- A revocation seen before its issue leaves a row without digest.
            CREATE TABLE tokens (
                token_id     TEXT PRIMARY KEY,
                team_id      TEXT NOT NULL,
                subject      TEXT NOT NULL DEFAULT '',
                role         TEXT NOT NULL DEFAULT 'viewer',
                token_sha256 TEXT UNIQUE,
                issued_at    TIMESTAMPTZ,
                revoked_at   TIMESTAMPTZ
            );
            """),
        Migration(version: 101, name: "subscriptions", sql: """
            CREATE TABLE subscriptions (
                id          UUID PRIMARY KEY,
                seq         BIGSERIAL NOT NULL,
                team_id     TEXT NOT NULL,
                url         TEXT NOT NULL,
                event_types JSONB NOT NULL,
                -- Plain text: it signs every delivery, so it cannot be hashed.
                secret      TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                enabled     BOOLEAN NOT NULL DEFAULT true,
                created_by  TEXT NOT NULL,
                created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            CREATE INDEX subscriptions_team ON subscriptions (team_id, seq);
            """),
        Migration(version: 102, name: "deliveries", sql: """
            CREATE TABLE deliveries (
                id               UUID PRIMARY KEY,
                seq              BIGSERIAL NOT NULL,
                subscription_id  UUID NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
                event_id         UUID NOT NULL,
                event_type       TEXT NOT NULL,
                event_source     TEXT NOT NULL,
                event_time       TIMESTAMPTZ NOT NULL,
                execution_id     TEXT NOT NULL,
                body             BYTEA NOT NULL,
                status           TEXT NOT NULL DEFAULT 'PENDING' CHECK (status IN ('PENDING', 'DELIVERED', 'DEAD')),
                attempts         INTEGER NOT NULL DEFAULT 0,
                next_attempt_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
                first_attempt_at TIMESTAMPTZ,
                last_attempt_at  TIMESTAMPTZ,
                last_status_code INTEGER,
                last_error       TEXT,
                delivered_at     TIMESTAMPTZ,
                claim_id         UUID,
                claimed_until    TIMESTAMPTZ,
                created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
                UNIQUE (subscription_id, event_id)
            );
            -- Due work, and the per-(subscription, execution) order check.
            CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'PENDING';
            CREATE INDEX deliveries_order ON deliveries (subscription_id, execution_id, seq) WHERE status = 'PENDING';
            -- The delivery log, newest first.
            CREATE INDEX deliveries_log ON deliveries (subscription_id, seq DESC);
            """),
        Migration(version: 220, name: "callout_deliveries", sql: """
            -- HTTP callout steps (issue 16) are deliveries too: sent to target_url
            -- (not the subscription's), signed with the subscription's secret,
            -- retried until callout_deadline, ordered per step.
            ALTER TABLE deliveries ADD COLUMN target_url TEXT, ADD COLUMN callout_step TEXT,
                ADD COLUMN callout_deadline TIMESTAMPTZ;
            """),
        Migration(version: 302, name: "delivery_trace_context", sql: """
            -- The trace position (W3C traceparent/tracestate) of the consumer span that queued the
            -- delivery, written in the same transaction: every attempt's POST continues that trace.
            -- NULL while tracing is off.
            ALTER TABLE deliveries ADD COLUMN traceparent TEXT, ADD COLUMN tracestate TEXT;
            """),
    ]
}
