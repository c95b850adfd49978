package rag

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/store"
)

// Auditor appends audit records inside a transaction.
type Auditor interface {
	Append(ctx context.Context, tx *sql.Tx, e audit.Entry) error
}

// Service manages an organisation's indexes: their rows in the metadata
// database and their data under Dir/<index id>/.
type Service struct {
	DB       *store.DB
	Datasets *dataset.Service
	Audit    Auditor
	Dir      string                      // DATA/indexes
	Lookup   func(string) (string, bool) // server environment, for embedding API keys
	mu       sync.Mutex
	open     map[string]*Index // each index's current version (upserts write it)
	snaps    map[string]*Index // "id@version": older versions opened for pinned searches
}

// IndexSpec is the body of POST /v1/projects/{project_id}/indexes.
type IndexSpec struct {
	Name      string         `json:"name" minLength:"1" maxLength:"128" pattern:"^[A-Za-z0-9][A-Za-z0-9._-]*$"`
	DatasetID string         `json:"dataset_id,omitempty" maxLength:"64" doc:"Dataset the index follows (upsert without documents takes its latest version)."`
	Chunking  ChunkConfig    `json:"chunking,omitempty" doc:"Token budgets: child_tokens 128, parent_tokens 512, overlap 16 by default."`
	Embedding *EmbeddingSpec `json:"embedding,omitempty" doc:"Without one the index is BM25-only."`
	BM25      BM25Config     `json:"bm25,omitempty" doc:"BM25 k1 (default 1.2) and b (default 0.75); language, the analyzer (Snowball stemmer and stop words), one of en de fr es it pt nl sv da no fi ru, or none (lowercasing only); English names such as german are accepted too. Default en."`
	Dense     DenseConfig    `json:"dense,omitempty" doc:"HNSW M 24, ef_construction 200, ef_search 256 by default."`
}

// IndexInfo describes an index.
type IndexInfo struct {
	ID             string        `json:"id"`
	ProjectID      string        `json:"project_id"`
	Name           string        `json:"name"`
	DatasetID      string        `json:"dataset_id,omitempty"`
	Mode           string        `json:"mode" doc:"hybrid, or bm25-only when created without an embedding model"`
	Embedding      EmbeddingSpec `json:"embedding"`
	Config         Config        `json:"config"`
	DatasetVersion string        `json:"dataset_version,omitempty"`
	PinnedVersion  int           `json:"pinned_version,omitempty" doc:"Searches answer from this index version (PATCH pinned_version; 0 unpins) while upserts go on building newer ones."`
	Versions       []int         `json:"versions,omitempty" doc:"Index versions kept on disk and searchable by version: the current, the previous and a pinned one."`
	Stats          *Stats        `json:"stats,omitempty"`
	LastUpsertAt   *time.Time    `json:"last_upsert_at,omitempty"`
	Freshness      *Freshness    `json:"freshness,omitempty" doc:"Upsert lag and staleness against the followed dataset."`
	CreatedAt      time.Time     `json:"created_at"`
	orgID          string
}

// Create registers an index and creates its empty first version.
func (s *Service) Create(ctx context.Context, orgID, actorID, projectID string, spec IndexSpec) (*IndexInfo, error) {
	var emb EmbeddingSpec
	if spec.Embedding != nil {
		emb = *spec.Embedding
	}
	e, err := NewEmbedder(emb, s.Lookup)
	if err != nil {
		return nil, &QueryError{"embedding", err.Error()}
	}
	rr, err := NewReranker(emb.Reranker)
	if err != nil {
		return nil, &QueryError{"embedding.reranker", err.Error()}
	}
	if spec.DatasetID != "" {
		if _, err := s.Datasets.Get(ctx, orgID, spec.DatasetID); err != nil {
			return nil, &QueryError{"dataset_id", "no such dataset"}
		}
	}
	id := store.NewID("idx_")
	cfg := Config{Chunking: spec.Chunking, BM25: spec.BM25, Dense: spec.Dense}
	x, err := Create(filepath.Join(s.Dir, id), cfg, e, rr)
	if err != nil {
		return nil, err
	}
	info := &IndexInfo{ID: id, ProjectID: projectID, Name: spec.Name, DatasetID: spec.DatasetID, Embedding: emb, Config: x.st.Config,
		CreatedAt: time.Now().UTC(), orgID: orgID}
	info.Mode = "bm25-only"
	if e != nil {
		info.Mode = "hybrid"
	}
	cj, _ := json.Marshal(info.Config)
	ej, _ := json.Marshal(emb)
	now := store.FormatTime(info.CreatedAt)
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.DB.Rebind(`INSERT INTO retrieval_indexes (id, org_id, project_id, name, dataset_id, config_json,
			embedding_json, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), id, orgID, projectID, spec.Name,
			spec.DatasetID, string(cj), string(ej), actorID, now, now)
		if store.IsUniqueViolation(err) {
			return fmt.Errorf("index %q already exists in the project: %w", spec.Name, store.ErrConflict)
		}
		if err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{OrgID: orgID, ActorID: actorID, Action: "index.create", TargetType: "index", TargetID: id,
			Payload: map[string]any{"project_id": projectID, "name": spec.Name, "mode": info.Mode}})
	})
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.open == nil {
		s.open = map[string]*Index{}
	}
	s.open[id] = x
	s.mu.Unlock()
	st := x.Stats()
	info.Stats = &st
	return info, nil
}

// Get returns an index of the organisation with its current statistics.
func (s *Service) Get(ctx context.Context, orgID, id string) (*IndexInfo, error) {
	var info IndexInfo
	var cj, ej, created string
	var last sql.NullString
	err := s.DB.SQL.QueryRowContext(ctx, s.DB.Rebind(`SELECT id, org_id, project_id, name, dataset_id, config_json, embedding_json,
		pinned_version, dataset_version, last_upsert_at, created_at FROM retrieval_indexes WHERE id = ? AND org_id = ?`), id, orgID).Scan(
		&info.ID, &info.orgID, &info.ProjectID, &info.Name, &info.DatasetID, &cj, &ej, &info.PinnedVersion, &info.DatasetVersion, &last, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("index %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	_ = json.Unmarshal([]byte(cj), &info.Config)
	_ = json.Unmarshal([]byte(ej), &info.Embedding)
	info.Mode = "bm25-only"
	if info.Embedding.Type != "" && info.Embedding.Type != "none" {
		info.Mode = "hybrid"
	}
	info.CreatedAt, _ = store.ParseTime(created)
	if last.Valid {
		t, _ := store.ParseTime(last.String)
		info.LastUpsertAt = &t
	}
	if x, err := s.index(&info); err == nil {
		st := x.Stats()
		info.Stats = &st
	}
	info.Versions = keptVersions(filepath.Join(s.Dir, info.ID))
	return &info, nil
}

// index opens (once) the index's current version, or its pinned version.
func (s *Service) index(info *IndexInfo) (*Index, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open == nil {
		s.open = map[string]*Index{}
	}
	if x, ok := s.open[info.ID]; ok {
		return x, nil
	}
	e, err := NewEmbedder(info.Embedding, s.Lookup)
	if err != nil {
		return nil, err
	}
	rr, err := NewReranker(info.Embedding.Reranker)
	if err != nil {
		return nil, err
	}
	x, err := Open(filepath.Join(s.Dir, info.ID), 0, e, rr)
	if err != nil {
		return nil, err
	}
	s.open[info.ID] = x
	return x, nil
}

// maxSnapshots bounds the older versions kept open for pinned searches.
const maxSnapshots = 16

// snapshot opens (once) a committed version of an index for searching.
func (s *Service) snapshot(info *IndexInfo, version int) (*Index, error) {
	cur, err := s.index(info)
	if err != nil {
		return nil, err
	}
	if cur.Stats().Version == version {
		return cur, nil
	}
	key := info.ID + "@" + strconv.Itoa(version)
	s.mu.Lock()
	x, ok := s.snaps[key]
	s.mu.Unlock()
	if ok {
		return x, nil
	}
	dir := filepath.Join(s.Dir, info.ID)
	if !slices.Contains(keptVersions(dir), version) {
		return nil, &QueryError{"version", fmt.Sprintf("index version %d is not kept (kept: %v; pin a version to keep it)", version, keptVersions(dir))}
	}
	x, err = Open(dir, version, cur.emb, cur.rr)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snaps == nil {
		s.snaps = map[string]*Index{}
	}
	if len(s.snaps) >= maxSnapshots {
		for k := range s.snaps {
			delete(s.snaps, k)
			break
		}
	}
	s.snaps[key] = x
	return x, nil
}

// Search runs a query on an index of the organisation: on version when it
// is > 0, else on the pinned version, else on the current one. The result
// says which version answered.
func (s *Service) Search(ctx context.Context, orgID, id string, q Query, version int) (*Result, *IndexInfo, error) {
	info, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, nil, err
	}
	if version <= 0 {
		version = info.PinnedVersion
	}
	var x *Index
	if version > 0 {
		x, err = s.snapshot(info, version)
	} else {
		x, err = s.index(info)
	}
	if err != nil {
		return nil, nil, err
	}
	res, err := x.SearchResult(ctx, q)
	return res, info, err
}

// Pin makes searches answer from an index version until it is unpinned
// (version 0); the version's snapshot is kept on disk while pinned.
func (s *Service) Pin(ctx context.Context, orgID, actorID, id string, version int) (*IndexInfo, error) {
	info, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(s.Dir, info.ID)
	if version > 0 {
		if _, err := s.snapshot(info, version); err != nil {
			return nil, fmt.Errorf("pin: %w", err)
		}
	}
	if err := writePinned(dir, version); err != nil {
		return nil, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.DB.Rebind(`UPDATE retrieval_indexes SET pinned_version = ?, updated_at = ? WHERE id = ?`),
			version, store.FormatTime(time.Now().UTC()), id); err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{OrgID: orgID, ActorID: actorID, Action: "index.pin", TargetType: "index", TargetID: id,
			Payload: map[string]any{"pinned_version": version}})
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, orgID, id)
}

// UpsertResult is what an upsert did.
type UpsertResult struct {
	Version        int     `json:"version"`
	Documents      int     `json:"documents" doc:"Documents chunked and indexed by this upsert (new or changed)."`
	Unchanged      int     `json:"unchanged,omitempty" doc:"Dataset documents the index already held unchanged (skipped)."`
	Deleted        int     `json:"deleted,omitempty" doc:"Documents removed: named in delete, or no longer in the dataset version."`
	Chunks         int     `json:"chunks"`
	DatasetVersion string  `json:"dataset_version,omitempty"`
	LagSeconds     float64 `json:"lag_seconds"`
}

// UpsertDataset indexes a dataset version (the latest when ref is empty):
// documents that are new or changed since the index last followed the
// dataset are upserted, documents no longer in the version are deleted.
func (s *Service) UpsertDataset(ctx context.Context, orgID, id, datasetID, ref string, progress func(float64, string)) (*UpsertResult, error) {
	info, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if datasetID == "" {
		datasetID = info.DatasetID
	}
	if datasetID == "" {
		return nil, &QueryError{"dataset_id", "the index follows no dataset; pass dataset_id or documents"}
	}
	v, err := s.Datasets.GetVersion(ctx, orgID, datasetID, ref)
	if err != nil {
		return nil, err
	}
	m, err := s.Datasets.Manifest(ctx, v)
	if err != nil {
		return nil, err
	}
	x, err := s.index(info)
	if err != nil {
		return nil, err
	}
	meta := map[string]map[string]any{}
	if err := s.Datasets.ActiveDocuments(ctx, datasetID, func(d *dataset.Document) error {
		meta[d.Fingerprint] = d.Metadata
		return nil
	}); err != nil {
		return nil, err
	}
	keep := map[string]bool{}
	var docs []Doc
	for i, it := range m.Items {
		keep[it.ID] = true
		b, err := s.Datasets.ReadBlob(ctx, it.Digest)
		if err != nil {
			return nil, err
		}
		md := meta[it.ID]
		if md == nil {
			md = map[string]any{}
		}
		text := string(b)
		src, _ := md["source_uri"].(string)
		docs = append(docs, Doc{ID: it.ID, Text: text, Source: src, Metadata: flatMeta(md), Sections: anchorSections(text, md["sections"])})
		if progress != nil && i%32 == 0 {
			progress(0.05+0.15*float64(i)/float64(len(m.Items)), "loading documents")
		}
	}
	var stale []string
	x.mu.RLock()
	for docID := range x.st.DocOrds {
		if !keep[docID] {
			stale = append(stale, docID)
		}
	}
	x.mu.RUnlock()
	if progress != nil {
		progress(0.2, "chunking and embedding")
	}
	// A delta: documents the index already holds as they are in this
	// version are not chunked, embedded or written again; removals and
	// changes commit as one index version.
	changed, unchanged := x.Changed(docs)
	ver := x.Stats().Version
	if len(changed) > 0 || len(stale) > 0 {
		if ver, err = x.Replace(ctx, changed, stale); err != nil {
			return nil, err
		}
	}
	now := time.Now().UTC()
	indexedAt := now
	if datasetID == info.DatasetID && v.Version == info.DatasetVersion && info.LastUpsertAt != nil {
		indexedAt = *info.LastUpsertAt
		// The version was indexed before: last_upsert_at keeps the end of
		// the upsert that first indexed it, so the upsert lag measures how
		// long the version waited, not when it was last re-read.
		_, err = s.DB.SQL.ExecContext(ctx, s.DB.Rebind(`UPDATE retrieval_indexes SET updated_at = ? WHERE id = ?`), store.FormatTime(now), id)
	} else {
		_, err = s.DB.SQL.ExecContext(ctx, s.DB.Rebind(`UPDATE retrieval_indexes SET dataset_id = ?, dataset_version = ?, last_upsert_at = ?, updated_at = ? WHERE id = ?`),
			datasetID, v.Version, store.FormatTime(now), store.FormatTime(now), id)
	}
	if err != nil {
		return nil, err
	}
	st := x.Stats()
	return &UpsertResult{Version: ver, Documents: len(changed), Unchanged: unchanged, Deleted: len(stale), Chunks: st.Chunks, DatasetVersion: v.Version,
		LagSeconds: max(0, indexedAt.Sub(v.CreatedAt).Seconds())}, nil
}

// UpsertDocs indexes documents given directly and deletes the documents
// with ids del, in one new version.
func (s *Service) UpsertDocs(ctx context.Context, orgID, id string, docs []Doc, del []string) (*UpsertResult, error) {
	info, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	x, err := s.index(info)
	if err != nil {
		return nil, err
	}
	deleted := 0
	x.mu.RLock()
	for _, d := range del {
		if _, ok := x.st.DocOrds[d]; ok {
			deleted++
		}
	}
	x.mu.RUnlock()
	ver, err := x.Replace(ctx, docs, del)
	if err != nil {
		return nil, err
	}
	now := store.FormatTime(time.Now().UTC())
	if info.DatasetVersion == "" {
		s.DB.SQL.ExecContext(ctx, s.DB.Rebind(`UPDATE retrieval_indexes SET last_upsert_at = ?, updated_at = ? WHERE id = ?`), now, now, id)
	} else {
		// An index that follows a dataset keeps last_upsert_at for the
		// dataset version it indexed (see UpsertDataset).
		s.DB.SQL.ExecContext(ctx, s.DB.Rebind(`UPDATE retrieval_indexes SET updated_at = ? WHERE id = ?`), now, id)
	}
	return &UpsertResult{Version: ver, Documents: len(docs), Deleted: deleted, Chunks: x.Stats().Chunks}, nil
}

// flatMeta keeps the scalar metadata fields a filter can use.
func flatMeta(md map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range md {
		switch v.(type) {
		case string, float64, bool, int, int64, json.Number:
			out[k] = v
		}
	}
	return out
}

// anchorSections re-finds the extracted sections' headings in the processed
// text (redaction and normalisation move offsets), in order; sections whose
// heading cannot be found merge into the previous one.
func anchorSections(text string, raw any) []Section {
	list, ok := raw.([]any)
	if !ok || len(list) == 0 {
		return nil
	}
	var out []Section
	pos := 0
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		var path []string
		if ps, ok := m["path"].([]any); ok {
			for _, p := range ps {
				if s, ok := p.(string); ok {
					path = append(path, s)
				}
			}
		}
		start := pos
		if len(path) > 0 {
			head := path[len(path)-1]
			i := strings.Index(text[pos:], head)
			if i < 0 {
				continue
			}
			start = pos + i
			// Include a Markdown heading marker before the heading text.
			for start > 0 && (text[start-1] == '#' || text[start-1] == ' ') {
				start--
			}
		}
		if len(out) > 0 {
			out[len(out)-1].End = start
		} else if start > 0 {
			out = append(out, Section{Start: 0, End: start})
		}
		out = append(out, Section{Path: path, Start: start, End: len(text)})
		pos = min(len(text), start+1)
	}
	var clean []Section
	for _, s := range out {
		if s.End > s.Start {
			clean = append(clean, s)
		}
	}
	return clean
}

// List returns a project's indexes.
func (s *Service) List(ctx context.Context, orgID, projectID string) ([]*IndexInfo, error) {
	rows, err := s.DB.SQL.QueryContext(ctx, s.DB.Rebind(`SELECT id FROM retrieval_indexes WHERE org_id = ? AND project_id = ? ORDER BY id`), orgID, projectID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	out := make([]*IndexInfo, 0, len(ids))
	for _, id := range ids {
		info, err := s.Get(ctx, orgID, id)
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}
