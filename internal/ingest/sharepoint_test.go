package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// fakeGraph answers the Microsoft Graph drive delta shapes for one drive:
// /drives/{id}/root/delta pages (two items per page, @odata.nextLink, then
// @odata.deltaLink), delta links replaying changes since a token, and
// /drives/{id}/items/{id}/content. Files with download=true are served
// through a pre-authenticated @microsoft.graph.downloadUrl instead.
type fakeGraph struct {
	mu      sync.Mutex
	srv     *httptest.Server
	token   string
	files   map[string]*graphFile // by id
	log     []string              // change log: ids in order of change
	expired bool                  // answer delta links with 410 Gone
}

type graphFile struct {
	id, name, parent, body string
	deleted                bool
	version                int
	download               bool
}

func newFakeGraph(t *testing.T) *fakeGraph {
	g := &fakeGraph{token: "graph-token", files: map[string]*graphFile{}}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *fakeGraph) put(id, parent, name, body string, download bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.files[id]
	if f == nil {
		f = &graphFile{id: id}
		g.files[id] = f
	}
	f.name, f.parent, f.body, f.download, f.deleted = name, parent, body, download, false
	f.version++
	g.log = append(g.log, id)
}

func (g *fakeGraph) remove(id string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.files[id].deleted = true
	g.log = append(g.log, id)
}

func (g *fakeGraph) item(f *graphFile) map[string]any {
	if f.deleted {
		return map[string]any{"id": f.id, "deleted": map[string]any{"state": "deleted"}}
	}
	m := map[string]any{"id": f.id, "name": f.name, "size": len(f.body), "cTag": fmt.Sprintf("c:{%s},%d", f.id, f.version),
		"eTag": fmt.Sprintf("e:%d", f.version), "webUrl": "https://contoso.sharepoint.com/" + f.parent + "/" + f.name,
		"lastModifiedDateTime": time.Date(2026, 3, 1, 0, 0, f.version, 0, time.UTC).Format(time.RFC3339),
		"parentReference":      map[string]any{"path": "/drive/root:/" + f.parent}, "file": map[string]any{"mimeType": "text/plain"}}
	if f.download {
		m["@microsoft.graph.downloadUrl"] = g.srv.URL + "/download/" + f.id + "?sig=abc"
	}
	return m
}

func (g *fakeGraph) serve(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if strings.HasPrefix(r.URL.Path, "/download/") {
		if r.Header.Get("Authorization") != "" {
			http.Error(w, "download urls take no token", http.StatusBadRequest)
			return
		}
		fmt.Fprint(w, g.files[strings.TrimPrefix(r.URL.Path, "/download/")].body)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+g.token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired."}}`)
		return
	}
	const drive = "/v1.0/drives/b!drive1"
	switch {
	case strings.HasPrefix(r.URL.Path, drive+"/items/") && strings.HasSuffix(r.URL.Path, "/content"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, drive+"/items/"), "/content")
		fmt.Fprint(w, g.files[id].body)
	case r.URL.Path == drive+"/root/delta":
		q := r.URL.Query()
		var ids []string
		from := 0
		if tok := q.Get("token"); tok != "" {
			if g.expired {
				w.WriteHeader(http.StatusGone)
				fmt.Fprint(w, `{"error":{"code":"resyncRequired"}}`)
				return
			}
			fmt.Sscan(tok, &from)
			seen := map[string]bool{}
			for _, id := range g.log[from:] {
				if !seen[id] {
					seen[id] = true
					ids = append(ids, id)
				}
			}
		} else {
			for _, id := range g.log {
				if f := g.files[id]; !f.deleted && !containsStr(ids, id) {
					ids = append(ids, id)
				}
			}
		}
		skip := 0
		fmt.Sscan(q.Get("skip"), &skip)
		end := min(skip+2, len(ids))
		var value []map[string]any
		if skip == 0 && q.Get("token") == "" {
			value = append(value, map[string]any{"id": "root", "name": "root", "root": map[string]any{}, "folder": map[string]any{"childCount": 3}})
		}
		for _, id := range ids[skip:end] {
			value = append(value, g.item(g.files[id]))
		}
		out := map[string]any{"value": value}
		if end < len(ids) {
			out["@odata.nextLink"] = fmt.Sprintf("%s%s/root/delta?token=%s&skip=%d", g.srv.URL, drive, q.Get("token"), end)
		} else {
			out["@odata.deltaLink"] = fmt.Sprintf("%s%s/root/delta?token=%d", g.srv.URL, drive, len(g.log))
		}
		json.NewEncoder(w).Encode(out)
	default:
		http.NotFound(w, r)
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func newSharePoint(t *testing.T, g *fakeGraph, token string) ingest.Connector {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{"drive_id": "b!drive1", "folder": "Policies", "token_secret": "graph", "base_url": g.srv.URL + "/v1.0"})
	c, err := ingest.NewConnector("sharepoint", raw, secretsOf(map[string]string{"graph": token}))
	if err != nil {
		t.Fatal(err)
	}
	ingest.SetRestSleep(c, func(context.Context, time.Duration) error { return nil })
	return c
}

func TestSharePointDelta(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, dataset.KindDocuments)
		g := newFakeGraph(t)
		g.put("A1", "Policies", "travel.txt", "Trains are booked for trips under 500 km.", false)
		g.put("A2", "Policies/HR", "leave.txt", "Annual leave is 25 days.", true)
		g.put("A3", "Policies", "expenses.txt", "Receipts are needed for every expense.", false)
		g.put("B1", "Marketing", "plan.txt", "Outside the configured folder.", false)
		c := newSharePoint(t, g, "graph-token")
		src := ingest.Source{ID: "src_sp", Type: "sharepoint"}
		res, err := f.in.SyncSource(ctx, "org_a", f.set, src, c, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 3 || res.Files != 3 {
			t.Fatalf("first sync %+v", res.Summary)
		}
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil || res.Files != 0 || res.Tombstoned != 0 {
			t.Fatalf("second sync %+v, %v", res, err)
		}
		g.put("A1", "Policies", "travel.txt", "Trains are booked for trips under 700 km.", false)
		g.remove("A3")
		g.put("A2", "Policies/HR", "leave-policy.txt", "Annual leave is 27 days.", true) // renamed and edited
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Revised != 1 || res.Tombstoned != 2 {
			t.Fatalf("third sync %+v tombstoned %d", res.Summary, res.Tombstoned)
		}
		var active []string
		f.ds.ActiveDocuments(ctx, f.set.ID, func(d *dataset.Document) error {
			active = append(active, d.SourceKey)
			return nil
		})
		if strings.Join(sortedCopy(active), ",") != "HR/leave-policy.txt,travel.txt" {
			t.Fatalf("active = %v", active)
		}
		// An expired delta link (410 Gone) falls back to a full listing.
		g.expired = true
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil || res.Unchanged != 2 || res.Files != 0 {
			t.Fatalf("resync %+v, %v", res, err)
		}
	})
}

func TestSharePointExpiredToken(t *testing.T) {
	g := newFakeGraph(t)
	g.put("A1", "Policies", "travel.txt", "x", false)
	_, _, _, _, err := collect(t, newSharePoint(t, g, "stale"), nil)
	if !errors.Is(err, ingest.ErrCredentials) {
		t.Fatalf("err = %v", err)
	}
	for _, bad := range []string{`{"token_secret":"t"}`, `{"drive_id":"d","site_id":"s","token_secret":"t"}`, `{"drive_id":"d","token_secret":"t","tenant":"x"}`} {
		if _, err := ingest.NewConnector("sharepoint", json.RawMessage(bad), secretsOf(map[string]string{"t": "x"})); !errors.Is(err, ingest.ErrConfig) {
			t.Errorf("%s: err = %v", bad, err)
		}
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}
