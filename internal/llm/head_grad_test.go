package llm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestHeadGradInForward checks that a training Forward (Dropout set), which
// folds the LM head's input gradient into the forward pass, gives the same
// LoRA gradients as an evaluation Forward whose Backward recomputes the
// logits, for cross-entropy with masked rows, uneven dloss and a far-off
// target (the float64 path), and for distillation.
func TestHeadGradInForward(t *testing.T) {
	cfg := gradModelConfig(t, "llama")
	m, err := New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewLoRAParams(m, LoRAConfig{R: 2, Alpha: 4, Targets: []string{"q_proj", "v_proj", "down_proj"}}, 7)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 9))
	for _, mod := range p.Modules {
		copy(mod.LoRA.B, randVec(rng, len(mod.LoRA.B), 0.2))
	}
	tokens := []int{1, 5, 9, 3, 7, 1, 4, 8, 2, 6, 11}
	targets := []int{5, 9, 3, 7, -1, 4, 8, 2, 6, 11, 12}
	V := cfg.VocabSize
	teacher := randVec(rng, 10*V, 3)
	for _, distill := range []bool{false, true} {
		b := &Batch{Tokens: tokens, Targets: targets, Docs: []int{6, 5}}
		if distill {
			b.Teacher, b.Temperature = teacher, 2
		}
		grads := func(opt ForwardOptions) ([]float32, []float32) {
			tr := NewTrainer(m, p)
			logp, err := tr.Forward(b, opt)
			if err != nil {
				t.Fatal(err)
			}
			lp := append([]float32(nil), logp...)
			dloss := make([]float32, len(tokens))
			for i := range dloss {
				dloss[i] = float32(i%3) * 0.25
			}
			p.ZeroGrad()
			if err := tr.Backward(dloss); err != nil {
				t.Fatal(err)
			}
			return lp, append([]float32(nil), p.Grads()...)
		}
		lpEval, gEval := grads(ForwardOptions{})
		lpTrain, gTrain := grads(ForwardOptions{Seed: 1, Dropout: true})
		for i := range lpEval {
			if lpEval[i] != lpTrain[i] {
				t.Fatalf("distill=%v: logp[%d] %g (eval) vs %g (training)", distill, i, lpEval[i], lpTrain[i])
			}
		}
		nonzero := 0
		for i := range gEval {
			if d := math.Abs(float64(gEval[i] - gTrain[i])); d > 1e-6+1e-4*math.Abs(float64(gEval[i])) {
				t.Fatalf("distill=%v: grad[%d] %g (recomputed head) vs %g (head in forward)", distill, i, gEval[i], gTrain[i])
			}
			if gEval[i] != 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Fatalf("distill=%v: all gradients are zero", distill)
		}
	}
}

// TestCrossEntropyForwardGrad checks the fused forward+unit backward
// against CrossEntropyForward and CrossEntropyBackward, including a masked
// row and a target far below the row maximum.
func TestCrossEntropyForwardGrad(t *testing.T) {
	const T, V = 4, 37
	rng := rand.New(rand.NewPCG(1, 2))
	logits := randVec(rng, T*V, 4)
	logits[2*V+3] = 200 // row 2's target (5) lies ~200 nats below the max
	targets := []int{1, -1, 5, 36}
	lp1, ls1 := make([]float32, T), make([]float32, T)
	ref := append([]float32(nil), logits...)
	CrossEntropyForward(lp1, ls1, append([]float32(nil), logits...), targets, T, V)
	ones := []float32{1, 1, 1, 1}
	want := make([]float32, T*V)
	CrossEntropyBackward(want, ref, ls1, targets, ones, T, V)
	lp2, ls2 := make([]float32, T), make([]float32, T)
	got := append([]float32(nil), logits...)
	CrossEntropyForwardGrad(lp2, ls2, got, targets, T, V)
	for t2 := 0; t2 < T; t2++ {
		if lp1[t2] != lp2[t2] || ls1[t2] != ls2[t2] {
			t.Fatalf("row %d: logp/lse %g/%g, want %g/%g", t2, lp2[t2], ls2[t2], lp1[t2], ls1[t2])
		}
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("dlogits[%d] = %g, want %g", i, got[i], want[i])
		}
	}
}
