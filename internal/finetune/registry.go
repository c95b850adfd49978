package finetune

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/store"
)

// Model is a named line of model versions in a project.
type Model struct {
	ID            string    `json:"id" example:"mdl_k3x7q2m9a8b4c5d6e7f2"`
	ProjectID     string    `json:"project_id"`
	Name          string    `json:"name"`
	Description   string    `json:"description"`
	LatestVersion int       `json:"latest_version" doc:"0 while the model has no versions."`
	CreatedBy     string    `json:"created_by,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// ModelCreate is the body of POST /v1/projects/{project_id}/models.
type ModelCreate struct {
	Name        string `json:"name" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$" doc:"Unique within the project."`
	Description string `json:"description,omitempty" maxLength:"2000"`
}

// DatasetRef pins the dataset version a model version was trained on.
type DatasetRef struct {
	ID             string `json:"dataset_id"`
	Version        string `json:"version"`
	URI            string `json:"uri,omitempty"`
	LineageHash    string `json:"lineage_hash"`
	ManifestDigest string `json:"manifest_digest"`
}

// ModelVersion is one registered PEFT adapter with everything needed to
// reproduce and serve it.
type ModelVersion struct {
	ID             string            `json:"id" example:"mv_k3x7q2m9a8b4c5d6e7f2"`
	ModelID        string            `json:"model_id"`
	ModelName      string            `json:"model_name"`
	ProjectID      string            `json:"project_id"`
	Version        int               `json:"version"`
	RunID          string            `json:"run_id"`
	BaseModel      string            `json:"base_model"`
	Method         string            `json:"method"`
	AdapterFiles   map[string]string `json:"adapter_files" doc:"PEFT adapter folder: file name → sha256 digest."`
	TokenizerFiles map[string]string `json:"tokenizer_files" doc:"The base model's tokenizer files: name → digest."`
	TemplateHash   string            `json:"template_hash,omitempty" doc:"Hash of the chat template the data was rendered with."`
	Dataset        DatasetRef        `json:"dataset"`
	Config         json.RawMessage   `json:"config"`
	Metrics        json.RawMessage   `json:"metrics"`
	CreatedBy      string            `json:"created_by,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
}

// ErrFile reports a file name a model version does not have.
var ErrFile = errors.New("finetune: no such file in the model version")

// CreateModel registers an empty model in a project.
func (s *Service) CreateModel(ctx context.Context, orgID, actorID, projectID string, in ModelCreate) (*Model, error) {
	m := &Model{ID: store.NewID("mdl_"), ProjectID: projectID, Name: in.Name, Description: in.Description, CreatedBy: actorID,
		CreatedAt: time.Now().UTC()}
	err := s.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.DB.Rebind(`INSERT INTO models (id, org_id, project_id, name, description, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`), m.ID, orgID, projectID, m.Name, m.Description, actorID, store.FormatTime(m.CreatedAt))
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("model %q already exists in the project: %w", in.Name, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{OrgID: orgID, ActorID: actorID, Action: "model.create", TargetType: "model", TargetID: m.ID,
			Payload: map[string]any{"project_id": projectID, "name": m.Name}})
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

const modelCols = `m.id, m.project_id, m.name, m.description, m.created_by, m.created_at,
	COALESCE((SELECT MAX(v.version) FROM model_versions v WHERE v.model_id = m.id), 0)`

func scanModel(row interface{ Scan(...any) error }) (*Model, error) {
	var m Model
	var created string
	if err := row.Scan(&m.ID, &m.ProjectID, &m.Name, &m.Description, &m.CreatedBy, &created, &m.LatestVersion); err != nil {
		return nil, err
	}
	m.CreatedAt, _ = store.ParseTime(created)
	return &m, nil
}

// GetModel returns model id of orgID.
func (s *Service) GetModel(ctx context.Context, orgID, id string) (*Model, error) {
	m, err := scanModel(s.DB.SQL.QueryRowContext(ctx, s.DB.Rebind(`SELECT `+modelCols+` FROM models m WHERE m.id = ? AND m.org_id = ?`), id, orgID))
	if isNoRows(err) {
		return nil, fmt.Errorf("%w: model %s", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("finetune: get model: %w", err)
	}
	return m, nil
}

// ListModels returns a project's models by name.
func (s *Service) ListModels(ctx context.Context, orgID, projectID string) ([]*Model, error) {
	rows, err := s.DB.SQL.QueryContext(ctx, s.DB.Rebind(`SELECT `+modelCols+` FROM models m WHERE m.org_id = ? AND m.project_id = ? ORDER BY m.name`),
		orgID, projectID)
	if err != nil {
		return nil, fmt.Errorf("finetune: list models: %w", err)
	}
	defer rows.Close()
	out := []*Model{}
	for rows.Next() {
		m, err := scanModel(rows)
		if err != nil {
			return nil, fmt.Errorf("finetune: list models: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

const versionCols = `v.id, v.model_id, m.name, m.project_id, v.version, v.run_id, v.base_model, v.method, v.adapter_files_json,
	v.tokenizer_files_json, v.template_hash, v.dataset_id, v.dataset_version, v.dataset_lineage_hash, v.dataset_digest,
	v.dataset_uri, v.config_json, v.metrics_json, v.created_by, v.created_at`

func scanVersion(row interface{ Scan(...any) error }) (*ModelVersion, error) {
	var v ModelVersion
	var af, tf, cfg, met, created string
	if err := row.Scan(&v.ID, &v.ModelID, &v.ModelName, &v.ProjectID, &v.Version, &v.RunID, &v.BaseModel, &v.Method, &af, &tf, &v.TemplateHash,
		&v.Dataset.ID, &v.Dataset.Version, &v.Dataset.LineageHash, &v.Dataset.ManifestDigest, &v.Dataset.URI, &cfg, &met, &v.CreatedBy, &created); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(af), &v.AdapterFiles); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(tf), &v.TokenizerFiles)
	if v.TokenizerFiles == nil {
		v.TokenizerFiles = map[string]string{}
	}
	v.Config, v.Metrics = json.RawMessage(cfg), json.RawMessage(met)
	v.CreatedAt, _ = store.ParseTime(created)
	return &v, nil
}

// ListVersions returns a model's versions, newest first.
func (s *Service) ListVersions(ctx context.Context, orgID, modelID string) ([]*ModelVersion, error) {
	rows, err := s.DB.SQL.QueryContext(ctx, s.DB.Rebind(`SELECT `+versionCols+` FROM model_versions v JOIN models m ON m.id = v.model_id
		WHERE v.model_id = ? AND v.org_id = ? ORDER BY v.version DESC`), modelID, orgID)
	if err != nil {
		return nil, fmt.Errorf("finetune: list versions: %w", err)
	}
	defer rows.Close()
	out := []*ModelVersion{}
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("finetune: list versions: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// GetVersion returns version n of a model ("latest" or a number).
func (s *Service) GetVersion(ctx context.Context, orgID, modelID, ref string) (*ModelVersion, error) {
	q := `SELECT ` + versionCols + ` FROM model_versions v JOIN models m ON m.id = v.model_id WHERE v.model_id = ? AND v.org_id = ?`
	args := []any{modelID, orgID}
	if ref == "latest" || ref == "" {
		q += ` ORDER BY v.version DESC LIMIT 1`
	} else {
		var n int
		if _, err := fmt.Sscanf(ref, "%d", &n); err != nil || fmt.Sprint(n) != ref {
			return nil, fmt.Errorf("%w: version %q", store.ErrNotFound, ref)
		}
		q += ` AND v.version = ?`
		args = append(args, n)
	}
	v, err := scanVersion(s.DB.SQL.QueryRowContext(ctx, s.DB.Rebind(q), args...))
	if isNoRows(err) {
		return nil, fmt.Errorf("%w: model %s version %s", store.ErrNotFound, modelID, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("finetune: get version: %w", err)
	}
	return v, nil
}

// GetVersionByID returns model version mv_… of orgID.
func (s *Service) GetVersionByID(ctx context.Context, orgID, id string) (*ModelVersion, error) {
	v, err := scanVersion(s.DB.SQL.QueryRowContext(ctx, s.DB.Rebind(`SELECT `+versionCols+` FROM model_versions v
		JOIN models m ON m.id = v.model_id WHERE v.id = ? AND v.org_id = ?`), id, orgID))
	if isNoRows(err) {
		return nil, fmt.Errorf("%w: model version %s", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("finetune: get version: %w", err)
	}
	return v, nil
}

// OpenFile opens one adapter or tokenizer file of a version.
func (s *Service) OpenFile(ctx context.Context, v *ModelVersion, name string) (io.ReadCloser, int64, error) {
	d, ok := v.AdapterFiles[name]
	if !ok {
		d, ok = v.TokenizerFiles[name]
	}
	if !ok {
		return nil, 0, fmt.Errorf("%w: %s", ErrFile, name)
	}
	info, err := s.Blob.Stat(ctx, blob.Digest(d))
	if err != nil {
		return nil, 0, err
	}
	rc, err := s.Blob.Get(ctx, blob.Digest(d))
	if err != nil {
		return nil, 0, err
	}
	return rc, info.Size, nil
}

// registerVersion records a succeeded run's adapter as the next version of
// its model (created on first use) inside tx, the transaction that also
// completes the run's job: a run registers exactly one version.
func (s *Service) registerVersion(ctx context.Context, tx *sql.Tx, orgID, actorID, projectID, modelName string, v *ModelVersion) error {
	now := store.FormatTime(v.CreatedAt)
	if _, err := tx.ExecContext(ctx, s.DB.Rebind(`INSERT INTO models (id, org_id, project_id, name, description, created_by, created_at)
		VALUES (?, ?, ?, ?, '', ?, ?) ON CONFLICT (project_id, name) DO NOTHING`), store.NewID("mdl_"), orgID, projectID, modelName, actorID, now); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, s.DB.Rebind(`SELECT id FROM models WHERE project_id = ? AND name = ? AND org_id = ?`),
		projectID, modelName, orgID).Scan(&v.ModelID); err != nil {
		return fmt.Errorf("model %q: %w", modelName, err)
	}
	if err := tx.QueryRowContext(ctx, s.DB.Rebind(`SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE model_id = ?`),
		v.ModelID).Scan(&v.Version); err != nil {
		return err
	}
	v.ModelName, v.ProjectID = modelName, projectID
	_, err := tx.ExecContext(ctx, s.DB.Rebind(`INSERT INTO model_versions (id, org_id, model_id, version, run_id, base_model, method,
		adapter_files_json, tokenizer_files_json, template_hash, dataset_id, dataset_version, dataset_lineage_hash, dataset_digest,
		dataset_uri, config_json, metrics_json, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		v.ID, orgID, v.ModelID, v.Version, v.RunID, v.BaseModel, v.Method, jsonText(v.AdapterFiles), jsonText(v.TokenizerFiles), v.TemplateHash,
		v.Dataset.ID, v.Dataset.Version, v.Dataset.LineageHash, v.Dataset.ManifestDigest, v.Dataset.URI, string(v.Config), string(v.Metrics), actorID, now)
	if err != nil {
		if store.IsUniqueViolation(err) && strings.Contains(err.Error(), "run_id") {
			return fmt.Errorf("run %s already registered a version: %w", v.RunID, store.ErrConflict)
		}
		return err
	}
	return s.Audit.Append(ctx, tx, audit.Entry{OrgID: orgID, ActorID: actorID, Action: "model.version.register", TargetType: "model_version",
		TargetID: v.ID, Payload: map[string]any{"model_id": v.ModelID, "version": v.Version, "run_id": v.RunID,
			"dataset_id": v.Dataset.ID, "dataset_version": v.Dataset.Version, "dataset_lineage_hash": v.Dataset.LineageHash}})
}
