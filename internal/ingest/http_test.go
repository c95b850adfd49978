package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// apiRecord is one item of the fake REST API.
type apiRecord struct {
	ID      int    `json:"id"`
	Title   string `json:"title"`
	Body    string `json:"body"`
	Author  string `json:"author"`
	Updated string `json:"updated_at"`
}

func apiRecords(n int) []apiRecord {
	out := make([]apiRecord, n)
	for i := range out {
		out[i] = apiRecord{ID: i + 1, Title: fmt.Sprintf("Ticket %d", i+1), Body: fmt.Sprintf("The printer on floor %d jams daily.", i+1),
			Author: "agent" + strconv.Itoa(i%3), Updated: time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)}
	}
	return out
}

// collect runs one sync and returns the items with their opened content.
func collect(t *testing.T, c ingest.Connector, cursor json.RawMessage) (map[string]string, []ingest.Item, json.RawMessage, bool, error) {
	t.Helper()
	bodies := map[string]string{}
	var items []ingest.Item
	next, full, err := c.Sync(context.Background(), cursor, func(it ingest.Item) error {
		items = append(items, it)
		if it.Deleted || it.Unchanged {
			return nil
		}
		rc, err := it.Open(context.Background())
		if err != nil {
			return err
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		bodies[it.Key] = string(b)
		return nil
	})
	return bodies, items, next, full, err
}

func secretsOf(m map[string]string) ingest.Secrets {
	return func(name string) (string, error) {
		if v, ok := m[name]; ok {
			return v, nil
		}
		return "", fmt.Errorf("%w: secret %q is not set", ingest.ErrConfig, name)
	}
}

func newHTTPConnector(t *testing.T, cfg map[string]any, secrets map[string]string) ingest.Connector {
	t.Helper()
	raw, _ := json.Marshal(cfg)
	c, err := ingest.NewConnector("http", raw, secretsOf(secrets))
	if err != nil {
		t.Fatalf("NewConnector: %v", err)
	}
	ingest.SetRestSleep(c, func(context.Context, time.Duration) error { return nil })
	return c
}

func TestHTTPPagination(t *testing.T) {
	recs := apiRecords(7)
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/cursor": // 3 per page, cursor is the next offset
			off, _ := strconv.Atoi(q.Get("after"))
			end := min(off+3, len(recs))
			next := ""
			if end < len(recs) {
				next = strconv.Itoa(end)
			}
			json.NewEncoder(w).Encode(map[string]any{"data": map[string]any{"items": recs[off:end]}, "meta": map[string]any{"next": next}})
		case "/link":
			off, _ := strconv.Atoi(q.Get("offset"))
			end := min(off+2, len(recs))
			if end < len(recs) {
				w.Header().Add("Link", fmt.Sprintf(`</link?offset=%d>; rel="next", </link?offset=0>; rel="first"`, end))
			}
			json.NewEncoder(w).Encode(recs[off:end])
		case "/page":
			page, _ := strconv.Atoi(q.Get("p"))
			size, _ := strconv.Atoi(q.Get("per_page"))
			off := min(page*size, len(recs))
			end := min(off+size, len(recs))
			json.NewEncoder(w).Encode(map[string]any{"results": recs[off:end]})
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	base := map[string]any{"auth_header": "token", "id_field": "id", "text_fields": []string{"title", "body"},
		"metadata_fields": []string{"author", "updated_at"}}
	with := func(kv map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for k, v := range kv {
			out[k] = v
		}
		return out
	}
	cases := []struct {
		name     string
		cfg      map[string]any
		requests int32
	}{
		{"cursor", with(map[string]any{"url": srv.URL + "/cursor", "items_path": "data.items",
			"pagination": map[string]any{"type": "cursor", "cursor_param": "after", "cursor_path": "meta.next"}}), 3},
		{"link", with(map[string]any{"url": srv.URL + "/link", "pagination": map[string]any{"type": "link"}}), 4},
		{"page", with(map[string]any{"url": srv.URL + "/page", "items_path": "results",
			"pagination": map[string]any{"type": "page", "page_param": "p", "start_page": 0, "page_size_param": "per_page", "page_size": 3}}), 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			requests.Store(0)
			c := newHTTPConnector(t, tc.cfg, map[string]string{"token": "s3cret"})
			bodies, items, _, full, err := collect(t, c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(items) != len(recs) || !full {
				t.Fatalf("got %d items (full=%v), want %d", len(items), full, len(recs))
			}
			if got := requests.Load(); got != tc.requests {
				t.Errorf("%d requests, want %d", got, tc.requests)
			}
			b := bodies["5.md"]
			if !strings.Contains(b, "Ticket 5\n\nThe printer on floor 5 jams daily.") || !strings.Contains(b, `author: "agent1"`) {
				t.Errorf("item 5 body:\n%s", b)
			}
		})
	}
}

func TestHTTPRetryAndCredentials(t *testing.T) {
	var calls atomic.Int32
	token := "good"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != token {
			http.Error(w, "token expired", http.StatusUnauthorized)
			return
		}
		if calls.Add(1) <= 2 {
			w.Header().Set("Retry-After", "7")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		json.NewEncoder(w).Encode(apiRecords(2))
	}))
	defer srv.Close()
	cfg := map[string]any{"url": srv.URL, "auth_header": "key", "auth_header_name": "X-Api-Key", "id_field": "id", "text_fields": []string{"body"}}
	raw, _ := json.Marshal(cfg)
	c, err := ingest.NewConnector("http", raw, secretsOf(map[string]string{"key": "good"}))
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	ingest.SetRestSleep(c, func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil })
	_, items, _, _, err := collect(t, c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || len(waits) != 2 || waits[0] != 7*time.Second {
		t.Fatalf("items %d, waits %v", len(items), waits)
	}

	expired := newHTTPConnector(t, cfg, map[string]string{"key": "old"})
	_, _, _, _, err = collect(t, expired, nil)
	if !errors.Is(err, ingest.ErrCredentials) || !strings.Contains(err.Error(), "credentials rejected") {
		t.Fatalf("expired credentials: %v", err)
	}

	srv.Close()
	_, _, _, _, err = collect(t, newHTTPConnector(t, cfg, map[string]string{"key": "good"}), nil)
	if !errors.Is(err, ingest.ErrUnreachable) || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestHTTPGivesUpAfterRetries(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := newHTTPConnector(t, map[string]any{"url": srv.URL, "id_field": "id", "text_fields": []string{"body"}, "max_retries": 2}, nil)
	_, _, _, _, err := collect(t, c, nil)
	if err == nil || !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("err = %v", err)
	}
}

func TestHTTPConfigErrors(t *testing.T) {
	cases := []struct{ name, cfg, want string }{
		{"unknown field", `{"url":"http://x","id_field":"id","text_fields":["a"],"bogus":1}`, "bogus"},
		{"no url", `{"id_field":"id","text_fields":["a"]}`, "url"},
		{"no text", `{"url":"http://x","id_field":"id"}`, "text_fields"},
		{"bad pagination", `{"url":"http://x","id_field":"id","text_fields":["a"],"pagination":{"type":"scroll"}}`, "scroll"},
		{"missing secret", `{"url":"http://x","id_field":"id","text_fields":["a"],"auth_header":"nope"}`, "nope"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ingest.NewConnector("http", json.RawMessage(tc.cfg), secretsOf(nil))
			if !errors.Is(err, ingest.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrConfig naming %q", err, tc.want)
			}
		})
	}
}

// TestHTTPIncrementalSync syncs an API into a dataset: the second sync sends
// the since parameter and adds nothing; a changed record becomes a revision.
func TestHTTPIncrementalSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, dataset.KindDocuments)
		recs := apiRecords(4)
		var sinces []string
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			since := r.URL.Query().Get("since")
			sinces = append(sinces, since)
			var out []apiRecord
			for _, rec := range recs {
				if since == "" || rec.Updated > since {
					out = append(out, rec)
				}
			}
			json.NewEncoder(w).Encode(map[string]any{"items": out})
		}))
		defer srv.Close()
		c := newHTTPConnector(t, map[string]any{"url": srv.URL, "items_path": "items", "id_field": "id", "text_fields": []string{"title", "body"},
			"metadata_fields": []string{"author"}, "updated_field": "updated_at", "since_param": "since"}, nil)
		src := ingest.Source{ID: "src_h", Type: "http", URI: srv.URL}
		res, err := f.in.SyncSource(ctx, "org_a", f.set, src, c, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 4 {
			t.Fatalf("first sync %+v", res.Summary)
		}
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Files != 0 || res.Tombstoned != 0 || sinces[1] != recs[3].Updated {
			t.Fatalf("second sync %+v, since %q", res.Summary, sinces)
		}
		recs[1].Body = "The printer was replaced."
		recs[1].Updated = "2026-03-01T00:00:00Z"
		res, err = f.in.SyncSource(ctx, "org_a", f.set, src, c, res.Cursor, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Revised != 1 || res.Files != 1 {
			t.Fatalf("third sync %+v", res.Summary)
		}
		n := 0
		f.ds.ActiveDocuments(ctx, f.set.ID, func(d *dataset.Document) error {
			n++
			if d.Metadata["author"] == nil || !strings.HasPrefix(fmt.Sprint(d.Metadata["source_uri"]), srv.URL) {
				t.Errorf("metadata %v", d.Metadata)
			}
			if txt, _ := f.ds.ReadBlob(ctx, d.TextDigest); d.SourceKey == "2.md" && !strings.Contains(string(txt), "replaced") {
				t.Errorf("revised text of %s", d.ID)
			}
			return nil
		})
		if n != 4 {
			t.Fatalf("%d active documents", n)
		}
	})
}
