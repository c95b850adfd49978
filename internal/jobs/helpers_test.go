package jobs_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

const org = "org_test"

// testOpts are fast timings for tests; lease expiry is driven by clocks,
// not by waiting.
func testOpts(db *store.DB, id string) jobs.Options {
	return jobs.Options{
		WorkerID:     id,
		Audit:        audit.New(db, nil),
		LeaseTTL:     10 * time.Second,
		Heartbeat:    50 * time.Millisecond,
		PollInterval: 20 * time.Millisecond,
	}
}

// startWork runs q.Work in the background; the returned stop cancels it and
// waits for Work to return.
func startWork(t *testing.T, q *jobs.Queue, n int) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Work(ctx, n) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Work: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for a result
	}
}

func waitStatus(t *testing.T, q *jobs.Queue, id string, st jobs.Status) jobs.Job {
	t.Helper()
	var j jobs.Job
	eventually(t, fmt.Sprintf("job %s to be %s", id, st), func() bool {
		var err error
		j, err = q.Get(context.Background(), org, id)
		if err != nil {
			t.Fatal(err)
		}
		return j.Status == st
	})
	return j
}

func waitTerminal(t *testing.T, q *jobs.Queue, id string) jobs.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	j, err := q.Wait(ctx, org, id)
	if err != nil {
		t.Fatalf("Wait(%s): %v", id, err)
	}
	return j
}

func enqueue(t *testing.T, q *jobs.Queue, p jobs.EnqueueParams) jobs.Job {
	t.Helper()
	if p.OrgID == "" {
		p.OrgID = org
	}
	if p.ActorID == "" {
		p.ActorID = "usr_tester"
	}
	j, err := q.Enqueue(context.Background(), p)
	if err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	return j
}

// auditActions returns the audit actions recorded for a job, in order.
func auditActions(t *testing.T, db *store.DB, id string) []string {
	t.Helper()
	rows, err := db.SQL.Query(db.Rebind(`SELECT action FROM audit_logs WHERE target_id = ? ORDER BY seq`), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		rows.Scan(&a)
		out = append(out, a)
	}
	return out
}

func verifyAudit(t *testing.T, db *store.DB) {
	t.Helper()
	res, err := audit.New(db, nil).Verify(context.Background())
	if err != nil || !res.OK {
		t.Fatalf("audit chain: %v %v", res, err)
	}
}

// createEffects makes the table that handlers' effects write to; its
// primary key turns a second effect for one job into an error.
func createEffects(t *testing.T, db *store.DB) {
	t.Helper()
	if _, err := db.SQL.Exec(`CREATE TABLE test_effects (job_id TEXT PRIMARY KEY, worker TEXT NOT NULL, value TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
}

func insertEffect(db *store.DB, jobID, worker, value string) func(tx *sql.Tx) error {
	return func(tx *sql.Tx) error {
		_, err := tx.Exec(db.Rebind(`INSERT INTO test_effects (job_id, worker, value) VALUES (?, ?, ?)`), jobID, worker, value)
		return err
	}
}

func effects(t *testing.T, db *store.DB, jobID string) (n int, worker, value string) {
	t.Helper()
	err := db.SQL.QueryRow(db.Rebind(`SELECT COUNT(*), MIN(worker), MIN(value) FROM test_effects WHERE job_id = ?`), jobID).Scan(&n, new(sql.NullString), new(sql.NullString))
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		db.SQL.QueryRow(db.Rebind(`SELECT worker, value FROM test_effects WHERE job_id = ?`), jobID).Scan(&worker, &value)
	}
	return n, worker, value
}

// eachURL runs fn against a freshly migrated database of each dialect,
// passing its URL so that fn can open several independent handles (as
// separate worker processes would).
func eachURL(t *testing.T, fn func(t *testing.T, url string)) {
	t.Run("sqlite", func(t *testing.T) {
		url := "sqlite://" + t.TempDir() + "/whet.db"
		migrate(t, url)
		fn(t, url)
	})
	t.Run("postgres", func(t *testing.T) {
		url := storetest.PostgresURL(t)
		migrate(t, url)
		fn(t, url)
	})
}

func migrate(t *testing.T, url string) {
	t.Helper()
	db := openDB(t, url)
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func openDB(t *testing.T, url string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), url, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var errBoom = errors.New("boom")
