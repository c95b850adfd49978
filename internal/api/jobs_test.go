package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

type jobsEnv struct {
	q       *jobs.Queue
	url     string
	owner   *api.Client
	orgID   string
	release chan struct{} // closing it lets test.wait jobs finish
}

func newJobsEnv(t *testing.T, db *store.DB) *jobsEnv {
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
	e := &jobsEnv{orgID: res.Org.ID, release: make(chan struct{})}
	e.q = jobs.New(db, jobs.Options{Audit: al, Heartbeat: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	e.q.Register("test.wait", func(ctx context.Context, r *jobs.Run) error {
		for i := 1; i <= 3; i++ {
			r.Logf(slog.LevelInfo, "line %d", i)
		}
		r.Progress(0.5, "waiting")
		select {
		case <-e.release:
		case <-ctx.Done():
			return ctx.Err()
		}
		return r.Complete(ctx, map[string]int{"answer": 42}, nil)
	}, jobs.KindOptions{Scope: auth.ScopeTrainRun})
	e.q.Register("test.admin", func(ctx context.Context, r *jobs.Run) error { <-ctx.Done(); return ctx.Err() }, jobs.KindOptions{})
	srv := api.New(api.Deps{DB: db, Auth: as, Audit: al, Jobs: e.q})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e.url = hs.URL
	e.owner = api.NewClient(hs.URL, res.Token)
	return e
}

func (e *jobsEnv) work(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.q.Work(ctx, 8); close(done) }() // room for the blocking test.admin jobs too
	t.Cleanup(func() { cancel(); <-done })
}

func (e *jobsEnv) enqueue(t *testing.T, kind string) jobs.Job {
	t.Helper()
	j, err := e.q.Enqueue(context.Background(), jobs.EnqueueParams{OrgID: e.orgID, ActorID: "usr_test", Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func (e *jobsEnv) keyClient(t *testing.T, role string) *api.Client {
	t.Helper()
	k, err := e.owner.CreateAPIKey(context.Background(), api.APIKeyCreate{Name: role, Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return api.NewClient(e.url, k.Token)
}

func wantStatus(t *testing.T, err error, status int) {
	t.Helper()
	var p *api.Problem
	if !errors.As(err, &p) || p.Status != status {
		t.Fatalf("error = %v, want HTTP %d", err, status)
	}
}

func TestJobsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newJobsEnv(t, db)
		var ids []string
		for i := 0; i < 3; i++ {
			ids = append(ids, e.enqueue(t, "test.admin").ID)
		}
		foreign, err := e.q.Enqueue(ctx, jobs.EnqueueParams{OrgID: "org_someone_else", Kind: "test.admin"})
		if err != nil {
			t.Fatal(err)
		}

		t.Run("list and get", func(t *testing.T) {
			var seen []string
			cursor := ""
			for {
				page, err := e.owner.ListJobs(ctx, api.JobQuery{}, 2, cursor)
				if err != nil {
					t.Fatal(err)
				}
				for _, j := range page.Items {
					seen = append(seen, j.ID)
				}
				if cursor = page.NextCursor; cursor == "" {
					break
				}
			}
			if len(seen) != 3 {
				t.Fatalf("listed %v, want the 3 jobs of this org", seen)
			}
			j, err := e.owner.GetJob(ctx, ids[0])
			if err != nil || j.Status != "queued" || j.Kind != "test.admin" || j.MaxAttempts != 3 {
				t.Fatalf("GetJob = %+v, %v", j, err)
			}
			page, err := e.owner.ListJobs(ctx, api.JobQuery{Status: "running"}, 10, "")
			if err != nil || len(page.Items) != 0 {
				t.Fatalf("running jobs = %+v, %v", page, err)
			}
		})
		t.Run("bad requests", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				do   func() error
				want int
			}{
				{"another org's job", func() error { _, err := e.owner.GetJob(ctx, foreign.ID); return err }, 404},
				{"another org's job logs", func() error {
					return e.owner.StreamJobLogs(ctx, foreign.ID, 0, false, func(api.JobEvent) error { return nil })
				}, 404},
				{"cancel another org's job", func() error { _, err := e.owner.CancelJob(ctx, foreign.ID); return err }, 404},
				{"missing job", func() error { _, err := e.owner.GetJob(ctx, "job_nope"); return err }, 404},
				{"bad cursor", func() error { _, err := e.owner.ListJobs(ctx, api.JobQuery{}, 2, "xyz"); return err }, 400},
				{"bad status", func() error { _, err := e.owner.ListJobs(ctx, api.JobQuery{Status: "done"}, 2, ""); return err }, 422},
				{"injection id", func() error { _, err := e.owner.GetJob(ctx, "job_x' OR '1'='1"); return err }, 404},
				{"no token", func() error { _, err := api.NewClient(e.url, "").GetJob(ctx, ids[0]); return err }, 401},
			} {
				t.Run(tc.name, func(t *testing.T) { wantStatus(t, tc.do(), tc.want) })
			}
			if j, _ := e.q.Get(ctx, "org_someone_else", foreign.ID); j.Status != jobs.StatusQueued {
				t.Fatalf("foreign job changed: %+v", j)
			}
		})
		t.Run("cancel scopes", func(t *testing.T) {
			viewer, ml := e.keyClient(t, "viewer"), e.keyClient(t, "ml_engineer")
			scoped := e.enqueue(t, "test.wait") // cancel needs train:run
			if _, err := viewer.GetJob(ctx, scoped.ID); err != nil {
				t.Fatalf("a viewer cannot read a job: %v", err)
			}
			_, err := viewer.CancelJob(ctx, scoped.ID)
			wantStatus(t, err, 403)
			j, err := ml.CancelJob(ctx, scoped.ID)
			if err != nil || j.Status != "cancelled" {
				t.Fatalf("ml_engineer cancel = %+v, %v", j, err)
			}
			adminOnly := e.enqueue(t, "test.admin")
			_, err = ml.CancelJob(ctx, adminOnly.ID)
			wantStatus(t, err, 403)
			if j, err := e.owner.CancelJob(ctx, adminOnly.ID); err != nil || j.Status != "cancelled" {
				t.Fatalf("owner cancel = %+v, %v", j, err)
			}
		})
		t.Run("logs stream and cancel running", func(t *testing.T) {
			e.work(t)
			j := e.enqueue(t, "test.wait")
			var mu sync.Mutex
			var logs []string
			var jobEvents int
			var end *api.JobEnd
			streamed := make(chan error, 1)
			sctx, scancel := context.WithCancel(ctx) // a failed test must not leave the stream open
			defer scancel()
			go func() {
				streamed <- e.owner.StreamJobLogs(sctx, j.ID, 0, true, func(ev api.JobEvent) error {
					mu.Lock()
					defer mu.Unlock()
					switch {
					case ev.Log != nil:
						logs = append(logs, fmt.Sprintf("%d:%s", ev.Log.Seq, ev.Log.Message))
						if ev.Log.Message == "line 3" {
							close(e.release)
						}
					case ev.Job != nil:
						jobEvents++
					case ev.End != nil:
						end = ev.End
					}
					return nil
				})
			}()
			select {
			case err := <-streamed:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(60 * time.Second):
				t.Fatal("log stream did not end when the job did")
			}
			mu.Lock()
			got := strings.Join(logs, ",")
			mu.Unlock()
			want := "1:attempt 1 of 3 started on worker " + e.q.WorkerID() + ",2:line 1,3:line 2,4:line 3,5:succeeded on attempt 1"
			if got != want || end == nil || end.Status != "succeeded" || jobEvents < 1 {
				t.Fatalf("stream: logs %q, end %+v, %d job events; want logs %q", got, end, jobEvents, want)
			}
			// Resume after seq 3 with Last-Event-ID: only the rest.
			req, _ := http.NewRequest(http.MethodGet, e.url+"/v1/jobs/"+j.ID+"/logs", nil)
			req.Header.Set("Last-Event-ID", "3")
			resp, err := e.owner.Send(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Fatalf("Content-Type = %q", ct)
			}
			if s := string(body); strings.Contains(s, "line 2") || !strings.Contains(s, "id: 4\nevent: log") || !strings.Contains(s, "event: end") {
				t.Fatalf("resumed stream:\n%s", s)
			}
			req.Header.Set("Last-Event-ID", "nope")
			_, err = e.owner.Send(req)
			wantStatus(t, err, 400)

			final, err := e.owner.GetJob(ctx, j.ID)
			if err != nil || final.Status != "succeeded" || string(final.Result) != `{"answer":42}` || final.Progress != 1 {
				t.Fatalf("final job = %+v, %v", final, err)
			}
			_, err = e.owner.CancelJob(ctx, j.ID)
			wantStatus(t, err, 409)

			running := e.enqueue(t, "test.admin")
			deadline := time.Now().Add(60 * time.Second)
			for {
				cur, err := e.owner.GetJob(ctx, running.ID)
				if err != nil {
					t.Fatal(err)
				}
				if cur.Status == "running" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("job never started")
				}
				time.Sleep(10 * time.Millisecond)
			}
			if c, err := e.owner.CancelJob(ctx, running.ID); err != nil || !c.CancelRequested {
				t.Fatalf("cancel running = %+v, %v", c, err)
			}
			done, err := e.q.Wait(ctx, e.orgID, running.ID)
			if err != nil || done.Status != jobs.StatusCancelled {
				t.Fatalf("after cancel: %+v, %v", done, err)
			}
		})
	})
}
