package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/extract"
	"github.com/whet-dev/whet/internal/normalize"
	"github.com/whet-dev/whet/internal/store"
)

// Ingester extracts files and adds them to datasets.
type Ingester struct {
	DB       *store.DB
	Audit    dataset.Auditor
	Datasets *dataset.Service
	Lang     *normalize.LanguageDetector
	Limits   extract.Limits
	Now      func() time.Time
	// SecretKey keys consistent pseudonyms (WHET_SECRET_KEY); without it
	// the pseudonym mode is refused rather than using a guessable key.
	SecretKey []byte
}

// NewIngester returns an Ingester with the default extraction limits.
func NewIngester(db *store.DB, a dataset.Auditor, ds *dataset.Service) (*Ingester, error) {
	det, err := normalize.NewLanguageDetector()
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	return &Ingester{DB: db, Audit: a, Datasets: ds, Lang: det, Now: time.Now}, nil
}

// Source describes where a batch of files comes from.
type Source struct {
	ID        string // registered source id; "" for uploads
	Type      string // upload, folder, http, postgres, mysql, s3
	URI       string // the source's root (folder path, base URL, bucket/prefix, redacted DSN)
	AccessTag string // access-policy tag stamped on every document (default "internal")
	Author    string // default author when the file names none
	Mapping   extract.Mapping
}

// FileResult is the outcome for one file (or one row of a tabular file).
type FileResult struct {
	Name       string              `json:"name"`
	Status     string              `json:"status"` // added, revised, unchanged, duplicate, error
	DocumentID string              `json:"document_id,omitempty"`
	Records    int                 `json:"records,omitempty"`
	Error      string              `json:"error,omitempty"`
	LineErrors []dataset.LineError `json:"line_errors,omitempty"`
}

// Summary counts the outcomes of a batch.
type Summary struct {
	Files     int            `json:"files"`
	Added     int            `json:"added"`
	Revised   int            `json:"revised"`
	Unchanged int            `json:"unchanged"`
	Duplicate int            `json:"duplicate"`
	Errors    int            `json:"errors"`
	Records   int            `json:"records"`
	Results   []FileResult   `json:"results"`
	ByFormat  map[string]int `json:"by_format,omitempty"`
}

// Add folds one result into the summary.
func (s *Summary) Add(r FileResult) {
	s.Files++
	switch r.Status {
	case string(dataset.Added):
		s.Added++
	case string(dataset.Revised):
		s.Revised++
	case string(dataset.Unchanged):
		s.Unchanged++
	case string(dataset.Duplicate):
		s.Duplicate++
	case "error":
		s.Errors++
	}
	s.Records += r.Records
	s.Results = append(s.Results, r)
}

// readBounded reads at most max bytes of r, failing with extract.ErrTooLarge
// beyond that without buffering the excess.
func readBounded(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", extract.ErrTooLarge, max)
	}
	return b, nil
}

func (in *Ingester) maxBytes() int64 {
	if in.Limits.MaxBytes > 0 {
		return in.Limits.MaxBytes
	}
	return extract.DefaultMaxBytes
}

// IngestFile reads one file and adds it to the dataset. key is the file's
// stable identity within its source (relative path, object key, URL); size,
// when known (≥ 0), lets an oversized file be refused without reading it.
// A documents dataset gets one document per file, or one per row/conversation
// for tabular files and chat logs; a record dataset (instruction, preference,
// chat) imports JSONL lines as records with per-line validation errors.
func (in *Ingester) IngestFile(ctx context.Context, orgID string, ds *dataset.Dataset, src Source, key string, size int64, modTime time.Time, r io.Reader) []FileResult {
	name := path.Base(key)
	fail := func(err error) []FileResult {
		return []FileResult{{Name: key, Status: "error", Error: err.Error()}}
	}
	if size > in.maxBytes() {
		return fail(&extract.FileError{Name: key, Err: fmt.Errorf("%w: %d bytes (limit %d)", extract.ErrTooLarge, size, in.maxBytes())})
	}
	raw, err := readBounded(r, in.maxBytes())
	if err != nil {
		return fail(&extract.FileError{Name: key, Err: err})
	}
	if ds.Kind != dataset.KindDocuments {
		return in.importRecords(ctx, orgID, ds, src, key, raw)
	}
	info, err := in.Datasets.Blobs().Put(ctx, bytes.NewReader(raw))
	if err != nil {
		return fail(fmt.Errorf("store %s: %w", key, err))
	}
	doc, err := extract.ExtractWith(ctx, name, "", bytes.NewReader(raw), extract.Options{Limits: in.Limits, Mapping: src.Mapping})
	if err != nil {
		return fail(err)
	}
	base := in.baseMetadata(src, key, doc, modTime)
	base["size"] = len(raw)
	if len(doc.Records) > 0 {
		// Tabular files and chat logs: one document per row or conversation.
		var out []FileResult
		for i, rec := range doc.Records {
			id := rec.ID
			if id == "" {
				id = fmt.Sprint(i + 1)
			}
			meta := cloneMeta(base)
			for k, v := range rec.Metadata {
				meta[k] = v
			}
			meta["record"] = id
			text := strings.TrimSpace(rec.Text)
			if text == "" {
				continue
			}
			meta["language"] = in.Lang.Detect(text).Code
			out = append(out, in.add(ctx, orgID, ds, src, key+"#"+id, key, string(info.Digest), string(doc.Format), int64(len(raw)), text, meta))
		}
		if len(out) == 0 {
			return fail(&extract.FileError{Name: key, Err: errors.New("no rows with text")})
		}
		return out
	}
	if strings.TrimSpace(doc.Text) == "" {
		return fail(&extract.FileError{Name: key, Err: errors.New("no text could be extracted")})
	}
	base["language"] = in.Lang.Detect(doc.Text).Code
	if len(doc.Sections) > 0 {
		secs := make([]map[string]any, 0, len(doc.Sections))
		for _, s := range doc.Sections {
			secs = append(secs, map[string]any{"path": s.Path, "start": s.Start, "end": s.End, "page": s.Page})
		}
		base["sections"] = secs
	}
	if len(doc.Pages) > 0 {
		base["pages"] = len(doc.Pages)
	}
	if doc.InvalidUTF8 > 0 {
		base["invalid_utf8"] = doc.InvalidUTF8
	}
	return []FileResult{in.add(ctx, orgID, ds, src, key, key, string(info.Digest), string(doc.Format), int64(len(raw)), doc.Text, base)}
}

func (in *Ingester) add(ctx context.Context, orgID string, ds *dataset.Dataset, src Source, key, uri, digest, format string, size int64, text string, meta map[string]any) FileResult {
	outcome, d, err := in.Datasets.AddDocument(ctx, orgID, ds.ID, dataset.DocInput{
		SourceID: src.ID, SourceKey: key, SourceURI: uri, ContentDigest: digest, ContentType: format, Size: size, Text: text, Metadata: meta,
	})
	if err != nil {
		return FileResult{Name: key, Status: "error", Error: err.Error()}
	}
	return FileResult{Name: key, Status: string(outcome), DocumentID: d.ID}
}

func (in *Ingester) baseMetadata(src Source, key string, doc *extract.Document, modTime time.Time) map[string]any {
	now := time.Now
	if in.Now != nil {
		now = in.Now
	}
	meta := map[string]any{
		"source_uri":   key,
		"source_type":  src.Type,
		"content_type": string(doc.Format),
		"ingested_at":  now().UTC().Format(time.RFC3339),
		"access_tag":   firstNonEmpty(src.AccessTag, "internal"),
	}
	if src.URI != "" {
		meta["source_root"] = src.URI
	}
	if doc.Title != "" {
		meta["title"] = doc.Title
	}
	for k, v := range doc.Metadata {
		if v != "" && k != "content_type" {
			meta[k] = v
		}
	}
	if _, ok := meta["author"]; !ok {
		meta["author"] = firstNonEmpty(src.Author, src.Type)
	}
	ts := modTime
	if m, ok := doc.Metadata["modified"]; ok {
		if t, err := time.Parse(time.RFC3339, m); err == nil {
			ts = t
		}
	}
	if !ts.IsZero() {
		meta["timestamp"] = ts.UTC().Format(time.RFC3339)
	} else {
		meta["timestamp"] = meta["ingested_at"]
	}
	return meta
}

func (in *Ingester) importRecords(ctx context.Context, orgID string, ds *dataset.Dataset, src Source, key string, raw []byte) []FileResult {
	var recs []dataset.Record
	res, err := dataset.Import(bytes.NewReader(raw), ds.Kind, dataset.ImportOptions{}, func(_ int, r dataset.Record) error {
		if r.Metadata == nil {
			r.Metadata = map[string]any{}
		}
		r.Metadata["source_uri"] = key
		recs = append(recs, r)
		return nil
	})
	fr := FileResult{Name: key}
	if res != nil {
		fr.LineErrors = res.Errors
	}
	if err != nil {
		fr.Status, fr.Error = "error", err.Error()
		return []FileResult{fr}
	}
	n, err := in.Datasets.AddRecords(ctx, orgID, ds.ID, src.ID, recs)
	if err != nil {
		fr.Status, fr.Error = "error", err.Error()
		return []FileResult{fr}
	}
	fr.Records = n
	fr.Status = string(dataset.Added)
	if n == 0 {
		fr.Status = string(dataset.Unchanged)
	}
	if len(recs) == 0 && len(res.Errors) > 0 {
		fr.Status, fr.Error = "error", fmt.Sprintf("no valid lines (%d invalid)", res.Rejected)
	}
	return []FileResult{fr}
}

func cloneMeta(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+4)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
