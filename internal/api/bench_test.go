package api_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// benchServer is a server with 20 projects that logs as `whet serve` does
// by default (JSON at info) into io.Discard.
func benchServer(b *testing.B) (http.Handler, string) {
	b.Helper()
	db := storetest.SQLite(b)
	ctx := context.Background()
	al := audit.New(db, nil)
	as, err := auth.NewService(ctx, db, al, auth.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { as.Close() })
	res, err := as.Bootstrap(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv := api.New(api.Deps{DB: db, Auth: as, Audit: al, Logger: log})
	hs := httptest.NewServer(srv)
	b.Cleanup(hs.Close)
	c := api.NewClient(hs.URL, res.Token)
	for i := range 20 {
		if _, err := c.CreateProject(ctx, api.ProjectCreate{Name: "p" + string(rune('a'+i))}); err != nil {
			b.Fatal(err)
		}
	}
	return srv, res.Token
}

// discardWriter is a ResponseWriter that keeps nothing, so the benchmarks
// measure the server and not a recorder.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.code = code }
func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

func benchRequests(b *testing.B, h http.Handler, req *http.Request) {
	b.ReportAllocs()
	w := &discardWriter{h: http.Header{}}
	for b.Loop() {
		clear(w.h)
		w.code = 0
		h.ServeHTTP(w, req)
		if w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
	}
}

// BenchmarkListProjects is the hot read: middleware (request id, access
// log, metrics), API-key authentication and the cached page.
func BenchmarkListProjects(b *testing.B) {
	h, token := benchServer(b)
	req := httptest.NewRequest(http.MethodGet, "/v1/projects?limit=20", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	benchRequests(b, h, req)
}

// BenchmarkGetProjectFullPath is an authenticated read through huma and
// the database (no page cache): the cost the cache saves.
func BenchmarkGetProjectFullPath(b *testing.B) {
	h, token := benchServer(b)
	w := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/v1/projects?limit=1", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	h.ServeHTTP(w, req)
	var pg api.Page[api.Project]
	if err := decodeJSON(w.Body, &pg); err != nil || len(pg.Items) != 1 {
		b.Fatalf("%v %s", err, w.Body)
	}
	req = httptest.NewRequest(http.MethodGet, "/v1/projects/"+pg.Items[0].ID, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	benchRequests(b, h, req)
}

// BenchmarkHealthz is the middleware and huma on a public route.
func BenchmarkHealthz(b *testing.B) {
	h, _ := benchServer(b)
	benchRequests(b, h, httptest.NewRequest(http.MethodGet, "/healthz", nil))
}

func decodeJSON(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
