package ingest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// crashEnv makes the test binary act as the sync worker that
// TestKillMidSync kills: its value is "dbURL|dataDir|blobDir|folder|datasetID".
const crashEnv = "WHET_INGEST_CRASH_HELPER"

// TestCrashHelperProcess is not a test: run as a child process with crashEnv
// set, it syncs a folder while processing versions in a loop, until it is
// killed.
func TestCrashHelperProcess(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("helper process for TestKillMidSync")
	}
	var dbURL, dataDir, blobDir, folder, dsID string
	parts := splitSpec(spec)
	if len(parts) != 5 {
		fmt.Fprintln(os.Stderr, "bad helper spec", spec)
		os.Exit(2)
	}
	dbURL, dataDir, blobDir, folder, dsID = parts[0], parts[1], parts[2], parts[3], parts[4]
	ctx := context.Background()
	db, err := store.Open(ctx, dbURL, dataDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	in, svc := openIngester(t, db, blobDir)
	ds, err := svc.Get(ctx, "org_a", dsID)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	go func() {
		// Versions are written while documents arrive, so that the kill
		// may land in the middle of one.
		for {
			if _, _, _, err := in.Process(ctx, "org_a", "usr_1", "", ds, ingest.ProcessConfig{}, nil); err != nil {
				fmt.Fprintln(os.Stderr, "process:", err)
			}
		}
	}()
	if _, err := in.SyncFolder(ctx, "org_a", ds, ingest.Source{ID: "src_crash", Type: "folder", URI: folder}, ingest.FolderConfig{Path: folder}, nil); err != nil {
		fmt.Fprintln(os.Stderr, "sync:", err)
		os.Exit(2)
	}
	fmt.Println("sync finished before the kill")
	select {}
}

func splitSpec(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '|' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func openIngester(t testing.TB, db *store.DB, blobDir string) (*ingest.Ingester, *dataset.Service) {
	bs, err := local.Open(blobDir)
	if err != nil {
		t.Fatal(err)
	}
	al := audit.New(db, nil)
	svc := dataset.NewService(db, bs, al, nil)
	in, err := ingest.NewIngester(db, al, svc)
	if err != nil {
		t.Fatal(err)
	}
	return in, svc
}

// writeCorpus writes n distinct small Markdown files.
func writeCorpus(t *testing.T, n int) string {
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		body := fmt.Sprintf("# Note %d\n\n%s\n", i, noteText(i))
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%10), fmt.Sprintf("note-%05d.md", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var noteWords = []string{"carrier", "depot", "invoice", "route", "driver", "pallet", "trailer", "customs", "refund", "yard",
	"dock", "tender", "manifest", "freight", "parcel", "window", "detention", "backhaul", "cross-dock", "proof"}

// noteText is a distinct sentence sequence per i, far from the others in
// Jaccard terms, so processing keeps every note.
func noteText(i int) string {
	x := uint32(i)*2654435761 + 12345
	var b []byte
	for w := 0; w < 40; w++ {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b = append(b, noteWords[x%uint32(len(noteWords))]...)
		b = append(b, fmt.Sprintf("%d ", x%97)...)
	}
	return string(b) + "."
}

func countDocs(t *testing.T, db *store.DB, dsID string) int {
	var n int
	if err := db.SQL.QueryRow(db.Rebind(`SELECT COUNT(*) FROM documents WHERE dataset_id = ?`), dsID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkExactlyOnce asserts every fingerprint is stored once, every
// document's text is readable, and every visible version is whole: its
// manifest loads and lists readable items, as many as the version says.
func checkExactlyOnce(t *testing.T, db *store.DB, svc *dataset.Service, dsID string, files int) {
	t.Helper()
	ctx := context.Background()
	var dups int
	if err := db.SQL.QueryRow(db.Rebind(`SELECT COUNT(*) FROM (SELECT fingerprint FROM documents WHERE dataset_id = ?
		GROUP BY fingerprint HAVING COUNT(*) > 1) d`), dsID).Scan(&dups); err != nil {
		t.Fatal(err)
	}
	if dups != 0 {
		t.Fatalf("%d fingerprints stored more than once", dups)
	}
	active := 0
	if err := svc.ActiveDocuments(ctx, dsID, func(d *dataset.Document) error {
		active++
		_, err := svc.ReadBlob(ctx, d.TextDigest)
		return err
	}); err != nil {
		t.Fatalf("a document row points at a missing text: %v", err)
	}
	if active != files {
		t.Fatalf("%d active documents, want %d (one per file)", active, files)
	}
	vs, err := svc.ListVersions(ctx, "org_a", dsID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		m, err := svc.Manifest(ctx, v)
		if err != nil {
			t.Fatalf("version %s is visible but its manifest is not: %v", v.Version, err)
		}
		if len(m.Items) != v.Items {
			t.Fatalf("version %s: %d items in the manifest, %d recorded", v.Version, len(m.Items), v.Items)
		}
		for _, it := range m.Items {
			if _, err := svc.ReadBlob(ctx, it.Digest); err != nil {
				t.Fatalf("version %s: item %s unreadable: %v", v.Version, it.ID, err)
			}
		}
	}
}

// TestKillMidSync kills a worker with SIGKILL in the middle of a folder sync
// (while it also writes versions), then syncs again: every file ends up as
// exactly one document and no half-written version is visible.
func TestKillMidSync(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a worker process")
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dataDir, blobDir := t.TempDir(), t.TempDir()
			dbURL := ""
			if backend == "postgres" {
				dbURL = storetest.PostgresURL(t)
			}
			db, err := store.Open(ctx, dbURL, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			seedOrg(t, db)
			in, svc := openIngester(t, db, blobDir)
			ds, err := svc.Create(ctx, "org_a", "usr_1", "prj_a", "crash", dataset.KindDocuments, "")
			if err != nil {
				t.Fatal(err)
			}
			const files = 600
			folder := writeCorpus(t, files)
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.v")
			cmd.Env = append(os.Environ(), crashEnv+"="+dbURL+"|"+dataDir+"|"+blobDir+"|"+folder+"|"+ds.ID)
			out := &lockedBuffer{}
			cmd.Stdout, cmd.Stderr = out, out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// Kill it once a fifth of the files are in, polling with a deadline.
			deadline := time.Now().Add(2 * time.Minute)
			atKill := 0
			for {
				atKill = countDocs(t, db, ds.ID)
				if atKill >= files/5 || time.Now().After(deadline) {
					break
				}
				time.Sleep(2 * time.Millisecond)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			atKill = countDocs(t, db, ds.ID)
			t.Logf("killed the worker with %d of %d documents stored", atKill, files)
			if atKill == 0 {
				t.Fatalf("the worker stored nothing before the deadline; output:\n%s", out.String())
			}
			if atKill >= files {
				t.Logf("the worker finished the sync before the kill (fast machine); the re-run still must add nothing twice")
			}
			sum, err := in.SyncFolder(ctx, "org_a", ds, ingest.Source{ID: "src_crash", Type: "folder", URI: folder}, ingest.FolderConfig{Path: folder}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Errors != 0 || sum.Added+sum.Unchanged != files || sum.Duplicate != 0 {
				t.Fatalf("re-sync after the crash: %d added, %d unchanged, %d duplicates, %d errors (want %d in all)",
					sum.Added, sum.Unchanged, sum.Duplicate, sum.Errors, files)
			}
			checkExactlyOnce(t, db, svc, ds.ID, files)
			if _, _, _, err := in.Process(ctx, "org_a", "usr_1", "", ds, ingest.ProcessConfig{}, nil); err != nil {
				t.Fatalf("processing after the crash: %v", err)
			}
			checkExactlyOnce(t, db, svc, ds.ID, files)
		})
	}
}

// TestConcurrentSyncsConverge runs four syncs of the same folder at once:
// they converge on one document per file.
func TestConcurrentSyncsConverge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, dataset.KindDocuments)
		const files = 200
		folder := writeCorpus(t, files)
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sum, err := f.in.SyncFolder(ctx, "org_a", f.set, ingest.Source{ID: "src_c", Type: "folder", URI: folder}, ingest.FolderConfig{Path: folder}, nil)
				if err == nil && sum.Errors > 0 {
					for _, r := range sum.Results {
						if r.Status == "error" {
							err = fmt.Errorf("%s: %s", r.Name, r.Error)
							break
						}
					}
				}
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		checkExactlyOnce(t, db, f.ds, f.set.ID, files)
		sum, err := f.in.SyncFolder(ctx, "org_a", f.set, ingest.Source{ID: "src_c", Type: "folder", URI: folder}, ingest.FolderConfig{Path: folder}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Unchanged != files {
			t.Fatalf("a sync after the concurrent ones changed something: %+v", sum.Results[:min(3, len(sum.Results))])
		}
	})
}

func seedOrg(t *testing.T, db *store.DB) {
	now := store.FormatTime(time.Now())
	for _, q := range []string{
		`INSERT INTO organizations (id, name, created_at, updated_at) VALUES ('org_a', 'a', ?, ?)`,
		`INSERT INTO projects (id, org_id, name, created_at, updated_at) VALUES ('prj_a', 'org_a', 'acme', ?, ?)`,
	} {
		if _, err := db.SQL.Exec(db.Rebind(q), now, now); err != nil {
			t.Fatal(err)
		}
	}
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
