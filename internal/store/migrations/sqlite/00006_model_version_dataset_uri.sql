-- The dataset version's ds:// URI on a registered model version (its
-- lineage already had the id, version and hashes).

-- +goose Up
ALTER TABLE model_versions ADD COLUMN dataset_uri TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE model_versions DROP COLUMN dataset_uri;
