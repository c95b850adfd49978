package rag

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/whet-dev/whet/internal/store"
)

// Freshness says how far an index trails the dataset it follows.
type Freshness struct {
	DatasetID      string `json:"dataset_id,omitempty"`
	IndexedVersion string `json:"indexed_version,omitempty" doc:"Dataset version of the last upsert."`
	LatestVersion  string `json:"latest_version,omitempty" doc:"Newest version of the dataset."`
	// UpsertLagSeconds is the time from the indexed dataset version's
	// creation to the end of the upsert that indexed it.
	UpsertLagSeconds float64 `json:"upsert_lag_seconds"`
	// StalenessSeconds is how long the oldest dataset version the index
	// has not indexed yet has existed; 0 when the index is current.
	StalenessSeconds float64    `json:"staleness_seconds"`
	LastUpsertAt     *time.Time `json:"last_upsert_at,omitempty"`
}

// IndexFreshness is one index's freshness, for metrics.
type IndexFreshness struct {
	IndexID   string
	OrgID     string
	ProjectID string
	Freshness
}

// freshness computes an index's freshness from its dataset's versions.
func (s *Service) freshness(ctx context.Context, orgID, datasetID, indexed string, last *time.Time, now time.Time) (*Freshness, error) {
	f := &Freshness{DatasetID: datasetID, IndexedVersion: indexed, LastUpsertAt: last}
	if datasetID == "" || s.Datasets == nil {
		return f, nil
	}
	vs, err := s.Datasets.ListVersions(ctx, orgID, datasetID)
	if err != nil {
		return nil, err
	}
	var at time.Time // creation of the indexed version
	found := false
	for _, v := range vs {
		if v.Version == indexed {
			at, found = v.CreatedAt, true
		}
	}
	var latest, oldestNew time.Time
	for _, v := range vs {
		if v.CreatedAt.After(latest) || f.LatestVersion == "" {
			latest, f.LatestVersion = v.CreatedAt, v.Version
		}
		if v.Version == indexed || (found && !v.CreatedAt.After(at)) {
			continue
		}
		if oldestNew.IsZero() || v.CreatedAt.Before(oldestNew) {
			oldestNew = v.CreatedAt
		}
	}
	if found && last != nil {
		f.UpsertLagSeconds = max(0, last.Sub(at).Seconds())
	}
	if !oldestNew.IsZero() {
		f.StalenessSeconds = max(0, now.Sub(oldestNew).Seconds())
	}
	return f, nil
}

// Freshness returns the freshness of an index of the organisation.
func (s *Service) Freshness(ctx context.Context, orgID, id string) (*Freshness, error) {
	var ds, ver string
	var last sql.NullString
	err := s.DB.SQL.QueryRowContext(ctx, s.DB.Rebind(`SELECT dataset_id, dataset_version, last_upsert_at FROM retrieval_indexes
		WHERE id = ? AND org_id = ?`), id, orgID).Scan(&ds, &ver, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("index %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return s.freshness(ctx, orgID, ds, ver, parseLast(last), time.Now())
}

// AllFreshness returns every index's freshness (all organisations), for the
// Prometheus collector. It reads only metadata; no index is opened.
func (s *Service) AllFreshness(ctx context.Context) ([]IndexFreshness, error) {
	rows, err := s.DB.SQL.QueryContext(ctx, `SELECT id, org_id, project_id, dataset_id, dataset_version, last_upsert_at FROM retrieval_indexes ORDER BY id`)
	if err != nil {
		return nil, err
	}
	type row struct {
		id, org, project, ds, ver string
		last                      sql.NullString
	}
	var list []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.org, &r.project, &r.ds, &r.ver, &r.last); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := time.Now()
	out := make([]IndexFreshness, 0, len(list))
	for _, r := range list {
		f, err := s.freshness(ctx, r.org, r.ds, r.ver, parseLast(r.last), now)
		if err != nil {
			// A deleted dataset: report the index with what is known.
			f = &Freshness{DatasetID: r.ds, IndexedVersion: r.ver, LastUpsertAt: parseLast(r.last)}
		}
		out = append(out, IndexFreshness{IndexID: r.id, OrgID: r.org, ProjectID: r.project, Freshness: *f})
	}
	return out, nil
}

func parseLast(s sql.NullString) *time.Time {
	if !s.Valid || s.String == "" {
		return nil
	}
	t, err := store.ParseTime(s.String)
	if err != nil {
		return nil
	}
	return &t
}
