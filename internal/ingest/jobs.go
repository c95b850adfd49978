package ingest

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
)

// Job kinds this package registers.
const (
	KindSync    = "ingest.sync"     // payload SyncPayload
	KindUpload  = "ingest.upload"   // payload UploadPayload
	KindProcess = "dataset.process" // payload ProcessPayload
)

// SyncPayload asks for one sync of a registered source.
type SyncPayload struct {
	SourceID string `json:"source_id"`
}

// UploadPayload lists uploaded files, already in the blob store.
type UploadPayload struct {
	DatasetID string         `json:"dataset_id"`
	Files     []UploadedFile `json:"files"`
	AccessTag string         `json:"access_tag,omitempty"`
}

// UploadedFile is one uploaded file (or archive) in the blob store.
type UploadedFile struct {
	Name   string `json:"name"`
	Digest string `json:"digest"`
	Size   int64  `json:"size"`
}

// ProcessPayload asks for a new version of a dataset.
type ProcessPayload struct {
	DatasetID string        `json:"dataset_id"`
	Config    ProcessConfig `json:"config"`
}

// RegisterJobs registers the ingestion and processing job kinds.
func (in *Ingester) RegisterJobs(q *jobs.Queue) {
	q.Register(KindSync, in.runSync, jobs.KindOptions{MaxAttempts: 3, Scope: "data:write"})
	q.Register(KindUpload, in.runUpload, jobs.KindOptions{MaxAttempts: 3, Scope: "data:write"})
	q.Register(KindProcess, in.runProcess, jobs.KindOptions{MaxAttempts: 3, Scope: "data:write"})
}

func (in *Ingester) runSync(ctx context.Context, r *jobs.Run) error {
	var p SyncPayload
	if err := r.Payload(&p); err != nil {
		return jobs.Permanent(err)
	}
	src, err := in.loadSource(ctx, r.OrgID(), p.SourceID)
	if err != nil {
		return jobs.Permanent(err)
	}
	ds, err := in.Datasets.Get(ctx, r.OrgID(), src.DatasetID)
	if err != nil {
		return jobs.Permanent(err)
	}
	conn, err := NewConnector(src.Type, src.Config, in.secretsOf(src))
	if err != nil {
		in.recordSync(ctx, src.ID, r.ID(), nil, err)
		return jobs.Permanent(err)
	}
	r.Progress(0.01, "listing "+src.Type+" source")
	res, err := in.SyncSource(ctx, r.OrgID(), ds, Source{ID: src.ID, Type: src.Type, URI: sourceURI(src), AccessTag: src.AccessTag}, conn, src.cursor,
		func(done int, stage string) {
			// The total is unknown for paginated sources: approach 1 slowly.
			r.Progress(1-1/(1+float64(done)/50), stage)
		})
	if err != nil {
		in.recordSync(ctx, src.ID, r.ID(), nil, err)
		return err
	}
	for _, fr := range res.Results {
		if fr.Status == "error" {
			r.Logf(slog.LevelWarn, "%s: %s", fr.Name, fr.Error)
		}
	}
	r.Logf(slog.LevelInfo, "synced %s: %d files, %d added, %d revised, %d unchanged, %d duplicates, %d errors, %d tombstoned",
		src.ID, res.Files, res.Added, res.Revised, res.Unchanged, res.Duplicate, res.Errors, res.Tombstoned)
	// The cursor moves in the same transaction as the job's success, so a
	// crash before completion re-runs the sync from the old cursor (and the
	// fingerprints make the re-run add nothing twice).
	return r.Complete(ctx, res, func(tx *sql.Tx) error {
		return in.saveCursor(ctx, tx, src.ID, r.ID(), res.Cursor, "")
	})
}

func sourceURI(s *loadedSource) string {
	var probe struct {
		Path   string `json:"path"`
		URL    string `json:"url"`
		Bucket string `json:"bucket"`
		Prefix string `json:"prefix"`
	}
	_ = json.Unmarshal(s.Config, &probe)
	switch {
	case probe.Path != "":
		return probe.Path
	case probe.URL != "":
		return probe.URL
	case probe.Bucket != "":
		return "s3://" + probe.Bucket + "/" + probe.Prefix
	}
	return s.Type + ":" + s.ID
}

func (in *Ingester) saveCursor(ctx context.Context, tx *sql.Tx, sourceID, jobID string, cursor json.RawMessage, lastErr string) error {
	if len(cursor) == 0 {
		cursor = json.RawMessage("{}")
	}
	now := store.FormatTime(time.Now().UTC())
	_, err := tx.ExecContext(ctx, in.DB.Rebind(`UPDATE dataset_sources SET cursor_json = ?, last_sync_at = ?, last_job_id = ?, last_error = ?, updated_at = ?
		WHERE id = ?`), string(cursor), now, jobID, lastErr, now, sourceID)
	return err
}

func (in *Ingester) recordSync(ctx context.Context, sourceID, jobID string, cursor json.RawMessage, err error) {
	_ = in.DB.Tx(ctx, func(tx *sql.Tx) error {
		now := store.FormatTime(time.Now().UTC())
		_, e := tx.ExecContext(ctx, in.DB.Rebind(`UPDATE dataset_sources SET last_job_id = ?, last_error = ?, updated_at = ? WHERE id = ?`),
			jobID, err.Error(), now, sourceID)
		return e
	})
}

func (in *Ingester) runUpload(ctx context.Context, r *jobs.Run) error {
	var p UploadPayload
	if err := r.Payload(&p); err != nil {
		return jobs.Permanent(err)
	}
	ds, err := in.Datasets.Get(ctx, r.OrgID(), p.DatasetID)
	if err != nil {
		return jobs.Permanent(err)
	}
	src := Source{Type: "upload", AccessTag: p.AccessTag}
	sum := &Summary{}
	for i, f := range p.Files {
		if err := ctx.Err(); err != nil {
			return err
		}
		raw, err := in.Datasets.ReadBlob(ctx, f.Digest)
		if err != nil {
			sum.Add(FileResult{Name: f.Name, Status: "error", Error: err.Error()})
			continue
		}
		if IsArchive(f.Name) {
			err := Expand(f.Name, raw, ArchiveLimits{}, func(e Entry) error {
				for _, fr := range in.IngestFile(ctx, r.OrgID(), ds, src, e.Name, int64(len(e.Data)), e.ModTime, bytes.NewReader(e.Data)) {
					sum.Add(fr)
				}
				return nil
			})
			if err != nil {
				sum.Add(FileResult{Name: f.Name, Status: "error", Error: err.Error()})
			}
		} else {
			for _, fr := range in.IngestFile(ctx, r.OrgID(), ds, src, f.Name, int64(len(raw)), time.Time{}, bytes.NewReader(raw)) {
				sum.Add(fr)
			}
		}
		r.Progress(float64(i+1)/float64(len(p.Files)), "ingesting "+f.Name)
	}
	for _, fr := range sum.Results {
		if fr.Status == "error" {
			r.Logf(slog.LevelWarn, "%s: %s", fr.Name, fr.Error)
		}
	}
	return r.Complete(ctx, sum, nil)
}

func (in *Ingester) runProcess(ctx context.Context, r *jobs.Run) error {
	var p ProcessPayload
	if err := r.Payload(&p); err != nil {
		return jobs.Permanent(err)
	}
	ds, err := in.Datasets.Get(ctx, r.OrgID(), p.DatasetID)
	if err != nil {
		return jobs.Permanent(err)
	}
	v, rep, created, err := in.Process(ctx, r.OrgID(), r.ActorID(), r.ID(), ds, p.Config, r.Progress)
	if err != nil {
		if errorsIsConfig(err) {
			return jobs.Permanent(err)
		}
		return err
	}
	r.Logf(slog.LevelInfo, "version %s (%s): %d of %d documents kept, %d PII spans redacted, %d duplicate clusters",
		v.Version, v.LineageHash, rep.Kept, rep.Documents, rep.Redaction.Spans, len(rep.Dedup.Clusters))
	result := map[string]any{"version": v.Version, "version_id": v.ID, "lineage_hash": v.LineageHash,
		"created": created, "items": v.Items, "stats": v.Stats}
	if rep.Synthesis != nil {
		result["synthesis"] = rep.Synthesis
	}
	if rep.Mining != nil {
		result["mining"] = rep.Mining
	}
	return r.Complete(ctx, result, nil)
}

// EnqueueUpload stores uploaded files in the blob store and queues their
// ingestion.
func (in *Ingester) EnqueueUpload(ctx context.Context, q *jobs.Queue, orgID, projectID, actorID, datasetID string, files []UploadedFile, accessTag string) (jobs.Job, error) {
	return q.Enqueue(ctx, jobs.EnqueueParams{OrgID: orgID, ProjectID: projectID, ActorID: actorID, Kind: KindUpload,
		Payload: UploadPayload{DatasetID: datasetID, Files: files, AccessTag: accessTag}})
}

// PutUpload stores one uploaded file's bytes.
func (in *Ingester) PutUpload(ctx context.Context, name string, r io.Reader) (UploadedFile, error) {
	info, err := in.Datasets.Blobs().Put(ctx, r)
	if err != nil {
		return UploadedFile{}, fmt.Errorf("store upload %s: %w", name, err)
	}
	return UploadedFile{Name: name, Digest: string(info.Digest), Size: info.Size}, nil
}

// RunScheduler enqueues a sync for every source whose cron schedule is due,
// checking once a minute until ctx ends. A source with a sync still queued or
// running is not queued twice (the job's unique key is the source id).
func (in *Ingester) RunScheduler(ctx context.Context, q *jobs.Queue, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			in.enqueueDue(ctx, q, log, last, now)
			last = now
		}
	}
}

func (in *Ingester) enqueueDue(ctx context.Context, q *jobs.Queue, log *slog.Logger, from, to time.Time) {
	rows, err := in.DB.SQL.QueryContext(ctx, `SELECT d.id, d.org_id, d.schedule, ds.project_id FROM dataset_sources d
		JOIN datasets ds ON ds.id = d.dataset_id WHERE d.schedule <> ''`)
	if err != nil {
		log.Warn("ingest: scheduler", "err", err)
		return
	}
	type due struct{ id, org, project string }
	var list []due
	for rows.Next() {
		var id, org, sched, project string
		if rows.Scan(&id, &org, &sched, &project) != nil {
			continue
		}
		s, err := cronParser.Parse(sched)
		if err != nil {
			continue
		}
		if next := s.Next(from); !next.After(to) {
			list = append(list, due{id, org, project})
		}
	}
	rows.Close()
	for _, d := range list {
		if _, err := q.Enqueue(ctx, jobs.EnqueueParams{OrgID: d.org, ProjectID: d.project, ActorID: "scheduler", Kind: KindSync,
			Payload: SyncPayload{SourceID: d.id}, UniqueKey: d.id}); err != nil {
			log.Warn("ingest: scheduler enqueue", "source", d.id, "err", err)
		}
	}
}
