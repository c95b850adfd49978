package finetune

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/train"
)

// tracker follows one attempt: it records the metrics history, reports
// job progress, writes the history to the run row (throttled) and uploads
// each checkpoint train.Run writes.
type tracker struct {
	s     *Service
	ctx   context.Context // the handler's
	jr    *jobs.Run
	runID string
	dir   string // train.Run's checkpoint folder
	total int
	pref  bool    // DPO/IPO: record margin and accuracy
	start float64 // share of the job's progress done before training (the teacher's answers)

	mu          sync.Mutex
	metrics     Metrics
	artifacts   Artifacts
	lastWrite   time.Time
	uploaded    int // step of the last uploaded checkpoint
	resumedFrom int
}

// resume loads the job's last checkpoint, if any, into run.
func (t *tracker) resume(ctx context.Context, run *train.Run, tmp string) error {
	raw, err := t.jr.Checkpoint()
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return nil
	}
	var cp checkpoint
	if err := json.Unmarshal(raw, &cp); err != nil {
		return jobs.Permanent(fmt.Errorf("checkpoint: %w", err))
	}
	dir := filepath.Join(tmp, "resume")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, d := range cp.Files {
		if name != filepath.Base(name) {
			return jobs.Permanent(fmt.Errorf("checkpoint: bad file name %q", name))
		}
		if err := t.s.getBlob(ctx, blob.Digest(d), filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	if err := run.Resume(dir); err != nil {
		return jobs.Permanent(err)
	}
	t.uploaded, t.resumedFrom = cp.Step, cp.Step
	t.metrics.History = cp.History
	t.metrics.ResumedFrom = cp.Step
	t.artifacts.Checkpoint, t.artifacts.CheckpointStep = string(blob.FromBytes(raw)), cp.Step
	t.jr.Logf(slog.LevelInfo, "resumed from the checkpoint at step %d", cp.Step)
	return nil
}

// progress is train's per-step callback.
func (t *tracker) progress(st train.Stats) {
	pt := Point{Step: st.Step, Loss: st.Loss, LR: st.LR, GradNorm: st.GradNorm, ElapsedS: st.Elapsed.Seconds()}
	if st.Elapsed > 0 {
		pt.TokensPerS = float64(st.Tokens) / st.Elapsed.Seconds()
	}
	if t.pref {
		m, a := st.Margin, st.Accuracy
		pt.Margin, pt.Accuracy = &m, &a
	}
	if st.Evaluated {
		vl := st.ValLoss
		pt.ValLoss = &vl
		if t.pref {
			va := st.ValAccuracy
			pt.ValAccuracy = &va
		}
	}
	t.mu.Lock()
	t.metrics.History = append(t.metrics.History, pt)
	t.metrics.Step, t.metrics.FinalLoss = st.Step, st.Loss
	due := time.Since(t.lastWrite) >= t.s.metricsEvery()
	t.mu.Unlock()
	total := max(st.Total, 1)
	if t.total > 0 {
		total = t.total
	}
	t.jr.Progress(t.start+(0.98-t.start)*float64(st.Step)/float64(total), fmt.Sprintf("training: step %d/%d, loss %.4f, %.0f tok/s", st.Step, total, st.Loss, pt.TokensPerS))
	// train.Run saves a checkpoint right after this callback returns; the
	// previous step's is on disk now.
	if err := t.upload(context.Background()); err != nil {
		t.s.log().Warn("finetune: checkpoint upload failed", "run", t.runID, "err", err)
	}
	if due {
		t.writeMetrics(context.Background())
	}
	if t.s.stepHook != nil {
		t.s.stepHook(t.ctx, st.Step)
	}
}

// upload stores the newest local checkpoint if it is newer than the last
// one uploaded.
func (t *tracker) upload(ctx context.Context) error {
	raw, err := os.ReadFile(filepath.Join(t.dir, "state.json"))
	if err != nil {
		return nil // none written yet
	}
	var st struct {
		Step int `json:"step"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("checkpoint state: %w", err)
	}
	t.mu.Lock()
	if st.Step <= t.uploaded {
		t.mu.Unlock()
		return nil
	}
	var hist []Point
	for _, p := range t.metrics.History {
		if p.Step <= st.Step {
			hist = append(hist, p)
		}
	}
	t.mu.Unlock()
	d, err := t.s.storeCheckpoint(ctx, t.jr, t.dir, st.Step, hist)
	if err != nil {
		return err
	}
	t.mu.Lock()
	t.uploaded = st.Step
	t.artifacts.Checkpoint, t.artifacts.CheckpointStep = string(d), st.Step
	t.mu.Unlock()
	t.jr.Logf(slog.LevelInfo, "checkpoint at step %d saved", st.Step)
	t.writeMetrics(ctx)
	return nil
}

func (t *tracker) snapshotMetrics() Metrics {
	t.mu.Lock()
	defer t.mu.Unlock()
	m := t.metrics
	m.History = append([]Point(nil), t.metrics.History...)
	return m
}

func (t *tracker) snapshotArtifacts() Artifacts {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.artifacts
}

// writeMetrics writes the history and artifacts to the run row.
func (t *tracker) writeMetrics(ctx context.Context) {
	m, a := t.snapshotMetrics(), t.snapshotArtifacts()
	t.mu.Lock()
	t.lastWrite = time.Now()
	t.mu.Unlock()
	_, err := t.s.DB.SQL.ExecContext(ctx, t.s.DB.Rebind(`UPDATE training_runs SET metrics_json = ?, artifacts_json = ?, updated_at = ?
		WHERE id = ? AND status <> 'succeeded'`), jsonText(m), jsonText(a), store.FormatTime(time.Now()), t.runID)
	if err != nil {
		t.s.log().Warn("finetune: metrics write failed", "run", t.runID, "err", err)
	}
}

func (s *Service) metricsEvery() time.Duration {
	if s.MetricsEvery > 0 {
		return s.MetricsEvery
	}
	return time.Second
}
