package train

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/llm"
)

// pretrainModel is a small random llama (vocabulary 48) as model init
// writes it: N(0, 0.02²) weights, nothing pre-scaled.
func pretrainModel(t testing.TB, arch string) *llm.Model {
	t.Helper()
	c, err := llm.Preset("tiny", arch)
	if err != nil {
		t.Fatal(err)
	}
	c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKVHeads, c.HeadDim, c.VocabSize = 32, 64, 4, 2, 8, 48
	c.BOSTokenID, c.EOSTokenIDs = 0, []int{1}
	m, err := llm.New(c, 7)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// countingCorpus makes documents that start with a marker token (2: count
// by one, 3: count by two) and count modulo 40 from a random start in
// tokens 4…43: after the first two tokens every next token is determined,
// but only by looking back at the marker.
func countingCorpus(n int, seed uint64) [][]int {
	rng := rand.New(rand.NewPCG(seed, 1))
	docs := make([][]int, n)
	for i := range docs {
		step := 1 + rng.IntN(2)
		cur := rng.IntN(40)
		d := []int{1 + step}
		for k := 0; k < 12+rng.IntN(30); k++ {
			d = append(d, 4+cur)
			cur = (cur + step) % 40
		}
		docs[i] = d
	}
	return docs
}

func TestMakeWindows(t *testing.T) {
	docs := [][]int{{10, 11, 12}, {20, 21}, {30}}
	ws := makeWindows(docs, 4, 0, 1)
	// stream: 0 10 11 12 1 | 0 20 21 1 | 0 30 1
	want := []window{
		{tokens: []int{0, 10, 11, 12}, targets: []int{10, 11, 12, 1}, docs: []int{4}},
		{tokens: []int{1, 0, 20, 21}, targets: []int{-1, 20, 21, 1}, docs: []int{1, 3}},
		{tokens: []int{1, 0, 30, 1}, targets: []int{-1, 30, 1, -1}, docs: []int{1, 3}},
	}
	if len(ws) != len(want) {
		t.Fatalf("%d windows, want %d", len(ws), len(want))
	}
	for i := range want {
		if !slices.Equal(ws[i].tokens, want[i].tokens) || !slices.Equal(ws[i].targets, want[i].targets) || !slices.Equal(ws[i].docs, want[i].docs) {
			t.Errorf("window %d = %+v, want %+v", i, ws[i], want[i])
		}
	}
	// Without BOS/EOS, and a short last window.
	ws = makeWindows(docs, 5, -1, -1)
	if len(ws) != 2 || !slices.Equal(ws[0].docs, []int{3, 2}) || !slices.Equal(ws[1].tokens, []int{30}) || ws[1].targets[0] != -1 {
		t.Errorf("no specials: %+v", ws)
	}
}

func pretrainCfg() PretrainConfig {
	return PretrainConfig{SeqLen: 32, BatchSize: 4, Micro: 2, Steps: 60, LR: 1e-2, MinLR: 1e-3, Warmup: 5,
		WeightDecay: 0.1, ClipNorm: 1, Seed: 3, BOS: 0, EOS: 1, EvalFraction: 0.1}
}

// TestPretrainLearnsAndIsDeterministic trains a tiny model from random
// weights on the counting corpus: the loss must fall from about ln 48 to
// under half of it, held-out loss must fall too, and a second run with the
// same seed must give bit-identical losses and weights.
func TestPretrainLearnsAndIsDeterministic(t *testing.T) {
	docs := countingCorpus(60, 1)
	run := func() (*llm.Model, []float64, PretrainStats) {
		m := pretrainModel(t, "llama")
		pt, err := NewPretrainer(m, docs, pretrainCfg())
		if err != nil {
			t.Fatal(err)
		}
		v0, err := pt.Eval()
		if err != nil {
			t.Fatal(err)
		}
		var vals []float64
		st, err := pt.Run(context.Background(), func(s PretrainStats) {
			if s.HasVal {
				vals = append(vals, s.ValLoss)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("held-out loss %.3f → %v", v0, vals)
		if len(vals) != 1 || !(vals[0] < v0*0.6) {
			t.Errorf("held-out loss %g → %v: want one final value below 0.6× the start", v0, vals)
		}
		return m, pt.Losses, st
	}
	m1, l1, st := run()
	if st.Step != 60 || st.Total != 60 || len(l1) != 60 {
		t.Fatalf("ran %d/%d steps, %d losses", st.Step, st.Total, len(l1))
	}
	first, last := l1[0], meanLoss(l1[50:])
	t.Logf("loss %.3f → %.3f (mean of the last 10 steps)", first, last)
	if math.Abs(first-math.Log(48)) > 0.3 || !(last < first*0.5) {
		t.Fatalf("loss %g → %g (last 10 steps): want a start near ln 48 = %.2f and a fall below half", first, last, math.Log(48))
	}
	m2, l2, _ := run()
	if !slices.Equal(l1, l2) {
		t.Fatalf("same seed, different losses:\n%v\n%v", l1, l2)
	}
	p1, _ := llm.NewFullParams(m1)
	p2, _ := llm.NewFullParams(m2)
	if !slices.Equal(p1.Params(), p2.Params()) {
		t.Fatal("same seed, different weights")
	}
}

func meanLoss(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestPretrainResume interrupts a run after a checkpoint and resumes it in
// a new process-like state (fresh model, fresh Pretrainer): losses and
// final weights must equal an uninterrupted run's exactly.
func TestPretrainResume(t *testing.T) {
	docs := countingCorpus(30, 2)
	cfg := pretrainCfg()
	cfg.Steps, cfg.EvalFraction = 16, 0

	m0 := pretrainModel(t, "qwen2")
	full, err := NewPretrainer(m0, docs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := full.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cfg.CheckpointEvery, cfg.CheckpointDir = 8, dir
	ctx, cancel := context.WithCancel(context.Background())
	a, err := NewPretrainer(pretrainModel(t, "qwen2"), docs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Run(ctx, func(s PretrainStats) {
		if s.Step == 11 {
			cancel() // killed between checkpoints: steps 9–11 are lost
		}
	})
	if err == nil || a.Step() != 11 {
		t.Fatalf("interrupted run: step %d, err %v", a.Step(), err)
	}
	m1 := pretrainModel(t, "qwen2")
	st, err := Pretrain(context.Background(), m1, docs, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st.Step != 16 {
		t.Fatalf("resumed run ended at step %d", st.Step)
	}
	b, _ := NewPretrainer(pretrainModel(t, "qwen2"), docs, cfg)
	if err := b.Resume(dir); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(b.Losses, full.Losses) {
		t.Fatalf("resumed losses %v, uninterrupted %v", b.Losses, full.Losses)
	}
	p1, _ := llm.NewFullParams(m1)
	if !slices.Equal(p1.Params(), full.Params().Params()) {
		t.Fatal("resumed run's weights differ from the uninterrupted run's")
	}
}

// TestPretrainSavedModelGenerates saves a pretrained model, loads it back
// and checks that greedy decoding continues a counting document the way
// the corpus does.
func TestPretrainSavedModelGenerates(t *testing.T) {
	docs := countingCorpus(80, 3)
	cfg := pretrainCfg()
	cfg.Steps, cfg.EvalFraction = 150, 0
	m := pretrainModel(t, "mistral")
	if _, err := Pretrain(context.Background(), m, docs, cfg, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	lm, err := llm.Load(dir, llm.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, tc := range []struct{ step, start int }{{1, 5}, {2, 7}, {1, 30}, {2, 21}} {
		seq := []int{0, 1 + tc.step, 4 + tc.start, 4 + (tc.start+tc.step)%40}
		want := 4 + (tc.start+2*tc.step)%40
		good := true
		for k := 0; k < 6; k++ {
			logits, err := lm.Forward(seq, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			V := lm.Config.VocabSize
			last := logits[(len(seq)-1)*V:]
			next := 0
			for i, v := range last[:V] {
				if v > last[next] {
					next = i
				}
			}
			if next != want {
				good = false
			}
			seq = append(seq, next)
			want = 4 + (next-4+tc.step)%40
		}
		if good {
			ok++
		} else {
			t.Logf("step %d from %d: generated %v", tc.step, tc.start, seq)
		}
	}
	if ok < 3 {
		t.Fatalf("%d of 4 greedy continuations follow the counting rule", ok)
	}
}

// TestPretrainTimeBound runs with MaxTime and neither Steps nor Epochs: the
// run stops on the clock, and the learning rate warms up and then only
// falls (the cosine follows the clock).
func TestPretrainTimeBound(t *testing.T) {
	cfg := pretrainCfg()
	cfg.Steps, cfg.EvalFraction, cfg.MaxTime, cfg.Warmup = 0, 0, 300*time.Millisecond, 2
	var lrs []float64
	st, err := Pretrain(context.Background(), pretrainModel(t, "llama"), countingCorpus(20, 4), cfg, func(s PretrainStats) {
		lrs = append(lrs, s.LR)
		if s.Total < s.Step {
			t.Errorf("step %d of %d", s.Step, s.Total)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Elapsed < cfg.MaxTime || st.Step != len(lrs) || st.Step < 2 {
		t.Fatalf("stopped at step %d after %v (%d progress calls)", st.Step, st.Elapsed, len(lrs))
	}
	for i := cfg.Warmup; i < len(lrs); i++ {
		if lrs[i] > lrs[i-1] || lrs[i] < cfg.MinLR {
			t.Fatalf("learning rates %v: not a warm-up then a decay to ≥ MinLR", lrs)
		}
	}
}
