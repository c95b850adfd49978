package cli

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/rag"
	"github.com/whet-dev/whet/internal/store/storetest"
)

func TestParseFilter(t *testing.T) {
	for _, tc := range []struct {
		in      []string
		want    map[string]any
		wantErr bool
	}{
		{in: []string{"department=compliance"}, want: map[string]any{"department": "compliance"}},
		{in: []string{"year>=2024", "year<2026"}, want: map[string]any{"year": map[string]any{"gte": 2024.0, "lt": 2026.0}}},
		{in: []string{"tag=a,b"}, want: map[string]any{"tag": []any{"a", "b"}}},
		{in: []string{"draft=false", "x!=y"}, want: map[string]any{"draft": false, "x": map[string]any{"ne": "y"}}},
		{in: []string{"updated_after=2025-01-01"}, want: map[string]any{"updated_after": "2025-01-01"}},
		{in: []string{"nothing"}, wantErr: true},
		{in: []string{"=x"}, wantErr: true},
	} {
		t.Run(strings.Join(tc.in, " "), func(t *testing.T) {
			got := map[string]any{}
			var err error
			for _, s := range tc.in {
				if err = parseFilter(got, s); err != nil {
					break
				}
			}
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func TestParseEmbedding(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    *rag.EmbeddingSpec
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "hash", want: &rag.EmbeddingSpec{Type: "hash"}},
		{in: "hash:128", want: &rag.EmbeddingSpec{Type: "hash", Dim: 128}},
		{in: "native:/models/e5", want: &rag.EmbeddingSpec{Type: "native", Model: "/models/e5"}},
		{in: "openai:http://127.0.0.1:9000/v1#bge-small", want: &rag.EmbeddingSpec{Type: "openai", URL: "http://127.0.0.1:9000/v1", Model: "bge-small"}},
		{in: "openai:http://host/v1", wantErr: true},
		{in: "openai:host#m", wantErr: true},
		{in: "native:", wantErr: true},
		{in: "hash:-1", wantErr: true},
		{in: "word2vec", wantErr: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseEmbedding(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if !tc.wantErr && !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func indexServer(t *testing.T) (url, token string) {
	t.Helper()
	ctx := context.Background()
	db := storetest.SQLite(t)
	al := audit.New(db, nil)
	as, err := auth.NewService(ctx, db, al, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	res, err := as.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	q := jobs.New(db, jobs.Options{Audit: al, Heartbeat: 50 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	svc := &rag.Service{DB: db, Audit: al, Dir: t.TempDir()}
	svc.RegisterJobs(q)
	hs := httptest.NewServer(api.New(api.Deps{DB: db, Auth: as, Audit: al, Jobs: q, Indexes: svc}))
	t.Cleanup(hs.Close)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { q.Work(wctx, 2); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return hs.URL, res.Token
}

func TestIndexAndEvalCommands(t *testing.T) {
	url, token := indexServer(t)
	vars := []string{"WHET_URL=" + url, "WHET_TOKEN=" + token}
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	docs := write("docs.jsonl", `{"id":"refunds","text":"Refunds are approved within 30 days of purchase by the finance team.","source":"policies/refunds.md","metadata":{"department":"finance"}}
{"id":"laptops","text":"Report a stolen laptop to security within one hour.","source":"policies/laptops.md","metadata":{"department":"security"}}
{"id":"rows","text":"Hotel nightly limit in London is 250 pounds.","source":"travel/limits.csv#4","metadata":{"department":"travel"}}
{"id":"vendors","text":"Vendors with customer data need a yearly risk review.","source":"policies/vendors.md","metadata":{"department":"compliance"}}
`)
	queries := write("queries.jsonl", `{"_id":"q1","text":"refund approval days"}
{"_id":"q2","text":"stolen laptop"}
{"_id":"q3","text":"hotel limit London"}
{"_id":"q4","text":"unrelated words only"}
{"_id":"q5","text":"no judgements for this one"}
`)
	qrels := write("qrels.tsv", "query-id\tcorpus-id\tscore\nq1\tpolicies/refunds.md\t2\nq2\tpolicies/laptops.md\t1\nq3\ttravel/limits.csv\t2\nq4\tpolicies/vendors.md\t1\n")

	project := func() string {
		c := api.NewClient(url, token)
		p, err := c.CreateProject(context.Background(), api.ProjectCreate{Name: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		return p.ID
	}()
	code, out, errOut := runJobsCLI(t, vars, "index", "create", "kb", "--project", project, "-o", "json")
	if code != 0 {
		t.Fatalf("create: %d %s %s", code, out, errOut)
	}
	var info rag.IndexInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.Mode != "bm25-only" {
		t.Fatalf("create output %q: %v", out, err)
	}
	// A BM25-only index may still re-rank with a cross-encoder.
	cross, _ := filepath.Abs(filepath.Join("..", "encoder", "testdata", "tiny-cross"))
	code, out, errOut = runJobsCLI(t, vars, "index", "create", "kbr", "--project", project, "--reranker", cross, "-o", "json")
	var rinfo rag.IndexInfo
	if code != 0 || json.Unmarshal([]byte(out), &rinfo) != nil || rinfo.Mode != "bm25-only" || rinfo.Embedding.Reranker != cross {
		t.Fatalf("create with --reranker only: %d %q %s", code, out, errOut)
	}
	if code, _, errOut = runJobsCLI(t, vars, "index", "upsert", rinfo.ID, "--file", docs); code != 0 {
		t.Fatalf("upsert kbr: %d %s", code, errOut)
	}
	code, out, errOut = runJobsCLI(t, vars, "index", "search", rinfo.ID, "stolen laptop", "--rerank", "-o", "json")
	var rres api.SearchResponse
	if code != 0 || json.Unmarshal([]byte(out), &rres) != nil || rres.Rerank == nil || rres.Rerank.Reranked == 0 {
		t.Fatalf("re-ranked search on a BM25-only index: %d %q %s", code, out, errOut)
	}
	if code, out, errOut = runJobsCLI(t, vars, "index", "upsert", info.ID, "--file", docs); code != 0 || !strings.Contains(out, "4 documents") {
		t.Fatalf("upsert: %d %q %s", code, out, errOut)
	}
	if code, out, errOut = runJobsCLI(t, vars, "index", "search", info.ID, "stolen laptop", "--k", "2"); code != 0 || !strings.Contains(out, "policies/laptops.md") {
		t.Fatalf("search: %d %q %s", code, out, errOut)
	}
	code, out, _ = runJobsCLI(t, vars, "index", "search", info.ID, "within", "--filter", "department=finance", "-o", "json")
	var res api.SearchResponse
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil || len(res.Hits) != 1 || res.Hits[0].Citation.DocumentID != "refunds" {
		t.Fatalf("filtered search: %d %q", code, out)
	}
	if code, _, errOut = runJobsCLI(t, vars, "index", "search", info.ID, "x", "--filter", "departmnet=finance"); code == 0 || !strings.Contains(errOut, "filters.departmnet") {
		t.Fatalf("unknown filter field: %d %q", code, errOut)
	}
	if code, _, errOut = runJobsCLI(t, vars, "index", "search", info.ID, "refund", "--mode", "hybrid"); code == 0 || !strings.Contains(errOut, "BM25-only") {
		t.Fatalf("hybrid on a BM25-only index: %d %q", code, errOut)
	}
	if code, out, errOut = runJobsCLI(t, vars, "index", "show", info.ID); code != 0 || !strings.Contains(out, "Documents:") || !strings.Contains(out, "4") {
		t.Fatalf("show: %d %q %s", code, out, errOut)
	}

	code, out, errOut = runJobsCLI(t, vars, "eval", "retrieval", "--index", info.ID, "--queries", queries, "--qrels", qrels, "--json")
	if code != 0 {
		t.Fatalf("eval: %d %s %s", code, out, errOut)
	}
	var rep retrievalReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	// q1–q3 find their file first (q3 through its "#4" row); q4 finds nothing.
	if rep.Queries != 4 || rep.Missing != 1 || rep.MRR10 != 0.75 || rep.RecallK != 0.75 || rep.NDCG10 != 0.75 || rep.PerQuery["q4"] != 0 {
		t.Fatalf("report %+v", rep)
	}
	if code, out, _ = runJobsCLI(t, vars, "eval", "retrieval", "--index", info.ID, "--queries", queries, "--qrels", qrels); code != 0 || !strings.Contains(out, "0.7500") {
		t.Fatalf("eval table: %d %q", code, out)
	}
	if code, _, _ = runJobsCLI(t, vars, "eval", "retrieval", "--index", info.ID, "--queries", queries); code != 2 {
		t.Fatalf("missing --qrels: exit %d, want 2", code)
	}
}
