package jobs

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/store"
)

// Queue is the durable job queue on a metadata database. One Queue per
// process both enqueues and (with Work) runs jobs.
type Queue struct {
	db    *store.DB
	opts  Options
	log   *slog.Logger
	now   func() time.Time
	kinds map[string]kind

	mu      sync.Mutex
	running map[string]*Run // local runs by job id, for immediate cancel
	wake    chan struct{}   // signalled by local Enqueue
}

type kind struct {
	h    Handler
	opts KindOptions
}

// New returns a queue on db. Register the job kinds before calling Work.
func New(db *store.DB, opts Options) *Queue {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 30 * time.Second
	}
	if opts.Heartbeat <= 0 || opts.Heartbeat >= opts.LeaseTTL {
		opts.Heartbeat = opts.LeaseTTL / 3
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.ShutdownGrace <= 0 {
		opts.ShutdownGrace = 10 * time.Second
	}
	if opts.InlineCheckpointMax <= 0 {
		opts.InlineCheckpointMax = 64 << 10
	}
	if opts.WorkerID == "" {
		host, _ := os.Hostname()
		opts.WorkerID = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randHex(3))
	}
	return &Queue{
		db: db, opts: opts, log: opts.Logger.With("worker", opts.WorkerID), now: opts.Clock,
		kinds: map[string]kind{}, running: map[string]*Run{}, wake: make(chan struct{}, 1),
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// WorkerID returns the name this queue's worker uses in leases.
func (q *Queue) WorkerID() string { return q.opts.WorkerID }

// Register adds a job kind. Packages register the kinds they own while the
// binary wires itself up; registering a kind twice panics.
func (q *Queue) Register(kindName string, h Handler, o KindOptions) {
	if kindName == "" || h == nil {
		panic("jobs: Register needs a kind name and a handler")
	}
	if _, dup := q.kinds[kindName]; dup {
		panic("jobs: kind " + kindName + " registered twice")
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 3
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 2 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 5 * time.Minute
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = o.BackoffBase
	}
	q.kinds[kindName] = kind{h: h, opts: o}
}

// Kinds returns the registered kind names, sorted.
func (q *Queue) Kinds() []string {
	ks := make([]string, 0, len(q.kinds))
	for k := range q.kinds {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// KindScope returns the scope needed to cancel jobs of kind ("" when the
// kind is unknown or declares none: admins only).
func (q *Queue) KindScope(kindName string) string { return q.kinds[kindName].opts.Scope }

// systemActor is the audit actor for state changes made by workers.
func (q *Queue) systemActor() string { return "worker:" + q.opts.WorkerID }

func (q *Queue) audit(ctx context.Context, tx *sql.Tx, j *Job, actor, action string, payload map[string]any) error {
	if q.opts.Audit == nil {
		return nil
	}
	if payload == nil {
		payload = map[string]any{}
	}
	payload["kind"] = j.Kind
	if err := q.opts.Audit.Append(ctx, tx, audit.Entry{
		OrgID: j.OrgID, ActorID: actor, Action: action, TargetType: "job", TargetID: j.ID, Payload: payload,
	}); err != nil {
		return fmt.Errorf("jobs: audit %s: %w", action, err)
	}
	return nil
}

const jobCols = `id, org_id, project_id, actor_id, kind, payload_json, unique_key, status, progress, stage, eta,
	attempts, max_attempts, run_after, lease_owner, lease_expires_at, heartbeat_at, checkpoint_digest,
	CASE WHEN checkpoint IS NOT NULL OR checkpoint_digest <> '' THEN 1 ELSE 0 END,
	result_json, error, cancel_requested, created_at, updated_at, started_at, finished_at`

type scanner interface{ Scan(dest ...any) error }

func scanJob(s scanner) (Job, error) {
	var j Job
	var payload, runAfter, created, updated, cpDigest string
	var uniq, eta, leaseExp, hb, result, started, finished sql.NullString
	var hasCP, cancelReq int
	if err := s.Scan(&j.ID, &j.OrgID, &j.ProjectID, &j.ActorID, &j.Kind, &payload, &uniq, &j.Status, &j.Progress,
		&j.Stage, &eta, &j.Attempts, &j.MaxAttempts, &runAfter, &j.LeaseOwner, &leaseExp, &hb, &cpDigest, &hasCP,
		&result, &j.Error, &cancelReq, &created, &updated, &started, &finished); err != nil {
		return Job{}, err
	}
	j.Payload = json.RawMessage(payload)
	j.UniqueKey = uniq.String
	j.HasCheckpoint = hasCP != 0
	j.CheckpointBlob = blob.Digest(cpDigest)
	j.CancelRequested = cancelReq != 0
	if result.Valid {
		j.Result = json.RawMessage(result.String)
	}
	var err error
	parse := func(s string) time.Time {
		t, perr := store.ParseTime(s)
		if perr != nil && err == nil {
			err = perr
		}
		return t
	}
	parseNull := func(s sql.NullString) *time.Time {
		if !s.Valid {
			return nil
		}
		t := parse(s.String)
		return &t
	}
	j.RunAfter, j.CreatedAt, j.UpdatedAt = parse(runAfter), parse(created), parse(updated)
	j.ETA, j.LeaseExpiresAt, j.HeartbeatAt = parseNull(eta), parseNull(leaseExp), parseNull(hb)
	j.StartedAt, j.FinishedAt = parseNull(started), parseNull(finished)
	if err != nil {
		return Job{}, fmt.Errorf("jobs: job %s: %w", j.ID, err)
	}
	return j, nil
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return store.FormatTime(*t)
}

// Enqueue adds a job. With a UniqueKey it returns the live job of the same
// organisation, kind and key if there is one.
func (q *Queue) Enqueue(ctx context.Context, p EnqueueParams) (Job, error) {
	k, ok := q.kinds[p.Kind]
	if !ok {
		return Job{}, fmt.Errorf("%w: %q", ErrUnknownKind, p.Kind)
	}
	if p.OrgID == "" {
		return Job{}, fmt.Errorf("%w: empty org id", ErrInvalid)
	}
	payload := []byte("{}")
	if p.Payload != nil {
		var err error
		if payload, err = json.Marshal(p.Payload); err != nil {
			return Job{}, fmt.Errorf("jobs: enqueue %s: payload: %w", p.Kind, err)
		}
	}
	maxAttempts := p.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = k.opts.MaxAttempts
	}
	now := q.now()
	runAfter := p.RunAfter
	if runAfter.IsZero() || runAfter.Before(now) {
		runAfter = now
	}
	var uniq any
	if p.UniqueKey != "" {
		uniq = p.UniqueKey
	}
	var job Job
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		if p.UniqueKey != "" {
			row := tx.QueryRowContext(ctx, q.db.Rebind(`SELECT `+jobCols+` FROM jobs
				WHERE org_id = ? AND kind = ? AND unique_key = ? AND status IN ('queued', 'running')`), p.OrgID, p.Kind, p.UniqueKey)
			j, err := scanJob(row)
			if err == nil {
				job = j
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		id := store.NewID("job")
		ts := store.FormatTime(now)
		j, err := scanJob(tx.QueryRowContext(ctx, q.db.Rebind(`INSERT INTO jobs
			(id, org_id, project_id, actor_id, kind, payload_json, unique_key, status, max_attempts, run_after, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?, ?) RETURNING `+jobCols),
			id, p.OrgID, p.ProjectID, p.ActorID, p.Kind, string(payload), uniq, maxAttempts, store.FormatTime(runAfter), ts, ts))
		if err != nil {
			if store.IsUniqueViolation(err) {
				return fmt.Errorf("%w: a live %s job with unique key %q exists", store.ErrConflict, p.Kind, p.UniqueKey)
			}
			return err
		}
		job = j
		return q.audit(ctx, tx, &job, p.ActorID, "job.queued", map[string]any{"max_attempts": maxAttempts, "project_id": p.ProjectID})
	})
	if err != nil {
		return Job{}, fmt.Errorf("jobs: enqueue %s: %w", p.Kind, err)
	}
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return job, nil
}

// Get returns the job id of organisation orgID; a job of another
// organisation is store.ErrNotFound.
func (q *Queue) Get(ctx context.Context, orgID, id string) (Job, error) {
	j, err := scanJob(q.db.SQL.QueryRowContext(ctx, q.db.Rebind(`SELECT `+jobCols+` FROM jobs WHERE id = ? AND org_id = ?`), id, orgID))
	if errors.Is(err, sql.ErrNoRows) {
		return Job{}, fmt.Errorf("%w: job %s", store.ErrNotFound, id)
	}
	if err != nil {
		return Job{}, fmt.Errorf("jobs: get %s: %w", id, err)
	}
	return j, nil
}

// MaxListLimit caps a List page.
const MaxListLimit = 500

// List returns one page of orgID's jobs, newest first, and the cursor of the
// next page ("" at the end).
func (q *Queue) List(ctx context.Context, orgID string, f ListFilter, limit int, cursor string) ([]Job, string, error) {
	if limit <= 0 {
		limit = 50
	}
	if limit > MaxListLimit {
		limit = MaxListLimit
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", fmt.Errorf("%w: status %q", ErrInvalid, f.Status)
	}
	where := []string{"org_id = ?"}
	args := []any{orgID}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.Kind != "" {
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if f.ProjectID != "" {
		where, args = append(where, "project_id = ?"), append(args, f.ProjectID)
	}
	if cursor != "" {
		created, id, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		where = append(where, "(created_at < ? OR (created_at = ? AND id < ?))")
		args = append(args, created, created, id)
	}
	args = append(args, limit+1)
	rows, err := q.db.SQL.QueryContext(ctx, q.db.Rebind(`SELECT `+jobCols+` FROM jobs WHERE `+
		strings.Join(where, " AND ")+` ORDER BY created_at DESC, id DESC LIMIT ?`), args...)
	if err != nil {
		return nil, "", fmt.Errorf("jobs: list: %w", err)
	}
	defer rows.Close()
	var out []Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, "", fmt.Errorf("jobs: list: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("jobs: list: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(store.FormatTime(last.CreatedAt), last.ID)
	}
	return out, next, nil
}

func encodeCursor(created, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(created + "|" + id))
}

func decodeCursor(c string) (created, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return "", "", ErrBadCursor
	}
	created, id, ok := strings.Cut(string(b), "|")
	if !ok || !strings.HasPrefix(id, "job_") {
		return "", "", ErrBadCursor
	}
	if _, err := store.ParseTime(created); err != nil {
		return "", "", ErrBadCursor
	}
	return created, id, nil
}

// Cancel cancels a job of orgID: a queued job becomes cancelled at once; a
// running job gets cancel_requested and its handler's context is cancelled
// (here at once, on another worker at its next heartbeat). Cancelling a
// cancelled job returns it unchanged; a succeeded or failed job is
// ErrFinished.
func (q *Queue) Cancel(ctx context.Context, orgID, id, actorID string) (Job, error) {
	var job Job
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		j, err := scanJob(tx.QueryRowContext(ctx, q.db.Rebind(`SELECT `+jobCols+` FROM jobs WHERE id = ? AND org_id = ?`+q.db.ForUpdate()), id, orgID))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: job %s", store.ErrNotFound, id)
		}
		if err != nil {
			return err
		}
		ts := store.FormatTime(q.now())
		switch j.Status {
		case StatusCancelled:
			job = j
			return nil
		case StatusSucceeded, StatusFailed:
			job = j
			return fmt.Errorf("%w: %s is %s", ErrFinished, id, j.Status)
		case StatusQueued:
			if _, err := tx.ExecContext(ctx, q.db.Rebind(`UPDATE jobs SET status = 'cancelled', cancel_requested = 1,
				finished_at = ?, updated_at = ?, lease_owner = '', lease_expires_at = NULL WHERE id = ?`), ts, ts, id); err != nil {
				return err
			}
			if err := q.audit(ctx, tx, &j, actorID, "job.cancelled", nil); err != nil {
				return err
			}
		case StatusRunning:
			if j.CancelRequested {
				job = j
				return nil
			}
			if _, err := tx.ExecContext(ctx, q.db.Rebind(`UPDATE jobs SET cancel_requested = 1, updated_at = ? WHERE id = ?`), ts, id); err != nil {
				return err
			}
			if err := q.audit(ctx, tx, &j, actorID, "job.cancel_requested", nil); err != nil {
				return err
			}
		}
		job, err = scanJob(tx.QueryRowContext(ctx, q.db.Rebind(`SELECT `+jobCols+` FROM jobs WHERE id = ?`), id))
		return err
	})
	if err != nil {
		if errors.Is(err, ErrFinished) || errors.Is(err, store.ErrNotFound) {
			return job, err
		}
		return Job{}, fmt.Errorf("jobs: cancel %s: %w", id, err)
	}
	if job.Status == StatusRunning {
		q.mu.Lock()
		r := q.running[id]
		q.mu.Unlock()
		if r != nil {
			r.cancel(ErrCancelled)
		}
	}
	return job, nil
}

// MaxLogLimit caps a Logs page.
const MaxLogLimit = 1000

// Logs returns up to limit log lines of orgID's job id with seq > afterSeq.
func (q *Queue) Logs(ctx context.Context, orgID, id string, afterSeq int64, limit int) ([]LogLine, error) {
	if limit <= 0 || limit > MaxLogLimit {
		limit = MaxLogLimit
	}
	var n int
	if err := q.db.SQL.QueryRowContext(ctx, q.db.Rebind(`SELECT COUNT(*) FROM jobs WHERE id = ? AND org_id = ?`), id, orgID).Scan(&n); err != nil {
		return nil, fmt.Errorf("jobs: logs %s: %w", id, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("%w: job %s", store.ErrNotFound, id)
	}
	rows, err := q.db.SQL.QueryContext(ctx, q.db.Rebind(`SELECT seq, ts, level, message FROM job_logs
		WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?`), id, afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("jobs: logs %s: %w", id, err)
	}
	defer rows.Close()
	var out []LogLine
	for rows.Next() {
		var l LogLine
		var ts string
		if err := rows.Scan(&l.Seq, &ts, &l.Level, &l.Message); err != nil {
			return nil, fmt.Errorf("jobs: logs %s: %w", id, err)
		}
		if l.Time, err = store.ParseTime(ts); err != nil {
			return nil, fmt.Errorf("jobs: logs %s: %w", id, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("jobs: logs %s: %w", id, err)
	}
	return out, nil
}

// appendLog adds a log line inside tx. The job row's log_seq counter hands
// out seq numbers, so concurrent writers (a worker that lost its lease and
// its successor) queue on the row lock instead of colliding.
func (q *Queue) appendLog(ctx context.Context, tx *sql.Tx, jobID, level, msg string) error {
	const maxMsg = 16 << 10
	if len(msg) > maxMsg {
		msg = msg[:maxMsg] + "…(truncated)"
	}
	ts := store.FormatTime(q.now())
	if q.db.Dialect == store.Postgres {
		// One round trip instead of two.
		_, err := tx.ExecContext(ctx, q.db.Rebind(`WITH s AS (UPDATE jobs SET log_seq = log_seq + 1 WHERE id = ? RETURNING log_seq)
			INSERT INTO job_logs (job_id, seq, ts, level, message) SELECT ?, log_seq, ?, ?, ? FROM s`), jobID, jobID, ts, level, msg)
		return err
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `UPDATE jobs SET log_seq = log_seq + 1 WHERE id = ? RETURNING log_seq`, jobID).Scan(&seq); err != nil {
		return fmt.Errorf("jobs: log: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO job_logs (job_id, seq, ts, level, message) VALUES (?, ?, ?, ?, ?)`, jobID, seq, ts, level, msg)
	return err
}

// logLine writes one job log line in its own transaction.
func (q *Queue) logLine(ctx context.Context, jobID, level, msg string) error {
	return q.db.Tx(ctx, func(tx *sql.Tx) error { return q.appendLog(ctx, tx, jobID, level, msg) })
}

// Wait polls until the job is in a terminal state and returns it.
func (q *Queue) Wait(ctx context.Context, orgID, id string) (Job, error) {
	delay := 10 * time.Millisecond
	for {
		j, err := q.Get(ctx, orgID, id)
		if err != nil {
			return Job{}, err
		}
		if j.Status.Terminal() {
			return j, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return j, ctx.Err()
		case <-t.C:
		}
		if delay = delay * 2; delay > time.Second {
			delay = time.Second
		}
	}
}

// Counts returns the number of jobs in each state across all
// organisations (for metrics).
func (q *Queue) Counts(ctx context.Context) (map[Status]int64, error) {
	rows, err := q.db.SQL.QueryContext(ctx, `SELECT status, COUNT(*) FROM jobs GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("jobs: counts: %w", err)
	}
	defer rows.Close()
	out := map[Status]int64{StatusQueued: 0, StatusRunning: 0, StatusSucceeded: 0, StatusFailed: 0, StatusCancelled: 0}
	for rows.Next() {
		var s Status
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("jobs: counts: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}
