package dataset_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// seedOrg inserts an organisation and a project directly: the dataset
// service only reads them.
func seedOrg(t *testing.T, db *store.DB, org, project string) {
	t.Helper()
	now := store.FormatTime(time.Now())
	ctx := context.Background()
	if _, err := db.SQL.ExecContext(ctx, db.Rebind(`INSERT INTO organizations (id, name, created_at, updated_at) VALUES (?, ?, ?, ?)`), org, org, now, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL.ExecContext(ctx, db.Rebind(`INSERT INTO projects (id, org_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)`), project, org, "p-"+project, now, now); err != nil {
		t.Fatal(err)
	}
}

func newService(t *testing.T, db *store.DB) *dataset.Service {
	t.Helper()
	bs, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dataset.NewService(db, bs, audit.New(db, nil), nil)
}

func TestServiceDocumentsAndVersions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedOrg(t, db, "org_a", "prj_a")
		seedOrg(t, db, "org_b", "prj_b")
		svc := newService(t, db)

		ds, err := svc.Create(ctx, "org_a", "usr_1", "prj_a", "handbook", dataset.KindDocuments, "policies")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Create(ctx, "org_a", "usr_1", "prj_a", "handbook", dataset.KindDocuments, ""); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate name: err = %v", err)
		}
		if _, err := svc.Create(ctx, "org_b", "usr_1", "prj_a", "x", dataset.KindDocuments, ""); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign project: err = %v", err)
		}
		if _, err := svc.Get(ctx, "org_b", ds.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign get: err = %v", err)
		}

		add := func(key, text string) dataset.AddOutcome {
			t.Helper()
			out, _, err := svc.AddDocument(ctx, "org_a", ds.ID, dataset.DocInput{SourceID: "src_1", SourceKey: key, SourceURI: key, Text: text,
				Metadata: map[string]any{"source": key}})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := add("a.md", "Alpha policy text."); got != dataset.Added {
			t.Fatalf("first add = %s", got)
		}
		if got := add("a.md", "Alpha policy text."); got != dataset.Unchanged {
			t.Fatalf("re-add = %s", got)
		}
		if got := add("copy.md", "Alpha  policy text."); got != dataset.Duplicate {
			t.Fatalf("same content under another key = %s", got)
		}
		if got := add("a.md", "Alpha policy text, revised."); got != dataset.Revised {
			t.Fatalf("changed content = %s", got)
		}
		add("b.md", "Beta procedure.")
		n, err := svc.Tombstone(ctx, ds.ID, "src_1", map[string]bool{"a.md": true})
		if err != nil || n != 1 {
			t.Fatalf("tombstone = %d, %v", n, err)
		}
		var active []string
		if err := svc.ActiveDocuments(ctx, ds.ID, func(d *dataset.Document) error {
			active = append(active, d.SourceKey)
			if d.SourceKey == "a.md" && d.Revision != 2 {
				t.Errorf("a.md revision %d, want 2", d.Revision)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(active) != 1 || active[0] != "a.md" {
			t.Fatalf("active = %v", active)
		}

		// Versions: build a manifest from the active documents.
		manifest := func() *dataset.Manifest {
			m := &dataset.Manifest{Processing: json.RawMessage(`{"redact":{"enabled":true}}`)}
			_ = svc.ActiveDocuments(ctx, ds.ID, func(d *dataset.Document) error {
				m.Items = append(m.Items, dataset.Item{ID: d.Fingerprint, Digest: d.TextDigest})
				return nil
			})
			return m
		}
		v1, created, err := svc.CreateVersion(ctx, "org_a", ds, dataset.NewVersion{Manifest: manifest(), Change: dataset.ChangeMinor, ActorID: "usr_1"})
		if err != nil || !created || v1.Version != "1.0.0" {
			t.Fatalf("v1 = %+v created %v err %v", v1, created, err)
		}
		again, created, err := svc.CreateVersion(ctx, "org_a", ds, dataset.NewVersion{Manifest: manifest(), Change: dataset.ChangeMinor})
		if err != nil || created || again.LineageHash != v1.LineageHash || again.Version != "1.0.0" {
			t.Fatalf("same content: %+v created %v err %v", again, created, err)
		}
		add("c.md", "Gamma FAQ.")
		v2, created, err := svc.CreateVersion(ctx, "org_a", ds, dataset.NewVersion{Manifest: manifest(), Change: dataset.ChangeMinor})
		if err != nil || !created || v2.Version != "1.1.0" || v2.ParentID != v1.ID {
			t.Fatalf("v2 = %+v created %v err %v", v2, created, err)
		}
		vs, err := svc.ListVersions(ctx, "org_a", ds.ID)
		if err != nil || len(vs) != 2 || vs[0].Version != "1.1.0" {
			t.Fatalf("versions %v err %v", vs, err)
		}
		for _, ref := range []string{"latest", "1.1.0", v2.LineageHash} {
			got, err := svc.GetVersion(ctx, "org_a", ds.ID, ref)
			if err != nil || got.ID != v2.ID {
				t.Fatalf("GetVersion(%s) = %v, %v", ref, got, err)
			}
		}
		if _, err := svc.GetVersion(ctx, "org_b", ds.ID, "latest"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("foreign version: err = %v", err)
		}
		var buf bytes.Buffer
		n, err = svc.Export(ctx, "org_a", ds.ID, "1.0.0", &buf)
		if err != nil || n != 1 || !strings.Contains(buf.String(), `"text":"Alpha policy text, revised."`) {
			t.Fatalf("export %d %v: %s", n, err, buf.String())
		}
		g, err := svc.Lineage(ctx, "org_a", ds.ID, "1.1.0")
		if err != nil || len(g.Nodes) < 2 {
			t.Fatalf("lineage %+v %v", g, err)
		}
	})
}

func TestConcurrentAddIsExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedOrg(t, db, "org_a", "prj_a")
		svc := newService(t, db)
		ds, err := svc.Create(ctx, "org_a", "u", "prj_a", "race", dataset.KindDocuments, "")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		outcomes := make([]dataset.AddOutcome, 8)
		for i := range outcomes {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				out, _, err := svc.AddDocument(ctx, "org_a", ds.ID, dataset.DocInput{SourceKey: "same.md", SourceURI: "same.md", Text: "identical"})
				if err != nil {
					t.Error(err)
				}
				outcomes[i] = out
			}(i)
		}
		wg.Wait()
		added := 0
		for _, o := range outcomes {
			if o == dataset.Added {
				added++
			}
		}
		var rows int
		if err := db.SQL.QueryRowContext(ctx, db.Rebind(`SELECT COUNT(*) FROM documents WHERE dataset_id = ?`), ds.ID).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if added != 1 || rows != 1 {
			t.Fatalf("added %d times, %d rows (outcomes %v)", added, rows, outcomes)
		}
	})
}

func TestRecordsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedOrg(t, db, "org_a", "prj_a")
		svc := newService(t, db)
		ds, _ := svc.Create(ctx, "org_a", "u", "prj_a", "sft", dataset.KindInstruction, "")
		recs := []dataset.Record{{Instruction: "a", Output: "b"}, {Instruction: "c", Output: "d"}}
		if n, err := svc.AddRecords(ctx, "org_a", ds.ID, "", recs); err != nil || n != 2 {
			t.Fatalf("added %d %v", n, err)
		}
		if n, err := svc.AddRecords(ctx, "org_a", ds.ID, "", recs); err != nil || n != 0 {
			t.Fatalf("re-added %d %v", n, err)
		}
		count := 0
		_ = svc.Records(ctx, ds.ID, func(string, dataset.Record) error { count++; return nil })
		if count != 2 {
			t.Fatalf("records %d", count)
		}
	})
}
