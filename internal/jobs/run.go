package jobs

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/store"
)

// Progress writes to the database itself at most every
// progressFlushInterval, or stageFlushInterval when the stage changed (so
// a handler that names every step does not write on every step); in
// between, the next heartbeat carries the latest value.
const (
	progressFlushInterval = time.Second
	stageFlushInterval    = 100 * time.Millisecond
)

// Run is a handler's view of the job it is running: its identity and
// payload, and the lease-guarded ways to report progress, save checkpoints
// and complete.
type Run struct {
	q      *Queue
	job    Job // as claimed
	token  string
	kind   kind
	ctx    context.Context
	cancel context.CancelCauseFunc

	mu        sync.Mutex
	progress  float64
	stage     string
	eta       *time.Time
	dirty     bool
	lastFlush time.Time
	t0        time.Time // attempt start (monotonic), for the rate
	frac0     float64   // progress at attempt start (a resumed job starts part way)
	completed bool
}

// ID returns the job id.
func (r *Run) ID() string { return r.job.ID }

// OrgID returns the organisation that owns the job.
func (r *Run) OrgID() string { return r.job.OrgID }

// ProjectID returns the job's project ("" for none).
func (r *Run) ProjectID() string { return r.job.ProjectID }

// ActorID returns who enqueued the job.
func (r *Run) ActorID() string { return r.job.ActorID }

// Kind returns the job kind.
func (r *Run) Kind() string { return r.job.Kind }

// Attempt returns the attempt number, starting at 1.
func (r *Run) Attempt() int { return r.job.Attempts }

// Job returns the job as it was when this attempt claimed it.
func (r *Run) Job() Job { return r.job }

// Payload unmarshals the job's payload into v.
func (r *Run) Payload(v any) error {
	if err := json.Unmarshal(r.job.Payload, v); err != nil {
		return Permanent(fmt.Errorf("jobs: %s payload: %w", r.job.Kind, err))
	}
	return nil
}

// Progress records the fraction done (0…1) and the current stage. The ETA
// is estimated from the rate of progress during this attempt. Writes to the
// database are rate-limited (a stage change goes out sooner); the heartbeat
// writes whatever is pending.
func (r *Run) Progress(frac float64, stage string) {
	if frac < 0 || frac != frac {
		frac = 0
	}
	if frac > 1 {
		frac = 1
	}
	r.mu.Lock()
	stageChanged := stage != r.stage
	r.progress, r.stage, r.dirty = frac, stage, true
	r.eta = nil
	if done, elapsed := frac-r.frac0, time.Since(r.t0); done > 0 && elapsed > 0 {
		remaining := time.Duration(float64(elapsed) * (1 - frac) / done)
		eta := r.q.now().Add(remaining)
		r.eta = &eta
	}
	since := time.Since(r.lastFlush)
	flush := since >= progressFlushInterval || (stageChanged && since >= stageFlushInterval)
	r.mu.Unlock()
	if flush {
		if err := r.flushProgress(r.ctx); err != nil && !errors.Is(err, context.Canceled) {
			r.q.log.Warn("jobs: progress update failed", "job", r.job.ID, "err", err)
		}
	}
}

// progressArgs returns the pending progress fields and marks them clean.
func (r *Run) progressArgs() (frac float64, stage string, eta any, dirty bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	frac, stage, dirty = r.progress, r.stage, r.dirty
	eta = nullTime(r.eta)
	r.dirty = false
	r.lastFlush = time.Now()
	return
}

func (r *Run) flushProgress(ctx context.Context) error {
	frac, stage, eta, dirty := r.progressArgs()
	if !dirty {
		return nil
	}
	return r.guarded(ctx, `progress = ?, stage = ?, eta = ?`, frac, stage, eta)
}

// guarded runs "UPDATE jobs SET <set>, updated_at = ? WHERE <this lease>"
// and turns a lost lease into ErrLeaseLost (cancelling the handler).
func (r *Run) guarded(ctx context.Context, set string, args ...any) error {
	args = append(args, store.FormatTime(r.q.now()), r.job.ID, r.token)
	var n int64
	err := r.q.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, r.q.db.Rebind(`UPDATE jobs SET `+set+`, updated_at = ?
			WHERE id = ? AND lease_owner = ? AND status = 'running'`), args...)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("jobs: job %s: %w", r.job.ID, err)
	}
	if n == 0 {
		r.cancel(ErrLeaseLost)
		return fmt.Errorf("%w: job %s", ErrLeaseLost, r.job.ID)
	}
	return nil
}

// Logf appends a line to the job's log (and to the worker's logger).
func (r *Run) Logf(level slog.Level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.q.log.Log(r.ctx, level, msg, "job", r.job.ID, "kind", r.job.Kind)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 10*time.Second)
	defer cancel()
	if err := r.q.logLine(ctx, r.job.ID, levelName(level), msg); err != nil {
		r.q.log.Warn("jobs: writing job log failed", "job", r.job.ID, "err", err)
	}
}

// LogTx appends a log line inside tx, e.g. in the effect of Complete, so
// that a line about the effect lands with it, before the job's end event
// that log followers stop at.
func (r *Run) LogTx(ctx context.Context, tx *sql.Tx, level slog.Level, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	r.q.log.Log(ctx, level, msg, "job", r.job.ID, "kind", r.job.Kind)
	return r.q.appendLog(ctx, tx, r.job.ID, levelName(level), msg)
}

func levelName(l slog.Level) string { return strings.ToLower(l.String()) }

// Checkpoint returns the last checkpoint saved for this job (by this or an
// earlier attempt), or nil if there is none.
func (r *Run) Checkpoint() ([]byte, error) {
	var inline []byte
	var digest string
	if err := r.q.db.SQL.QueryRowContext(r.ctx, r.q.db.Rebind(`SELECT checkpoint, checkpoint_digest FROM jobs WHERE id = ?`),
		r.job.ID).Scan(&inline, &digest); err != nil {
		return nil, fmt.Errorf("jobs: job %s: read checkpoint: %w", r.job.ID, err)
	}
	if digest == "" {
		return inline, nil
	}
	if r.q.opts.Blob == nil {
		return nil, fmt.Errorf("jobs: job %s: checkpoint %s is in the blob store but the queue has none", r.job.ID, digest)
	}
	rc, err := r.q.opts.Blob.Get(r.ctx, blob.Digest(digest))
	if err != nil {
		return nil, fmt.Errorf("jobs: job %s: read checkpoint: %w", r.job.ID, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("jobs: job %s: read checkpoint: %w", r.job.ID, err)
	}
	return b, nil
}

// SaveCheckpoint stores b as the job's checkpoint, replacing the previous
// one, under this attempt's lease. Small checkpoints live in the database;
// larger ones (over Options.InlineCheckpointMax) in the blob store, by
// digest. For very large state (model weights) put it in the blob store
// yourself and checkpoint its digest.
func (r *Run) SaveCheckpoint(ctx context.Context, b []byte) error {
	if len(b) > r.q.opts.InlineCheckpointMax {
		if r.q.opts.Blob == nil {
			return fmt.Errorf("jobs: job %s: checkpoint of %d bytes exceeds %d and the queue has no blob store", r.job.ID, len(b), r.q.opts.InlineCheckpointMax)
		}
		info, err := r.q.opts.Blob.Put(ctx, bytes.NewReader(b))
		if err != nil {
			return fmt.Errorf("jobs: job %s: save checkpoint: %w", r.job.ID, err)
		}
		return r.guarded(ctx, `checkpoint = NULL, checkpoint_digest = ?`, string(info.Digest))
	}
	if b == nil {
		b = []byte{}
	}
	return r.guarded(ctx, `checkpoint = ?, checkpoint_digest = ''`, b)
}

// Complete marks the job succeeded with result (marshalled to JSON after
// effect ran, so effect may fill it in; nil for none) and commits effect —
// the handler's own database changes — in the same transaction, guarded by
// the lease. If the lease was lost, nothing is
// committed and Complete returns ErrLeaseLost; if the job was cancelled,
// ErrCancelled. effect may run more than once if the transaction is retried
// on contention, so it must only write through tx.
func (r *Run) Complete(ctx context.Context, result any, effect func(tx *sql.Tx) error) error {
	r.mu.Lock()
	done := r.completed
	r.mu.Unlock()
	if done {
		return fmt.Errorf("%w: job %s already completed", ErrFinished, r.job.ID)
	}
	q := r.q
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		ts := store.FormatTime(q.now())
		out, err := tx.ExecContext(ctx, q.db.Rebind(`UPDATE jobs SET status = 'succeeded', progress = 1,
			eta = NULL, error = '', lease_owner = '', lease_expires_at = NULL, finished_at = ?, updated_at = ?
			WHERE id = ? AND lease_owner = ? AND status = 'running' AND cancel_requested = 0`),
			ts, ts, r.job.ID, r.token)
		if err != nil {
			return err
		}
		if n, err := out.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var owner string
			var cancelReq int
			err := tx.QueryRowContext(ctx, q.db.Rebind(`SELECT lease_owner, cancel_requested FROM jobs WHERE id = ?`), r.job.ID).Scan(&owner, &cancelReq)
			if err == nil && owner == r.token && cancelReq != 0 {
				return ErrCancelled
			}
			return ErrLeaseLost
		}
		if effect != nil {
			if err := effect(tx); err != nil {
				return fmt.Errorf("effect: %w", err)
			}
		}
		// The result is encoded after the effect, which may fill it in
		// (ids it created).
		if result != nil {
			b, err := json.Marshal(result)
			if err != nil {
				return fmt.Errorf("result: %w", err)
			}
			if _, err := tx.ExecContext(ctx, q.db.Rebind(`UPDATE jobs SET result_json = ? WHERE id = ?`), string(b), r.job.ID); err != nil {
				return err
			}
		}
		if err := q.appendLog(ctx, tx, r.job.ID, "info", fmt.Sprintf("succeeded on attempt %d", r.job.Attempts)); err != nil {
			return err
		}
		return q.audit(ctx, tx, &r.job, q.systemActor(), "job.succeeded", map[string]any{"attempt": r.job.Attempts})
	})
	if err != nil {
		if errors.Is(err, ErrLeaseLost) {
			r.cancel(ErrLeaseLost)
		}
		return fmt.Errorf("jobs: complete %s: %w", r.job.ID, err)
	}
	r.mu.Lock()
	r.completed = true
	r.mu.Unlock()
	return nil
}
