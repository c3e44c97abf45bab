import MusterPostgres

/// The planner's tables (versions from 100; outbox and inbox come from
/// `MessagingSchema`). Migrations run with `search_path` = the schema, so
/// names are unqualified here; queries qualify them with the schema.
enum PlannerSchema {
    static let migrations: [Migration] = [
        Migration(version: 100, name: "teams_tokens_audit", sql: """
            CREATE TABLE teams (
                id         UUID PRIMARY KEY,
                name       TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            CREATE UNIQUE INDEX teams_name ON teams (lower(name));
            CREATE TABLE tokens (
                id         UUID PRIMARY KEY,
                team_id    UUID NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
                name       TEXT NOT NULL,
                subject    TEXT NOT NULL,
                role       TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
                token_hash BYTEA NOT NULL UNIQUE,
                created_by TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                revoked_at TIMESTAMPTZ
            );
            CREATE INDEX tokens_team ON tokens (team_id);
            CREATE TABLE audit (
                seq           BIGSERIAL PRIMARY KEY,
                team_id       UUID,
                actor         TEXT NOT NULL,
                action        TEXT NOT NULL,
                resource_type TEXT NOT NULL,
                resource_id   TEXT NOT NULL,
                detail        JSONB,
                at            TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            CREATE INDEX audit_resource ON audit (resource_type, resource_id, seq);
            CREATE INDEX audit_team ON audit (team_id, seq);
            """),
        Migration(version: 101, name: "accounts_inventory_groups", sql: """
            CREATE TABLE accounts (
                id             UUID PRIMARY KEY,
                team_id        UUID NOT NULL REFERENCES teams(id),
                aws_account_id TEXT NOT NULL UNIQUE,
                name           TEXT NOT NULL,
                regions        JSONB NOT NULL,
                credentials    JSONB NOT NULL,
                created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
                updated_at     TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            CREATE TABLE source_servers (
                account_id           TEXT NOT NULL,
                region               TEXT NOT NULL,
                server_id            TEXT NOT NULL,
                hostname             TEXT,
                replication_state    TEXT,
                last_launch_result   TEXT,
                tags                 JSONB NOT NULL DEFAULT '{}',
                recovery_instance_id TEXT,
                observed_at          TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (account_id, region, server_id)
            );
            CREATE TABLE protection_groups (
                id         UUID PRIMARY KEY,
                team_id    UUID NOT NULL REFERENCES teams(id),
                name       TEXT NOT NULL,
                region     TEXT NOT NULL,
                selection  JSONB NOT NULL,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            CREATE UNIQUE INDEX protection_groups_name ON protection_groups (team_id, lower(name));
            -- The primary key is the rule "one protection group per server".
            CREATE TABLE protection_group_servers (
                group_id   UUID NOT NULL REFERENCES protection_groups(id) ON DELETE CASCADE,
                account_id TEXT NOT NULL,
                region     TEXT NOT NULL,
                server_id  TEXT NOT NULL,
                PRIMARY KEY (account_id, region, server_id)
            );
            CREATE INDEX protection_group_servers_group ON protection_group_servers (group_id);
            """),
        Migration(version: 102, name: "plans_executions", sql: """
            CREATE TABLE plans (
                id         UUID PRIMARY KEY,
                team_id    UUID NOT NULL REFERENCES teams(id),
                name       TEXT NOT NULL,
                definition JSONB NOT NULL,
                version    INTEGER NOT NULL DEFAULT 1,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
            );
            CREATE UNIQUE INDEX plans_name ON plans (team_id, lower(name));
            CREATE TABLE plan_groups (
                plan_id  UUID NOT NULL REFERENCES plans(id) ON DELETE CASCADE,
                group_id UUID NOT NULL REFERENCES protection_groups(id),
                PRIMARY KEY (plan_id, group_id)
            );
            CREATE INDEX plan_groups_group ON plan_groups (group_id);
            CREATE TABLE executions (
                seq          BIGSERIAL UNIQUE,
                id           UUID PRIMARY KEY,
                team_id      UUID NOT NULL REFERENCES teams(id),
                plan_id      UUID NOT NULL,
                plan_name    TEXT NOT NULL,
                type         TEXT NOT NULL,
                status       TEXT NOT NULL,
                initiated_by TEXT NOT NULL,
                created_at   TIMESTAMPTZ NOT NULL,
                updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
                ended_at     TIMESTAMPTZ,
                state        JSONB NOT NULL
            );
            CREATE INDEX executions_team ON executions (team_id, seq DESC);
            CREATE INDEX executions_plan_active ON executions (plan_id) WHERE status IN ('PENDING', 'RUNNING', 'PAUSED');
            CREATE TABLE execution_waves (
                execution_id UUID NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
                number       INTEGER NOT NULL,
                name         TEXT NOT NULL,
                status       TEXT NOT NULL,
                started_at   TIMESTAMPTZ,
                ended_at     TIMESTAMPTZ,
                PRIMARY KEY (execution_id, number)
            );
            CREATE TABLE execution_servers (
                execution_id         UUID NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
                server_id            TEXT NOT NULL,
                wave                 INTEGER NOT NULL,
                account_id           TEXT NOT NULL,
                region               TEXT NOT NULL,
                status               TEXT NOT NULL,
                job_id               TEXT,
                recovery_instance_id TEXT,
                launched_at          TIMESTAMPTZ,
                ended_at             TIMESTAMPTZ,
                failure_reason       TEXT,
                PRIMARY KEY (execution_id, server_id)
            );
            """),
        Migration(version: 170, name: "inventory_replication_freshness", sql: """
            ALTER TABLE source_servers ADD COLUMN lag_seconds DOUBLE PRECISION,
                ADD COLUMN last_snapshot_at TIMESTAMPTZ;
            """),
        EventLog.migration,
        ConsoleSessions.migration,
        PlannerConsole.oidcMigration,
        ScheduleStore.migration,
        ReadinessStore.migration,
        CalloutStore.migration,
        ReadinessStore.answersMigration,
    ]
}
