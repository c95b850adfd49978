package ingest_test

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

type fixture struct {
	db  *store.DB
	ds  *dataset.Service
	in  *ingest.Ingester
	set *dataset.Dataset
}

func newFixture(t *testing.T, db *store.DB, kind dataset.Kind) *fixture {
	t.Helper()
	ctx := context.Background()
	now := store.FormatTime(time.Now())
	db.SQL.ExecContext(ctx, db.Rebind(`INSERT INTO organizations (id, name, created_at, updated_at) VALUES ('org_a', 'a', ?, ?)`), now, now)
	db.SQL.ExecContext(ctx, db.Rebind(`INSERT INTO projects (id, org_id, name, created_at, updated_at) VALUES ('prj_a', 'org_a', 'acme', ?, ?)`), now, now)
	bs, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	al := audit.New(db, nil)
	svc := dataset.NewService(db, bs, al, nil)
	in, err := ingest.NewIngester(db, al, svc)
	if err != nil {
		t.Fatal(err)
	}
	set, err := svc.Create(ctx, "org_a", "usr_1", "prj_a", "docs", kind, "")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, ds: svc, in: in, set: set}
}

func TestSyncFolderIdempotentAndIncremental(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, dataset.KindDocuments)
		dir := t.TempDir()
		write := func(name, body string) {
			p := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		write("a.md", "# Travel\n\nBook trains for trips under 500 km.")
		write("sub/b.html", "<html><head><title>Refunds</title></head><body><main><h1>Refunds</h1><p>Refunds within 30 days.</p></main></body></html>")
		write("sub/skip.tmp", "ignore me")
		write("bad.pdf", "%PDF-1.7 this is not really a pdf")
		src := ingest.Source{ID: "src_f", Type: "folder"}
		cfg := ingest.FolderConfig{Path: dir, Exclude: []string{"*.tmp"}}
		sum, err := f.in.SyncFolder(ctx, "org_a", f.set, src, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Added != 2 || sum.Errors != 1 || sum.Files != 3 {
			t.Fatalf("first sync: %+v", sum)
		}
		sum, _ = f.in.SyncFolder(ctx, "org_a", f.set, src, cfg, nil)
		if sum.Added != 0 || sum.Unchanged != 2 {
			t.Fatalf("second sync added something: %+v", sum)
		}
		write("a.md", "# Travel\n\nBook trains for trips under 600 km.")
		os.Remove(filepath.Join(dir, "sub/b.html"))
		sum, _ = f.in.SyncFolder(ctx, "org_a", f.set, src, cfg, nil)
		if sum.Revised != 1 {
			t.Fatalf("third sync: %+v", sum)
		}
		var active []string
		f.ds.ActiveDocuments(ctx, f.set.ID, func(d *dataset.Document) error {
			active = append(active, d.SourceKey)
			for _, k := range []string{"source_uri", "timestamp", "author", "access_tag", "content_type", "language"} {
				if _, ok := d.Metadata[k]; !ok {
					t.Errorf("%s lacks metadata %q: %v", d.SourceKey, k, d.Metadata)
				}
			}
			return nil
		})
		if len(active) != 1 || active[0] != "a.md" {
			t.Fatalf("active after delete = %v", active)
		}
	})
}

func TestExpandArchiveLimits(t *testing.T) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, n := range []string{"a.md", "../../etc/passwd", ".hidden/x.md", "dir/b.txt"} {
		w, _ := zw.Create(n)
		w.Write(bytes.Repeat([]byte("x"), 1000))
	}
	zw.Close()
	var names []string
	err := ingest.Expand("up.zip", buf.Bytes(), ingest.ArchiveLimits{}, func(e ingest.Entry) error {
		names = append(names, e.Name)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"a.md", "etc/passwd", "dir/b.txt"}
	if len(names) != len(want) {
		t.Fatalf("names = %v", names)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("names = %v, want %v", names, want)
		}
	}
	err = ingest.Expand("up.zip", buf.Bytes(), ingest.ArchiveLimits{MaxUncompressed: 1500}, func(ingest.Entry) error { return nil })
	if err == nil {
		t.Fatal("expected the expansion limit to trip")
	}
}

func TestRecordDatasetImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, dataset.KindChat)
		body := `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}
{"conversations":[{"from":"human","value":"a"},{"from":"gpt","value":"b"}]}
{"messages":[{"role":"wizard","content":"x"}]}
`
		res := f.in.IngestFile(context.Background(), "org_a", f.set, ingest.Source{Type: "upload"}, "chats.jsonl", -1, time.Time{}, bytes.NewReader([]byte(body)))
		if len(res) != 1 || res[0].Records != 2 || len(res[0].LineErrors) != 1 || res[0].LineErrors[0].Line != 3 {
			t.Fatalf("result %+v", res)
		}
	})
}

func TestRenameKeepsDocument(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, dataset.KindDocuments)
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "old.md"), []byte("# Leave\n\nTwenty eight days of annual leave."), 0o644)
		src := ingest.Source{ID: "src_r", Type: "folder"}
		cfg := ingest.FolderConfig{Path: dir}
		if _, err := f.in.SyncFolder(ctx, "org_a", f.set, src, cfg, nil); err != nil {
			t.Fatal(err)
		}
		os.Rename(filepath.Join(dir, "old.md"), filepath.Join(dir, "new.md"))
		if _, err := f.in.SyncFolder(ctx, "org_a", f.set, src, cfg, nil); err != nil {
			t.Fatal(err)
		}
		var keys []string
		f.ds.ActiveDocuments(ctx, f.set.ID, func(d *dataset.Document) error { keys = append(keys, d.SourceKey); return nil })
		if len(keys) != 1 || keys[0] != "new.md" {
			t.Fatalf("after rename, active documents = %v, want [new.md]", keys)
		}
	})
}
