import MusterPostgres

/// The launcher's tables (versions from 100; outbox and inbox come from
/// `MessagingSchema`). Every state change that owes an event commits with
/// that event's outbox row.
public enum LauncherSchema {
    /// The migrations of `schema`.
    public static func migrations(schema s: String) -> [Migration] {
        [
            Migration(version: 100, name: "launcher_core", sql: """
                -- Live launcher processes; a stale heartbeat means the process died.
                CREATE TABLE \(s).instances (
                    instance_id  TEXT PRIMARY KEY,
                    heartbeat_at TIMESTAMPTZ NOT NULL
                );
                -- Which instance owns each endpoint's budget: the one that consumed its
                -- last record (the co-partitioned topics put an endpoint on one instance).
                CREATE TABLE \(s).endpoints (
                    account_id TEXT NOT NULL,
                    region     TEXT NOT NULL,
                    owner      TEXT,
                    claimed_at TIMESTAMPTZ NOT NULL DEFAULT now(),
                    PRIMARY KEY (account_id, region)
                );
                -- Accounts registered through accounts.v1 (credentials references only).
                CREATE TABLE \(s).accounts (
                    account_id   TEXT PRIMARY KEY,
                    registration JSONB NOT NULL,
                    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now()
                );
                -- One row per DRS job to start: a chunk of a launch group, or of a cleanup.
                -- state: QUEUED -> SUBMITTING (the launch intent) -> SUBMITTED (job id known)
                --        | FAILED (job.launch-failed published).
                CREATE TABLE \(s).launch_chunks (
                    id               BIGSERIAL PRIMARY KEY,
                    kind             TEXT NOT NULL,             -- LAUNCH | TERMINATE
                    launch_group     TEXT NOT NULL,
                    execution_id     TEXT NOT NULL,
                    account_id       TEXT NOT NULL,
                    region           TEXT NOT NULL,
                    attempt          INTEGER NOT NULL,
                    chunk            INTEGER NOT NULL,
                    chunk_count      INTEGER NOT NULL,
                    items            JSONB NOT NULL,            -- source server ids, or recovery instance ids
                    request          JSONB NOT NULL,            -- the LaunchGroupRequested / InstancesTerminate
                    state            TEXT NOT NULL,
                    queued_reason    TEXT,
                    not_before       TIMESTAMPTZ,
                    backoff_reason   TEXT,
                    conflicts        INTEGER NOT NULL DEFAULT 0,
                    first_conflict_at TIMESTAMPTZ,
                    intent_at        TIMESTAMPTZ,
                    submitter        TEXT,
                    submissions      INTEGER NOT NULL DEFAULT 0,
                    job_id           TEXT UNIQUE,
                    received_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
                    started_at       TIMESTAMPTZ,
                    UNIQUE (kind, launch_group, attempt, chunk)
                );
                CREATE INDEX launch_chunks_open ON \(s).launch_chunks (account_id, region, id)
                    WHERE state IN ('QUEUED', 'SUBMITTING');
                -- DRS allows one job per source server: a lease from the request until
                -- the job is observed terminal.
                CREATE TABLE \(s).server_leases (
                    account_id       TEXT NOT NULL,
                    region           TEXT NOT NULL,
                    source_server_id TEXT NOT NULL,
                    chunk_id         BIGINT NOT NULL,
                    job_id           TEXT,
                    leased_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
                    PRIMARY KEY (account_id, region, source_server_id)
                );
                CREATE INDEX server_leases_job ON \(s).server_leases (job_id);
                CREATE INDEX server_leases_chunk ON \(s).server_leases (chunk_id);
                -- Every DRS job Muster started, and what the last poll saw of it.
                CREATE TABLE \(s).jobs (
                    job_id       TEXT PRIMARY KEY,
                    chunk_id     BIGINT NOT NULL,
                    account_id   TEXT NOT NULL,
                    region       TEXT NOT NULL,
                    launch_group TEXT NOT NULL,
                    chunk        INTEGER NOT NULL,
                    job_type     TEXT NOT NULL,
                    server_count INTEGER NOT NULL,
                    status       TEXT NOT NULL DEFAULT 'PENDING',
                    fingerprint  TEXT,
                    log_count    INTEGER NOT NULL DEFAULT 0,
                    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
                    completed_at TIMESTAMPTZ
                );
                CREATE INDEX jobs_active ON \(s).jobs (account_id, region) WHERE completed_at IS NULL;
                -- job.poll requests waiting to be served (one DescribeJobs each).
                CREATE TABLE \(s).poll_requests (
                    id          BIGSERIAL PRIMARY KEY,
                    account_id  TEXT NOT NULL,
                    region      TEXT NOT NULL,
                    job_ids     JSONB NOT NULL,
                    is_final    BOOLEAN NOT NULL,
                    requested_at TIMESTAMPTZ NOT NULL
                );
                """),
            Migration(version: 101, name: "launcher_lifecycle", sql: """
                -- When the StartRecovery request left (NULL: never, so it cannot land);
                -- a version per transition, so two actors never both move one chunk.
                ALTER TABLE \(s).launch_chunks ADD COLUMN sent_at TIMESTAMPTZ;
                ALTER TABLE \(s).launch_chunks ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
                -- The partition of the co-partitioned inputs an endpoint's records arrive on:
                -- the endpoint belongs to the instance the consumer group assigns it.
                ALTER TABLE \(s).endpoints ADD COLUMN partition INTEGER;
                CREATE INDEX endpoints_partition ON \(s).endpoints (partition);
                -- A job DRS holds for a chunk that already has one (the invariant broken).
                ALTER TABLE \(s).jobs ADD COLUMN duplicate_of TEXT;
                -- Content keys of the job-log events already published (order-free de-duplication),
                -- whether the last log read found new items (read again until one finds none),
                -- whether the job is a drill, and whether a launched server still awaits its
                -- post-launch runs (a COMPLETED recovery job is looked at until none does).
                ALTER TABLE \(s).jobs ADD COLUMN log_keys JSONB NOT NULL DEFAULT '[]';
                ALTER TABLE \(s).jobs ADD COLUMN log_pending BOOLEAN NOT NULL DEFAULT false;
                ALTER TABLE \(s).jobs ADD COLUMN is_drill BOOLEAN NOT NULL DEFAULT true;
                ALTER TABLE \(s).jobs ADD COLUMN awaits_post_launch BOOLEAN NOT NULL DEFAULT false;
                -- What inventory last published per server: only changes are published again.
                CREATE TABLE \(s).inventory_state (
                    account_id       TEXT NOT NULL,
                    region           TEXT NOT NULL,
                    source_server_id TEXT NOT NULL,
                    fingerprint      TEXT NOT NULL,
                    published_at     TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (account_id, region, source_server_id)
                );
                CREATE INDEX poll_requests_endpoint ON \(s).poll_requests (account_id, region, id);
                """),
            Migration(version: 102, name: "launcher_restores", sql: """
                -- Launch settings changed for a launch and what to put back (issue 13). A row is
                -- written before anything is changed; at most one open row per server keeps the
                -- settings from before the first change, however often a launch is retried.
                -- state: RECORDED (about to change) -> APPLIED -> DUE (job past launch, failed,
                --        requeued) -> RESTORED | KEPT (a recovery whose plan keeps its settings).
                CREATE TABLE \(s).launch_restores (
                    id                     BIGSERIAL PRIMARY KEY,
                    account_id             TEXT NOT NULL,
                    region                 TEXT NOT NULL,
                    source_server_id       TEXT NOT NULL,
                    chunk_id               BIGINT NOT NULL,
                    launch_template_id     TEXT,
                    previous_version       BIGINT,            -- the template's default before the change
                    applied_version        BIGINT,            -- the version Muster created and made default
                    previous_configuration JSONB NOT NULL,    -- GetLaunchConfiguration before the change
                    keep                   BOOLEAN NOT NULL DEFAULT false,
                    state                  TEXT NOT NULL,
                    version                INTEGER NOT NULL DEFAULT 0,
                    attempts               INTEGER NOT NULL DEFAULT 0,
                    last_error             TEXT,
                    recorded_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
                    due_at                 TIMESTAMPTZ,
                    closed_at              TIMESTAMPTZ
                );
                CREATE UNIQUE INDEX launch_restores_open ON \(s).launch_restores (account_id, region, source_server_id)
                    WHERE closed_at IS NULL;
                CREATE INDEX launch_restores_chunk ON \(s).launch_restores (chunk_id) WHERE closed_at IS NULL;
                -- The snapshot each server of a chunk launches from (written before the request leaves).
                ALTER TABLE \(s).launch_chunks ADD COLUMN recovery_snapshots JSONB;
                """),
            Migration(version: 210, name: "launcher_ssm_automations", sql: """
                -- SSM Automation wave-hook steps (issue 16), one row per step run; a redelivered
                -- request is ignored (the idempotency key is SSM's ClientToken too).
                -- state: QUEUED -> STARTING (the intent, stored before StartAutomationExecution
                --        leaves) -> RUNNING (automation id known) -> DONE (terminal status published).
                CREATE TABLE \(s).ssm_automations (
                    idempotency_key TEXT PRIMARY KEY,
                    execution_id    TEXT NOT NULL,
                    wave            INTEGER NOT NULL,
                    step_name       TEXT NOT NULL,
                    attempt         INTEGER NOT NULL,
                    account_id      TEXT NOT NULL,
                    region          TEXT NOT NULL,
                    request         JSONB NOT NULL,            -- the SSMAutomationRequested
                    state           TEXT NOT NULL,
                    automation_id   TEXT,
                    status          TEXT,
                    starts          INTEGER NOT NULL DEFAULT 0, -- StartAutomationExecution requests sent
                    last_error      TEXT,
                    deadline        TIMESTAMPTZ NOT NULL,
                    next_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
                    intent_at       TIMESTAMPTZ,
                    stop_requested  TEXT,                        -- why the planner asked to stop it
                    received_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
                    ended_at        TIMESTAMPTZ
                );
                CREATE INDEX ssm_automations_open ON \(s).ssm_automations (account_id, region, next_at)
                    WHERE state <> 'DONE';
                """),
            ReadinessRequestStore.migration(schema: s),
            Migration(version: 300, name: "launcher_trace_context", sql: """
                -- The trace position (W3C traceparent/tracestate) of the consumer span that created
                -- the row, written in the same transaction: the work loop's later span (StartRecovery,
                -- an SSM step, a job's observation) continues that trace. NULL while tracing is off.
                ALTER TABLE \(s).launch_chunks ADD COLUMN traceparent TEXT;
                ALTER TABLE \(s).launch_chunks ADD COLUMN tracestate TEXT;
                ALTER TABLE \(s).jobs ADD COLUMN traceparent TEXT;
                ALTER TABLE \(s).jobs ADD COLUMN tracestate TEXT;
                ALTER TABLE \(s).ssm_automations ADD COLUMN traceparent TEXT;
                ALTER TABLE \(s).ssm_automations ADD COLUMN tracestate TEXT;
                """),
        ]
    }
}
