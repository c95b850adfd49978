package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/whet-dev/whet/internal/store"
)

// errTimeout is the cause of a handler's context when its kind's Timeout
// passes.
var errTimeout = errors.New("jobs: attempt timed out")

// finishTimeout bounds the bookkeeping after a handler returns; it runs on
// a context detached from Work's, so a shutdown still hands leases back.
const finishTimeout = 30 * time.Second

// Work claims and runs jobs of the registered kinds, at most concurrency at
// a time, until ctx ends. Then it stops claiming, cancels its handlers,
// waits for them (up to Options.ShutdownGrace) and hands their leases back:
// the jobs return to queued without spending an attempt. Work returns nil
// after a clean shutdown.
func (q *Queue) Work(ctx context.Context, concurrency int) error {
	if concurrency < 1 {
		concurrency = 1
	}
	kinds := q.Kinds()
	if len(kinds) == 0 {
		return errors.New("jobs: work: no job kinds registered")
	}
	hctx, hcancel := context.WithCancelCause(context.WithoutCancel(ctx))
	defer hcancel(errShutdown)
	var wg sync.WaitGroup
	slots := make(chan struct{}, concurrency)
	errDelay := q.opts.PollInterval
	q.log.Info("jobs: worker started", "kinds", kinds, "concurrency", concurrency)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case slots <- struct{}{}:
		}
		j, token, again, err := q.claim(ctx, kinds)
		if err == nil && token != "" {
			errDelay = q.opts.PollInterval
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				q.run(hctx, j, token)
			}()
			continue
		}
		<-slots
		wait := q.opts.PollInterval
		switch {
		case err != nil && ctx.Err() == nil:
			q.log.Error("jobs: claim failed", "err", err)
			wait, errDelay = errDelay, min(2*errDelay, time.Minute)
		case again:
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			break loop
		case <-q.wake:
			t.Stop()
		case <-t.C:
		}
	}
	q.log.Info("jobs: worker stopping; handing back leases")
	hcancel(errShutdown)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(q.opts.ShutdownGrace)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		// Handlers that ignore their context keep running, but their
		// leases go back now; their later writes fail the lease check.
		q.mu.Lock()
		stuck := make([]*Run, 0, len(q.running))
		for _, r := range q.running {
			stuck = append(stuck, r)
		}
		q.mu.Unlock()
		for _, r := range stuck {
			q.log.Warn("jobs: handler ignored shutdown; releasing its lease", "job", r.job.ID)
			q.release(r)
		}
	}
	return nil
}

// claim takes one runnable job: a queued job whose run_after has come, or a
// running job whose lease expired. It returns the claimed job and its lease
// token, or no token with again=true when it settled an expired job
// instead (exhausted or cancelled) and the caller should look again.
func (q *Queue) claim(ctx context.Context, kinds []string) (job Job, token string, again bool, err error) {
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(kinds)), ", ")
	sel := `SELECT id, status, attempts, max_attempts, cancel_requested, lease_owner FROM jobs
		WHERE kind IN (` + ph + `) AND ((status = 'queued' AND run_after <= ?) OR (status = 'running' AND lease_expires_at < ?))
		ORDER BY run_after, id LIMIT 1`
	if q.db.Dialect == store.Postgres {
		sel += ` FOR UPDATE SKIP LOCKED`
	}
	err = q.db.Tx(ctx, func(tx *sql.Tx) error {
		job, token, again = Job{}, "", false
		now := q.now()
		ts := store.FormatTime(now)
		args := make([]any, 0, len(kinds)+2)
		for _, k := range kinds {
			args = append(args, k)
		}
		args = append(args, ts, ts)
		var id, status, prevOwner string
		var attempts, maxAttempts, cancelReq int
		err := tx.QueryRowContext(ctx, q.db.Rebind(sel), args...).Scan(&id, &status, &attempts, &maxAttempts, &cancelReq, &prevOwner)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		reclaim := status == string(StatusRunning)
		if reclaim && (cancelReq != 0 || attempts >= maxAttempts) {
			j, err := scanJob(tx.QueryRowContext(ctx, q.db.Rebind(`SELECT `+jobCols+` FROM jobs WHERE id = ?`), id))
			if err != nil {
				return err
			}
			again = true
			if cancelReq != 0 {
				return q.settle(ctx, tx, &j, StatusCancelled, "cancelled (the worker holding it stopped)", "job.cancelled", q.systemActor(), nil)
			}
			msg := fmt.Sprintf("lease expired on attempt %d of %d: worker %s stopped heartbeating", attempts, maxAttempts, ownerWorker(prevOwner))
			return q.settle(ctx, tx, &j, StatusFailed, msg, "job.failed", q.systemActor(), map[string]any{"attempt": attempts, "error": msg})
		}
		tok := q.opts.WorkerID + "/" + randHex(6)
		lease := store.FormatTime(now.Add(q.opts.LeaseTTL))
		set, uargs := ``, []any{tok, lease, ts, ts, ts}
		if reclaim {
			set = `, error = ?`
			uargs = append(uargs, fmt.Sprintf("lease expired on attempt %d: worker %s stopped heartbeating", attempts, ownerWorker(prevOwner)))
		}
		j, err := scanJob(tx.QueryRowContext(ctx, q.db.Rebind(`UPDATE jobs SET status = 'running', attempts = attempts + 1,
			lease_owner = ?, lease_expires_at = ?, heartbeat_at = ?, started_at = COALESCE(started_at, ?), updated_at = ?,
			eta = NULL`+set+` WHERE id = ? RETURNING `+jobCols), append(uargs, id)...))
		if err != nil {
			return err
		}
		payload := map[string]any{"attempt": j.Attempts, "worker": q.opts.WorkerID}
		logMsg := fmt.Sprintf("attempt %d of %d started on worker %s", j.Attempts, j.MaxAttempts, q.opts.WorkerID)
		if reclaim {
			payload["reclaimed_from"] = ownerWorker(prevOwner)
			logMsg += fmt.Sprintf(" (reclaimed: the lease of worker %s expired)", ownerWorker(prevOwner))
		}
		// The audit append locks the chain head that every audited
		// transaction shares, so it goes last to hold that lock briefly.
		if err := q.appendLog(ctx, tx, j.ID, "info", logMsg); err != nil {
			return err
		}
		if err := q.audit(ctx, tx, &j, q.systemActor(), "job.started", payload); err != nil {
			return err
		}
		job, token = j, tok
		return nil
	})
	if err != nil {
		return Job{}, "", false, fmt.Errorf("jobs: claim: %w", err)
	}
	return job, token, again, nil
}

// ownerWorker strips the per-claim suffix from a lease token.
func ownerWorker(token string) string {
	if i := strings.LastIndexByte(token, '/'); i >= 0 {
		return token[:i]
	}
	return token
}

// settle moves j to a terminal state inside tx, with an audit record and a
// log line.
func (q *Queue) settle(ctx context.Context, tx *sql.Tx, j *Job, st Status, msg, action, actor string, payload map[string]any) error {
	ts := store.FormatTime(q.now())
	set, args := `status = ?`, []any{string(st)}
	if st != StatusCancelled {
		set, args = set+`, error = ?`, append(args, msg)
	}
	args = append(args, ts, ts, j.ID)
	if _, err := tx.ExecContext(ctx, q.db.Rebind(`UPDATE jobs SET `+set+`,
		eta = NULL, lease_owner = '', lease_expires_at = NULL, finished_at = ?, updated_at = ? WHERE id = ?`), args...); err != nil {
		return err
	}
	level := "error"
	if st == StatusCancelled {
		level = "warn"
	}
	if err := q.appendLog(ctx, tx, j.ID, level, msg); err != nil {
		return err
	}
	return q.audit(ctx, tx, j, actor, action, payload)
}

// run executes one claimed attempt and records its outcome.
func (q *Queue) run(hctx context.Context, j Job, token string) {
	k := q.kinds[j.Kind]
	rctx, cancel := context.WithCancelCause(hctx)
	defer cancel(nil)
	if k.opts.Timeout > 0 {
		var stop context.CancelFunc
		rctx, stop = context.WithTimeoutCause(rctx, k.opts.Timeout, errTimeout)
		defer stop()
	}
	r := &Run{q: q, job: j, token: token, kind: k, ctx: rctx, cancel: cancel,
		progress: j.Progress, stage: j.Stage, frac0: j.Progress, t0: time.Now(), lastFlush: time.Now()}
	q.mu.Lock()
	q.running[j.ID] = r
	q.mu.Unlock()
	defer func() {
		q.mu.Lock()
		if q.running[j.ID] == r {
			delete(q.running, j.ID)
		}
		q.mu.Unlock()
	}()
	if j.CancelRequested {
		cancel(ErrCancelled)
	}

	hbStop := make(chan struct{})
	hbDone := make(chan struct{})
	go func() {
		defer close(hbDone)
		r.heartbeatLoop(hbStop)
	}()
	herr := callHandler(rctx, k.h, r)
	close(hbStop)
	<-hbDone

	bg, stop := context.WithTimeout(context.WithoutCancel(rctx), finishTimeout)
	defer stop()
	r.mu.Lock()
	completed := r.completed
	r.mu.Unlock()
	cause := context.Cause(rctx)
	switch {
	case completed:
		if herr != nil {
			q.log.Warn("jobs: handler returned an error after Complete; the job stays succeeded", "job", j.ID, "err", herr)
		}
	case herr == nil:
		err := r.Complete(bg, nil, nil)
		switch {
		case err == nil:
		case errors.Is(err, ErrCancelled):
			q.fail(bg, r, ErrCancelled)
		default:
			q.log.Warn("jobs: could not record success", "job", j.ID, "err", err)
		}
	case errors.Is(cause, ErrLeaseLost):
		q.log.Warn("jobs: lost the lease; another worker owns the job now", "job", j.ID, "err", herr)
	case errors.Is(cause, errShutdown):
		q.release(r)
	default:
		if errors.Is(cause, errTimeout) {
			herr = fmt.Errorf("%w after %s: %w", errTimeout, k.opts.Timeout, herr)
		}
		q.fail(bg, r, herr)
	}
}

func callHandler(ctx context.Context, h Handler, r *Run) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("jobs: handler panicked: %v", p)
			r.Logf(slog.LevelError, "panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(ctx, r)
}

// heartbeatLoop extends the lease every Options.Heartbeat, writes pending
// progress, and cancels the handler when the job was cancelled or the
// lease was lost.
func (r *Run) heartbeatLoop(stop <-chan struct{}) {
	t := time.NewTicker(r.q.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		// A heartbeat may take up to half the lease; a shorter deadline
		// would abandon transactions mid-flight on a loaded database.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), r.q.opts.LeaseTTL/2)
		cancelReq, err := r.heartbeat(ctx)
		cancel()
		switch {
		case errors.Is(err, ErrLeaseLost):
			r.q.log.Warn("jobs: lease lost", "job", r.job.ID)
			return
		case err != nil:
			r.q.log.Warn("jobs: heartbeat failed", "job", r.job.ID, "err", err)
		case cancelReq:
			r.cancel(ErrCancelled)
		}
	}
}

func (r *Run) heartbeat(ctx context.Context) (cancelReq bool, err error) {
	q := r.q
	frac, stage, eta, dirty := r.progressArgs()
	now := q.now()
	set := `lease_expires_at = ?, heartbeat_at = ?, updated_at = ?`
	args := []any{store.FormatTime(now.Add(q.opts.LeaseTTL)), store.FormatTime(now), store.FormatTime(now)}
	if dirty {
		set += `, progress = ?, stage = ?, eta = ?`
		args = append(args, frac, stage, eta)
	}
	args = append(args, r.job.ID, r.token)
	var flag int
	found := true
	err = q.db.Tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, q.db.Rebind(`UPDATE jobs SET `+set+`
			WHERE id = ? AND lease_owner = ? AND status = 'running' RETURNING cancel_requested`), args...).Scan(&flag)
		if errors.Is(err, sql.ErrNoRows) {
			found = false
			return nil
		}
		return err
	})
	if err != nil {
		if dirty {
			r.mu.Lock()
			r.dirty = true
			r.mu.Unlock()
		}
		return false, err
	}
	if !found {
		r.cancel(ErrLeaseLost)
		return false, ErrLeaseLost
	}
	return flag != 0, nil
}

// fail records a failed attempt: cancelled if a cancel was requested,
// failed if the error is permanent or the attempts are used up, otherwise
// queued again after a backoff.
func (q *Queue) fail(ctx context.Context, r *Run, herr error) {
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		j, err := scanJob(tx.QueryRowContext(ctx, q.db.Rebind(`SELECT `+jobCols+` FROM jobs WHERE id = ? AND lease_owner = ? AND status = 'running'`+q.db.ForUpdate()), r.job.ID, r.token))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrLeaseLost
		}
		if err != nil {
			return err
		}
		msg := herr.Error()
		switch {
		case j.CancelRequested:
			return q.settle(ctx, tx, &j, StatusCancelled, "cancelled", "job.cancelled", q.systemActor(), map[string]any{"attempt": j.Attempts})
		case IsPermanent(herr) || j.Attempts >= j.MaxAttempts:
			return q.settle(ctx, tx, &j, StatusFailed, fmt.Sprintf("attempt %d of %d failed: %s", j.Attempts, j.MaxAttempts, msg),
				"job.failed", q.systemActor(), map[string]any{"attempt": j.Attempts, "error": msg, "permanent": IsPermanent(herr)})
		}
		delay := backoff(j.Attempts, r.kind.opts.BackoffBase, r.kind.opts.BackoffMax, rand.Float64())
		now := q.now()
		ts := store.FormatTime(now)
		if _, err := tx.ExecContext(ctx, q.db.Rebind(`UPDATE jobs SET status = 'queued', error = ?, run_after = ?, eta = NULL,
			lease_owner = '', lease_expires_at = NULL, updated_at = ? WHERE id = ?`), msg, store.FormatTime(now.Add(delay)), ts, j.ID); err != nil {
			return err
		}
		if err := q.appendLog(ctx, tx, j.ID, "warn", fmt.Sprintf("attempt %d of %d failed: %s; retrying in %s", j.Attempts, j.MaxAttempts, msg, delay.Round(time.Millisecond))); err != nil {
			return err
		}
		return q.audit(ctx, tx, &j, q.systemActor(), "job.retrying", map[string]any{"attempt": j.Attempts, "error": msg, "delay_ms": delay.Milliseconds()})
	})
	if err != nil {
		q.log.Warn("jobs: could not record failure", "job", r.job.ID, "handler_err", herr, "err", err)
	}
}

// release hands a job back on shutdown: queued again at once, its attempt
// not counted (or cancelled, if a cancel was requested meanwhile).
func (q *Queue) release(r *Run) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), finishTimeout)
	defer cancel()
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		j, err := scanJob(tx.QueryRowContext(ctx, q.db.Rebind(`SELECT `+jobCols+` FROM jobs WHERE id = ? AND lease_owner = ? AND status = 'running'`+q.db.ForUpdate()), r.job.ID, r.token))
		if errors.Is(err, sql.ErrNoRows) {
			return nil // already settled or taken over
		}
		if err != nil {
			return err
		}
		if j.CancelRequested {
			return q.settle(ctx, tx, &j, StatusCancelled, "cancelled", "job.cancelled", q.systemActor(), map[string]any{"attempt": j.Attempts})
		}
		ts := store.FormatTime(q.now())
		if _, err := tx.ExecContext(ctx, q.db.Rebind(`UPDATE jobs SET status = 'queued', attempts = attempts - 1, run_after = ?,
			eta = NULL, lease_owner = '', lease_expires_at = NULL, updated_at = ? WHERE id = ?`), ts, ts, j.ID); err != nil {
			return err
		}
		if err := q.appendLog(ctx, tx, j.ID, "info", fmt.Sprintf("worker %s shut down; job handed back to the queue", q.opts.WorkerID)); err != nil {
			return err
		}
		return q.audit(ctx, tx, &j, q.systemActor(), "job.released", map[string]any{"attempt": j.Attempts, "reason": "worker shutdown"})
	})
	if err != nil {
		q.log.Error("jobs: could not hand back lease", "job", r.job.ID, "err", err)
	}
}

// backoff returns the delay before retrying after attempt (1-based):
// min(max, base·2^(attempt-1)), jittered down by up to half (rnd in [0,1)),
// so that jobs failing together do not retry together.
func backoff(attempt int, base, max time.Duration, rnd float64) time.Duration {
	d := max
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 62 {
		if x := base << (attempt - 1); x > 0 && x < max && x>>(attempt-1) == base {
			d = x
		}
	}
	return d/2 + time.Duration(rnd*float64(d/2))
}
