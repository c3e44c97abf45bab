import MusterPostgres

/// The poller's tables (migrations run with `search_path` set to the
/// service's schema, so names are unqualified here).
///
/// - `jobs`: one row per DRS job from `job.created` until it is DONE or
///   TIMED_OUT (kept for `retention`, so late snapshots are recognised).
///   `next_due` is the schedule; the partial index serves the claim query.
/// - `endpoints`: one row per (account, region); its row lock is the claim
///   that lets exactly one poller plan an endpoint's polls at a time.
/// - `endpoint_polls`: the last minute of polls per endpoint, the shared log
///   behind the per-endpoint cap.
/// - `phase_history` (114): per account, region, job type and phase, the
///   running distribution of phase durations (`PhaseStats`) behind the
///   predictive schedule; `jobs` gains what the prediction needs.
/// - `jobs_watch_due` (290): the watch looks that may ride along early.
public enum PollerSchema {
    /// Versions from 100 (1–99 are the shared outbox/inbox).
    public static let migrations: [Migration] = [
        Migration(version: 100, name: "poller_jobs", sql: """
            CREATE TABLE jobs (
                job_id          TEXT PRIMARY KEY,
                launch_group    TEXT NOT NULL,
                execution_id    TEXT NOT NULL,
                chunk           INTEGER NOT NULL,
                account_id      TEXT NOT NULL,
                region          TEXT NOT NULL,
                job_type        TEXT NOT NULL,
                phase           TEXT NOT NULL CHECK (phase IN ('PENDING', 'STARTED', 'COMPLETED')),
                state           TEXT NOT NULL CHECK (state IN ('TRACKING', 'FINAL_REQUESTED', 'DONE', 'TIMED_OUT')),
                observed_at     TIMESTAMPTZ,
                created_at      TIMESTAMPTZ NOT NULL,
                tracked_at      TIMESTAMPTZ NOT NULL,
                deadline        TIMESTAMPTZ NOT NULL,
                timeout_seconds INTEGER NOT NULL,
                next_due        TIMESTAMPTZ,
                last_polled_at  TIMESTAMPTZ,
                polls           INTEGER NOT NULL DEFAULT 0,
                final_polls     INTEGER NOT NULL DEFAULT 0,
                finished_at     TIMESTAMPTZ,
                CHECK ((state IN ('TRACKING', 'FINAL_REQUESTED')) = (next_due IS NOT NULL))
            );
            CREATE INDEX jobs_due ON jobs (account_id, region, next_due)
                WHERE state IN ('TRACKING', 'FINAL_REQUESTED');
            CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
            CREATE TABLE endpoints (
                account_id   TEXT NOT NULL,
                region       TEXT NOT NULL,
                last_poll_at TIMESTAMPTZ,
                PRIMARY KEY (account_id, region)
            );
            CREATE TABLE endpoint_polls (
                account_id TEXT NOT NULL,
                region     TEXT NOT NULL,
                sent_at    TIMESTAMPTZ NOT NULL,
                job_count  INTEGER NOT NULL,
                is_final   BOOLEAN NOT NULL
            );
            CREATE INDEX endpoint_polls_recent ON endpoint_polls (account_id, region, sent_at);
            """),
        // Recovery jobs stay tracked past COMPLETED while post-launch runs are
        // unfinished; drills never do. Rows from before this column are
        // treated as drills (the old behaviour: done at COMPLETED).
        Migration(version: 101, name: "poller_jobs_is_drill", sql: """
            ALTER TABLE jobs ADD COLUMN is_drill BOOLEAN NOT NULL DEFAULT true;
            """),
        // 114 (issue 14): the predictive schedule. `started_at` is DRS's LAUNCH_START
        // (exact when read from the job log); `look_kind` / `look_step` say how the
        // planned look may be batched; `expected_at` is the model's guess, for metrics.
        Migration(version: 114, name: "poller_phase_history", sql: """
            ALTER TABLE jobs
                ADD COLUMN started_at    TIMESTAMPTZ,
                ADD COLUMN started_exact BOOLEAN NOT NULL DEFAULT false,
                ADD COLUMN look_kind     TEXT NOT NULL DEFAULT 'cadence'
                    CHECK (look_kind IN ('cadence', 'watch', 'completion')),
                ADD COLUMN look_step     DOUBLE PRECISION,
                ADD COLUMN expected_at   TIMESTAMPTZ;
            CREATE TABLE phase_history (
                account_id TEXT NOT NULL,
                region     TEXT NOT NULL,
                job_type   TEXT NOT NULL,
                phase      TEXT NOT NULL CHECK (phase IN ('PENDING', 'STARTED')),
                samples    INTEGER NOT NULL,
                mean       DOUBLE PRECISION NOT NULL,
                variance   DOUBLE PRECISION NOT NULL,
                minimum    DOUBLE PRECISION NOT NULL,
                maximum    DOUBLE PRECISION NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                PRIMARY KEY (account_id, region, job_type, phase)
            );
            -- The scheduler sleeps until the earliest planned look.
            CREATE INDEX jobs_next_due ON jobs (next_due) WHERE state IN ('TRACKING', 'FINAL_REQUESTED');
            """),
        // 301 (issue 18): the trace position of the consumer span that tracked the job (W3C
        // traceparent/tracestate, same transaction): the job's polls and its job.timed-out
        // continue the drill's trace. NULL while tracing is off.
        Migration(version: 301, name: "poller_trace_context", sql: """
            ALTER TABLE jobs ADD COLUMN traceparent TEXT;
            ALTER TABLE jobs ADD COLUMN tracestate TEXT;
            """),
        // 290 (issue 14, round 7): watch looks ride along up to half the watch interval early
        // (`JobTracker.watchRiders`); this index serves that read without scanning the other looks.
        Migration(version: 290, name: "poller_watch_riders", sql: """
            CREATE INDEX jobs_watch_due ON jobs (account_id, region, next_due)
                WHERE state = 'TRACKING' AND look_kind = 'watch';
            """),
        // 310 (issue 14, round 8): whether another step of the execution waits for the job
        // (`job.created`'s `gatesNextStep`): only those jobs get the tightest look and count
        // toward the sweep step. Rows from before are treated as gating (the old behaviour).
        Migration(version: 310, name: "poller_gates_next_step", sql: """
            ALTER TABLE jobs ADD COLUMN gates_next_step BOOLEAN NOT NULL DEFAULT true;
            """),
    ]
}
