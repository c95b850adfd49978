package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

func noop(ctx context.Context, r *jobs.Run) error { return nil }

func TestEnqueueGetList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := jobs.New(db, testOpts(db, "w1"))
		q.Register("test.noop", noop, jobs.KindOptions{MaxAttempts: 4})

		var ids []string
		for i := 0; i < 5; i++ {
			j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.noop", ProjectID: "prj_a", Payload: map[string]int{"i": i}})
			if j.Status != jobs.StatusQueued || j.MaxAttempts != 4 || j.Attempts != 0 || j.Kind != "test.noop" {
				t.Fatalf("enqueued job = %+v", j)
			}
			ids = append(ids, j.ID)
		}
		got, err := q.Get(ctx, org, ids[2])
		if err != nil || string(got.Payload) != `{"i":2}` || got.ProjectID != "prj_a" || got.ActorID != "usr_tester" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		if _, err := q.Get(ctx, "org_other", ids[2]); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get from another org: %v, want ErrNotFound", err)
		}
		if _, err := q.Get(ctx, org, "job_missing"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Get missing: %v", err)
		}

		// Pages of 2, newest first, cover every job once.
		var seen []string
		cursor := ""
		for page := 0; ; page++ {
			js, next, err := q.List(ctx, org, jobs.ListFilter{}, 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range js {
				seen = append(seen, j.ID)
			}
			if next == "" {
				break
			}
			if page > 5 {
				t.Fatal("pagination does not end")
			}
			cursor = next
		}
		if len(seen) != 5 {
			t.Fatalf("listed %d jobs, want 5: %v", len(seen), seen)
		}
		for _, id := range ids {
			if !slices.Contains(seen, id) {
				t.Fatalf("job %s missing from list %v", id, seen)
			}
		}
		if js, _, _ := q.List(ctx, "org_other", jobs.ListFilter{}, 10, ""); len(js) != 0 {
			t.Fatalf("another org lists %d jobs", len(js))
		}
		for _, tc := range []struct {
			name string
			f    jobs.ListFilter
			want int
		}{
			{"status queued", jobs.ListFilter{Status: jobs.StatusQueued}, 5},
			{"status failed", jobs.ListFilter{Status: jobs.StatusFailed}, 0},
			{"kind", jobs.ListFilter{Kind: "test.noop"}, 5},
			{"other kind", jobs.ListFilter{Kind: "nope"}, 0},
			{"project", jobs.ListFilter{ProjectID: "prj_a"}, 5},
		} {
			t.Run(tc.name, func(t *testing.T) {
				js, _, err := q.List(ctx, org, tc.f, 100, "")
				if err != nil || len(js) != tc.want {
					t.Fatalf("List(%+v) = %d jobs, %v; want %d", tc.f, len(js), err, tc.want)
				}
			})
		}
		for _, bad := range []string{"!!", "bm90LWEtY3Vyc29y", "MjAyNi0wMS0wMXxqb2JfeA"} {
			if _, _, err := q.List(ctx, org, jobs.ListFilter{}, 2, bad); !errors.Is(err, jobs.ErrBadCursor) {
				t.Errorf("List with cursor %q: %v, want ErrBadCursor", bad, err)
			}
		}
		if _, _, err := q.List(ctx, org, jobs.ListFilter{Status: "bogus"}, 2, ""); !errors.Is(err, jobs.ErrInvalid) {
			t.Errorf("List with a bad status: %v", err)
		}
		if _, err := q.Enqueue(ctx, jobs.EnqueueParams{OrgID: org, Kind: "not.registered"}); !errors.Is(err, jobs.ErrUnknownKind) {
			t.Errorf("Enqueue of an unknown kind: %v", err)
		}
		if got := auditActions(t, db, ids[0]); !slices.Equal(got, []string{"job.queued"}) {
			t.Errorf("audit = %v", got)
		}
	})
}

func TestUniqueKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := jobs.New(db, testOpts(db, "w1"))
		q.Register("test.noop", noop, jobs.KindOptions{})
		a := enqueue(t, q, jobs.EnqueueParams{Kind: "test.noop", UniqueKey: "index:prj_a"})
		b := enqueue(t, q, jobs.EnqueueParams{Kind: "test.noop", UniqueKey: "index:prj_a"})
		if a.ID != b.ID {
			t.Fatalf("same unique key gave two jobs: %s, %s", a.ID, b.ID)
		}
		c := enqueue(t, q, jobs.EnqueueParams{Kind: "test.noop", UniqueKey: "index:prj_b"})
		if c.ID == a.ID {
			t.Fatal("different unique keys share a job")
		}
		// Once the job is finished, the key is free again.
		if _, err := q.Cancel(context.Background(), org, a.ID, "usr_tester"); err != nil {
			t.Fatal(err)
		}
		d := enqueue(t, q, jobs.EnqueueParams{Kind: "test.noop", UniqueKey: "index:prj_a"})
		if d.ID == a.ID {
			t.Fatal("a finished job's unique key still dedupes")
		}
	})
}

func TestRunSucceeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		createEffects(t, db)
		q := jobs.New(db, testOpts(db, "w1"))
		type payload struct{ Name string }
		q.Register("test.ok", func(ctx context.Context, r *jobs.Run) error {
			var p payload
			if err := r.Payload(&p); err != nil {
				return err
			}
			r.Logf(slog.LevelInfo, "hello %s", p.Name)
			r.Progress(0.5, "halfway")
			r.Logf(slog.LevelWarn, "attempt %d", r.Attempt())
			return r.Complete(ctx, map[string]string{"greeting": "hi " + p.Name}, insertEffect(db, r.ID(), "w1", p.Name))
		}, jobs.KindOptions{})
		j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.ok", Payload: payload{Name: "ada"}})
		startWork(t, q, 2)
		got := waitTerminal(t, q, j.ID)
		if got.Status != jobs.StatusSucceeded || string(got.Result) != `{"greeting":"hi ada"}` || got.Progress != 1 ||
			got.Attempts != 1 || got.FinishedAt == nil || got.StartedAt == nil || got.LeaseOwner != "" {
			t.Fatalf("job = %+v", got)
		}
		if n, _, v := effects(t, db, j.ID); n != 1 || v != "ada" {
			t.Fatalf("effects = %d %q", n, v)
		}
		logs, err := q.Logs(context.Background(), org, j.ID, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		var msgs []string
		for i, l := range logs {
			if l.Seq != int64(i+1) {
				t.Fatalf("log seq %d at position %d", l.Seq, i)
			}
			msgs = append(msgs, l.Level+": "+l.Message)
		}
		want := []string{"info: attempt 1 of 3 started on worker w1", "info: hello ada", "warn: attempt 1", "info: succeeded on attempt 1"}
		if !slices.Equal(msgs, want) {
			t.Fatalf("logs = %q, want %q", msgs, want)
		}
		if tail, _ := q.Logs(context.Background(), org, j.ID, 2, 10); len(tail) != 2 || tail[0].Seq != 3 {
			t.Fatalf("Logs after seq 2 = %+v", tail)
		}
		if _, err := q.Logs(context.Background(), "org_other", j.ID, 0, 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("Logs from another org: %v", err)
		}
		if got := auditActions(t, db, j.ID); !slices.Equal(got, []string{"job.queued", "job.started", "job.succeeded"}) {
			t.Fatalf("audit = %v", got)
		}
		verifyAudit(t, db)
		counts, err := q.Counts(context.Background())
		if err != nil || counts[jobs.StatusSucceeded] != 1 || counts[jobs.StatusQueued] != 0 {
			t.Fatalf("Counts = %v, %v", counts, err)
		}
	})
}

func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name         string
		failFirst    int // attempts that fail before success (-1: all)
		maxAttempts  int
		permanent    bool
		panics       bool
		wantStatus   jobs.Status
		wantAttempts int
		wantAudit    []string
	}{
		{name: "retry then succeed", failFirst: 2, maxAttempts: 3, wantStatus: jobs.StatusSucceeded, wantAttempts: 3,
			wantAudit: []string{"job.queued", "job.started", "job.retrying", "job.started", "job.retrying", "job.started", "job.succeeded"}},
		{name: "attempts exhausted", failFirst: -1, maxAttempts: 2, wantStatus: jobs.StatusFailed, wantAttempts: 2,
			wantAudit: []string{"job.queued", "job.started", "job.retrying", "job.started", "job.failed"}},
		{name: "permanent error", failFirst: -1, maxAttempts: 5, permanent: true, wantStatus: jobs.StatusFailed, wantAttempts: 1,
			wantAudit: []string{"job.queued", "job.started", "job.failed"}},
		{name: "panic is a failure", failFirst: 1, maxAttempts: 3, panics: true, wantStatus: jobs.StatusSucceeded, wantAttempts: 2,
			wantAudit: []string{"job.queued", "job.started", "job.retrying", "job.started", "job.succeeded"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				q := jobs.New(db, testOpts(db, "w1"))
				q.Register("test.flaky", func(ctx context.Context, r *jobs.Run) error {
					if tc.failFirst < 0 || r.Attempt() <= tc.failFirst {
						if tc.panics {
							panic("handler bug")
						}
						err := fmt.Errorf("attempt %d: %w", r.Attempt(), errBoom)
						if tc.permanent {
							return jobs.Permanent(err)
						}
						return err
					}
					return nil
				}, jobs.KindOptions{BackoffBase: time.Millisecond, BackoffMax: 4 * time.Millisecond})
				j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.flaky", MaxAttempts: tc.maxAttempts})
				startWork(t, q, 1)
				got := waitTerminal(t, q, j.ID)
				if got.Status != tc.wantStatus || got.Attempts != tc.wantAttempts {
					t.Fatalf("job = %s after %d attempts (error %q); want %s after %d", got.Status, got.Attempts, got.Error, tc.wantStatus, tc.wantAttempts)
				}
				if tc.wantStatus == jobs.StatusFailed && got.Error == "" {
					t.Fatal("failed job has no error")
				}
				if a := auditActions(t, db, j.ID); !slices.Equal(a, tc.wantAudit) {
					t.Fatalf("audit = %v, want %v", a, tc.wantAudit)
				}
				if tc.panics {
					logs, _ := q.Logs(context.Background(), org, j.ID, 0, 0)
					found := false
					for _, l := range logs {
						found = found || (l.Level == "error" && len(l.Message) > 6 && l.Message[:6] == "panic:")
					}
					if !found {
						t.Fatalf("no panic line in logs %+v", logs)
					}
				}
			})
		})
	}
}

func TestBackoff(t *testing.T) {
	base, max := time.Second, time.Minute
	for _, tc := range []struct {
		attempt int
		rnd     float64
		want    time.Duration
	}{
		{1, 0, 500 * time.Millisecond},
		{1, 0.999999999, time.Second - time.Nanosecond},
		{2, 0, time.Second},
		{3, 0.5, 3 * time.Second},
		{7, 0, 30 * time.Second},  // 64 s capped at 60 s, jittered down by half
		{40, 0, 30 * time.Second}, // no overflow
		{100, 0, 30 * time.Second},
		{0, 0, 500 * time.Millisecond},
	} {
		t.Run(fmt.Sprintf("attempt %d rnd %v", tc.attempt, tc.rnd), func(t *testing.T) {
			got := jobs.Backoff(tc.attempt, base, max, tc.rnd)
			if diff := got - tc.want; diff < -time.Microsecond || diff > time.Microsecond {
				t.Fatalf("Backoff = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRegisterDuplicatePanics(t *testing.T) {
	q := jobs.New(storetest.SQLite(t), jobs.Options{})
	q.Register("k", noop, jobs.KindOptions{})
	defer func() {
		if recover() == nil {
			t.Fatal("second Register did not panic")
		}
	}()
	q.Register("k", noop, jobs.KindOptions{})
}

var _ = sql.ErrNoRows

func TestProgressAndETA(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q := jobs.New(db, testOpts(db, "w1"))
		release := make(chan struct{})
		q.Register("test.progress", func(ctx context.Context, r *jobs.Run) error {
			r.Progress(-3, "warming up") // clamped to 0
			r.Progress(0.5, "half way")
			<-release
			return nil
		}, jobs.KindOptions{})
		j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.progress"})
		startWork(t, q, 1)
		var got jobs.Job
		eventually(t, "progress to reach the database", func() bool {
			got, _ = q.Get(context.Background(), org, j.ID)
			return got.Stage == "half way" && got.Progress == 0.5
		})
		close(release)
		if got.ETA == nil || got.StartedAt == nil || got.ETA.Before(*got.StartedAt) {
			t.Fatalf("ETA = %v (started %v); want an estimate after the start", got.ETA, got.StartedAt)
		}
		if done := waitTerminal(t, q, j.ID); done.ETA != nil || done.Progress != 1 {
			t.Fatalf("finished job keeps ETA %v, progress %v", done.ETA, done.Progress)
		}
	})
}

func TestAttemptTimeout(t *testing.T) {
	db := storetest.SQLite(t)
	q := jobs.New(db, testOpts(db, "w1"))
	q.Register("test.slow", func(ctx context.Context, r *jobs.Run) error {
		<-ctx.Done()
		return ctx.Err()
	}, jobs.KindOptions{Timeout: 50 * time.Millisecond, MaxAttempts: 2, BackoffBase: time.Millisecond})
	j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.slow"})
	startWork(t, q, 1)
	got := waitTerminal(t, q, j.ID)
	if got.Status != jobs.StatusFailed || got.Attempts != 2 || !strings.Contains(got.Error, "timed out") {
		t.Fatalf("job = %s after %d attempts, error %q", got.Status, got.Attempts, got.Error)
	}
}

// FuzzListCursor: any cursor string is either a page or ErrBadCursor,
// never another error or a panic.
func FuzzListCursor(f *testing.F) {
	db := storetest.SQLite(f)
	q := jobs.New(db, jobs.Options{})
	q.Register("test.noop", noop, jobs.KindOptions{})
	for i := 0; i < 3; i++ {
		if _, err := q.Enqueue(context.Background(), jobs.EnqueueParams{OrgID: org, Kind: "test.noop"}); err != nil {
			f.Fatal(err)
		}
	}
	_, next, err := q.List(context.Background(), org, jobs.ListFilter{}, 1, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(next)
	f.Add("")
	f.Add("MjAyNi0xMS0yNVQxODowMDowMC4wMDAwMDBafGpvYl8nIE9SICcxJz0nMQ")
	f.Fuzz(func(t *testing.T, cursor string) {
		_, _, err := q.List(context.Background(), org, jobs.ListFilter{}, 2, cursor)
		if err != nil && !errors.Is(err, jobs.ErrBadCursor) {
			t.Fatalf("List(cursor %q): %v", cursor, err)
		}
	})
}
