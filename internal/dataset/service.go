package dataset

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/store"
)

// Auditor appends audit records inside a transaction (audit.Log does).
type Auditor interface {
	Append(ctx context.Context, tx *sql.Tx, e audit.Entry) error
}

// Service stores datasets, documents, records and versions in the metadata
// database and the blob store. Every method is scoped by organisation: an id
// from another organisation answers store.ErrNotFound.
type Service struct {
	db    *store.DB
	blobs blob.Store
	audit Auditor
	now   func() time.Time
}

// NewService returns a dataset service. now may be nil (time.Now).
func NewService(db *store.DB, blobs blob.Store, a Auditor, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, blobs: blobs, audit: a, now: now}
}

// Dataset is a named, typed collection of documents or records in a project.
type Dataset struct {
	ID          string    `json:"id"`
	OrgID       string    `json:"-"`
	ProjectID   string    `json:"project_id"`
	Name        string    `json:"name"`
	Kind        Kind      `json:"kind"`
	Description string    `json:"description"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Errors the service returns beyond store's.
var (
	ErrName    = errors.New("dataset: invalid name")
	ErrProject = errors.New("dataset: project not found")
)

// Create makes a dataset in a project of the actor's organisation.
func (s *Service) Create(ctx context.Context, orgID, actorID, projectID, name string, kind Kind, description string) (*Dataset, error) {
	if !uriPart.MatchString(name) {
		return nil, fmt.Errorf("%w %q: letters, digits, '.', '_' and '-', at most 128", ErrName, name)
	}
	if _, err := ParseKind(string(kind)); err != nil {
		return nil, err
	}
	now := s.now().UTC()
	d := &Dataset{ID: store.NewID("ds_"), OrgID: orgID, ProjectID: projectID, Name: name, Kind: kind,
		Description: description, CreatedBy: actorID, CreatedAt: now, UpdatedAt: now}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT 1 FROM projects WHERE id = ? AND org_id = ?`), projectID, orgID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: %w", ErrProject, store.ErrNotFound)
		}
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO datasets (id, org_id, project_id, name, kind, description, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`), d.ID, orgID, projectID, name, string(kind), description, actorID,
			store.FormatTime(now), store.FormatTime(now))
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("dataset %q already exists in the project: %w", name, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: orgID, ActorID: actorID, Action: "dataset.create",
			TargetType: "dataset", TargetID: d.ID, Payload: map[string]any{"project_id": projectID, "name": name, "kind": kind}})
	})
	if err != nil {
		return nil, fmt.Errorf("create dataset: %w", err)
	}
	return d, nil
}

const datasetCols = `id, org_id, project_id, name, kind, description, created_by, created_at, updated_at`

func scanDataset(row interface{ Scan(...any) error }) (*Dataset, error) {
	var d Dataset
	var kind, created, updated string
	if err := row.Scan(&d.ID, &d.OrgID, &d.ProjectID, &d.Name, &kind, &d.Description, &d.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	d.Kind = Kind(kind)
	d.CreatedAt, _ = store.ParseTime(created)
	d.UpdatedAt, _ = store.ParseTime(updated)
	return &d, nil
}

// Get returns a dataset of the organisation.
func (s *Service) Get(ctx context.Context, orgID, id string) (*Dataset, error) {
	row := s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT `+datasetCols+` FROM datasets WHERE id = ? AND org_id = ?`), id, orgID)
	d, err := scanDataset(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("dataset %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get dataset: %w", err)
	}
	return d, nil
}

// List returns a project's datasets in id order, paginated.
func (s *Service) List(ctx context.Context, orgID, projectID string, limit int, cursor string) ([]*Dataset, string, error) {
	limit = store.ClampLimit(limit, 50)
	after, err := store.DecodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT `+datasetCols+` FROM datasets
		WHERE org_id = ? AND project_id = ? AND id > ? ORDER BY id LIMIT ?`), orgID, projectID, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list datasets: %w", err)
	}
	defer rows.Close()
	var out []*Dataset
	for rows.Next() {
		d, err := scanDataset(rows)
		if err != nil {
			return nil, "", fmt.Errorf("list datasets: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("list datasets: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = store.EncodeCursor(out[limit-1].ID)
	}
	return out, next, nil
}

// putBytes stores b in the blob store.
func (s *Service) putBytes(ctx context.Context, b []byte) (blob.Digest, error) {
	info, err := s.blobs.Put(ctx, bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	return info.Digest, nil
}

// ReadBlob returns the whole content of a (small) blob: extracted text,
// manifests, records.
func (s *Service) ReadBlob(ctx context.Context, d string) ([]byte, error) {
	rc, err := s.blobs.Get(ctx, blob.Digest(d))
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// Blobs returns the object store the service writes to.
func (s *Service) Blobs() blob.Store { return s.blobs }

func jsonText(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
