package jobs_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

func TestCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		started := make(chan string, 4)
		block := func(ctx context.Context, r *jobs.Run) error {
			started <- r.ID()
			<-ctx.Done()
			return context.Cause(ctx)
		}
		t.Run("queued", func(t *testing.T) {
			q := jobs.New(db, testOpts(db, "w1"))
			q.Register("test.block", block, jobs.KindOptions{})
			j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.block"})
			got, err := q.Cancel(ctx, org, j.ID, "usr_canceller")
			if err != nil || got.Status != jobs.StatusCancelled || got.FinishedAt == nil {
				t.Fatalf("Cancel = %+v, %v", got, err)
			}
			again, err := q.Cancel(ctx, org, j.ID, "usr_canceller")
			if err != nil || again.Status != jobs.StatusCancelled {
				t.Fatalf("second Cancel = %+v, %v", again, err)
			}
			if _, err := q.Cancel(ctx, "org_other", j.ID, "usr_x"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("Cancel from another org: %v", err)
			}
			if a := auditActions(t, db, j.ID); !slices.Equal(a, []string{"job.queued", "job.cancelled"}) {
				t.Fatalf("audit = %v", a)
			}
			// A worker never runs it.
			startWork(t, q, 1)
			j2 := enqueue(t, q, jobs.EnqueueParams{Kind: "test.block"})
			if id := <-started; id != j2.ID {
				t.Fatalf("worker ran cancelled job %s", id)
			}
			q.Cancel(ctx, org, j2.ID, "usr_canceller")
			waitStatus(t, q, j2.ID, jobs.StatusCancelled)
		})
		for _, remote := range []bool{false, true} {
			name := "running, same process"
			if remote {
				name = "running, from another process (seen by the heartbeat)"
			}
			t.Run(name, func(t *testing.T) {
				worker := jobs.New(db, testOpts(db, "worker"))
				worker.Register("test.block", block, jobs.KindOptions{})
				api := worker
				if remote {
					api = jobs.New(db, testOpts(db, "api"))
					api.Register("test.block", block, jobs.KindOptions{})
				}
				startWork(t, worker, 1)
				j := enqueue(t, api, jobs.EnqueueParams{Kind: "test.block"})
				if id := <-started; id != j.ID {
					t.Fatalf("started %s, want %s", id, j.ID)
				}
				got, err := api.Cancel(ctx, org, j.ID, "usr_canceller")
				if err != nil || got.Status != jobs.StatusRunning || !got.CancelRequested {
					t.Fatalf("Cancel of a running job = %+v, %v", got, err)
				}
				final := waitStatus(t, api, j.ID, jobs.StatusCancelled)
				if final.Attempts != 1 || final.LeaseOwner != "" {
					t.Fatalf("cancelled job = %+v", final)
				}
				if a := auditActions(t, db, j.ID); !slices.Equal(a, []string{"job.queued", "job.started", "job.cancel_requested", "job.cancelled"}) {
					t.Fatalf("audit = %v", a)
				}
				if _, err := api.Cancel(ctx, org, j.ID, "usr_canceller"); err != nil {
					t.Fatalf("Cancel of a cancelled job: %v", err)
				}
			})
		}
		t.Run("finished", func(t *testing.T) {
			q := jobs.New(db, testOpts(db, "w3"))
			q.Register("test.noop", noop, jobs.KindOptions{})
			startWork(t, q, 1)
			j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.noop"})
			waitStatus(t, q, j.ID, jobs.StatusSucceeded)
			if _, err := q.Cancel(ctx, org, j.ID, "usr_x"); !errors.Is(err, jobs.ErrFinished) {
				t.Fatalf("Cancel of a succeeded job: %v, want ErrFinished", err)
			}
		})
		verifyAudit(t, db)
	})
}

// TestLostLease: worker A claims a job and stalls past its lease; worker B
// (whose clock is later) reclaims it and completes it; when A wakes up and
// completes too, its effect must not be committed.
func TestLostLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		createEffects(t, db)
		ctx := context.Background()
		optsA := testOpts(db, "A")
		optsA.LeaseTTL, optsA.Heartbeat = time.Hour, 59*time.Minute // A never heartbeats in this test
		a := jobs.New(db, optsA)
		aStarted, aWake := make(chan struct{}), make(chan struct{})
		aResult := make(chan error, 1)
		a.Register("test.effect", func(ctx context.Context, r *jobs.Run) error {
			r.SaveCheckpoint(ctx, []byte("A was here"))
			close(aStarted)
			<-aWake // stalls (a GC pause, a partition) while its lease runs out
			err := r.Complete(context.Background(), "from A", insertEffect(db, r.ID(), "A", "A"))
			aResult <- err
			return err
		}, jobs.KindOptions{})

		optsB := testOpts(db, "B")
		optsB.Clock = func() time.Time { return time.Now().Add(2 * time.Hour) } // past A's lease
		b := jobs.New(db, optsB)
		var bCheckpoint []byte
		b.Register("test.effect", func(ctx context.Context, r *jobs.Run) error {
			var err error
			if bCheckpoint, err = r.Checkpoint(); err != nil {
				return err
			}
			return r.Complete(ctx, "from B", insertEffect(db, r.ID(), "B", "B"))
		}, jobs.KindOptions{})

		j := enqueue(t, a, jobs.EnqueueParams{Kind: "test.effect"})
		startWork(t, a, 1)
		<-aStarted
		startWork(t, b, 1)
		got := waitStatus(t, b, j.ID, jobs.StatusSucceeded)
		close(aWake)
		if err := <-aResult; !errors.Is(err, jobs.ErrLeaseLost) {
			t.Fatalf("A's Complete after losing its lease: %v, want ErrLeaseLost", err)
		}
		if got.Attempts != 2 || string(got.Result) != `"from B"` {
			t.Fatalf("job = %+v", got)
		}
		if !bytes.Equal(bCheckpoint, []byte("A was here")) {
			t.Fatalf("B saw checkpoint %q", bCheckpoint)
		}
		if n, w, _ := effects(t, db, j.ID); n != 1 || w != "B" {
			t.Fatalf("effects: %d rows, by %q; want exactly one, by B", n, w)
		}
		final, _ := a.Get(ctx, org, j.ID)
		if final.Status != jobs.StatusSucceeded || string(final.Result) != `"from B"` {
			t.Fatalf("after A woke: %+v", final)
		}
		logs, _ := a.Logs(ctx, org, j.ID, 0, 0)
		reclaimed := false
		for _, l := range logs {
			reclaimed = reclaimed || bytes.Contains([]byte(l.Message), []byte("reclaimed: the lease of worker A expired"))
		}
		if !reclaimed {
			t.Fatalf("no reclaim line in logs: %+v", logs)
		}
		verifyAudit(t, db)
	})
}

// TestExpiredLeaseExhausted: a job whose worker died on its last attempt
// fails instead of running again; a job cancelled while its worker was
// dead is cancelled.
func TestExpiredLeaseSettled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		optsA := testOpts(db, "A")
		optsA.LeaseTTL, optsA.Heartbeat = time.Hour, 59*time.Minute
		a := jobs.New(db, optsA)
		var started sync.WaitGroup
		started.Add(2)
		wake := make(chan struct{})
		a.Register("test.stall", func(ctx context.Context, r *jobs.Run) error {
			started.Done()
			<-wake
			return nil
		}, jobs.KindOptions{})
		last := enqueue(t, a, jobs.EnqueueParams{Kind: "test.stall", MaxAttempts: 1})
		cancelled := enqueue(t, a, jobs.EnqueueParams{Kind: "test.stall", MaxAttempts: 5})
		startWork(t, a, 2)
		started.Wait()
		if _, err := a.Cancel(ctx, org, cancelled.ID, "usr_x"); err != nil {
			t.Fatal(err)
		}
		optsB := testOpts(db, "B")
		optsB.Clock = func() time.Time { return time.Now().Add(2 * time.Hour) }
		var ran atomic.Int32
		b := jobs.New(db, optsB)
		b.Register("test.stall", func(ctx context.Context, r *jobs.Run) error { ran.Add(1); return nil }, jobs.KindOptions{})
		startWork(t, b, 1)
		f := waitStatus(t, b, last.ID, jobs.StatusFailed)
		if f.Attempts != 1 || f.Error == "" {
			t.Fatalf("exhausted job = %+v", f)
		}
		c := waitStatus(t, b, cancelled.ID, jobs.StatusCancelled)
		if c.Attempts != 1 {
			t.Fatalf("cancelled job = %+v", c)
		}
		close(wake)
		if ran.Load() != 0 {
			t.Fatalf("B ran %d settled jobs", ran.Load())
		}
	})
}

func TestCheckpointResume(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{
		{"inline", 1 << 10},
		{"blob", 200 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				bs, err := local.Open(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				opts := testOpts(db, "w1")
				opts.Blob = bs
				q := jobs.New(db, opts)
				state := bytes.Repeat([]byte("ckpt"), tc.size/4)
				var resumed []byte
				q.Register("test.resume", func(ctx context.Context, r *jobs.Run) error {
					cp, err := r.Checkpoint()
					if err != nil {
						return err
					}
					if r.Attempt() == 1 {
						if cp != nil {
							return jobs.Permanent(errors.New("fresh job has a checkpoint"))
						}
						if err := r.SaveCheckpoint(ctx, state); err != nil {
							return err
						}
						return errBoom
					}
					resumed = cp
					return nil
				}, jobs.KindOptions{BackoffBase: time.Millisecond})
				j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.resume"})
				startWork(t, q, 1)
				got := waitTerminal(t, q, j.ID)
				if got.Status != jobs.StatusSucceeded || got.Attempts != 2 || !got.HasCheckpoint {
					t.Fatalf("job = %+v", got)
				}
				if !bytes.Equal(resumed, state) {
					t.Fatalf("attempt 2 read %d checkpoint bytes, want %d", len(resumed), len(state))
				}
				if inBlob := got.CheckpointBlob != ""; inBlob != (tc.name == "blob") {
					t.Fatalf("checkpoint blob = %q for a %d-byte checkpoint", got.CheckpointBlob, tc.size)
				}
			})
		})
	}
}

// TestShutdownHandsBackLeases: cancelling Work's context (what SIGTERM
// does in whet serve/worker) returns running jobs to the queue without
// spending an attempt, and another worker then finishes them.
func TestShutdownHandsBackLeases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q := jobs.New(db, testOpts(db, "first"))
		var running sync.WaitGroup
		running.Add(3)
		q.Register("test.long", func(ctx context.Context, r *jobs.Run) error {
			running.Done()
			<-ctx.Done()
			return ctx.Err()
		}, jobs.KindOptions{})
		var ids []string
		for i := 0; i < 3; i++ {
			ids = append(ids, enqueue(t, q, jobs.EnqueueParams{Kind: "test.long"}).ID)
		}
		stop := startWork(t, q, 3)
		running.Wait()
		stop()
		for _, id := range ids {
			j, err := q.Get(ctx, org, id)
			if err != nil {
				t.Fatal(err)
			}
			if j.Status != jobs.StatusQueued || j.LeaseOwner != "" || j.LeaseExpiresAt != nil || j.Attempts != 0 {
				t.Fatalf("after shutdown: %+v", j)
			}
			if a := auditActions(t, db, id); !slices.Equal(a, []string{"job.queued", "job.started", "job.released"}) {
				t.Fatalf("audit = %v", a)
			}
		}
		next := jobs.New(db, testOpts(db, "second"))
		next.Register("test.long", noop, jobs.KindOptions{})
		startWork(t, next, 2)
		for _, id := range ids {
			if j := waitTerminal(t, next, id); j.Status != jobs.StatusSucceeded || j.Attempts != 1 {
				t.Fatalf("after restart: %+v", j)
			}
		}
	})
}

// TestShutdownGrace: a handler that ignores cancellation does not keep its
// lease past the grace period.
func TestShutdownGrace(t *testing.T) {
	db := storetest.SQLite(t)
	opts := testOpts(db, "w1")
	opts.ShutdownGrace = 50 * time.Millisecond
	q := jobs.New(db, opts)
	started, release := make(chan struct{}), make(chan struct{})
	q.Register("test.stubborn", func(ctx context.Context, r *jobs.Run) error {
		close(started)
		<-release
		return nil
	}, jobs.KindOptions{})
	defer close(release)
	j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.stubborn"})
	stop := startWork(t, q, 1)
	<-started
	stop()
	got, _ := q.Get(context.Background(), org, j.ID)
	if got.Status != jobs.StatusQueued || got.LeaseOwner != "" {
		t.Fatalf("after grace: %+v", got)
	}
}
