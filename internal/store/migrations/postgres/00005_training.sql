-- Training runs and the model registry (internal/finetune). A run is a
-- training.run job plus its spec and metrics history; a succeeded run
-- registers one model version whose adapter and tokenizer files live in the
-- object store by digest.

-- +goose Up
CREATE TABLE training_runs (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL,
    project_id       TEXT NOT NULL,
    job_id           TEXT NOT NULL,
    name             TEXT NOT NULL DEFAULT '',
    base_model       TEXT NOT NULL,
    method           TEXT NOT NULL,
    spec_json        TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'queued',
    metrics_json     TEXT NOT NULL DEFAULT '{}',
    artifacts_json   TEXT NOT NULL DEFAULT '{}',
    model_version_id TEXT NOT NULL DEFAULT '',
    created_by       TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    completed_at     TEXT
);
CREATE INDEX training_runs_org ON training_runs (org_id, project_id, created_at, id);
CREATE UNIQUE INDEX training_runs_job ON training_runs (job_id);

CREATE TABLE models (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    project_id  TEXT NOT NULL,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX models_org ON models (org_id, project_id, id);

CREATE TABLE model_versions (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT NOT NULL,
    model_id             TEXT NOT NULL REFERENCES models (id),
    version              INTEGER NOT NULL,
    run_id               TEXT NOT NULL,
    base_model           TEXT NOT NULL,
    method               TEXT NOT NULL,
    adapter_files_json   TEXT NOT NULL,
    tokenizer_files_json TEXT NOT NULL DEFAULT '{}',
    template_hash        TEXT NOT NULL DEFAULT '',
    dataset_id           TEXT NOT NULL DEFAULT '',
    dataset_version      TEXT NOT NULL DEFAULT '',
    dataset_lineage_hash TEXT NOT NULL DEFAULT '',
    dataset_digest       TEXT NOT NULL DEFAULT '',
    config_json          TEXT NOT NULL DEFAULT '{}',
    metrics_json         TEXT NOT NULL DEFAULT '{}',
    created_by           TEXT NOT NULL DEFAULT '',
    created_at           TEXT NOT NULL,
    UNIQUE (model_id, version),
    UNIQUE (run_id)
);

-- +goose Down
DROP TABLE model_versions;
DROP TABLE models;
DROP TABLE training_runs;
