package jobs_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/jobs"
)

// TestClaimExclusivity: several workers, each with its own database handle
// (as separate processes have), drain one queue; every job runs exactly
// once and its effect is committed once.
func TestClaimExclusivity(t *testing.T) {
	const workers, perWorker, nJobs = 4, 4, 120
	eachURL(t, func(t *testing.T, url string) {
		setup := openDB(t, url)
		createEffects(t, setup)
		var mu sync.Mutex
		runs := map[string]int{}
		var queues []*jobs.Queue
		for w := 0; w < workers; w++ {
			db := openDB(t, url)
			opts := testOpts(db, fmt.Sprintf("w%d", w))
			// A lease long enough that no claim expires even on a
			// heavily loaded machine: a second run then means two live
			// claims, which is the bug this test looks for.
			opts.LeaseTTL = 10 * time.Minute
			q := jobs.New(db, opts)
			name := opts.WorkerID
			q.Register("test.count", func(ctx context.Context, r *jobs.Run) error {
				mu.Lock()
				runs[r.ID()]++
				mu.Unlock()
				return r.Complete(ctx, nil, insertEffect(db, r.ID(), name, "x"))
			}, jobs.KindOptions{})
			queues = append(queues, q)
		}
		var ids []string
		for i := 0; i < nJobs; i++ {
			ids = append(ids, enqueue(t, queues[i%workers], jobs.EnqueueParams{Kind: "test.count", Payload: i}).ID)
		}
		for _, q := range queues {
			startWork(t, q, perWorker)
		}
		eventually(t, "all jobs to succeed", func() bool {
			c, err := queues[0].Counts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return c[jobs.StatusSucceeded] == nJobs
		})
		mu.Lock()
		defer mu.Unlock()
		for _, id := range ids {
			if runs[id] != 1 {
				t.Errorf("job %s ran %d times", id, runs[id])
			}
			if n, _, _ := effects(t, setup, id); n != 1 {
				t.Errorf("job %s has %d effects", id, n)
			}
		}
		res, err := audit.New(setup, nil).Verify(context.Background())
		if err != nil || !res.OK || res.Records != 3*nJobs {
			t.Fatalf("audit chain: %v, %v (want %d records)", res, err, 3*nJobs)
		}
	})
}
