package finetune_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob/local"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// crashHelperEnv carries "dbURL|dataDir|blobDir|marker" to the worker
// process of TestResumeAfterKill9.
const crashHelperEnv = "WHET_FINETUNE_CRASH_HELPER"

// TestTrainWorkerProcess is not a test: TestResumeAfterKill9 runs the test
// binary again with it selected to get a training worker it can kill -9.
// The worker runs training jobs and, in step 6 of a run (after the
// checkpoint at step 4), writes the marker file and stops making progress
// while its heartbeat keeps the lease.
func TestTrainWorkerProcess(t *testing.T) {
	env := os.Getenv(crashHelperEnv)
	if env == "" {
		t.Skip("worker process for TestResumeAfterKill9")
	}
	parts := strings.Split(env, "|")
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	if len(parts) != 4 {
		fail(fmt.Errorf("%s=%q", crashHelperEnv, env))
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	db, err := store.Open(ctx, parts[0], parts[1])
	if err != nil {
		fail(err)
	}
	bs, err := local.Open(parts[2])
	if err != nil {
		fail(err)
	}
	al := audit.New(db, nil)
	svc := &finetune.Service{DB: db, Blob: bs, Datasets: dataset.NewService(db, bs, al, nil), Audit: al}
	q := jobs.New(db, jobs.Options{WorkerID: "child", LeaseTTL: time.Second, Heartbeat: 100 * time.Millisecond, PollInterval: 10 * time.Millisecond})
	svc.Jobs = q
	svc.RegisterJobs(q)
	svc.SetStepHook(func(_ context.Context, step int) {
		if step == 6 {
			if err := os.WriteFile(parts[3], []byte("6"), 0o644); err != nil {
				fail(err)
			}
			select {} // a long step; the parent kills the process here
		}
	})
	if err := q.Work(ctx, 1); err != nil {
		fail(err)
	}
	os.Exit(0)
}

// TestResumeAfterKill9 runs a training job in a worker process, kills that
// process with SIGKILL during step 6 (its last checkpoint is at step 4),
// and lets a worker in this process reclaim the job once the dead worker's
// lease expires: it resumes from step 4, and the loss of every step and the
// final loss equal those of an uninterrupted run of the same spec.
func TestResumeAfterKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a worker process")
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dataDir, dbURL := t.TempDir(), ""
			if backend == "postgres" {
				dbURL = storetest.PostgresURL(t)
			}
			db, err := store.Open(ctx, dbURL, dataDir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			if err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, db)

			// Uninterrupted reference run, in this process.
			want := f.referenceRun(t)

			// The same spec in a worker process, killed in step 6.
			run, err := f.svc.Create(ctx, f.orgID, "usr_test", f.project, f.spec())
			if err != nil {
				t.Fatal(err)
			}
			marker := filepath.Join(t.TempDir(), "step6")
			cmd := exec.Command(os.Args[0], "-test.run=^TestTrainWorkerProcess$")
			cmd.Env = append(os.Environ(), crashHelperEnv+"="+strings.Join([]string{dbURL, dataDir, f.blobDir, marker}, "|"))
			var out lockedBuffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			exited := make(chan struct{})
			go func() { cmd.Wait(); close(exited) }()
			killed := false
			defer func() {
				if !killed {
					cmd.Process.Kill()
					<-exited
				}
			}()
			deadline := time.Now().Add(60 * time.Second)
			for {
				if _, err := os.Stat(marker); err == nil {
					break
				}
				select {
				case <-exited:
					t.Fatalf("the worker exited before step 6:\n%s", out.String())
				default:
				}
				if time.Now().After(deadline) {
					t.Fatalf("the worker did not reach step 6 in 60 s:\n%s", out.String())
				}
				time.Sleep(10 * time.Millisecond) // polling with a deadline
			}
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			<-exited
			killed = true
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
				t.Fatalf("the worker ended with %v, want killed by SIGKILL", cmd.ProcessState)
			}
			mid, err := f.svc.Get(ctx, f.orgID, run.RunID)
			if err != nil {
				t.Fatal(err)
			}
			if mid.Status != "running" || mid.Artifacts.CheckpointStep != 4 {
				t.Fatalf("after the kill: status %s, checkpoint at step %d; want running, 4", mid.Status, mid.Artifacts.CheckpointStep)
			}

			q2 := f.queue("w2")
			w2ctx, stop2 := context.WithCancel(ctx)
			done2 := make(chan struct{})
			go func() { q2.Work(w2ctx, 1); close(done2) }()
			got := waitRun(t, f.svc, f.orgID, run.RunID)
			stop2()
			<-done2

			t.Logf("final loss after kill -9 and resume %.9g, uninterrupted %.9g", got.Metrics.FinalLoss, want.Metrics.FinalLoss)
			checkResumed(t, got, want)
			j, err := q2.Get(ctx, f.orgID, got.JobID)
			if err != nil || j.Attempts != 2 {
				t.Fatalf("job %+v %v, want 2 attempts", j, err)
			}
			vs, err := f.svc.ListVersions(ctx, f.orgID, mustModelID(t, f))
			if err != nil || len(vs) != 2 {
				t.Fatalf("versions %d (want one per run): %v", len(vs), err)
			}
		})
	}
}

// lockedBuffer collects the worker's output from two pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
