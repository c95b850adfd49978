-- Datasets (internal/dataset, internal/ingest): datasets, their immutable
-- versions, registered ingestion sources, documents (one row per revision)
-- and instruction/preference/chat records. Large content (raw files,
-- extracted text, manifests) lives in the blob store, referenced by digest.

-- +goose Up
CREATE TABLE datasets (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    project_id     TEXT NOT NULL,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    schema_version TEXT NOT NULL DEFAULT 'v1',
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX datasets_org ON datasets (org_id, project_id, id);

CREATE TABLE dataset_versions (
    id               TEXT PRIMARY KEY,
    org_id           TEXT NOT NULL,
    dataset_id       TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    version          TEXT NOT NULL,
    major            INTEGER NOT NULL,
    minor            INTEGER NOT NULL,
    patch            INTEGER NOT NULL,
    lineage_hash     TEXT NOT NULL,
    manifest_digest  TEXT NOT NULL,
    parent_id        TEXT NOT NULL DEFAULT '',
    job_id           TEXT NOT NULL DEFAULT '',
    item_count       INTEGER NOT NULL,
    stats_json       TEXT NOT NULL,
    report_json      TEXT NOT NULL DEFAULT '{}',
    created_by       TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    UNIQUE (dataset_id, version),
    UNIQUE (dataset_id, lineage_hash)
);
CREATE INDEX dataset_versions_order ON dataset_versions (dataset_id, major, minor, patch);

CREATE TABLE dataset_sources (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    dataset_id   TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    type         TEXT NOT NULL,
    name         TEXT NOT NULL DEFAULT '',
    config_json  TEXT NOT NULL,
    secret_enc   TEXT NOT NULL DEFAULT '',
    schedule     TEXT NOT NULL DEFAULT '',
    cursor_json  TEXT NOT NULL DEFAULT '{}',
    last_sync_at TEXT,
    last_job_id  TEXT NOT NULL DEFAULT '',
    last_error   TEXT NOT NULL DEFAULT '',
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX dataset_sources_dataset ON dataset_sources (dataset_id, id);

-- One row per document revision. fingerprint is the SHA-256 of the
-- normalised text, unique per dataset: ingesting the same content twice,
-- concurrently or after a crash, can never create two rows.
CREATE TABLE documents (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    dataset_id     TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    source_id      TEXT NOT NULL DEFAULT '',
    source_key     TEXT NOT NULL,
    source_uri     TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    revision       INTEGER NOT NULL,
    content_digest TEXT NOT NULL,
    text_digest    TEXT NOT NULL,
    content_type   TEXT NOT NULL DEFAULT '',
    size           BIGINT NOT NULL DEFAULT 0,
    metadata_json  TEXT NOT NULL DEFAULT '{}',
    status         TEXT NOT NULL CHECK (status IN ('active', 'superseded', 'tombstoned')),
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (dataset_id, fingerprint)
);
CREATE INDEX documents_key ON documents (dataset_id, source_key, revision);
CREATE INDEX documents_status ON documents (dataset_id, status, id);

CREATE TABLE dataset_records (
    dataset_id TEXT NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    digest     TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    record_key TEXT NOT NULL,
    data_json  TEXT NOT NULL,
    source_id  TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    PRIMARY KEY (dataset_id, digest)
);

-- +goose Down
DROP TABLE dataset_records;
DROP TABLE documents;
DROP TABLE dataset_sources;
DROP TABLE dataset_versions;
DROP TABLE datasets;
