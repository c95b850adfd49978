package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// get sends GET path with token and returns status, content type and body.
func get(t *testing.T, base, token, path string) (int, string, []byte) {
	t.Helper()
	st, h, b := getHeader(t, base, token, path)
	return st, h.Get("Content-Type"), b
}

// getHeader is get returning every response header.
func getHeader(t *testing.T, base, token, path string) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func names(t *testing.T, body []byte) []string {
	t.Helper()
	var pg api.Page[api.Project]
	if err := json.Unmarshal(body, &pg); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	var out []string
	for _, p := range pg.Items {
		out = append(out, p.Name)
	}
	return out
}

// TestProjectListCache checks that repeated GET /v1/projects answers (served
// from the page cache after the first) are byte-identical to the full path,
// follow writes at once, and stay scoped to the caller.
func TestProjectListCache(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), auth.Options{})
	ctx := context.Background()
	var ids []string
	for _, n := range []string{"a", "b", "c"} {
		p, err := e.owner.CreateProject(ctx, api.ProjectCreate{Name: n})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	hits := api.ProjectPageHits(e.srv)
	st1, h1, b1 := getHeader(t, e.http.URL, e.token, "/v1/projects?limit=2")
	if api.ProjectPageHits(e.srv) != hits {
		t.Fatal("first request served from the cache")
	}
	st2, h2, b2 := getHeader(t, e.http.URL, e.token, "/v1/projects?limit=2")
	if api.ProjectPageHits(e.srv) != hits+1 {
		t.Fatal("second request not served from the cache")
	}
	if st1 != 200 || st2 != 200 || string(b1) != string(b2) {
		t.Fatalf("first %d %s\nsecond %d %s", st1, b1, st2, b2)
	}
	// Same headers, apart from framing, date and request id.
	for _, h := range []http.Header{h1, h2} {
		for _, k := range []string{"Content-Length", "Date", "X-Request-Id"} {
			h.Del(k)
		}
	}
	if fmt.Sprint(h1) != fmt.Sprint(h2) {
		t.Fatalf("headers differ:\n%v\n%v", h1, h2)
	}
	if got := names(t, b2); len(got) != 2 {
		t.Fatalf("page = %v", got)
	}

	list := func() []string {
		t.Helper()
		st, _, b := get(t, e.http.URL, e.token, "/v1/projects")
		if st != 200 {
			t.Fatalf("list: %d %s", st, b)
		}
		return names(t, b)
	}
	if got := list(); len(got) != 3 {
		t.Fatalf("list = %v", got)
	}
	if _, err := e.owner.CreateProject(ctx, api.ProjectCreate{Name: "d"}); err != nil {
		t.Fatal(err)
	}
	if got := list(); len(got) != 4 {
		t.Fatalf("after create: %v", got)
	}
	name := "renamed"
	if _, err := e.owner.UpdateProject(ctx, ids[0], api.ProjectUpdate{Name: &name}); err != nil {
		t.Fatal(err)
	}
	if got := list(); !slices.Contains(got, "renamed") || slices.Contains(got, "a") {
		t.Fatalf("after rename: %v", got)
	}
	if err := e.owner.DeleteProject(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	if got := list(); len(got) != 3 || slices.Contains(got, "b") {
		t.Fatalf("after delete: %v", got)
	}

	// Each list above followed a write, so none came from the cache.
	if api.ProjectPageHits(e.srv) != hits+1 {
		t.Fatalf("lists after writes: %d cache hits", api.ProjectPageHits(e.srv)-hits-1)
	}
	// A project key with the same query string sees only its project.
	k, err := e.owner.CreateAPIKey(ctx, api.APIKeyCreate{Name: "pk", Role: "viewer", ProjectID: ids[2]})
	if err != nil {
		t.Fatal(err)
	}
	hits = api.ProjectPageHits(e.srv)
	for range 2 {
		st, _, b := get(t, e.http.URL, k.Token, "/v1/projects")
		if got := names(t, b); st != 200 || len(got) != 1 || got[0] != "c" {
			t.Fatalf("project key: %d %v", st, got)
		}
	}
	if api.ProjectPageHits(e.srv) != hits+1 {
		t.Fatal("project key's second list not served from the cache")
	}
	// Another organisation sees none of them.
	org2, err := e.auth.CreateOrg(ctx, "test", "other")
	if err != nil {
		t.Fatal(err)
	}
	_, tok2, err := e.auth.CreateKey(ctx, &auth.Principal{OrgID: org2.ID, ActorID: "test", Role: auth.RoleOwner, Scopes: auth.RoleOwner.Scopes()},
		auth.NewAPIKey{Name: "o2", Role: auth.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if st, _, b := get(t, e.http.URL, tok2, "/v1/projects"); st != 200 || len(names(t, b)) != 0 {
			t.Fatalf("other org: %d %s", st, b)
		}
	}
	// Revoked keys, bad secrets, no credentials and invalid queries get the
	// full path's errors even though the page is cached.
	if err := e.owner.RevokeAPIKey(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	hits = api.ProjectPageHits(e.srv)
	for _, c := range []struct {
		token, path string
		want        int
	}{
		{k.Token, "/v1/projects", 401},
		{e.token[:len(e.token)-1] + "x", "/v1/projects", 401},
		{"", "/v1/projects", 401},
		{e.token, "/v1/projects?limit=0", 422},
		{e.token, "/v1/projects?limit=0", 422},
		{e.token, "/v1/projects?cursor=nope", 400},
	} {
		st, ct, b := get(t, e.http.URL, c.token, c.path)
		if st != c.want || ct != "application/problem+json" {
			t.Fatalf("%s with %.12s…: %d %q %s", c.path, c.token, st, ct, b)
		}
	}
	if api.ProjectPageHits(e.srv) != hits {
		t.Fatal("a refused request was answered from the cache")
	}
}

// TestProjectListCacheOtherProcess checks the documented bound for writes
// this server did not make: they appear once api.ProjectPageTTL has passed.
func TestProjectListCacheOtherProcess(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	var clock atomic.Int64
	clock.Store(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	al := audit.New(db, nil)
	as, err := auth.NewService(ctx, db, al, auth.Options{KeyCacheTTL: time.Hour, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { as.Close() })
	res, err := as.Bootstrap(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(api.New(api.Deps{DB: db, Auth: as, Audit: al, Now: now}))
	t.Cleanup(hs.Close)
	count := func() int {
		st, _, b := get(t, hs.URL, res.Token, "/v1/projects")
		if st != 200 {
			t.Fatalf("%d %s", st, b)
		}
		return len(names(t, b))
	}
	if n := count(); n != 0 {
		t.Fatalf("start: %d projects", n)
	}
	// Another process writes straight to the database.
	ts := store.FormatTime(now())
	if _, err := db.SQL.ExecContext(ctx, `INSERT INTO projects (id, org_id, name, description, created_at, updated_at) VALUES (?, ?, ?, '', ?, ?)`,
		store.NewID("prj"), res.Org.ID, "elsewhere", ts, ts); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 0 {
		t.Fatalf("the cached page should still be served within the TTL, got %d projects", n)
	}
	clock.Add(int64(api.ProjectPageTTL))
	if n := count(); n != 1 {
		t.Fatalf("after the TTL: %d projects", n)
	}
}

// TestProjectListCacheConcurrent runs readers against writers under -race;
// once the writers are done every reader sees every project.
func TestProjectListCacheConcurrent(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), auth.Options{})
	ctx := context.Background()
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := e.owner.ListProjects(ctx, 0, ""); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	for i := range 20 {
		if _, err := e.owner.CreateProject(ctx, api.ProjectCreate{Name: "p" + string(rune('a'+i))}); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	pg, err := e.owner.ListProjects(ctx, 0, "")
	if err != nil || len(pg.Items) != 20 {
		t.Fatalf("after writes: %d items, %v", len(pg.Items), err)
	}
}
