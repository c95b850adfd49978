package train

import (
	"context"
	"slices"
	"testing"
)

// conflictTask is lookupTask's prompts with other answers: once a run fits
// lookupTask, its loss on these rises, as a held-out set's does when a run
// overfits.
func conflictTask(noise []int) []Example {
	var exs []Example
	for i := 0; i < 8; i++ {
		for _, nz := range noise {
			ex, _ := FromPromptResponse([]int{1, nz, 10 + i, 3}, []int{100 + (i*3+4)%8, 2}, 0)
			exs = append(exs, ex)
		}
	}
	return exs
}

func overfitConfig() Config {
	cfg := sftConfig()
	cfg.Epochs, cfg.LR, cfg.EvalEvery, cfg.Patience = 12, 2e-2, 2, 2
	return cfg
}

func TestEvalDue(t *testing.T) {
	for _, tc := range []struct {
		name                  string
		every, accum, per, ep int
		want                  []int
	}{
		{"every 3", 3, 1, 4, 3, []int{3, 6, 9, 12}},
		{"per epoch", 0, 1, 4, 3, []int{4, 8, 12}},
		{"per epoch, accumulation straddles", 0, 3, 4, 3, []int{2, 3, 4}},
		{"per epoch, accumulation divides", 0, 2, 4, 2, []int{2, 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Run{cfg: Config{EvalEvery: tc.every, GradAccum: tc.accum, Epochs: tc.ep}}
			steps := (tc.per*tc.ep + tc.accum - 1) / tc.accum
			var got []int
			for s := 1; s <= steps; s++ {
				if r.evalDue(s, tc.per) {
					got = append(got, s)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("validation after steps %v, want %v", got, tc.want)
			}
		})
	}
}

// TestValidationPure: a validation pass is deterministic and leaves the
// parameters (and their gradients) alone.
func TestValidationPure(t *testing.T) {
	train, _, _ := lookupTask([]int{200})
	cfg := overfitConfig()
	cfg.Patience, cfg.MaxSteps = 0, 2
	r := newRunOrFatal(t, cfg)
	if _, err := r.SFT(context.Background(), train, nil); err != nil {
		t.Fatal(err)
	}
	r.SetValidation(conflictTask([]int{200}))
	eval, err := r.exampleEval(nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	before := slices.Clone(r.p.Buf)
	a, _, err := eval()
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := eval()
	if a != b || a <= 0 {
		t.Errorf("validation loss %v then %v", a, b)
	}
	if !slices.Equal(before, r.p.Buf) {
		t.Error("a validation pass changed the parameters or their state")
	}
	r.SetValidationPairs([]Pair{})
	if _, err := r.exampleEval(nil, 0); err == nil {
		t.Error("an SFT run accepted preference pairs as validation")
	}
}

// TestEarlyStopping: a run whose validation loss rises as it fits the
// training data stops early, reports it, and ends with the weights of its
// best validation pass; without patience it runs every step.
func TestEarlyStopping(t *testing.T) {
	train, _, _ := lookupTask([]int{200, 201})
	val := conflictTask([]int{200, 201})
	run := func(cfg Config) (*Run, Stats, []Stats) {
		r, err := NewRun(tinyModel(t, "llama"), cfg)
		if err != nil {
			t.Fatal(err)
		}
		r.SetValidation(val)
		var all []Stats
		st, err := r.SFT(context.Background(), train, func(s Stats) { all = append(all, s) })
		if err != nil {
			t.Fatal(err)
		}
		return r, st, all
	}
	r, st, all := run(overfitConfig())
	var curve []float64
	for _, s := range all {
		if s.Evaluated {
			curve = append(curve, s.ValLoss)
		}
	}
	t.Logf("stopped %q at step %d of %d, best step %d (val loss %.3f); validation curve %.3f", st.Stopped, st.Step, st.Total, st.BestStep, st.BestValLoss, curve)
	if st.Stopped != StopEarly || st.Step >= st.Total || st.BestStep == 0 || st.BestStep >= st.Step {
		t.Fatalf("run did not stop early: %+v", st)
	}
	if n := len(curve); n < 3 || curve[n-1] <= st.BestValLoss || curve[n-2] <= st.BestValLoss {
		t.Errorf("validation curve %v does not end with %d passes worse than the best %v", curve, 2, st.BestValLoss)
	}
	eval, _ := r.exampleEval(nil, 0)
	if got, _, _ := eval(); got != st.BestValLoss {
		t.Errorf("final weights have validation loss %v, best pass %v: best weights not restored", got, st.BestValLoss)
	}
	cfg := overfitConfig()
	cfg.Patience = 0
	_, full, _ := run(cfg)
	if full.Stopped != "" || full.Step != full.Total {
		t.Errorf("without patience: stopped %q after %d of %d steps", full.Stopped, full.Step, full.Total)
	}
	cfg.Patience = 1
	if _, err := newRunOrFatal(t, cfg).SFT(context.Background(), train, nil); err == nil {
		t.Error("patience without a validation set was accepted")
	}
}

func newRunOrFatal(t *testing.T, cfg Config) *Run {
	t.Helper()
	r, err := NewRun(tinyModel(t, "llama"), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestEarlyStoppingResume: a run cut short after a validation pass that did
// not improve, then resumed from its checkpoint, stops at the same step
// with the same weights as an uninterrupted run; resuming the stopped run's
// checkpoint trains no further.
func TestEarlyStoppingResume(t *testing.T) {
	train, _, _ := lookupTask([]int{200, 201})
	val := conflictTask([]int{200, 201})
	run := func(cfg Config, resume string) (*Run, Stats) {
		r := newRunOrFatal(t, cfg)
		r.SetValidation(val)
		if resume != "" {
			if err := r.Resume(resume); err != nil {
				t.Fatal(err)
			}
		}
		st, err := r.SFT(context.Background(), train, nil)
		if err != nil {
			t.Fatal(err)
		}
		return r, st
	}
	a, sa := run(overfitConfig(), "")
	if sa.Stopped != StopEarly {
		t.Fatalf("reference run did not stop early: %+v", sa)
	}
	// Cut where the reference had one bad pass (patience 2) pending.
	cut := sa.Step - 2
	dir := t.TempDir()
	half := overfitConfig()
	half.MaxSteps, half.CheckpointEvery, half.CheckpointDir = cut, cut, dir
	run(half, "")
	full := overfitConfig()
	full.CheckpointDir = dir
	c, sc := run(full, dir)
	if sc.Stopped != StopEarly || sc.Step != sa.Step || sc.BestStep != sa.BestStep || !slices.Equal(c.Losses, a.Losses) {
		t.Fatalf("resumed: stopped %q at %d (best %d), uninterrupted %q at %d (best %d)", sc.Stopped, sc.Step, sc.BestStep, sa.Stopped, sa.Step, sa.BestStep)
	}
	if !slices.Equal(c.Params().Params(), a.Params().Params()) {
		t.Error("resumed run ended with other weights")
	}
	// The stop wrote a checkpoint; resuming it trains no further.
	d, sd := run(full, dir)
	if sd.Stopped != StopEarly || sd.Step != sa.Step || !slices.Equal(d.Params().Params(), a.Params().Params()) {
		t.Errorf("resuming a stopped run: %+v", sd)
	}
}

// TestPreferenceValidation: DPO reports validation loss and preference
// accuracy on held-out pairs.
func TestPreferenceValidation(t *testing.T) {
	pairs, _, _, _ := prefTask([]int{200, 201})
	held, _, _, _ := prefTask([]int{300})
	cfg := sftConfig()
	cfg.Method, cfg.Epochs, cfg.EvalEvery, cfg.LR = "dpo", 3, 0, 5e-3
	r := newRunOrFatal(t, cfg)
	r.SetValidationPairs(held)
	var evals []Stats
	st, err := r.Preference(context.Background(), pairs, func(s Stats) {
		if s.Evaluated {
			evals = append(evals, s)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(evals) != 3 {
		t.Fatalf("%d validation passes in 3 epochs", len(evals))
	}
	first, last := evals[0], evals[len(evals)-1]
	t.Logf("validation loss %.4f → %.4f, accuracy %.2f → %.2f", first.ValLoss, last.ValLoss, first.ValAccuracy, last.ValAccuracy)
	if last.ValLoss >= first.ValLoss || last.ValAccuracy < first.ValAccuracy || st.ValLoss != last.ValLoss {
		t.Errorf("DPO validation did not improve: %+v → %+v", first, last)
	}
	r.SetValidation([]Example{})
	if _, err := r.Preference(context.Background(), pairs, nil); err == nil {
		t.Error("a DPO run accepted examples as validation")
	}
}
