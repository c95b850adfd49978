package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob"
)

// Errors returned by the queue. Lookups of missing or foreign jobs return
// store.ErrNotFound.
var (
	// ErrUnknownKind reports an Enqueue of a kind no package registered.
	ErrUnknownKind = errors.New("jobs: unknown job kind")
	// ErrLeaseLost reports that this worker no longer holds the job's lease
	// (it expired and another worker claimed the job, or it was handed back).
	ErrLeaseLost = errors.New("jobs: lease lost")
	// ErrCancelled is the cause of a handler's context when the job was
	// cancelled, and what Complete returns for a cancelled job.
	ErrCancelled = errors.New("jobs: job cancelled")
	// ErrFinished reports an operation on a job that already finished.
	ErrFinished = errors.New("jobs: job already finished")
	// ErrBadCursor reports a List cursor that List did not issue.
	ErrBadCursor = errors.New("jobs: bad cursor")
	// ErrInvalid reports invalid arguments (empty kind, bad limit, …).
	ErrInvalid = errors.New("jobs: invalid argument")
	// errShutdown is the cause of a handler's context when its worker stops.
	errShutdown = errors.New("jobs: worker shutting down")
)

// Status is a job's state.
type Status string

// Job states. Succeeded, failed and cancelled are terminal.
const (
	StatusQueued    Status = "queued"
	StatusRunning   Status = "running"
	StatusSucceeded Status = "succeeded"
	StatusFailed    Status = "failed"
	StatusCancelled Status = "cancelled"
)

// Terminal reports whether s is a final state.
func (s Status) Terminal() bool {
	return s == StatusSucceeded || s == StatusFailed || s == StatusCancelled
}

// Valid reports whether s is one of the five states.
func (s Status) Valid() bool {
	switch s {
	case StatusQueued, StatusRunning, StatusSucceeded, StatusFailed, StatusCancelled:
		return true
	}
	return false
}

// Job is one row of the queue.
type Job struct {
	ID              string
	OrgID           string
	ProjectID       string
	ActorID         string // who enqueued it
	Kind            string
	Payload         json.RawMessage
	UniqueKey       string
	Status          Status
	Progress        float64 // 0…1
	Stage           string
	ETA             *time.Time // estimated finish, from the progress rate
	Attempts        int
	MaxAttempts     int
	RunAfter        time.Time
	LeaseOwner      string
	LeaseExpiresAt  *time.Time
	HeartbeatAt     *time.Time
	HasCheckpoint   bool
	CheckpointBlob  blob.Digest // set when the checkpoint lives in the blob store
	Result          json.RawMessage
	Error           string // the last attempt's error
	CancelRequested bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
	StartedAt       *time.Time
	FinishedAt      *time.Time
}

// LogLine is one line of a job's log. Seq increases by one per line.
type LogLine struct {
	Seq     int64
	Time    time.Time
	Level   string // debug, info, warn, error
	Message string
}

// Handler runs one attempt of a job. Returning nil marks the job succeeded
// (unless the handler already called Run.Complete); returning an error
// schedules a retry or, after the last attempt or for a Permanent error,
// fails the job. A handler must return soon after ctx is cancelled.
type Handler func(ctx context.Context, r *Run) error

// Auditor appends audit records inside the caller's transaction;
// (*audit.Log) implements it.
type Auditor interface {
	Append(ctx context.Context, tx *sql.Tx, e audit.Entry) error
}

// KindOptions configure one job kind.
type KindOptions struct {
	// MaxAttempts is the default for jobs of this kind (default 3).
	MaxAttempts int
	// Timeout bounds one attempt (0: none).
	Timeout time.Duration
	// BackoffBase and BackoffMax shape the retry delay:
	// min(BackoffMax, BackoffBase·2^(attempt-1)), then jittered down by up
	// to half. Defaults 2 s and 5 min.
	BackoffBase, BackoffMax time.Duration
	// Scope is the auth scope needed to cancel jobs of this kind (for
	// example "train:run"); admins can always cancel.
	Scope string
}

// Options configure a Queue. The zero value works.
type Options struct {
	Logger *slog.Logger
	// Clock supplies the time written to the database (default time.Now).
	Clock func() time.Time
	// LeaseTTL is how long a claim lasts without a heartbeat (default 30 s).
	LeaseTTL time.Duration
	// Heartbeat is how often a running job's lease is extended and its
	// cancel flag read (default LeaseTTL/3).
	Heartbeat time.Duration
	// PollInterval is the longest an idle worker waits before looking for
	// work again (default 1 s); enqueues in the same process wake it at once.
	PollInterval time.Duration
	// ShutdownGrace is how long Work waits for cancelled handlers to return
	// before it hands their leases back anyway (default 10 s).
	ShutdownGrace time.Duration
	// Audit receives a record for every state change (nil: none).
	Audit Auditor
	// WorkerID names this worker in leases and logs (default host-pid-random).
	WorkerID string
	// Blob holds checkpoints too large for the database (nil: large
	// checkpoints are an error).
	Blob blob.Store
	// InlineCheckpointMax is the largest checkpoint kept in the database
	// (default 64 KiB); larger ones go to Blob.
	InlineCheckpointMax int
}

// EnqueueParams describe a new job.
type EnqueueParams struct {
	OrgID     string
	ProjectID string
	ActorID   string
	Kind      string
	// Payload is marshalled to JSON (nil means {}).
	Payload any
	// MaxAttempts overrides the kind's default when > 0.
	MaxAttempts int
	// UniqueKey, when set, makes Enqueue return the existing queued or
	// running job of the same organisation, kind and key instead of adding
	// a second one.
	UniqueKey string
	// RunAfter delays the first attempt (zero: now).
	RunAfter time.Time
}

// ListFilter narrows List. Empty fields match everything.
type ListFilter struct {
	Status    Status
	Kind      string
	ProjectID string
}

// permanentError marks an error that must not be retried.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent wraps err so that the job fails at once instead of retrying
// (bad payload, missing input).
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was wrapped by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
