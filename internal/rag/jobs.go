package rag

import (
	"context"
	"log/slog"

	"github.com/whet-dev/whet/internal/jobs"
)

// KindUpsert is the job kind of index upserts.
const KindUpsert = "index.upsert"

// UpsertPayload is an upsert job's payload: a dataset version, or documents.
type UpsertPayload struct {
	IndexID   string      `json:"index_id"`
	DatasetID string      `json:"dataset_id,omitempty"`
	Version   string      `json:"version,omitempty"`
	Documents []UpsertDoc `json:"documents,omitempty"`
	Delete    []string    `json:"delete,omitempty"`
}

// UpsertDoc is a document given directly to an upsert.
type UpsertDoc struct {
	ID       string         `json:"id" minLength:"1" maxLength:"512"`
	Text     string         `json:"text" minLength:"1"`
	Source   string         `json:"source,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
}

// RegisterJobs registers the upsert job kind.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Register(KindUpsert, func(ctx context.Context, r *jobs.Run) error {
		var p UpsertPayload
		if err := r.Payload(&p); err != nil {
			return jobs.Permanent(err)
		}
		var res *UpsertResult
		var err error
		if len(p.Documents) > 0 || len(p.Delete) > 0 {
			docs := make([]Doc, len(p.Documents))
			for i, d := range p.Documents {
				src := d.Source
				if src == "" {
					src = d.ID
				}
				docs[i] = Doc{ID: d.ID, Text: d.Text, Source: src, Metadata: d.Metadata}
			}
			r.Progress(0.1, "chunking and embedding")
			res, err = s.UpsertDocs(ctx, r.OrgID(), p.IndexID, docs, p.Delete)
		} else {
			res, err = s.UpsertDataset(ctx, r.OrgID(), p.IndexID, p.DatasetID, p.Version, r.Progress)
		}
		if err != nil {
			return err
		}
		r.Logf(slog.LevelInfo, "index %s version %d: %d documents, %d chunks", p.IndexID, res.Version, res.Documents, res.Chunks)
		return r.Complete(ctx, res, nil)
	}, jobs.KindOptions{MaxAttempts: 3, Scope: "data:write"})
}
