-- Retrieval indexes (internal/rag). The index data itself lives in
-- DATA/indexes/<id>/ as versioned snapshot files; this row is its identity,
-- configuration and the dataset version it follows.

-- +goose Up
CREATE TABLE retrieval_indexes (
    id              TEXT PRIMARY KEY,
    org_id          TEXT NOT NULL,
    project_id      TEXT NOT NULL,
    name            TEXT NOT NULL,
    dataset_id      TEXT NOT NULL DEFAULT '',
    config_json     TEXT NOT NULL,
    embedding_json  TEXT NOT NULL DEFAULT '{}',
    pinned_version  INTEGER NOT NULL DEFAULT 0,
    dataset_version TEXT NOT NULL DEFAULT '',
    last_upsert_at  TEXT,
    created_by      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    UNIQUE (project_id, name)
);
CREATE INDEX retrieval_indexes_org ON retrieval_indexes (org_id, project_id, id);

-- +goose Down
DROP TABLE retrieval_indexes;
