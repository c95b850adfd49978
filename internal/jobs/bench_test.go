package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

// BenchmarkThroughput measures enqueue + claim + complete (with audit
// records and job log lines, as in production) through one queue with 4
// concurrent handlers. Reports jobs/s for the whole cycle. The noaudit
// variants leave out the audit chain (whose head row serialises every
// audited transaction) to show what it costs.
func BenchmarkThroughput(b *testing.B) {
	for _, withAudit := range []bool{true, false} {
		benchThroughput(b, withAudit)
	}
}

func benchThroughput(b *testing.B, withAudit bool) {
	suffix := ""
	if !withAudit {
		suffix = "-noaudit"
	}
	for _, d := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{
		{"sqlite", storetest.SQLite},
		{"postgres", storetest.Postgres},
	} {
		b.Run(d.name+suffix, func(b *testing.B) {
			db := d.open(b)
			ctx := context.Background()
			opts := jobs.Options{PollInterval: 5 * time.Millisecond}
			if withAudit {
				opts.Audit = audit.New(db, nil)
			}
			q := jobs.New(db, opts)
			q.Register("bench.noop", func(ctx context.Context, r *jobs.Run) error {
				return r.Complete(ctx, nil, nil)
			}, jobs.KindOptions{})
			wctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { q.Work(wctx, 4); close(done) }()
			defer func() { cancel(); <-done }()
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := q.Enqueue(ctx, jobs.EnqueueParams{OrgID: org, Kind: "bench.noop"}); err != nil {
					b.Fatal(err)
				}
			}
			for {
				c, err := q.Counts(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if c[jobs.StatusSucceeded] == int64(b.N) {
					break
				}
				time.Sleep(time.Millisecond)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "jobs/s")
		})
	}
}
