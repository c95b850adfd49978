package finetune

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/audit"
	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
)

// KindRun is the job kind of a training run.
const KindRun = "training.run"

// Auditor appends audit records inside a transaction; (*audit.Log)
// implements it.
type Auditor interface {
	Append(ctx context.Context, tx *sql.Tx, e audit.Entry) error
}

// Service runs training runs as jobs and keeps the model registry.
type Service struct {
	DB       *store.DB
	Blob     blob.Store
	Datasets *dataset.Service
	Jobs     *jobs.Queue
	Audit    Auditor
	// ModelDir is where relative base_model paths are looked up ("" : the
	// worker's working directory).
	ModelDir string
	// Resolve turns hf://org/name into a local model folder (nil: hf://
	// references are refused). The composition root wires internal/hub.
	Resolve func(ctx context.Context, ref string) (string, error)
	Logger  *slog.Logger
	// MetricsEvery throttles writes of the metrics history (default 1 s).
	MetricsEvery time.Duration

	stepHook func(ctx context.Context, step int) // tests: called after each step's progress
}

// Run is a training run as the API shows it. Status, progress, stage and
// ETA come from its job.
type Run struct {
	RunID          string     `json:"run_id" example:"run_k3x7q2m9a8b4c5d6e7f2"`
	ProjectID      string     `json:"project_id"`
	JobID          string     `json:"job_id"`
	Name           string     `json:"name,omitempty"`
	BaseModel      string     `json:"base_model"`
	Method         string     `json:"method"`
	Status         string     `json:"status" enum:"queued,running,succeeded,failed,cancelled"`
	Progress       float64    `json:"progress"`
	Stage          string     `json:"stage,omitempty"`
	ETA            *time.Time `json:"eta,omitempty"`
	Error          string     `json:"error,omitempty"`
	Config         RunSpec    `json:"config" doc:"The run body with every default filled in."`
	Metrics        Metrics    `json:"metrics"`
	Artifacts      Artifacts  `json:"artifacts"`
	ModelVersionID string     `json:"model_version_id,omitempty" doc:"The version a succeeded run registered."`
	ModelID        string     `json:"model_id,omitempty"`
	ModelVersion   int        `json:"model_version,omitempty" doc:"Its version number."`
	CreatedBy      string     `json:"created_by,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	CompletedAt    *time.Time `json:"completed_at,omitempty"`

	storedStatus string // the row's mirror of the job status
}

// Point is one optimizer step of the metrics history.
type Point struct {
	Step       int      `json:"step"`
	Loss       float64  `json:"loss"`
	LR         float64  `json:"lr"`
	GradNorm   float64  `json:"grad_norm"`
	TokensPerS float64  `json:"tokens_per_s"`
	ElapsedS   float64  `json:"elapsed_s"`
	ValLoss    *float64 `json:"val_loss,omitempty"`
	Margin     *float64 `json:"reward_margin,omitempty" doc:"DPO/IPO: mean β·(Δchosen − Δrejected)."`
	Accuracy   *float64 `json:"preference_accuracy,omitempty" doc:"DPO/IPO: share of pairs ranked right."`
	// ValAccuracy is the validation preference accuracy (DPO/IPO) of a
	// step that ran a validation pass.
	ValAccuracy *float64 `json:"val_preference_accuracy,omitempty"`
}

// Metrics is a run's progress in numbers.
type Metrics struct {
	Step       int     `json:"step"`
	TotalSteps int     `json:"total_steps"`
	Examples   int     `json:"examples,omitempty"`
	Tokens     int64   `json:"tokens,omitempty" doc:"Tokens in one epoch of the training examples."`
	FinalLoss  float64 `json:"final_loss,omitempty"`
	// ValLoss is the mean validation loss after training (SFT/distill, when
	// the dataset version has a validation split).
	ValLoss     *float64 `json:"val_loss,omitempty"`
	ValExamples int      `json:"val_examples,omitempty"`
	ResumedFrom int      `json:"resumed_from,omitempty" doc:"Step the last attempt resumed from (0: a fresh start)."`
	Stopped     string   `json:"stopped,omitempty" doc:"early_stopping when callbacks.early_stopping ended the run."`
	BestStep    int      `json:"best_step,omitempty" doc:"With early stopping: the step whose adapters were kept."`
	History     []Point  `json:"history" nullable:"false"`
}

// Artifacts are where a run's outputs live: blob digests in the object
// store.
type Artifacts struct {
	Checkpoint     string            `json:"checkpoint,omitempty" doc:"Digest of the last checkpoint's manifest."`
	CheckpointStep int               `json:"checkpoint_step,omitempty"`
	AdapterFiles   map[string]string `json:"adapter_files,omitempty" doc:"File name → sha256 digest."`
	ModelVersion   string            `json:"model_version_uri,omitempty" doc:"API path of the registered version."`
}

// RunPayload is the payload of a training.run job.
type RunPayload struct {
	RunID string `json:"run_id"`
}

// Create validates the spec against the server's data and models, records
// the run and queues its job.
func (s *Service) Create(ctx context.Context, orgID, actorID, projectID string, spec RunSpec) (*Run, error) {
	spec = spec.withDefaults()
	if err := s.checkRefs(ctx, orgID, projectID, spec); err != nil {
		return nil, err
	}
	id := store.NewID("run_")
	j, err := s.Jobs.Enqueue(ctx, jobs.EnqueueParams{OrgID: orgID, ProjectID: projectID, ActorID: actorID, Kind: KindRun,
		Payload: RunPayload{RunID: id}})
	if err != nil {
		return nil, err
	}
	now := store.FormatTime(time.Now())
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.DB.Rebind(`INSERT INTO training_runs (id, org_id, project_id, job_id, name, base_model, method,
			spec_json, status, metrics_json, artifacts_json, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', '{"history":[]}', '{}', ?, ?, ?)`),
			id, orgID, projectID, j.ID, spec.Name, spec.BaseModel, spec.Method, jsonText(spec), actorID, now, now)
		if err != nil {
			return err
		}
		return s.Audit.Append(ctx, tx, audit.Entry{OrgID: orgID, ActorID: actorID, Action: "training.run.create", TargetType: "training_run",
			TargetID: id, Payload: map[string]any{"project_id": projectID, "job_id": j.ID, "base_model": spec.BaseModel, "method": spec.Method,
				"dataset_id": spec.Train.DatasetID}})
	})
	if err != nil {
		// The job finds no run row and fails permanently; cancel it now.
		_, _ = s.Jobs.Cancel(context.WithoutCancel(ctx), orgID, j.ID, actorID)
		return nil, fmt.Errorf("finetune: create run: %w", err)
	}
	r, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	// Answer the state at creation even if a worker claimed it already.
	r.Status, r.Progress, r.Stage, r.ETA = string(jobs.StatusQueued), 0, "", nil
	return r, nil
}

// checkRefs checks that the datasets and models a spec names exist for
// the organisation, are of the right kind and resolve. Errors are
// *ValidationError.
func (s *Service) checkRefs(ctx context.Context, orgID, projectID string, spec RunSpec) error {
	ds, err := s.projectDataset(ctx, orgID, projectID, spec.Train.DatasetID)
	if err != nil {
		return invalid("/train/dataset_id", "no such dataset in the project")
	}
	if err := kindFits(spec.Method, ds.Kind); err != nil {
		return invalid("/train/dataset_id", err.Error())
	}
	v, err := s.Datasets.GetVersion(ctx, orgID, ds.ID, spec.Train.DatasetVersion)
	if err != nil {
		field := "/train/dataset_version"
		if spec.Train.DatasetVersion == "latest" {
			field = "/train/dataset_id"
		}
		return invalid(field, "no such dataset version (create one by processing the dataset)")
	}
	if _, err := s.window(ctx, orgID, spec.Train); err != nil {
		return err
	}
	// Early stopping and eval_every need validation records.
	field, what := "", ""
	switch {
	case spec.Callbacks != nil && spec.Callbacks.EarlyStopping != nil:
		field, what = "/callbacks/early_stopping", "early stopping"
	case spec.Train.EvalEvery > 0:
		field, what = "/train/eval_every", "eval_every"
	}
	if field != "" {
		m, err := s.Datasets.Manifest(ctx, v)
		if err != nil {
			return err
		}
		split, found := valSplitOf(spec), false
		for _, it := range m.Items {
			found = found || it.Split == split
		}
		if !found {
			return invalid(field, fmt.Sprintf("%s needs validation records: dataset version %s has no %q split", what, v.Version, split))
		}
	}
	for i, mx := range spec.Train.Mix {
		field := fmt.Sprintf("/train/mix/%d/dataset_id", i)
		mds, err := s.projectDataset(ctx, orgID, projectID, mx.DatasetID)
		if err != nil {
			return invalid(field, "no such dataset in the project")
		}
		if err := kindFits(spec.Method, mds.Kind); err != nil {
			return invalid(field, err.Error())
		}
	}
	if r := spec.Train.Replay; r != nil {
		rds, err := s.projectDataset(ctx, orgID, projectID, r.DatasetID)
		if err != nil {
			return invalid("/train/replay/dataset_id", "no such dataset in the project")
		}
		if err := kindFits("sft", rds.Kind); err != nil {
			return invalid("/train/replay/dataset_id", err.Error())
		}
	}
	check := func(field, ref string) error {
		b, err := s.resolveModel(ctx, orgID, ref, false)
		if err != nil {
			return invalid(field, strings.TrimPrefix(err.Error(), "finetune: "))
		}
		b.Close()
		return nil
	}
	if err := check("/base_model", spec.BaseModel); err != nil {
		return err
	}
	if spec.Train.TeacherModel != "" {
		if err := check("/train/teacher_model", spec.Train.TeacherModel); err != nil {
			return err
		}
	}
	if spec.Train.InitAdapter != "" {
		if _, err := s.GetVersionByID(ctx, orgID, spec.Train.InitAdapter); err != nil {
			return invalid("/train/init_adapter", "no such model version")
		}
	}
	return nil
}

func (s *Service) projectDataset(ctx context.Context, orgID, projectID, id string) (*dataset.Dataset, error) {
	ds, err := s.Datasets.Get(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if ds.ProjectID != projectID {
		return nil, store.ErrNotFound
	}
	return ds, nil
}

// kindFits reports whether a dataset of kind k can train method.
func kindFits(method string, k dataset.Kind) error {
	switch method {
	case "dpo", "ipo":
		if k != dataset.KindPreference {
			return fmt.Errorf("method %s needs a preference dataset, this one is %s", method, k)
		}
	default:
		if k != dataset.KindInstruction && k != dataset.KindChat {
			return fmt.Errorf("method %s needs an instruction or chat dataset, this one is %s", method, k)
		}
	}
	return nil
}

const runCols = `r.id, r.project_id, r.job_id, r.name, r.base_model, r.method, r.spec_json, r.metrics_json, r.artifacts_json,
	r.model_version_id, r.created_by, r.created_at, r.updated_at, r.completed_at,
	j.status, j.progress, j.stage, j.eta, j.error,
	COALESCE(v.model_id, ''), COALESCE(v.version, 0), r.status, j.finished_at`

const runFrom = `training_runs r JOIN jobs j ON j.id = r.job_id LEFT JOIN model_versions v ON v.id = r.model_version_id`

func scanRun(row interface{ Scan(...any) error }) (*Run, error) {
	var r Run
	var spec, metrics, artifacts, created, updated string
	var completed, eta, finished sql.NullString
	if err := row.Scan(&r.RunID, &r.ProjectID, &r.JobID, &r.Name, &r.BaseModel, &r.Method, &spec, &metrics, &artifacts,
		&r.ModelVersionID, &r.CreatedBy, &created, &updated, &completed, &r.Status, &r.Progress, &r.Stage, &eta, &r.Error,
		&r.ModelID, &r.ModelVersion, &r.storedStatus, &finished); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &r.Config); err != nil {
		return nil, fmt.Errorf("run %s spec: %w", r.RunID, err)
	}
	_ = json.Unmarshal([]byte(metrics), &r.Metrics)
	_ = json.Unmarshal([]byte(artifacts), &r.Artifacts)
	if r.Metrics.History == nil {
		r.Metrics.History = []Point{}
	}
	r.CreatedAt, _ = store.ParseTime(created)
	r.UpdatedAt, _ = store.ParseTime(updated)
	if !completed.Valid && finished.Valid && jobs.Status(r.Status).Terminal() {
		completed = finished
	}
	if completed.Valid {
		t, _ := store.ParseTime(completed.String)
		r.CompletedAt = &t
	}
	if eta.Valid && r.Status == string(jobs.StatusRunning) {
		t, _ := store.ParseTime(eta.String)
		r.ETA = &t
	}
	return &r, nil
}

// Get returns run id of organisation orgID (store.ErrNotFound otherwise).
func (s *Service) Get(ctx context.Context, orgID, id string) (*Run, error) {
	r, err := scanRun(s.DB.SQL.QueryRowContext(ctx, s.DB.Rebind(`SELECT `+runCols+` FROM `+runFrom+`
		WHERE r.id = ? AND r.org_id = ?`), id, orgID))
	if isNoRows(err) {
		return nil, fmt.Errorf("%w: training run %s", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("finetune: get run: %w", err)
	}
	s.syncStatus(ctx, r)
	return r, nil
}

// syncStatus copies a finished job's status into the run row (the handler
// records success itself; failures and cancellations are settled by the
// queue, so the row learns of them here).
func (s *Service) syncStatus(ctx context.Context, r *Run) {
	if r.storedStatus == r.Status || !jobs.Status(r.Status).Terminal() || r.CompletedAt == nil {
		return
	}
	now := store.FormatTime(time.Now())
	if _, err := s.DB.SQL.ExecContext(ctx, s.DB.Rebind(`UPDATE training_runs SET status = ?, completed_at = ?, updated_at = ?
		WHERE id = ? AND status <> 'succeeded'`), r.Status, store.FormatTime(*r.CompletedAt), now, r.RunID); err != nil {
		s.log().Warn("finetune: mirroring run status failed", "run", r.RunID, "err", err)
		return
	}
	r.storedStatus = r.Status
}

// List returns one page of a project's runs, newest first, without their
// metrics history.
func (s *Service) List(ctx context.Context, orgID, projectID string, limit int, cursor string) ([]*Run, string, error) {
	limit = store.ClampLimit(limit, 50)
	where, args := `r.org_id = ? AND r.project_id = ?`, []any{orgID, projectID}
	if cursor != "" {
		pos, err := store.DecodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		created, id, ok := strings.Cut(pos, "|")
		if !ok {
			return nil, "", store.ErrBadCursor
		}
		where += ` AND (r.created_at < ? OR (r.created_at = ? AND r.id < ?))`
		args = append(args, created, created, id)
	}
	rows, err := s.DB.SQL.QueryContext(ctx, s.DB.Rebind(`SELECT `+runCols+` FROM `+runFrom+`
		WHERE `+where+` ORDER BY r.created_at DESC, r.id DESC LIMIT ?`), append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("finetune: list runs: %w", err)
	}
	defer rows.Close()
	var out []*Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, "", fmt.Errorf("finetune: list runs: %w", err)
		}
		r.Metrics.History = []Point{}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("finetune: list runs: %w", err)
	}
	rows.Close()
	for _, r := range out {
		s.syncStatus(ctx, r)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = store.EncodeCursor(store.FormatTime(last.CreatedAt) + "|" + last.RunID)
	}
	return out, next, nil
}

// Cancel cancels a run's job (a queued run at once, a running one at its
// next step) and returns the run.
func (s *Service) Cancel(ctx context.Context, orgID, actorID, id string) (*Run, error) {
	r, err := s.Get(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if r.Status == string(jobs.StatusCancelled) {
		return r, nil // cancelling again changes nothing and is not audited again
	}
	if _, err := s.Jobs.Cancel(ctx, orgID, r.JobID, actorID); err != nil {
		if errors.Is(err, jobs.ErrFinished) {
			return r, err
		}
		return nil, err
	}
	err = s.DB.Tx(ctx, func(tx *sql.Tx) error {
		return s.Audit.Append(ctx, tx, audit.Entry{OrgID: orgID, ActorID: actorID, Action: "training.run.cancel", TargetType: "training_run",
			TargetID: id, Payload: map[string]any{"job_id": r.JobID}})
	})
	if err != nil {
		return nil, fmt.Errorf("finetune: cancel run: %w", err)
	}
	return s.Get(ctx, orgID, id)
}

func (s *Service) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}
