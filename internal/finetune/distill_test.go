package finetune_test

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/finetune/finetunetest"
	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/store/storetest"
	"github.com/whet-dev/whet/internal/train"
)

// seqMaxNew bounds the teacher's answers in the sequence distillation test.
const seqMaxNew = 6

// greedyAnswers returns m's greedy answers to prompts: at most seqMaxNew
// tokens, up to its EOS.
func greedyAnswers(t *testing.T, m *llm.Model, prompts [][]int) [][]int {
	t.Helper()
	out, err := train.DistillSequences(context.Background(), m, prompts, seqMaxNew, m.Config.EOSTokenIDs, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// agreement is the share of want's answers that got reproduces exactly and
// the share of want's tokens that got has at the same position.
func agreement(got, want [][]int) (exact, tokens float64) {
	n, same, total := 0, 0, 0
	for i := range want {
		if slices.Equal(got[i], want[i]) {
			n++
		}
		for k, id := range want[i] {
			if k < len(got[i]) && got[i][k] == id {
				same++
			}
		}
		total += len(want[i])
	}
	return float64(n) / float64(len(want)), float64(same) / float64(max(total, 1))
}

// versionFile reads one file of a registered version into dir.
func versionFile(t *testing.T, svc *finetune.Service, v *finetune.ModelVersion, dir, name string) []byte {
	t.Helper()
	rc, _, err := svc.OpenFile(context.Background(), v, name)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSequenceDistillRun: a run with distill_mode sequence trains the
// student (the fixture's base) by SFT on a teacher's greedy answers to the
// training prompts. It registers a version that records the mode, and the
// student's greedy answers to those prompts agree with the teacher's far
// more than the base's did. A worker stopped during step 6 hands the job
// on; the next attempt answers the prompts anew and resumes from the step-4
// checkpoint to an uninterrupted run's losses.
func TestSequenceDistillRun(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t))
	teacherDir := filepath.Join(t.TempDir(), "teacher")
	finetunetest.TinyModel(t, teacherDir, 11) // another random model, same tokenizer
	spec := f.spec()
	spec.Method, spec.Name = "distill", "seq"
	spec.Train.TeacherModel, spec.Train.DistillMode, spec.Train.MaxNewTokens = teacherDir, "sequence", seqMaxNew
	spec.Train.Epochs, spec.Train.LR = 15, 0.03 // 60 steps

	// The plan adds the teacher's answers to the estimate.
	plan, err := f.svc.Plan(ctx, f.orgID, f.project, spec)
	if err != nil || plan.Memory.Teacher == 0 || !strings.Contains(plan.EstimateBasis, "teacher answers") ||
		plan.Config.Train.DistillMode != "sequence" || plan.Steps != 60 {
		t.Fatalf("plan %+v, %v", plan, err)
	}
	sft := f.spec()
	sft.Train.Epochs, sft.Train.LR = spec.Train.Epochs, spec.Train.LR
	if sp, err := f.svc.Plan(ctx, f.orgID, f.project, sft); err != nil || sp.EstimatedSeconds >= plan.EstimatedSeconds {
		t.Fatalf("sft plan %.3g s, sequence distillation %.3g s (%v)", sp.EstimatedSeconds, plan.EstimatedSeconds, err)
	}

	want := func() *finetune.Run {
		q := f.queue("w0")
		wctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { q.Work(wctx, 1); close(done) }()
		defer func() { stop(); <-done }()
		r, err := f.svc.Create(ctx, f.orgID, "usr_test", f.project, spec)
		if err != nil {
			t.Fatal(err)
		}
		r = waitRun(t, f.svc, f.orgID, r.RunID)
		logs, err := q.Logs(ctx, f.orgID, r.JobID, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		answered := false
		for _, l := range logs {
			answered = answered || strings.HasPrefix(l.Message, "teacher answered 16 prompts")
		}
		if !answered {
			t.Errorf("no log line of the teacher's answers in %+v", logs)
		}
		return r
	}()
	if want.Metrics.Step != want.Metrics.TotalSteps || want.Config.Train.DistillMode != "sequence" || want.Config.Train.MaxNewTokens != seqMaxNew {
		t.Fatalf("run: %d steps, config %+v", want.Metrics.Step, want.Config.Train)
	}
	v, err := f.svc.GetVersionByID(ctx, f.orgID, want.ModelVersionID)
	if err != nil || v.Method != "distill" {
		t.Fatalf("version %+v, %v", v, err)
	}
	var cfg finetune.RunSpec
	if err := json.Unmarshal(v.Config, &cfg); err != nil || cfg.Train.DistillMode != "sequence" {
		t.Fatalf("version config %s (%v)", v.Config, err)
	}
	adir := t.TempDir()
	var manifest map[string]any
	if err := json.Unmarshal(versionFile(t, f.svc, v, adir, "whet_manifest.json"), &manifest); err != nil || manifest["distill_mode"] != "sequence" {
		t.Fatalf("manifest distill_mode %v (%v)", manifest["distill_mode"], err)
	}
	versionFile(t, f.svc, v, adir, "adapter_config.json")
	versionFile(t, f.svc, v, adir, "adapter_model.safetensors")

	// The student's greedy answers to the training prompts, before and
	// after, against the teacher's.
	_, fm, _, err := finetune.NewFormatter(f.base, 512)
	if err != nil {
		t.Fatal(err)
	}
	var prompts [][]int
	for _, r := range finetunetest.ReverseRecords(16) {
		p, err := fm.PromptTokens(train.Record{Instruction: r.Instruction, Input: r.Input, Output: r.Output})
		if err != nil {
			t.Fatal(err)
		}
		prompts = append(prompts, p)
	}
	load := func(dir string) *llm.Model {
		m, err := llm.Load(dir, llm.LoadOptions{DType: llm.DTypeF32})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	teacher, base := load(teacherDir), load(f.base)
	a, err := llm.LoadAdapter(adir)
	if err != nil {
		t.Fatal(err)
	}
	student, err := base.WithAdapter(a)
	if err != nil {
		t.Fatal(err)
	}
	target := greedyAnswers(t, teacher, prompts)
	emBefore, tokBefore := agreement(greedyAnswers(t, base, prompts), target)
	emAfter, tokAfter := agreement(greedyAnswers(t, student, prompts), target)
	t.Logf("teacher's answer e.g. %v; agreement with the teacher's answers: exact %.2f → %.2f, tokens %.2f → %.2f",
		target[0], emBefore, emAfter, tokBefore, tokAfter)
	// The teacher's answers fall into two families by the prompt's word;
	// the student learns them, not the dataset's own answers (reversed
	// words), with which the teacher never agrees. At these settings:
	// exact 0.00 → 0.44, tokens 0.00 → 0.49.
	if tokAfter < tokBefore+0.3 || emAfter < emBefore+0.25 {
		t.Errorf("agreement with the teacher's answers: exact %.2f → %.2f, tokens %.2f → %.2f; want +0.25 and +0.3 or more",
			emBefore, emAfter, tokBefore, tokAfter)
	}

	// Interrupted: the first worker stops during step 6, the second
	// resumes from the step-4 checkpoint.
	_, got := f.stopAndResume(t, spec)
	checkResumed(t, got, want)
	t.Logf("resumed from step %d to the uninterrupted final loss %.9g", got.Metrics.ResumedFrom, got.Metrics.FinalLoss)
}
