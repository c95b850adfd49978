package rag_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/rag"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// TestUpsertDatasetDelta follows a dataset through two versions: the
// first upsert indexes everything, re-reading the same version changes
// nothing (and keeps the upsert lag), and the next version upserts only the
// revised and new documents and drops the replaced one, in one index version.
func TestUpsertDatasetDelta(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := store.FormatTime(time.Now())
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`, []any{"org_a", "a", now, now}},
			{`INSERT INTO projects (id, org_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`, []any{"prj_a", "org_a", "p", now, now}},
		} {
			if _, err := db.SQL.ExecContext(ctx, db.Rebind(q.sql), q.args...); err != nil {
				t.Fatal(err)
			}
		}
		bs, err := local.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		al := audit.New(db, nil)
		dsvc := dataset.NewService(db, bs, al, nil)
		ds, err := dsvc.Create(ctx, "org_a", "usr_1", "prj_a", "kb", dataset.KindDocuments, "")
		if err != nil {
			t.Fatal(err)
		}
		add := func(key, text string) {
			t.Helper()
			if _, _, err := dsvc.AddDocument(ctx, "org_a", ds.ID, dataset.DocInput{SourceKey: key, SourceURI: key, Text: text,
				Metadata: map[string]any{"source_uri": key, "access_tag": "internal"}}); err != nil {
				t.Fatal(err)
			}
		}
		version := func() string {
			t.Helper()
			m := &dataset.Manifest{}
			if err := dsvc.ActiveDocuments(ctx, ds.ID, func(d *dataset.Document) error {
				m.Items = append(m.Items, dataset.Item{ID: d.Fingerprint, Digest: d.TextDigest})
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			v, _, err := dsvc.CreateVersion(ctx, "org_a", ds, dataset.NewVersion{Manifest: m, Change: dataset.ChangeMinor})
			if err != nil {
				t.Fatal(err)
			}
			return v.Version
		}
		add("refunds.md", "Refunds are approved within 30 days by the finance team.")
		add("laptops.md", "Report a stolen laptop to security within one hour.")
		v1 := version()

		svc := &rag.Service{DB: db, Datasets: dsvc, Audit: al, Dir: t.TempDir()}
		info, err := svc.Create(ctx, "org_a", "usr_1", "prj_a", rag.IndexSpec{Name: "kb", DatasetID: ds.ID})
		if err != nil {
			t.Fatal(err)
		}
		r1, err := svc.UpsertDataset(ctx, "org_a", info.ID, "", "", nil)
		if err != nil || r1.Documents != 2 || r1.Unchanged != 0 || r1.DatasetVersion != v1 {
			t.Fatalf("first upsert %+v, %v", r1, err)
		}
		f1, err := svc.Freshness(ctx, "org_a", info.ID)
		if err != nil || f1.LastUpsertAt == nil {
			t.Fatalf("freshness %+v, %v", f1, err)
		}

		r2, err := svc.UpsertDataset(ctx, "org_a", info.ID, "", "", nil)
		if err != nil || r2.Documents != 0 || r2.Unchanged != 2 || r2.Deleted != 0 || r2.Version != r1.Version {
			t.Fatalf("same version again %+v, %v; want nothing re-indexed and no new index version", r2, err)
		}
		f2, _ := svc.Freshness(ctx, "org_a", info.ID)
		if f2.LastUpsertAt == nil || !f2.LastUpsertAt.Equal(*f1.LastUpsertAt) || f2.UpsertLagSeconds != f1.UpsertLagSeconds || math.Abs(r2.LagSeconds-r1.LagSeconds) > 1e-5 { // stored to the microsecond
			t.Fatalf("re-reading %s moved the upsert lag: %+v then %+v (results %v, %v)", v1, f1, f2, r1.LagSeconds, r2.LagSeconds)
		}

		add("refunds.md", "Refunds are approved within 90 days by the finance team.")
		add("canteen.md", "The canteen serves lunch from noon.")
		v2 := version()
		r3, err := svc.UpsertDataset(ctx, "org_a", info.ID, "", "", nil)
		if err != nil || r3.Documents != 2 || r3.Unchanged != 1 || r3.Deleted != 1 || r3.Version != r1.Version+1 || r3.DatasetVersion != v2 {
			t.Fatalf("next version %+v, %v; want 2 upserted, 1 unchanged, 1 deleted in one index version", r3, err)
		}
		res, _, err := svc.Search(ctx, "org_a", info.ID, rag.Query{Text: "refunds approved days", K: 5}, 0)
		if err != nil || len(res.Hits) != 1 || res.Hits[0].Citation.Source != "refunds.md" || res.Hits[0].Text != "Refunds are approved within 90 days by the finance team." {
			t.Fatalf("after the delta: %+v %v", res, err)
		}
	})
}
