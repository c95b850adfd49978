package dataset

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/store"
)

// Version is one immutable dataset version.
type Version struct {
	ID             string          `json:"id"`
	DatasetID      string          `json:"dataset_id"`
	Version        string          `json:"version"`
	URI            string          `json:"uri"`
	LineageHash    string          `json:"lineage_hash"`
	ManifestDigest string          `json:"manifest_digest"`
	ParentID       string          `json:"parent_id,omitempty"`
	JobID          string          `json:"job_id,omitempty"`
	Items          int             `json:"items"`
	Stats          Stats           `json:"stats"`
	Report         json.RawMessage `json:"report,omitempty"`
	CreatedBy      string          `json:"created_by"`
	CreatedAt      time.Time       `json:"created_at"`
}

// NewVersion is what CreateVersion records.
type NewVersion struct {
	Manifest *Manifest
	Stats    Stats
	Report   any    // processing report (redaction, dedup, filters, errors), shown with the version
	Change   Change // how big a step from the latest version
	JobID    string
	ActorID  string
}

// CreateVersion stores the manifest in the blob store and records a new
// immutable version numbered after the latest one. If a version with the
// same lineage hash exists already, nothing is written and that version is
// returned with created=false: reprocessing the same content is idempotent.
func (s *Service) CreateVersion(ctx context.Context, orgID string, ds *Dataset, nv NewVersion) (v *Version, created bool, err error) {
	nv.Manifest.Kind = ds.Kind
	canon, err := nv.Manifest.Canonical()
	if err != nil {
		return nil, false, err
	}
	lineage, _ := nv.Manifest.LineageHash()
	digest, err := s.putBytes(ctx, canon)
	if err != nil {
		return nil, false, fmt.Errorf("store manifest: %w", err)
	}
	now := s.now().UTC()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var existing string
		err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT version FROM dataset_versions WHERE dataset_id = ? AND lineage_hash = ?`),
			ds.ID, lineage).Scan(&existing)
		if err == nil {
			created = false
			v = &Version{Version: existing}
			return nil
		}
		if !isNoRows(err) {
			return err
		}
		next := SemVer{1, 0, 0}
		var parentID string
		var maj, min, pat int
		err = tx.QueryRowContext(ctx, s.db.Rebind(`SELECT id, major, minor, patch FROM dataset_versions WHERE dataset_id = ?
			ORDER BY major DESC, minor DESC, patch DESC LIMIT 1`), ds.ID).Scan(&parentID, &maj, &min, &pat)
		if err == nil {
			next = SemVer{maj, min, pat}.Next(nv.Change)
		} else if !isNoRows(err) {
			return err
		}
		v = &Version{ID: store.NewID("dsv_"), DatasetID: ds.ID, Version: next.String(), LineageHash: lineage,
			ManifestDigest: string(digest), ParentID: parentID, JobID: nv.JobID, Items: len(nv.Manifest.Items),
			Stats: nv.Stats, CreatedBy: nv.ActorID, CreatedAt: now}
		report := jsonText(nv.Report)
		v.Report = json.RawMessage(report)
		_, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO dataset_versions (id, org_id, dataset_id, version, major, minor, patch,
			lineage_hash, manifest_digest, parent_id, job_id, item_count, stats_json, report_json, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), v.ID, orgID, ds.ID, v.Version, next.Major, next.Minor, next.Patch,
			lineage, string(digest), parentID, nv.JobID, v.Items, jsonText(nv.Stats), report, nv.ActorID, store.FormatTime(now))
		if err != nil {
			return err
		}
		created = true
		return s.audit.Append(ctx, tx, audit.Entry{OrgID: orgID, ActorID: nv.ActorID, Action: "dataset.version.create",
			TargetType: "dataset_version", TargetID: v.ID, Payload: map[string]any{"dataset_id": ds.ID, "version": v.Version,
				"lineage_hash": lineage, "items": v.Items, "job_id": nv.JobID}})
	})
	if err != nil {
		return nil, false, fmt.Errorf("create version: %w", err)
	}
	if !created {
		v, err = s.GetVersion(ctx, orgID, ds.ID, v.Version)
		return v, false, err
	}
	v.URI = s.uri(ctx, ds, v.Version)
	return v, true, nil
}

func (s *Service) uri(ctx context.Context, ds *Dataset, version string) string {
	var project string
	if err := s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT name FROM projects WHERE id = ?`), ds.ProjectID).Scan(&project); err != nil {
		project = ds.ProjectID
	}
	return URI{Project: project, Name: ds.Name, Version: version}.String()
}

const versionCols = `id, dataset_id, version, lineage_hash, manifest_digest, parent_id, job_id, item_count, stats_json, report_json, created_by, created_at`

func scanVersion(row interface{ Scan(...any) error }) (*Version, error) {
	var v Version
	var stats, report, created string
	if err := row.Scan(&v.ID, &v.DatasetID, &v.Version, &v.LineageHash, &v.ManifestDigest, &v.ParentID, &v.JobID, &v.Items,
		&stats, &report, &v.CreatedBy, &created); err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(stats), &v.Stats)
	v.Report = json.RawMessage(report)
	v.CreatedAt, _ = store.ParseTime(created)
	return &v, nil
}

// ListVersions returns a dataset's versions, newest first.
func (s *Service) ListVersions(ctx context.Context, orgID, datasetID string) ([]*Version, error) {
	ds, err := s.Get(ctx, orgID, datasetID)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT `+versionCols+` FROM dataset_versions WHERE dataset_id = ?
		ORDER BY major DESC, minor DESC, patch DESC`), ds.ID)
	if err != nil {
		return nil, fmt.Errorf("list versions: %w", err)
	}
	defer rows.Close()
	var out []*Version
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, fmt.Errorf("list versions: %w", err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, v := range out {
		v.URI = s.uri(ctx, ds, v.Version)
	}
	return out, nil
}

// GetVersion resolves ref — a semantic version ("1.2.0"), a lineage hash
// ("sha256:…") or "latest" — to a version of the dataset.
func (s *Service) GetVersion(ctx context.Context, orgID, datasetID, ref string) (*Version, error) {
	ds, err := s.Get(ctx, orgID, datasetID)
	if err != nil {
		return nil, err
	}
	var row *sql.Row
	switch {
	case ref == "" || ref == "latest":
		row = s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT `+versionCols+` FROM dataset_versions WHERE dataset_id = ?
			ORDER BY major DESC, minor DESC, patch DESC LIMIT 1`), ds.ID)
	case strings.HasPrefix(ref, "sha256:"):
		row = s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT `+versionCols+` FROM dataset_versions WHERE dataset_id = ? AND lineage_hash = ?`), ds.ID, ref)
	default:
		sv, err := ParseSemVer(ref)
		if err != nil {
			return nil, err
		}
		row = s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT `+versionCols+` FROM dataset_versions WHERE dataset_id = ? AND version = ?`), ds.ID, sv.String())
	}
	v, err := scanVersion(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("dataset %s version %q: %w", datasetID, ref, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get version: %w", err)
	}
	v.URI = s.uri(ctx, ds, v.Version)
	return v, nil
}

// Manifest loads a version's manifest from the blob store.
func (s *Service) Manifest(ctx context.Context, v *Version) (*Manifest, error) {
	b, err := s.ReadBlob(ctx, v.ManifestDigest)
	if err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("load manifest: %w", err)
	}
	return &m, nil
}

// ExportLine is one line of a documents export.
type ExportLine struct {
	ID       string         `json:"id"`
	Text     string         `json:"text"`
	Metadata map[string]any `json:"metadata"`
}

// Export streams a version as JSONL: for a documents dataset one
// {"id","text","metadata"} object per document, for record datasets the
// records themselves. Items are read from the blob store by digest, so the
// export is exactly the version's content whatever happened since.
func (s *Service) Export(ctx context.Context, orgID, datasetID, ref string, w io.Writer) (int, error) {
	ds, err := s.Get(ctx, orgID, datasetID)
	if err != nil {
		return 0, err
	}
	v, err := s.GetVersion(ctx, orgID, datasetID, ref)
	if err != nil {
		return 0, err
	}
	m, err := s.Manifest(ctx, v)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	n := 0
	for _, it := range m.Items {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		b, err := s.ReadBlob(ctx, it.Digest)
		if err != nil {
			return n, fmt.Errorf("export item %s: %w", it.ID, err)
		}
		if ds.Kind == KindDocuments {
			line := ExportLine{ID: it.ID, Text: string(b), Metadata: map[string]any{}}
			var meta string
			err := s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT metadata_json FROM documents WHERE dataset_id = ? AND fingerprint = ?`),
				ds.ID, it.ID).Scan(&meta)
			if err == nil {
				_ = json.Unmarshal([]byte(meta), &line.Metadata)
			}
			if it.Split != "" {
				line.Metadata["split"] = it.Split
			}
			if err := enc.Encode(line); err != nil {
				return n, err
			}
		} else {
			bw.Write(b)
			bw.WriteByte('\n')
		}
		n++
	}
	return n, bw.Flush()
}

// LineageGraph is a version's provenance: its sources, its processing and
// the versions it derives from, recursively.
type LineageGraph struct {
	Nodes []LineageNode `json:"nodes"`
	Edges []LineageEdge `json:"edges"`
}

// LineageNode is a version, a source or a processing step.
type LineageNode struct {
	ID    string         `json:"id"`
	Type  string         `json:"type"` // dataset_version, source, processing
	Label string         `json:"label"`
	Attrs map[string]any `json:"attrs,omitempty"`
}

// LineageEdge says From was used to make To.
type LineageEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	Type string `json:"type"` // derived_from, ingested_from, processed_by
}

// Lineage builds the lineage graph of a version, following parents (by
// lineage hash, within the organisation) up to depth levels.
func (s *Service) Lineage(ctx context.Context, orgID, datasetID, ref string) (*LineageGraph, error) {
	v, err := s.GetVersion(ctx, orgID, datasetID, ref)
	if err != nil {
		return nil, err
	}
	g := &LineageGraph{}
	seen := map[string]bool{}
	var walk func(v *Version, depth int) error
	walk = func(v *Version, depth int) error {
		node := "version:" + v.LineageHash
		if seen[node] {
			return nil
		}
		seen[node] = true
		g.Nodes = append(g.Nodes, LineageNode{ID: node, Type: "dataset_version", Label: v.URI,
			Attrs: map[string]any{"id": v.ID, "dataset_id": v.DatasetID, "version": v.Version, "lineage_hash": v.LineageHash, "items": v.Items}})
		m, err := s.Manifest(ctx, v)
		if err != nil {
			return err
		}
		proc := "processing:" + v.LineageHash
		var procCfg any
		_ = json.Unmarshal(m.Processing, &procCfg)
		g.Nodes = append(g.Nodes, LineageNode{ID: proc, Type: "processing", Label: "processing", Attrs: map[string]any{"config": procCfg, "weak_labels": m.WeakLabels}})
		g.Edges = append(g.Edges, LineageEdge{From: proc, To: node, Type: "processed_by"})
		for _, src := range m.Sources {
			id := "source:" + src.ID
			if !seen[id] {
				seen[id] = true
				g.Nodes = append(g.Nodes, LineageNode{ID: id, Type: "source", Label: src.URI, Attrs: map[string]any{"type": src.Type, "hash": src.Hash}})
			}
			g.Edges = append(g.Edges, LineageEdge{From: id, To: proc, Type: "ingested_from"})
		}
		if depth >= 16 {
			return nil
		}
		for _, ph := range m.Parents {
			pv, err := s.versionByHash(ctx, orgID, ph)
			if err != nil {
				g.Nodes = append(g.Nodes, LineageNode{ID: "version:" + ph, Type: "dataset_version", Label: ph})
				g.Edges = append(g.Edges, LineageEdge{From: "version:" + ph, To: node, Type: "derived_from"})
				continue
			}
			g.Edges = append(g.Edges, LineageEdge{From: "version:" + ph, To: node, Type: "derived_from"})
			if err := walk(pv, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(v, 0); err != nil {
		return nil, fmt.Errorf("lineage: %w", err)
	}
	return g, nil
}

func (s *Service) versionByHash(ctx context.Context, orgID, hash string) (*Version, error) {
	row := s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT `+versionCols+` FROM dataset_versions WHERE org_id = ? AND lineage_hash = ? LIMIT 1`), orgID, hash)
	v, err := scanVersion(row)
	if err != nil {
		return nil, err
	}
	ds, err := s.Get(ctx, orgID, v.DatasetID)
	if err == nil {
		v.URI = s.uri(ctx, ds, v.Version)
	}
	return v, nil
}
