package dataset

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/whet-dev/whet/internal/dedup"
	"github.com/whet-dev/whet/internal/store"
)

// DocInput is one extracted document to add to a dataset.
type DocInput struct {
	SourceID      string         // registered source, or "" for uploads
	SourceKey     string         // stable identity within the source (path, object key, row id, URL)
	SourceURI     string         // where it came from (for uploads, the file name)
	ContentDigest string         // blob digest of the raw bytes
	ContentType   string         // detected content type
	Size          int64          // raw size in bytes
	Text          string         // extracted, normalised text
	Metadata      map[string]any // source, author, timestamps, access tag, language, sections, …
}

// AddOutcome says what AddDocument did.
type AddOutcome string

// The outcomes of AddDocument.
const (
	Added     AddOutcome = "added"     // a new document
	Revised   AddOutcome = "revised"   // a new revision of a known source key
	Unchanged AddOutcome = "unchanged" // the same content under the same key: nothing written
	Duplicate AddOutcome = "duplicate" // the same content already exists under another key
)

// Document is one stored document revision.
type Document struct {
	ID            string         `json:"id"`
	DatasetID     string         `json:"dataset_id"`
	SourceID      string         `json:"source_id,omitempty"`
	SourceKey     string         `json:"source_key"`
	SourceURI     string         `json:"source_uri"`
	Fingerprint   string         `json:"fingerprint"`
	Revision      int            `json:"revision"`
	ContentDigest string         `json:"content_digest"`
	TextDigest    string         `json:"text_digest"`
	ContentType   string         `json:"content_type"`
	Size          int64          `json:"size"`
	Metadata      map[string]any `json:"metadata"`
	Status        string         `json:"status"`
}

// AddDocument stores a document's text and records it, exactly once per
// fingerprint (SHA-256 of the normalised text) in the dataset: the unique
// index makes concurrent syncs and a sync re-run after a crash converge on
// one row. A changed document under a known key becomes a new revision and
// supersedes the old one.
func (s *Service) AddDocument(ctx context.Context, orgID, datasetID string, in DocInput) (AddOutcome, *Document, error) {
	fp := dedup.Fingerprint(in.Text)
	textDigest, err := s.putBytes(ctx, []byte(in.Text))
	if err != nil {
		return "", nil, fmt.Errorf("add document: store text: %w", err)
	}
	now := store.FormatTime(s.now().UTC())
	doc := &Document{ID: store.NewID("doc_"), DatasetID: datasetID, SourceID: in.SourceID, SourceKey: in.SourceKey,
		SourceURI: in.SourceURI, Fingerprint: fp, ContentDigest: in.ContentDigest, TextDigest: string(textDigest),
		ContentType: in.ContentType, Size: in.Size, Metadata: in.Metadata, Status: "active"}
	var outcome AddOutcome
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var existingID, existingKey, existingStatus string
		err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT id, source_key, status FROM documents WHERE dataset_id = ? AND fingerprint = ?`),
			datasetID, fp).Scan(&existingID, &existingKey, &existingStatus)
		switch {
		case err == nil && existingKey == in.SourceKey && existingStatus == "active":
			outcome, doc.ID = Unchanged, existingID
			return nil
		case err == nil && existingKey != in.SourceKey && existingStatus == "active":
			outcome, doc.ID = Duplicate, existingID
			return nil
		case err != nil && !isNoRows(err):
			return err
		}
		var prevID string
		var prevRev int
		err2 := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT id, revision FROM documents
			WHERE dataset_id = ? AND source_key = ? AND status = 'active'`), datasetID, in.SourceKey).Scan(&prevID, &prevRev)
		if err2 != nil && !isNoRows(err2) {
			return err2
		}
		if prevID != "" {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE documents SET status = 'superseded', updated_at = ? WHERE id = ?`), now, prevID); err != nil {
				return err
			}
		}
		var maxRev sql.NullInt64
		if err := tx.QueryRowContext(ctx, s.db.Rebind(`SELECT MAX(revision) FROM documents WHERE dataset_id = ? AND source_key = ?`),
			datasetID, in.SourceKey).Scan(&maxRev); err != nil {
			return err
		}
		doc.Revision = int(maxRev.Int64) + 1
		outcome = Added
		if prevID != "" {
			outcome = Revised
		}
		if err == nil {
			// The same content was seen before under this dataset but is no
			// longer active (superseded or tombstoned): bring that row back
			// as the current revision instead of inserting a second one.
			doc.ID = existingID
			_, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE documents SET status = 'active', source_id = ?, source_key = ?,
				source_uri = ?, revision = ?, content_digest = ?, text_digest = ?, content_type = ?, size = ?, metadata_json = ?, updated_at = ?
				WHERE id = ?`), in.SourceID, in.SourceKey, in.SourceURI, doc.Revision, in.ContentDigest, doc.TextDigest,
				in.ContentType, in.Size, jsonText(in.Metadata), now, existingID)
			return err
		}
		_, err = tx.ExecContext(ctx, s.db.Rebind(`INSERT INTO documents (id, org_id, dataset_id, source_id, source_key, source_uri,
			fingerprint, revision, content_digest, text_digest, content_type, size, metadata_json, status, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)`), doc.ID, orgID, datasetID, in.SourceID, in.SourceKey,
			in.SourceURI, fp, doc.Revision, in.ContentDigest, doc.TextDigest, in.ContentType, in.Size, jsonText(in.Metadata), now, now)
		return err
	})
	if err != nil {
		if store.IsUniqueViolation(err) {
			// A concurrent sync inserted the same fingerprint first.
			return Duplicate, doc, nil
		}
		return "", nil, fmt.Errorf("add document: %w", err)
	}
	return outcome, doc, nil
}

// Tombstone marks every active document of a source whose key is not in
// seen as deleted, and returns how many it marked.
func (s *Service) Tombstone(ctx context.Context, datasetID, sourceID string, seen map[string]bool) (int, error) {
	var n int
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.db.Rebind(`SELECT id, source_key FROM documents
			WHERE dataset_id = ? AND source_id = ? AND status = 'active'`), datasetID, sourceID)
		if err != nil {
			return err
		}
		var gone []string
		for rows.Next() {
			var id, key string
			if err := rows.Scan(&id, &key); err != nil {
				rows.Close()
				return err
			}
			if !seen[key] {
				gone = append(gone, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		now := store.FormatTime(s.now().UTC())
		for _, id := range gone {
			if _, err := tx.ExecContext(ctx, s.db.Rebind(`UPDATE documents SET status = 'tombstoned', updated_at = ? WHERE id = ?`), now, id); err != nil {
				return err
			}
		}
		n = len(gone)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("tombstone documents: %w", err)
	}
	return n, nil
}

// TombstoneKeys marks the active documents of a source with the given keys
// (or rows of those keys, "key#row") as deleted, for delta connectors that
// report deletions.
func (s *Service) TombstoneKeys(ctx context.Context, datasetID, sourceID string, keys []string) (int, error) {
	gone := make(map[string]bool, len(keys))
	for _, k := range keys {
		gone[k] = true
	}
	keep := map[string]bool{}
	err := s.ActiveDocuments(ctx, datasetID, func(d *Document) error {
		base, _, _ := strings.Cut(d.SourceKey, "#")
		if d.SourceID == sourceID && !gone[d.SourceKey] && !gone[base] {
			keep[d.SourceKey] = true
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return s.Tombstone(ctx, datasetID, sourceID, keep)
}

// ActiveDocuments calls fn for every active document of the dataset in
// fingerprint order (a stable order, independent of ingestion order).
func (s *Service) ActiveDocuments(ctx context.Context, datasetID string, fn func(*Document) error) error {
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT id, source_id, source_key, source_uri, fingerprint, revision,
		content_digest, text_digest, content_type, size, metadata_json, status FROM documents
		WHERE dataset_id = ? AND status = 'active' ORDER BY fingerprint`), datasetID)
	if err != nil {
		return fmt.Errorf("list documents: %w", err)
	}
	defer rows.Close()
	var docs []*Document
	for rows.Next() {
		d := &Document{DatasetID: datasetID}
		var meta string
		if err := rows.Scan(&d.ID, &d.SourceID, &d.SourceKey, &d.SourceURI, &d.Fingerprint, &d.Revision, &d.ContentDigest,
			&d.TextDigest, &d.ContentType, &d.Size, &meta, &d.Status); err != nil {
			return fmt.Errorf("list documents: %w", err)
		}
		_ = json.Unmarshal([]byte(meta), &d.Metadata)
		docs = append(docs, d)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list documents: %w", err)
	}
	rows.Close()
	for _, d := range docs {
		if err := fn(d); err != nil {
			return err
		}
	}
	return nil
}

// AddRecords stores records (idempotent by digest) and returns how many were
// new.
func (s *Service) AddRecords(ctx context.Context, orgID, datasetID, sourceID string, recs []Record) (int, error) {
	now := store.FormatTime(s.now().UTC())
	added := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		added = 0
		ins := `INSERT INTO dataset_records (dataset_id, digest, org_id, record_key, data_json, source_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dataset_id, digest) DO NOTHING`
		stmt, err := tx.PrepareContext(ctx, s.db.Rebind(ins))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range recs {
			b, err := Canonical(&recs[i])
			if err != nil {
				return err
			}
			res, err := stmt.ExecContext(ctx, datasetID, recs[i].Digest(), orgID, recs[i].Key(), string(b), sourceID, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added++
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("add records: %w", err)
	}
	return added, nil
}

// Records calls fn for every record of the dataset in digest order.
func (s *Service) Records(ctx context.Context, datasetID string, fn func(digest string, r Record) error) error {
	rows, err := s.db.SQL.QueryContext(ctx, s.db.Rebind(`SELECT digest, data_json FROM dataset_records WHERE dataset_id = ? ORDER BY digest`), datasetID)
	if err != nil {
		return fmt.Errorf("list records: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var digest, data string
		if err := rows.Scan(&digest, &data); err != nil {
			return fmt.Errorf("list records: %w", err)
		}
		var r Record
		dec := json.NewDecoder(strings.NewReader(data))
		dec.UseNumber()
		if err := dec.Decode(&r); err != nil {
			return fmt.Errorf("record %s: %w", digest, err)
		}
		if err := fn(digest, r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Move is a document found again under a new key in the same source.
type Move struct {
	DocumentID string // the existing document with the same fingerprint
	NewKey     string // the key it was found under in this sync
}

// MoveRenamed re-points documents of a source to the key they were found
// under in this sync when their old key is gone (gone reports it): a file
// renamed or moved without a content change keeps its document instead of
// being tombstoned as a vanished key while its new key counts as a duplicate.
// It returns how many documents moved.
func (s *Service) MoveRenamed(ctx context.Context, datasetID, sourceID string, moves []Move, gone func(oldKey string) bool) (int, error) {
	n := 0
	for _, m := range moves {
		var oldKey, srcID string
		err := s.db.SQL.QueryRowContext(ctx, s.db.Rebind(`SELECT source_key, source_id FROM documents WHERE id = ? AND dataset_id = ? AND status = 'active'`),
			m.DocumentID, datasetID).Scan(&oldKey, &srcID)
		if isNoRows(err) {
			continue
		}
		if err != nil {
			return n, fmt.Errorf("move renamed: %w", err)
		}
		if srcID != sourceID || oldKey == m.NewKey || !gone(oldKey) {
			continue
		}
		now := store.FormatTime(s.now().UTC())
		if _, err := s.db.SQL.ExecContext(ctx, s.db.Rebind(`UPDATE documents SET source_key = ?, source_uri = ?, updated_at = ? WHERE id = ?`),
			m.NewKey, m.NewKey, now, m.DocumentID); err != nil {
			return n, fmt.Errorf("move renamed: %w", err)
		}
		n++
	}
	return n, nil
}
