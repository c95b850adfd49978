package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// dataServer runs a whet API with datasets, ingestion and job workers.
func dataServer(t *testing.T) (vars []string, projectID string) {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	al := audit.New(db, nil)
	as, err := auth.NewService(ctx, db, al, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	boot, err := as.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	bs, err := local.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := dataset.NewService(db, bs, al, nil)
	in, err := ingest.NewIngester(db, al, svc)
	if err != nil {
		t.Fatal(err)
	}
	q := jobs.New(db, jobs.Options{Audit: al, Heartbeat: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	in.RegisterJobs(q)
	hs := httptest.NewServer(api.New(api.Deps{DB: db, Auth: as, Audit: al, Jobs: q, Blob: bs, Datasets: svc, Ingest: in}))
	t.Cleanup(hs.Close)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { q.Work(wctx, 2); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	p, err := api.NewClient(hs.URL, boot.Token).CreateProject(ctx, api.ProjectCreate{Name: "support"})
	if err != nil {
		t.Fatal(err)
	}
	return []string{"WHET_URL=" + hs.URL, "WHET_TOKEN=" + boot.Token, "WHET_PROJECT=" + p.ID}, p.ID
}

func mustRun(t *testing.T, vars []string, args ...string) string {
	t.Helper()
	code, out, errOut := runJobsCLI(t, vars, args...)
	if code != 0 {
		t.Fatalf("whet %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

func TestIngestAndDatasetCommands(t *testing.T) {
	vars, _ := dataServer(t)
	var ds struct{ ID string }
	if err := json.Unmarshal([]byte(mustRun(t, vars, "datasets", "create", "kb", "-o", "json")), &ds); err != nil || ds.ID == "" {
		t.Fatalf("create: %v", err)
	}
	if out := mustRun(t, vars, "datasets", "list"); !strings.Contains(out, ds.ID) || !strings.Contains(out, "kb") {
		t.Fatalf("list:\n%s", out)
	}

	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("travel.md", "# Travel\n\nBook trains for trips under 500 km. Questions go to travel.desk@example.com.")
	write("hr/leave.md", "# Leave\n\nAnnual leave is 25 days a year. Unused days carry over until the end of March; ask your manager before booking more than ten days in a row.")
	write("hr/scratch.tmp", "not a document")
	out := mustRun(t, vars, "ingest", "folder", dir, "--dataset", ds.ID, "--exclude", "*.tmp")
	if !strings.Contains(out, "2 added") {
		t.Fatalf("ingest folder:\n%s", out)
	}
	// Same-named files in two folders travel as one archive, keeping paths
	// (hr/leave.md is a new key for already-known content: a duplicate).
	write("it/leave.md", "# IT leave\n\nReturn your laptop before extended leave.")
	out = mustRun(t, vars, "ingest", "folder", dir, "--dataset", ds.ID, "--include", "**/leave.md")
	if !strings.Contains(out, "1 added") || !strings.Contains(out, "1 duplicate") {
		t.Fatalf("ingest folder with clashing names:\n%s", out)
	}

	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-123" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"items": []map[string]any{
			{"id": 1, "subject": "Printer jam", "body": "Open tray 2 and pull the sheet out gently.", "author": "ana"},
			{"id": 2, "subject": "VPN drops", "body": "Update the VPN client to the latest release.", "author": "raj"},
		}})
	}))
	defer api.Close()
	t.Setenv("WHET_CLI_TEST_TOKEN", "tok-123")
	var reg struct {
		SourceID string `json:"source_id"`
		Status   string
	}
	out = mustRun(t, vars, "ingest", "url", api.URL, "--dataset", ds.ID, "--items-path", "items", "--text-field", "subject", "--text-field", "body",
		"--metadata-field", "author", "--token", "env:WHET_CLI_TEST_TOKEN", "-o", "json")
	if err := json.Unmarshal([]byte(out), &reg); err != nil || reg.SourceID == "" || reg.Status != "succeeded" || !strings.Contains(out, `\"added\":2`) && !strings.Contains(out, `"added": 2`) {
		t.Fatalf("ingest url: %v\n%s", err, out)
	}
	out = mustRun(t, vars, "ingest", "sync", reg.SourceID)
	if !strings.Contains(out, "0 added") {
		t.Fatalf("ingest sync:\n%s", out)
	}

	out = mustRun(t, vars, "datasets", "process", ds.ID)
	m := regexp.MustCompile(`Lineage hash:\s+(\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, "email 1") || !strings.Contains(out, "Dedup:") {
		t.Fatalf("process:\n%s", out)
	}
	if v := mustRun(t, vars, "datasets", "versions", ds.ID); !strings.Contains(v, m[1]) {
		t.Fatalf("versions lack %s:\n%s", m[1], v)
	}
	if s := mustRun(t, vars, "datasets", "show", ds.ID); !strings.Contains(s, m[1]) {
		t.Fatalf("show:\n%s", s)
	}
	export := filepath.Join(t.TempDir(), "kb.jsonl")
	mustRun(t, vars, "datasets", "export", ds.ID, "-f", export)
	raw, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 5 || !strings.Contains(string(raw), "[EMAIL]") || strings.Contains(string(raw), "travel.desk@") {
		t.Fatalf("export (%d lines):\n%s", len(lines), raw)
	}
	if c := mustRun(t, vars, "datasets", "card", ds.ID); !strings.Contains(c, "kb") {
		t.Fatalf("card:\n%s", c)
	}
}

func TestIngestCommandErrors(t *testing.T) {
	vars, _ := dataServer(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"ingest", "folder", "/nonexistent-dir", "--dataset", "ds_x"}, 2, "not a folder"},
		{[]string{"ingest", "folder", "."}, 2, "--dataset"},
		{[]string{"ingest", "s3", "http://bucket/x", "--dataset", "ds_x"}, 2, "s3://bucket/prefix"},
		{[]string{"ingest", "postgres", "env:X", "--dataset", "ds_x"}, 2, "--query"},
		{[]string{"ingest", "url", "http://127.0.0.1:1/api", "--dataset", "ds_nope", "--text-field", "body"}, 1, "ds_nope"},
	} {
		t.Run(strings.Join(tc.args[:2], " "), func(t *testing.T) {
			code, _, errOut := runJobsCLI(t, vars, tc.args...)
			if code != tc.code || !strings.Contains(errOut, tc.want) {
				t.Fatalf("exit %d, stderr %q; want %d containing %q", code, errOut, tc.code, tc.want)
			}
		})
	}
}

func TestIngestPostgresCommand(t *testing.T) {
	dsn := os.Getenv("WHET_TEST_POSTGRES_URL")
	if dsn == "" {
		if os.Getenv("WHET_REQUIRE_POSTGRES") == "1" {
			t.Fatal("WHET_REQUIRE_POSTGRES=1 but WHET_TEST_POSTGRES_URL is not set")
		}
		t.Skip("WHET_TEST_POSTGRES_URL not set: skipping whet ingest postgres against a real server")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	schema := fmt.Sprintf("whet_cli_%d", time.Now().UnixNano())
	for _, q := range []string{"CREATE SCHEMA " + schema,
		"CREATE TABLE " + schema + ".faq (id bigint PRIMARY KEY, question text, answer text, team text, updated_at timestamptz)",
		"INSERT INTO " + schema + ".faq VALUES (1, 'How do I reset my password?', 'Use the self-service portal and follow the emailed link.', 'it', now()), " +
			"(2, 'Where are invoices?', 'Invoices are under Billing, downloadable as PDF for seven years.', 'finance', now())"} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { db.Exec("DROP SCHEMA " + schema + " CASCADE") })
	vars, _ := dataServer(t)
	var ds struct{ ID string }
	json.Unmarshal([]byte(mustRun(t, vars, "datasets", "create", "faq", "-o", "json")), &ds)
	t.Setenv("WHET_CLI_TEST_DSN", dsn)
	out := mustRun(t, vars, "ingest", "postgres", "env:WHET_CLI_TEST_DSN", "--dataset", ds.ID, "--query", "SELECT * FROM "+schema+".faq",
		"--text-column", "question", "--text-column", "answer", "--incremental-column", "updated_at")
	if !strings.Contains(out, "2 added") {
		t.Fatalf("ingest postgres:\n%s", out)
	}
	src := regexp.MustCompile(`Source:\s+(\S+)`).FindStringSubmatch(out)
	if src == nil {
		t.Fatalf("no source id in:\n%s", out)
	}
	if _, err := db.Exec("UPDATE " + schema + ".faq SET answer = 'Use the self-service portal; links expire after one hour.', updated_at = now() + interval '1 minute' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	if out := mustRun(t, vars, "ingest", "sync", src[1]); !strings.Contains(out, "1 revised") || !strings.Contains(out, "Files:     1") && !strings.Contains(out, "1 (0 added, 1 revised") {
		t.Fatalf("incremental sync:\n%s", out)
	}
}
