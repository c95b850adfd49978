package finetune

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/blob"
	"github.com/whet-dev/whet/internal/jobs"
	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/train"
)

// RegisterJobs registers the training.run job kind on q.
func (s *Service) RegisterJobs(q *jobs.Queue) {
	q.Register(KindRun, s.handle, jobs.KindOptions{MaxAttempts: 3, Scope: auth.ScopeTrainRun})
}

// checkpoint is what a run saves with jobs.Run.SaveCheckpoint: the digests
// of train.Run's checkpoint files in the object store and the metrics
// history up to that step.
type checkpoint struct {
	Step    int               `json:"step"`
	Files   map[string]string `json:"files"`
	History []Point           `json:"history"`
}

// RunResult is the job result of a succeeded run.
type RunResult struct {
	RunID          string  `json:"run_id"`
	ModelVersionID string  `json:"model_version_id"`
	ModelID        string  `json:"model_id"`
	Version        int     `json:"version"`
	Steps          int     `json:"steps"`
	FinalLoss      float64 `json:"final_loss"`
}

// runRow is a run as its handler needs it.
type runRow struct {
	ID, OrgID, ProjectID, CreatedBy string
	Spec                            RunSpec
}

// loadRunRow reads the run of a job; Create inserts it just after
// enqueueing, so a fast worker may briefly not see it yet.
func (s *Service) loadRunRow(ctx context.Context, orgID, id string) (*runRow, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := &runRow{OrgID: orgID}
		var spec string
		err := s.DB.SQL.QueryRowContext(ctx, s.DB.Rebind(`SELECT id, project_id, created_by, spec_json FROM training_runs WHERE id = ? AND org_id = ?`),
			id, orgID).Scan(&r.ID, &r.ProjectID, &r.CreatedBy, &spec)
		if err == nil {
			if err := json.Unmarshal([]byte(spec), &r.Spec); err != nil {
				return nil, jobs.Permanent(fmt.Errorf("run %s spec: %w", id, err))
			}
			return r, nil
		}
		if !isNoRows(err) {
			return nil, err
		}
		if time.Now().After(deadline) {
			return nil, jobs.Permanent(fmt.Errorf("%w: training run %s", store.ErrNotFound, id))
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// trainConfig maps a (defaulted) spec onto the engine's config.
func trainConfig(spec RunSpec, ckptDir string) train.Config {
	t := spec.Train
	method := spec.Method
	if method == "distill" {
		method = "sft"
	}
	c := train.Config{Method: method, Epochs: t.Epochs, BatchSize: t.BatchSize, GradAccum: t.GradAccum, LR: t.LR, Schedule: t.Schedule,
		Warmup: t.WarmupSteps, WeightDecay: t.WeightDecay, ClipNorm: *t.MaxGradNorm, Seed: *t.Seed, Beta: t.Beta, ChosenNLL: t.RPOAlpha,
		GradientCheckpointing: t.GradientCheckpointing, CheckpointEvery: t.CheckpointEvery, CheckpointDir: ckptDir, MaxSteps: t.MaxSteps,
		LoRA: llm.LoRAConfig{R: spec.PEFT.R, Alpha: spec.PEFT.Alpha, Dropout: *spec.PEFT.Dropout, RSLoRA: spec.PEFT.UseRSLoRA,
			Targets: spec.PEFT.TargetModules}}
	// Validation passes run every eval_every steps, or once per epoch
	// (EvalEvery 0) as transformers' evaluation_strategy "epoch".
	c.EvalEvery = t.EvalEvery
	if cb := spec.Callbacks; cb != nil && cb.EarlyStopping != nil {
		c.Patience, c.MinDelta = cb.EarlyStopping.Patience, cb.EarlyStopping.MinDelta
	}
	return c
}

// baseDType is the storage format of the frozen base.
func baseDType(p PEFTSpec, mixed string) string {
	switch {
	case p.Type == "qlora" && p.BNB8Bit:
		return llm.DTypeInt8
	case p.Type == "qlora":
		return llm.DTypeNF4
	case mixed == "bf16":
		return llm.DTypeBF16
	}
	return llm.DTypeF32
}

// handle runs one attempt of a training run.
func (s *Service) handle(ctx context.Context, jr *jobs.Run) error {
	var p RunPayload
	if err := jr.Payload(&p); err != nil {
		return err
	}
	row, err := s.loadRunRow(ctx, jr.OrgID(), p.RunID)
	if err != nil {
		return err
	}
	spec := row.Spec
	if _, err := s.DB.SQL.ExecContext(ctx, s.DB.Rebind(`UPDATE training_runs SET status = 'running', updated_at = ? WHERE id = ?`),
		store.FormatTime(time.Now()), row.ID); err != nil {
		return err
	}
	jr.Progress(0, "loading base model")
	ref, err := s.resolveModel(ctx, row.OrgID, spec.BaseModel, true)
	if err != nil {
		return jobs.Permanent(err)
	}
	defer ref.Close()
	dtype := baseDType(spec.PEFT, spec.Train.MixedPrecision)
	m, err := loadModel(ref, dtype)
	if err != nil {
		return jobs.Permanent(fmt.Errorf("load base model: %w", err))
	}
	_, fm, templateHash, err := NewFormatter(ref.Dir, spec.Train.MaxSeqLen)
	if err != nil {
		return jobs.Permanent(err)
	}
	var teacher *llm.Model
	var teacherDir string
	if spec.Method == "distill" {
		tref, err := s.resolveModel(ctx, row.OrgID, spec.Train.TeacherModel, true)
		if err != nil {
			return jobs.Permanent(err)
		}
		defer tref.Close()
		teacherDir = tref.Dir
		jr.Progress(0, "loading teacher model")
		if teacher, err = loadModel(tref, llm.DTypeF32); err != nil {
			return jobs.Permanent(fmt.Errorf("load teacher: %w", err))
		}
		if err := train.CheckTeacher(m, teacher); err != nil {
			return jobs.Permanent(err)
		}
	}
	// Sequence-level distillation trains on the teacher's greedy answers,
	// generated anew by every attempt: decoding is deterministic, so a
	// resumed attempt trains on the same examples as the one that saved
	// the checkpoint.
	seq := spec.Method == "distill" && spec.Train.DistillMode == "sequence"
	var teach teachFunc
	if seq {
		teach = teacherAnswers(jr, teacher, teacherDir, fm.EOS, spec.Train.MaxNewTokens)
	}
	jr.Progress(0, "reading dataset")
	d, err := s.loadData(ctx, row.OrgID, spec, fm, teach)
	if err != nil {
		if errors.Is(err, train.ErrData) || errors.Is(err, store.ErrNotFound) {
			return jobs.Permanent(err)
		}
		return err
	}
	tmp, err := os.MkdirTemp("", "whet-run-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ckptDir := filepath.Join(tmp, "checkpoint")
	run, err := train.NewRun(m, trainConfig(spec, ckptDir))
	if err != nil {
		return jobs.Permanent(err)
	}
	if spec.Train.InitAdapter != "" {
		mv, err := s.GetVersionByID(ctx, row.OrgID, spec.Train.InitAdapter)
		if err != nil {
			return jobs.Permanent(fmt.Errorf("init adapter: %w", err))
		}
		dir, err := s.downloadFiles(ctx, mv.AdapterFiles)
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		a, err := llm.LoadAdapter(dir)
		if err != nil {
			return jobs.Permanent(fmt.Errorf("init adapter: %w", err))
		}
		if err := run.InitFromAdapter(a); err != nil {
			return jobs.Permanent(err)
		}
	}

	if len(d.Val) > 0 {
		run.SetValidation(d.Val)
	}
	if len(d.ValPairs) > 0 {
		run.SetValidationPairs(d.ValPairs)
	}
	if len(d.Val)+len(d.ValPairs) == 0 {
		what := ""
		switch {
		case spec.Callbacks != nil && spec.Callbacks.EarlyStopping != nil:
			what = "early stopping"
		case spec.Train.EvalEvery > 0:
			what = "eval_every"
		}
		if what != "" {
			return jobs.Permanent(fmt.Errorf("%w: %s needs validation records (split %q) in dataset version %s", train.ErrData,
				what, valSplitOf(spec), d.Ref.Version))
		}
	}
	tr := &tracker{s: s, ctx: ctx, jr: jr, pref: spec.Method == "dpo" || spec.Method == "ipo", runID: row.ID, dir: ckptDir, total: totalSteps(d.n(), spec.Train),
		metrics: Metrics{Examples: d.n(), Tokens: d.Tokens, ValExamples: len(d.Val) + len(d.ValPairs)}}
	if seq {
		tr.start = teacherShare
	}
	tr.metrics.TotalSteps = tr.total
	if err := tr.resume(ctx, run, tmp); err != nil {
		return err
	}
	method := spec.Method
	if seq {
		// The teacher has answered; training is plain SFT on its answers.
		teacher, teach = nil, nil
		method = "distill (sequence)"
	}
	jr.Logf(slog.LevelInfo, "training %s on %d examples (%d tokens per epoch) of %s@%s: %d steps, base %s in %s",
		method, d.n(), d.Tokens, d.Name, d.Ref.Version, tr.total, spec.BaseModel, dtype)
	var st train.Stats
	switch spec.Method {
	case "dpo", "ipo":
		st, err = run.Preference(ctx, d.Pairs, tr.progress)
	case "distill":
		if seq {
			st, err = run.SFT(ctx, d.Examples, tr.progress)
			break
		}
		st, err = run.Distill(ctx, d.Examples, teacher, float32(spec.Train.Temperature), tr.progress)
	default:
		st, err = run.SFT(ctx, d.Examples, tr.progress)
	}
	// A checkpoint written by the last step is uploaded even when the run
	// stops (shutdown, cancel): a later attempt resumes from it.
	if uerr := tr.upload(context.WithoutCancel(ctx)); uerr != nil && err == nil {
		err = uerr
	}
	if err != nil {
		return err
	}
	if st.Step == 0 && tr.resumedFrom > 0 {
		// Resumed from a checkpoint at the very end: nothing was left to run.
		st.Step = run.Step()
		if n := len(run.Losses); n > 0 {
			st.Loss = run.Losses[n-1]
		}
	}
	jr.Progress(0.99, "registering model version")
	if st.Stopped != "" {
		tr.metrics.Stopped, tr.metrics.BestStep = st.Stopped, st.BestStep
		jr.Logf(slog.LevelInfo, "early stopping after step %d: no better validation loss for %d passes; kept the adapters of step %d (val_loss %.4f)",
			st.Step, spec.Callbacks.EarlyStopping.Patience, st.BestStep, st.BestValLoss)
	}
	if st.Evaluated || st.BestStep > 0 {
		vl := st.ValLoss
		if st.Stopped != "" {
			vl = st.BestValLoss
		}
		tr.metrics.ValLoss = &vl
	} else if len(d.Val) > 0 {
		vl, err := validationLoss(ctx, m, run.Params(), d.Val)
		if err != nil {
			return err
		}
		tr.metrics.ValLoss = &vl
		if n := len(tr.metrics.History); n > 0 {
			tr.metrics.History[n-1].ValLoss = &vl
		}
		jr.Logf(slog.LevelInfo, "validation loss %.4f on %d examples", vl, len(d.Val))
	}
	tr.metrics.Step, tr.metrics.FinalLoss = st.Step, st.Loss
	return s.finish(ctx, jr, row, ref, run, d, templateHash, dtype, tmp, tr)
}

// finish saves the adapter into the object store and completes the job
// together with the model version it registers.
func (s *Service) finish(ctx context.Context, jr *jobs.Run, row *runRow, ref *baseRef, run *train.Run, d *data, templateHash, dtype, tmp string, tr *tracker) error {
	spec := row.Spec
	adir := filepath.Join(tmp, "adapter")
	if err := llm.SaveAdapter(adir, run.Params().Adapter(spec.BaseModel), *spec.PEFT.Dropout); err != nil {
		return err
	}
	manifest := map[string]any{"template_hash": templateHash, "dataset_digest": d.Ref.LineageHash, "dataset": d.Ref, "run_id": row.ID,
		"config": spec, "base_dtype": dtype, "metrics": map[string]any{"steps": tr.metrics.Step, "final_loss": tr.metrics.FinalLoss,
			"val_loss": tr.metrics.ValLoss}, "losses": run.Losses}
	if spec.Method == "distill" {
		manifest["distill_mode"] = cmp.Or(spec.Train.DistillMode, "logits")
	}
	mb, _ := json.MarshalIndent(manifest, "", "  ")
	if err := os.WriteFile(filepath.Join(adir, "whet_manifest.json"), append(mb, '\n'), 0o644); err != nil {
		return err
	}
	af, err := s.putFiles(ctx, adir, adapterFiles, false)
	if err != nil {
		return err
	}
	tf, err := s.putFiles(ctx, ref.Dir, tokenizerFiles, true)
	if err != nil {
		return err
	}
	modelName := spec.Name
	if spec.Register != nil {
		modelName = spec.Register.ModelName
	}
	if modelName == "" {
		modelName = d.Name + "-" + spec.Method
	}
	final := tr.metrics
	final.History = nil
	mv := &ModelVersion{ID: store.NewID("mv_"), RunID: row.ID, BaseModel: spec.BaseModel, Method: spec.Method, AdapterFiles: af,
		TokenizerFiles: tf, TemplateHash: templateHash, Dataset: d.Ref, Config: json.RawMessage(jsonText(spec)),
		Metrics: json.RawMessage(jsonText(final)), CreatedAt: time.Now().UTC()}
	tr.mu.Lock()
	tr.artifacts.AdapterFiles = af
	tr.mu.Unlock()
	res := RunResult{RunID: row.ID, ModelVersionID: mv.ID, Steps: tr.metrics.Step, FinalLoss: tr.metrics.FinalLoss}
	err = jr.Complete(ctx, &res, func(tx *sql.Tx) error {
		if err := s.registerVersion(ctx, tx, row.OrgID, row.CreatedBy, row.ProjectID, modelName, mv); err != nil {
			return err
		}
		res.ModelID, res.Version = mv.ModelID, mv.Version
		if err := jr.LogTx(ctx, tx, slog.LevelInfo, "registered %s version %d (%s): %d steps, final loss %.4f",
			modelName, mv.Version, mv.ID, res.Steps, res.FinalLoss); err != nil {
			return err
		}
		arts := tr.snapshotArtifacts()
		arts.ModelVersion = fmt.Sprintf("/v1/models/%s/versions/%d", mv.ModelID, mv.Version)
		now := store.FormatTime(time.Now())
		_, err := tx.ExecContext(ctx, s.DB.Rebind(`UPDATE training_runs SET status = 'succeeded', metrics_json = ?, artifacts_json = ?,
			model_version_id = ?, updated_at = ?, completed_at = ? WHERE id = ?`), jsonText(tr.snapshotMetrics()), jsonText(arts), mv.ID, now, now, row.ID)
		return err
	})
	return err
}

// validationLoss is the mean masked cross-entropy of the adapted model on
// exs.
func validationLoss(ctx context.Context, m *llm.Model, p *llm.LoRAParams, exs []train.Example) (float64, error) {
	mm, err := m.WithAdapter(p.Adapter(""))
	if err != nil {
		return 0, err
	}
	V := m.Config.VocabSize
	var sum float64
	n := 0
	for _, ex := range exs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		lg, err := mm.Forward(ex.Tokens, 0, nil)
		if err != nil {
			return 0, err
		}
		for t, tg := range ex.Targets {
			if tg < 0 {
				continue
			}
			row := lg[t*V : (t+1)*V]
			mx := row[0]
			for _, v := range row {
				mx = max(mx, v)
			}
			var z float64
			for _, v := range row {
				z += math.Exp(float64(v - mx))
			}
			sum += math.Log(z) + float64(mx) - float64(row[tg])
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return sum / float64(n), nil
}

// storeCheckpoint uploads train.Run's checkpoint files from dir and saves
// their digests as the job's checkpoint.
func (s *Service) storeCheckpoint(ctx context.Context, jr *jobs.Run, dir string, step int, hist []Point) (blob.Digest, error) {
	files, err := s.putFiles(ctx, dir, []string{"state.json", "state.bin"}, false)
	if err != nil {
		return "", err
	}
	best, err := s.putFiles(ctx, dir, []string{"best.bin"}, true)
	if err != nil {
		return "", err
	}
	maps.Copy(files, best)
	b, _ := json.Marshal(checkpoint{Step: step, Files: files, History: hist})
	if err := jr.SaveCheckpoint(ctx, b); err != nil {
		return "", err
	}
	return blob.FromBytes(b), nil
}

// teacherShare is the part of a sequence-level distillation run's progress
// that the teacher's answers take; training takes the rest.
const teacherShare = 0.1

// teacherAnswers returns the teachFunc of sequence-level distillation, as
// whet train --distill-mode sequence answers: the teacher's greedy answers
// of at most maxNew tokens, each ending at the first stop token — the
// teacher's EOS ids (config.json and generation_config.json in dir) or the
// formatter's eos. It reports the prompts done as the job's progress and
// logs a summary.
func teacherAnswers(jr *jobs.Run, teacher *llm.Model, dir string, eos, maxNew int) teachFunc {
	var stops []int
	gc, _ := llm.LoadGenerationConfig(dir)
	for _, id := range slices.Concat(teacher.Config.EOSTokenIDs, gc.EOSTokenIDs, []int{eos}) {
		if id >= 0 && !slices.Contains(stops, id) {
			stops = append(stops, id)
		}
	}
	return func(ctx context.Context, prompts [][]int) ([][]int, error) {
		start := time.Now()
		stage := func(done, total int) {
			jr.Progress(teacherShare*float64(done)/float64(max(total, 1)), fmt.Sprintf("teacher answers: %d/%d prompts", done, total))
		}
		stage(0, len(prompts))
		answers, err := train.DistillSequences(ctx, teacher, prompts, maxNew, stops, stage)
		if err != nil {
			return nil, fmt.Errorf("teacher answers: %w", err)
		}
		tokens, cut := 0, 0
		for _, a := range answers {
			tokens += len(a)
			if len(a) > 0 && !slices.Contains(stops, a[len(a)-1]) {
				cut++
			}
		}
		jr.Logf(slog.LevelInfo, "teacher answered %d prompts in %s: %d tokens (%.1f per answer), %d cut at max_new_tokens %d or the context",
			len(prompts), time.Since(start).Round(time.Millisecond), tokens, float64(tokens)/float64(max(len(answers), 1)), cut, maxNew)
		return answers, nil
	}
}
