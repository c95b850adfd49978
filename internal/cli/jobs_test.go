package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// jobsServer runs a whet API with a job queue and workers; kinds "ok",
// "fail" and "block" succeed, fail permanently and wait for cancellation.
func jobsServer(t *testing.T) (url, token, orgID string, q *jobs.Queue) {
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
	q = jobs.New(db, jobs.Options{Audit: al, Heartbeat: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	q.Register("ok", func(ctx context.Context, r *jobs.Run) error {
		for i := 1; i <= 4; i++ {
			r.Progress(float64(i)/4, "step")
		}
		return r.Complete(ctx, map[string]string{"done": "yes"}, nil)
	}, jobs.KindOptions{})
	q.Register("fail", func(ctx context.Context, r *jobs.Run) error {
		return jobs.Permanent(errors.New("bad input file"))
	}, jobs.KindOptions{})
	q.Register("block", func(ctx context.Context, r *jobs.Run) error { <-ctx.Done(); return ctx.Err() }, jobs.KindOptions{})
	hs := httptest.NewServer(api.New(api.Deps{DB: db, Auth: as, Audit: al, Jobs: q}))
	t.Cleanup(hs.Close)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { q.Work(wctx, 4); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return hs.URL, res.Token, res.Org.ID, q
}

func runJobsCLI(t *testing.T, vars []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(context.Background(), args, vars, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestJobsCommands(t *testing.T) {
	url, token, orgID, q := jobsServer(t)
	vars := []string{"WHET_URL=" + url, "WHET_TOKEN=" + token}
	enq := func(kind string) string {
		j, err := q.Enqueue(context.Background(), jobs.EnqueueParams{OrgID: orgID, Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		return j.ID
	}
	ok, fail, block := enq("ok"), enq("fail"), enq("block")

	for _, tc := range []struct {
		name     string
		id       string
		wantCode int
		wantOut  string
	}{
		{"succeeded", ok, 0, "succeeded"},
		{"failed", fail, 1, "failed"},
	} {
		t.Run("watch "+tc.name, func(t *testing.T) {
			code, out, errOut := runJobsCLI(t, vars, "jobs", "watch", tc.id)
			if code != tc.wantCode || !strings.Contains(out, tc.wantOut) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d", code, out, errOut, tc.wantCode)
			}
		})
	}
	t.Run("get", func(t *testing.T) {
		code, out, errOut := runJobsCLI(t, vars, "jobs", "get", fail)
		if code != 0 || !strings.Contains(out, "bad input file") || !strings.Contains(out, "1 of 3") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
		code, out, _ = runJobsCLI(t, vars, "jobs", "get", ok, "-o", "json")
		var j struct {
			api.Job
			Result map[string]string `json:"result"`
		}
		if code != 0 || json.Unmarshal([]byte(out), &j) != nil || j.Status != "succeeded" || j.Result["done"] != "yes" {
			t.Fatalf("exit %d, json %q", code, out)
		}
	})
	t.Run("list", func(t *testing.T) {
		code, out, _ := runJobsCLI(t, vars, "jobs", "list", "--status", "failed", "-o", "json")
		var page api.Page[api.Job]
		if code != 0 || json.Unmarshal([]byte(out), &page) != nil || len(page.Items) != 1 || page.Items[0].ID != fail {
			t.Fatalf("exit %d, json %q", code, out)
		}
		code, out, _ = runJobsCLI(t, vars, "jobs", "list")
		if code != 0 || !strings.Contains(out, "STATUS") || !strings.Contains(out, ok) || !strings.Contains(out, block) {
			t.Fatalf("exit %d, table %q", code, out)
		}
	})
	t.Run("cancel and watch", func(t *testing.T) {
		code, out, errOut := runJobsCLI(t, vars, "jobs", "cancel", block)
		if code != 0 || !strings.Contains(out, block) {
			t.Fatalf("cancel: exit %d, %q %q", code, out, errOut)
		}
		code, out, errOut = runJobsCLI(t, vars, "jobs", "watch", block)
		if code != 3 || !strings.Contains(out, "cancelled") {
			t.Fatalf("watch a cancelled job: exit %d, %q %q; want 3", code, out, errOut)
		}
		code, _, errOut = runJobsCLI(t, vars, "jobs", "cancel", ok)
		if code == 0 || !strings.Contains(errOut, "409") {
			t.Fatalf("cancel a finished job: exit %d, %q", code, errOut)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			vars []string
			args []string
		}{
			{"no token", []string{"WHET_URL=" + url}, []string{"jobs", "list"}},
			{"bad output", vars, []string{"jobs", "list", "-o", "yaml"}},
			{"missing job", vars, []string{"jobs", "get", "job_nope"}},
			{"no id", vars, []string{"jobs", "watch"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if code, _, errOut := runJobsCLI(t, tc.vars, tc.args...); code == 0 || errOut == "" {
					t.Fatalf("exit %d, stderr %q", code, errOut)
				}
			})
		}
	})
}
