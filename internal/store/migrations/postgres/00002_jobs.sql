-- The durable job queue (internal/jobs). Timestamps are TEXT in
-- store.TimeLayout, so string comparison is time comparison on both
-- dialects. lease_owner is a per-claim token: every guarded write (progress,
-- checkpoint, completion) matches it, so a worker whose lease was taken over
-- can no longer change the job.

-- +goose Up
CREATE TABLE jobs (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    project_id        TEXT NOT NULL DEFAULT '',
    actor_id          TEXT NOT NULL DEFAULT '',
    kind              TEXT NOT NULL,
    payload_json      TEXT NOT NULL,
    unique_key        TEXT,
    status            TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    progress          DOUBLE PRECISION NOT NULL DEFAULT 0,
    stage             TEXT NOT NULL DEFAULT '',
    eta               TEXT,
    attempts          INTEGER NOT NULL DEFAULT 0,
    max_attempts      INTEGER NOT NULL,
    run_after         TEXT NOT NULL,
    lease_owner       TEXT NOT NULL DEFAULT '',
    lease_expires_at  TEXT,
    heartbeat_at      TEXT,
    checkpoint        BYTEA,
    checkpoint_digest TEXT NOT NULL DEFAULT '',
    result_json       TEXT,
    error             TEXT NOT NULL DEFAULT '',
    cancel_requested  INTEGER NOT NULL DEFAULT 0,
    log_seq           BIGINT NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    started_at        TEXT,
    finished_at       TEXT
);
-- Claiming scans queued jobs by run_after and running jobs by lease expiry.
CREATE INDEX jobs_claim ON jobs (status, run_after);
CREATE INDEX jobs_lease ON jobs (status, lease_expires_at);
-- Listing: newest first within an organisation.
CREATE INDEX jobs_org_created ON jobs (org_id, created_at, id);
-- At most one live (queued or running) job per organisation, kind and unique key.
CREATE UNIQUE INDEX jobs_unique_live ON jobs (org_id, kind, unique_key)
    WHERE unique_key IS NOT NULL AND status IN ('queued', 'running');

CREATE TABLE job_logs (
    job_id  TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    ts      TEXT NOT NULL,
    level   TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

-- +goose Down
DROP TABLE job_logs;
DROP TABLE jobs;
