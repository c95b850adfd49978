package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
)

// stepState is the checkpoint of the steps job.
type stepState struct {
	Done int `json:"done"`
	Sum  int `json:"sum"`
}

type stepResult struct {
	Sum         int `json:"sum"`
	ResumedFrom int `json:"resumed_from"`
}

// stepsHandler runs payload.Steps steps, checkpointing after each. With
// stallAfter > 0 it stops making progress after that step (the parent test
// then kills the process). ran records each step this process executed.
func stepsHandler(db *store.DB, worker string, stallAfter int, ran func(step int)) jobs.Handler {
	return func(ctx context.Context, r *jobs.Run) error {
		var p struct{ Steps int }
		if err := r.Payload(&p); err != nil {
			return err
		}
		var st stepState
		cp, err := r.Checkpoint()
		if err != nil {
			return err
		}
		if cp != nil {
			if err := json.Unmarshal(cp, &st); err != nil {
				return jobs.Permanent(err)
			}
		}
		resumedFrom := st.Done
		for st.Done < p.Steps {
			if err := ctx.Err(); err != nil {
				return err
			}
			st.Done++
			st.Sum += st.Done
			ran(st.Done)
			b, _ := json.Marshal(st)
			if err := r.SaveCheckpoint(ctx, b); err != nil {
				return err
			}
			r.Progress(float64(st.Done)/float64(p.Steps), fmt.Sprintf("step %d", st.Done))
			if st.Done == stallAfter {
				<-ctx.Done() // a long step; the test kills the process here
				return ctx.Err()
			}
		}
		return r.Complete(ctx, stepResult{Sum: st.Sum, ResumedFrom: resumedFrom}, insertEffect(db, r.ID(), worker, fmt.Sprint(st.Sum)))
	}
}

const (
	helperEnv      = "WHET_JOBS_TEST_HELPER"
	helperDBEnv    = "WHET_JOBS_TEST_HELPER_DB"
	helperStallEnv = "WHET_JOBS_TEST_HELPER_STALL"
)

// TestHelperProcess is not a test: TestCrashResume runs the test binary
// again with it selected to get a worker process it can kill -9.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestCrashResume")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	db, err := store.Open(ctx, os.Getenv(helperDBEnv), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	var stall int
	fmt.Sscan(os.Getenv(helperStallEnv), &stall)
	q := jobs.New(db, jobs.Options{WorkerID: "child", LeaseTTL: time.Second, Heartbeat: 100 * time.Millisecond, PollInterval: 20 * time.Millisecond})
	q.Register("test.steps", stepsHandler(db, "child", stall, func(int) {}), jobs.KindOptions{BackoffBase: time.Millisecond})
	if err := q.Work(ctx, 1); err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(3)
	}
	os.Exit(0)
}

// TestCrashResume: a worker process is killed with SIGKILL in the middle of
// a checkpointing job; a second worker reclaims the job once the dead
// worker's lease expires, resumes from the last checkpoint, and the job
// finishes once, with the right result and one committed effect.
func TestCrashResume(t *testing.T) {
	const steps, stallAfter = 10, 4
	eachURL(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openDB(t, url)
		createEffects(t, db)
		q := jobs.New(db, jobs.Options{WorkerID: "parent", LeaseTTL: 5 * time.Second, Heartbeat: 100 * time.Millisecond, PollInterval: 20 * time.Millisecond})
		var mu sync.Mutex
		var parentSteps []int
		q.Register("test.steps", stepsHandler(db, "parent", 0, func(s int) {
			mu.Lock()
			parentSteps = append(parentSteps, s)
			mu.Unlock()
		}), jobs.KindOptions{BackoffBase: time.Millisecond})
		j := enqueue(t, q, jobs.EnqueueParams{Kind: "test.steps", Payload: map[string]int{"Steps": steps}})

		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
		cmd.Env = append(os.Environ(), helperEnv+"=1", helperDBEnv+"="+url, fmt.Sprintf("%s=%d", helperStallEnv, stallAfter))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		killed := false
		defer func() {
			if !killed {
				cmd.Process.Kill()
				cmd.Wait()
			}
		}()
		eventually(t, "the child to checkpoint step 4", func() bool {
			var cp []byte
			var owner, stage string
			if err := db.SQL.QueryRow(db.Rebind(`SELECT checkpoint, lease_owner, stage FROM jobs WHERE id = ?`), j.ID).Scan(&cp, &owner, &stage); err != nil {
				t.Fatal(err)
			}
			var st stepState
			json.Unmarshal(cp, &st)
			if cmd.ProcessState != nil {
				t.Fatalf("child exited early: %s", out.String())
			}
			return st.Done == stallAfter && stage == "step 4" && strings.HasPrefix(owner, "child/")
		})
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		killed = true
		mid, _ := q.Get(ctx, org, j.ID)
		if mid.Status != jobs.StatusRunning || mid.Progress < 0.4 || mid.Stage != "step 4" {
			t.Fatalf("after the kill: %+v", mid)
		}

		startWork(t, q, 1)
		got := waitTerminal(t, q, j.ID)
		var res stepResult
		json.Unmarshal(got.Result, &res)
		if got.Status != jobs.StatusSucceeded || got.Attempts != 2 || res.Sum != steps*(steps+1)/2 || res.ResumedFrom != stallAfter {
			t.Fatalf("job = %s, attempts %d, result %s (error %q)", got.Status, got.Attempts, got.Result, got.Error)
		}
		mu.Lock()
		if len(parentSteps) != steps-stallAfter || parentSteps[0] != stallAfter+1 {
			t.Errorf("the second worker ran steps %v, want %d..%d", parentSteps, stallAfter+1, steps)
		}
		mu.Unlock()
		if n, w, v := effects(t, db, j.ID); n != 1 || w != "parent" || v != fmt.Sprint(steps*(steps+1)/2) {
			t.Fatalf("effects: %d by %q value %q", n, w, v)
		}
		logs, _ := q.Logs(ctx, org, j.ID, 0, 0)
		var text []string
		for _, l := range logs {
			text = append(text, l.Message)
		}
		if all := strings.Join(text, "\n"); !strings.Contains(all, "reclaimed: the lease of worker child expired") {
			t.Fatalf("logs do not show the reclaim:\n%s", all)
		}
	})
}
