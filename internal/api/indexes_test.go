package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/rag"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

type indexEnv struct {
	url     string
	owner   *api.Client
	orgID   string
	svc     *rag.Service
	project string
}

func newIndexEnv(t *testing.T, db *store.DB) *indexEnv {
	t.Helper()
	ctx := context.Background()
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
	srv := api.New(api.Deps{DB: db, Auth: as, Audit: al, Jobs: q, Indexes: svc})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	wctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { q.Work(wctx, 2); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	e := &indexEnv{url: hs.URL, owner: api.NewClient(hs.URL, res.Token), orgID: res.Org.ID, svc: svc}
	p, err := e.owner.CreateProject(ctx, api.ProjectCreate{Name: "retrieval"})
	if err != nil {
		t.Fatal(err)
	}
	e.project = p.ID
	return e
}

func (e *indexEnv) keyClient(t *testing.T, role string) *api.Client {
	t.Helper()
	k, err := e.owner.CreateAPIKey(context.Background(), api.APIKeyCreate{Name: role, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return api.NewClient(e.url, k.Token)
}

// waitJob polls a job until it ends (with a deadline) and fails the test
// unless it succeeded.
func waitJob(t *testing.T, c *api.Client, id string) api.Job {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		j, err := c.GetJob(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch j.Status {
		case "succeeded":
			return j
		case "failed", "cancelled":
			t.Fatalf("job %s %s: %s", id, j.Status, j.Error)
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 3 minutes", id, j.Status)
		}
		time.Sleep(10 * time.Millisecond) // polling, not waiting for a fixed time
	}
}

var indexDocs = []rag.UpsertDoc{
	{ID: "refunds", Text: "# Refunds\n\nCustomers may ask for a refund within 30 days of purchase. Refunds are approved by the finance team.",
		Source: "policies/refunds.md", Metadata: map[string]any{"department": "finance", "year": 2024, "access_tag": "internal"}},
	{ID: "laptops", Text: "# Lost laptops\n\nReport a stolen laptop to security within one hour. Remote wipe protects customer data.",
		Source: "policies/laptops.md", Metadata: map[string]any{"department": "security", "year": 2025, "access_tag": "public"}},
	{ID: "salaries", Text: "# Salary bands\n\nThe refund of relocation costs and salary bands for engineers are restricted information.",
		Source: "hr/salaries.md", Metadata: map[string]any{"department": "hr", "year": 2025, "access_tag": "restricted"}},
	{ID: "vendors", Text: "# Vendor risk\n\nEvery vendor with access to customer data needs a yearly risk review by compliance.",
		Source: "policies/vendors.md", Metadata: map[string]any{"department": "compliance", "year": 2023, "access_tag": "internal"}},
	{ID: "untagged", Text: "# Canteen\n\nThe canteen serves lunch from noon; the salary of the cook is not listed here.", Source: "misc/canteen.md"},
}

func hitDocs(res api.SearchResponse) []string {
	var out []string
	for _, h := range res.Hits {
		out = append(out, h.Citation.DocumentID)
	}
	return out
}

func TestIndexesEndToEnd(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newIndexEnv(t, db)
		bm, err := e.owner.CreateIndex(ctx, e.project, rag.IndexSpec{Name: "bm"})
		if err != nil {
			t.Fatal(err)
		}
		if bm.Mode != "bm25-only" || !strings.HasPrefix(bm.ID, "idx_") {
			t.Fatalf("created %+v", bm)
		}
		hy, err := e.owner.CreateIndex(ctx, e.project, rag.IndexSpec{Name: "hy", Embedding: &rag.EmbeddingSpec{Type: "hash", Dim: 64}})
		if err != nil {
			t.Fatal(err)
		}
		if hy.Mode != "hybrid" {
			t.Fatalf("hash index mode %q", hy.Mode)
		}
		for _, id := range []string{bm.ID, hy.ID} {
			acc, err := e.owner.UpsertIndex(ctx, id, api.IndexUpsert{Documents: indexDocs})
			if err != nil {
				t.Fatal(err)
			}
			waitJob(t, e.owner, acc.JobID)
		}
		got, err := e.owner.GetIndex(ctx, bm.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stats == nil || got.Stats.Documents != len(indexDocs) || got.Stats.Version < 1 || got.LastUpsertAt == nil || got.Freshness == nil {
			t.Fatalf("stats after upsert: %+v", got)
		}
		list, err := e.owner.ListIndexes(ctx, e.project)
		if err != nil || len(list.Items) != 2 {
			t.Fatalf("list: %v %+v", err, list)
		}

		t.Run("search", func(t *testing.T) {
			for _, tc := range []struct {
				index, mode, query, want string
			}{
				{bm.ID, "", "how long do customers have to ask for a refund", "refunds"},
				{bm.ID, "bm25", "stolen laptop", "laptops"},
				{hy.ID, "hybrid", "vendor risk review", "vendors"},
				{hy.ID, "dense", "stolen laptop remote wipe", "laptops"},
			} {
				t.Run(tc.mode+"/"+tc.want, func(t *testing.T) {
					res, err := e.owner.SearchIndex(ctx, tc.index, api.SearchRequest{Query: tc.query, K: 3, Mode: tc.mode})
					if err != nil {
						t.Fatal(err)
					}
					if len(res.Hits) == 0 || res.Hits[0].Citation.DocumentID != tc.want {
						t.Fatalf("hits %v, want %s first", hitDocs(res), tc.want)
					}
					h := res.Hits[0]
					var src string
					for _, d := range indexDocs {
						if d.ID == tc.want {
							src = d.Source
						}
					}
					if h.Citation.Source != src || h.Citation.Span[1] <= h.Citation.Span[0] || h.ParentText == "" {
						t.Fatalf("citation %+v parent %q", h.Citation, h.ParentText)
					}
				})
			}
			res, err := e.owner.SearchIndex(ctx, bm.ID, api.SearchRequest{Query: "customer data", K: 10, Filters: map[string]any{"department": "compliance"}})
			if err != nil {
				t.Fatal(err)
			}
			if d := hitDocs(res); len(d) != 1 || d[0] != "vendors" {
				t.Fatalf("filtered hits %v", d)
			}
			res, err = e.owner.SearchIndex(ctx, bm.ID, api.SearchRequest{Query: "customer data", K: 10, Filters: map[string]any{"year": map[string]any{"gte": 2025}}})
			if err != nil {
				t.Fatal(err)
			}
			if d := hitDocs(res); len(d) != 1 || d[0] != "laptops" {
				t.Fatalf("range-filtered hits %v", d)
			}
		})

		t.Run("access tags by role", func(t *testing.T) {
			req := api.SearchRequest{Query: "refund salary bands relocation", K: 10}
			res, err := e.owner.SearchIndex(ctx, bm.ID, req)
			if err != nil {
				t.Fatal(err)
			}
			if !contains(hitDocs(res), "salaries") {
				t.Fatalf("owner hits %v lack the restricted document", hitDocs(res))
			}
			for _, role := range []string{"viewer", "sme"} {
				c := e.keyClient(t, role)
				for _, mode := range []string{"bm25", "hybrid", "dense"} {
					id := bm.ID
					if mode != "bm25" {
						id = hy.ID
					}
					res, err := c.SearchIndex(ctx, id, api.SearchRequest{Query: req.Query, K: 10, Mode: mode})
					if err != nil {
						t.Fatal(err)
					}
					if contains(hitDocs(res), "salaries") {
						t.Fatalf("%s (%s) saw a restricted chunk: %v", role, mode, hitDocs(res))
					}
					if len(res.Hits) == 0 {
						t.Fatalf("%s (%s) got no hits at all", role, mode)
					}
				}
				// A document upserted without an access tag is "internal".
				res, err = c.SearchIndex(ctx, bm.ID, api.SearchRequest{Query: "canteen lunch", K: 3})
				if err != nil || len(res.Hits) == 0 || res.Hits[0].Citation.DocumentID != "untagged" {
					t.Fatalf("%s: untagged document: %v %v", role, err, hitDocs(res))
				}
				// Even asking for it by id does not reveal it.
				res, err := c.SearchIndex(ctx, bm.ID, api.SearchRequest{Query: "salary", K: 10, Filters: map[string]any{"document_id": "salaries"}})
				if err != nil || len(res.Hits) != 0 {
					t.Fatalf("%s filtered by id: %v %v", role, err, hitDocs(res))
				}
			}
		})

		t.Run("bad input", func(t *testing.T) {
			for _, tc := range []struct {
				name, index string
				body        any
				status      int
				field       string
			}{
				{"empty query", bm.ID, api.SearchRequest{Query: ""}, 422, "query"},
				{"blank query", bm.ID, api.SearchRequest{Query: "   "}, 422, "query"},
				{"enormous query", bm.ID, api.SearchRequest{Query: strings.Repeat("refund ", 2000)}, 422, "query"},
				{"k negative", bm.ID, api.SearchRequest{Query: "refund", K: -1}, 422, "k"},
				{"k zero", bm.ID, map[string]any{"query": "refund", "k": 0}, 422, "k"},
				{"k too large", bm.ID, api.SearchRequest{Query: "refund", K: 1001}, 422, "k"},
				{"unknown filter field", bm.ID, api.SearchRequest{Query: "refund", Filters: map[string]any{"departmnet": "hr"}}, 422, "filters.departmnet"},
				{"unknown filter operator", bm.ID, api.SearchRequest{Query: "refund", Filters: map[string]any{"year": map[string]any{"around": 3}}}, 422, "filters.year"},
				{"date filter not a date", bm.ID, api.SearchRequest{Query: "refund", Filters: map[string]any{"year_after": "soon"}}, 422, "filters.year_after"},
				{"version not positive", bm.ID, map[string]any{"query": "refund", "version": 0}, 422, "version"},
				{"query wrong type", bm.ID, map[string]any{"query": 5}, 422, "query"},
				{"k wrong type", bm.ID, map[string]any{"query": "refund", "k": "ten"}, 422, "k"},
				{"filters wrong type", bm.ID, map[string]any{"query": "refund", "filters": []int{1}}, 422, "filters"},
				{"unknown mode", bm.ID, map[string]any{"query": "refund", "mode": "fuzzy"}, 422, "mode"},
				{"hybrid on bm25-only", bm.ID, api.SearchRequest{Query: "refund", Mode: "hybrid"}, 422, "hybrid"},
				{"dense on bm25-only", bm.ID, api.SearchRequest{Query: "refund", Mode: "dense"}, 422, "hybrid"},
				{"no such index", "idx_nope", api.SearchRequest{Query: "refund"}, 404, ""},
			} {
				t.Run(tc.name, func(t *testing.T) {
					var out api.SearchResponse
					err := e.owner.Do(ctx, http.MethodPost, "/v1/indexes/"+tc.index+"/search", tc.body, &out)
					wantStatus(t, err, tc.status)
					if tc.field == "" {
						return
					}
					p := err.(*api.Problem)
					named := false
					for _, d := range p.Errors {
						if strings.Contains(d.Location, tc.field) {
							named = true
						}
					}
					if !named {
						t.Fatalf("%v does not name %q", err, tc.field)
					}
				})
			}
			_, err := e.owner.CreateIndex(ctx, e.project, rag.IndexSpec{Name: "bad", Embedding: &rag.EmbeddingSpec{Type: "openai"}})
			wantStatus(t, err, 422)
			_, err = e.owner.UpsertIndex(ctx, bm.ID, api.IndexUpsert{})
			wantStatus(t, err, 422)
		})

		t.Run("another org's index", func(t *testing.T) {
			other, err := e.svc.Create(ctx, "org_someone_else", "usr_x", "prj_x", rag.IndexSpec{Name: "theirs"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.owner.GetIndex(ctx, other.ID)
			wantStatus(t, err, 404)
			_, err = e.owner.SearchIndex(ctx, other.ID, api.SearchRequest{Query: "refund"})
			wantStatus(t, err, 404)
			_, err = e.owner.UpsertIndex(ctx, other.ID, api.IndexUpsert{Documents: indexDocs[:1]})
			wantStatus(t, err, 404)
		})

		t.Run("freshness metrics", func(t *testing.T) {
			resp, err := http.Get(e.url + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			for _, want := range []string{
				fmt.Sprintf(`whet_index_staleness_seconds{index_id=%q,project_id=%q} 0`, bm.ID, e.project),
				fmt.Sprintf(`whet_index_upsert_lag_seconds{index_id=%q,project_id=%q} 0`, bm.ID, e.project),
				fmt.Sprintf(`whet_index_last_upsert_timestamp_seconds{index_id=%q,project_id=%q}`, hy.ID, e.project),
			} {
				if !strings.Contains(string(b), want) {
					t.Fatalf("/metrics lacks %s", want)
				}
			}
		})

		t.Run("searches keep answering during an upsert", func(t *testing.T) {
			before, err := e.owner.GetIndex(ctx, bm.ID)
			if err != nil {
				t.Fatal(err)
			}
			var many []rag.UpsertDoc
			for i := range 150 {
				many = append(many, rag.UpsertDoc{ID: fmt.Sprintf("bulk-%d", i), Text: strings.Repeat(fmt.Sprintf("bulk filler paragraph number %d about warehouses. ", i), 40)})
			}
			acc, err := e.owner.UpsertIndex(ctx, bm.ID, api.IndexUpsert{Documents: many})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			stop := make(chan struct{})
			errs := make(chan error, 1)
			searches := 0
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					res, err := e.owner.SearchIndex(ctx, bm.ID, api.SearchRequest{Query: "refund within 30 days", K: 3})
					if err == nil && (len(res.Hits) == 0 || res.Hits[0].Citation.DocumentID != "refunds") {
						err = fmt.Errorf("hits during upsert: %v", hitDocs(res))
					}
					if err != nil {
						select {
						case errs <- err:
						default:
						}
						return
					}
					searches++
				}
			}()
			waitJob(t, e.owner, acc.JobID)
			close(stop)
			wg.Wait()
			select {
			case err := <-errs:
				t.Fatal(err)
			default:
			}
			if searches == 0 {
				t.Fatal("no search completed while the upsert ran")
			}
			after, err := e.owner.GetIndex(ctx, bm.ID)
			if err != nil {
				t.Fatal(err)
			}
			if after.Stats.Version != before.Stats.Version+1 || after.Stats.Documents != len(indexDocs)+len(many) {
				t.Fatalf("after upsert: %+v (before %+v)", after.Stats, before.Stats)
			}
		})

		t.Run("pinned version", func(t *testing.T) {
			pin := func(c *api.Client, v int) (rag.IndexInfo, error) {
				var out rag.IndexInfo
				err := c.Do(ctx, http.MethodPatch, "/v1/indexes/"+bm.ID, api.IndexPatch{PinnedVersion: &v}, &out)
				return out, err
			}
			cur, err := e.owner.GetIndex(ctx, bm.ID)
			if err != nil {
				t.Fatal(err)
			}
			pinned := cur.Stats.Version
			if !slices.Contains(cur.Versions, pinned) {
				t.Fatalf("versions %v lack the current %d", cur.Versions, pinned)
			}
			info, err := pin(e.owner, pinned)
			if err != nil || info.PinnedVersion != pinned {
				t.Fatalf("pin: %v %+v", err, info)
			}
			_, err = pin(e.keyClient(t, "viewer"), pinned)
			wantStatus(t, err, 403)
			// Two more versions: the pinned one is kept and still answers.
			for _, text := range []string{"Refunds now take 90 days.", "Refunds now take 120 days."} {
				acc, err := e.owner.UpsertIndex(ctx, bm.ID, api.IndexUpsert{Documents: []rag.UpsertDoc{{ID: "refunds", Text: text, Source: "policies/refunds.md"}}})
				if err != nil {
					t.Fatal(err)
				}
				waitJob(t, e.owner, acc.JobID)
			}
			res, err := e.owner.SearchIndex(ctx, bm.ID, api.SearchRequest{Query: "refund within 30 days", K: 1})
			if err != nil || res.Version != pinned || len(res.Hits) == 0 || !strings.Contains(res.Hits[0].Text, "30 days") {
				t.Fatalf("pinned search: %v version %d hits %+v", err, res.Version, res.Hits)
			}
			res, err = e.owner.SearchIndex(ctx, bm.ID, api.SearchRequest{Query: "refunds take days", K: 1, Version: pinned + 2})
			if err != nil || res.Version != pinned+2 || !strings.Contains(res.Hits[0].Text, "120 days") {
				t.Fatalf("search of version %d: %v version %d hits %+v", pinned+2, err, res.Version, res.Hits)
			}
			err = e.owner.Do(ctx, http.MethodPost, "/v1/indexes/"+bm.ID+"/search", api.SearchRequest{Query: "refund", Version: 1}, &res)
			wantStatus(t, err, 422)
			if !strings.Contains(err.Error(), "body.version") {
				t.Fatalf("a version not kept: %v", err)
			}
			_, err = pin(e.owner, 999)
			wantStatus(t, err, 422)
			info, err = pin(e.owner, 0)
			if err != nil || info.PinnedVersion != 0 || slices.Contains(info.Versions, pinned) {
				t.Fatalf("unpin: %v %+v (version %d should be dropped)", err, info, pinned)
			}
			res, err = e.owner.SearchIndex(ctx, bm.ID, api.SearchRequest{Query: "refunds take days", K: 1})
			if err != nil || res.Version != pinned+2 || !strings.Contains(res.Hits[0].Text, "120 days") {
				t.Fatalf("after unpinning: %v version %d hits %+v", err, res.Version, res.Hits)
			}
		})

		t.Run("delete documents", func(t *testing.T) {
			before, err := e.owner.GetIndex(ctx, bm.ID)
			if err != nil {
				t.Fatal(err)
			}
			acc, err := e.owner.UpsertIndex(ctx, bm.ID, api.IndexUpsert{Delete: []string{"laptops", "no-such-doc"}})
			if err != nil {
				t.Fatal(err)
			}
			waitJob(t, e.owner, acc.JobID)
			j, err := e.owner.GetJob(ctx, acc.JobID)
			if err != nil {
				t.Fatal(err)
			}
			var res rag.UpsertResult
			if err := json.Unmarshal(j.Result, &res); err != nil || res.Deleted != 1 || res.Version != before.Stats.Version+1 {
				t.Fatalf("delete result %s (%v); want 1 deleted in version %d", j.Result, err, before.Stats.Version+1)
			}
			hits, err := e.owner.SearchIndex(ctx, bm.ID, api.SearchRequest{Query: "stolen laptop remote wipe", K: 10})
			if err != nil || contains(hitDocs(hits), "laptops") {
				t.Fatalf("deleted document still found: %v %v", err, hitDocs(hits))
			}
			_, err = e.owner.UpsertIndex(ctx, bm.ID, api.IndexUpsert{Delete: []string{"refunds"}, DatasetID: "ds_x"})
			wantStatus(t, err, 422)
		})
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
