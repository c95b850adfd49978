package llm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/whet-dev/whet/internal/tensor"
)

// Finite-difference checks: every backward is compared with central
// differences (f(θ+ε) − f(θ−ε))/2ε of a scalar objective Σ dout⊙out summed
// in float64. Tolerance: |analytic − numeric| ≤ rtol·max(|a|,|n|) + atol,
// with rtol and atol stated per check (float32 forwards limit atol).

func randVec(rng *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * scale)
	}
	return v
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// checkGrad perturbs up to maxN entries of theta and compares f's central
// difference with grad.
func checkGrad(t *testing.T, name string, theta, grad []float32, f func() float64, eps float32, rtol, atol float64, maxN int) {
	t.Helper()
	step := max(1, len(theta)/maxN)
	bad := 0
	for i := 0; i < len(theta); i += step {
		orig := theta[i]
		theta[i] = orig + eps
		fp := f()
		theta[i] = orig - eps
		fm := f()
		theta[i] = orig
		num := (fp - fm) / (2 * float64(eps))
		an := float64(grad[i])
		if math.Abs(an-num) > rtol*math.Max(math.Abs(an), math.Abs(num))+atol {
			if bad < 5 {
				t.Errorf("%s[%d]: analytic %.6g, numeric %.6g", name, i, an, num)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d mismatches", name, bad)
	}
}

func TestOpGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const rtol, atol = 1e-2, 1e-3
	t.Run("rmsnorm", func(t *testing.T) {
		T, C := 3, 8
		x, w, dout := randVec(rng, T*C, 1), randVec(rng, C, 1), randVec(rng, T*C, 1)
		out, rstd := make([]float32, T*C), make([]float32, T)
		f := func() float64 { RMSNormForward(out, rstd, x, w, T, C, 1e-5); return dot64(out, dout) }
		f()
		dx, dw := make([]float32, T*C), make([]float32, C)
		RMSNormBackward(dx, dw, dout, x, w, rstd, T, C)
		checkGrad(t, "dx", x, dx, f, 1e-3, rtol, atol, 100)
		checkGrad(t, "dw", w, dw, f, 1e-3, rtol, atol, 100)
	})
	t.Run("layernorm", func(t *testing.T) {
		T, C := 3, 8
		x, w, b, dout := randVec(rng, T*C, 1), randVec(rng, C, 1), randVec(rng, C, 1), randVec(rng, T*C, 1)
		out, mean, rstd := make([]float32, T*C), make([]float32, T), make([]float32, T)
		f := func() float64 { tensor.LayerNorm(out, x, w, b, T, C, 1e-5, mean, rstd); return dot64(out, dout) }
		f()
		dx, dw, db := make([]float32, T*C), make([]float32, C), make([]float32, C)
		LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd, T, C)
		checkGrad(t, "dx", x, dx, f, 1e-3, rtol, atol, 100)
		checkGrad(t, "dw", w, dw, f, 1e-3, rtol, atol, 100)
		checkGrad(t, "db", b, db, f, 1e-3, rtol, atol, 100)
	})
	for _, tanh := range []bool{false, true} {
		t.Run("gelu", func(t *testing.T) {
			x, dout := randVec(rng, 32, 2), randVec(rng, 32, 1)
			out := make([]float32, 32)
			f := func() float64 {
				for i, v := range x {
					if tanh {
						out[i] = tensor.GELUTanh(v)
					} else {
						out[i] = tensor.GELU(v)
					}
				}
				return dot64(out, dout)
			}
			dx := make([]float32, 32)
			GELUBackward(dx, dout, x, tanh)
			checkGrad(t, "dx", x, dx, f, 1e-3, rtol, atol, 100)
		})
	}
	t.Run("swiglu", func(t *testing.T) {
		g, u, dout := randVec(rng, 32, 2), randVec(rng, 32, 1), randVec(rng, 32, 1)
		out := make([]float32, 32)
		f := func() float64 { SwiGLUForward(out, g, u); return dot64(out, dout) }
		dg, du := make([]float32, 32), make([]float32, 32)
		SwiGLUBackward(dg, du, dout, g, u)
		checkGrad(t, "dgate", g, dg, f, 1e-3, rtol, atol, 100)
		checkGrad(t, "dup", u, du, f, 1e-3, rtol, atol, 100)
	})
	t.Run("rope", func(t *testing.T) {
		T, H, D := 5, 2, 8
		cos, sin := tensor.RoPETables(16, D, 10000, nil)
		pos := []int{0, 3, 1, 7, 2}
		x, dout := randVec(rng, T*H*D, 1), randVec(rng, T*H*D, 1)
		y := make([]float32, len(x))
		f := func() float64 { copy(y, x); RoPEForward(y, pos, H, D, cos, sin); return dot64(y, dout) }
		dx := append([]float32(nil), dout...)
		RoPEBackward(dx, pos, H, D, cos, sin)
		checkGrad(t, "dx", x, dx, f, 1e-3, rtol, atol, 100)
	})
	t.Run("embedding", func(t *testing.T) {
		V, C := 6, 4
		emb := randVec(rng, V*C, 1)
		tokens := []int{1, 3, 1, 5}
		dout := randVec(rng, len(tokens)*C, 1)
		out := make([]float32, len(tokens)*C)
		f := func() float64 { EmbeddingForward(out, tokens, tensor.NewF32Mat(V, C, emb)); return dot64(out, dout) }
		demb := make([]float32, V*C)
		EmbeddingBackward(demb, dout, tokens, C)
		checkGrad(t, "demb", emb, demb, f, 1e-3, rtol, atol, 100)
	})
	for _, tc := range []struct {
		name                     string
		T, nH, nKV, D, window    int
		attnQueryBlockIrrelevant bool
	}{{"mha", 5, 2, 2, 4, 0, true}, {"gqa", 6, 4, 2, 4, 0, true}, {"window", 7, 4, 1, 4, 3, true}, {"single", 1, 2, 1, 4, 0, true}} {
		t.Run("attention/"+tc.name, func(t *testing.T) {
			T, S, nH, nKV, D := tc.T, tc.T, tc.nH, tc.nKV, tc.D
			q, k, v := randVec(rng, T*nH*D, 1), randVec(rng, S*nKV*D, 1), randVec(rng, S*nKV*D, 1)
			dout := randVec(rng, T*nH*D, 1)
			out, att := make([]float32, T*nH*D), make([]float32, nH*T*S)
			sc := make([]float32, AttentionScratchSize(T, S, nH, D))
			f := func() float64 {
				AttentionForward(out, att, q, k, v, sc, T, 0, nH, nKV, D, tc.window)
				return dot64(out, dout)
			}
			f()
			dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
			AttentionBackward(dq, dk, dv, dout, att, q, k, v, make([]float32, AttentionBackwardScratchSize(T, S, nKV)), T, 0, nH, nKV, D, tc.window)
			checkGrad(t, "dq", q, dq, f, 1e-3, rtol, atol, 200)
			checkGrad(t, "dk", k, dk, f, 1e-3, rtol, atol, 200)
			checkGrad(t, "dv", v, dv, f, 1e-3, rtol, atol, 200)
		})
	}
	t.Run("crossentropy", func(t *testing.T) {
		T, V := 4, 7
		logits := randVec(rng, T*V, 2)
		targets := []int{3, -1, 0, 6}
		logp, lse, dloss := make([]float32, T), make([]float32, T), make([]float32, T)
		f := func() float64 {
			CrossEntropyForward(logp, lse, append([]float32(nil), logits...), targets, T, V)
			return MaskedMeanLoss(dloss, logp, targets)
		}
		f()
		dl := make([]float32, T*V)
		CrossEntropyBackward(dl, logits, lse, targets, dloss, T, V)
		checkGrad(t, "dlogits", logits, dl, f, 1e-3, rtol, atol, 100)
		inPlace := append([]float32(nil), logits...)
		CrossEntropyBackward(inPlace, inPlace, lse, targets, dloss, T, V)
		for i := range dl {
			if math.Abs(float64(inPlace[i]-dl[i])) > 1e-6 {
				t.Fatalf("in-place backward [%d] = %g, want %g", i, inPlace[i], dl[i])
			}
		}
	})
	t.Run("distill", func(t *testing.T) {
		T, V := 3, 7
		logits, teacher, dloss := randVec(rng, T*V, 2), randVec(rng, T*V, 2), randVec(rng, T, 1)
		negkl := make([]float32, T)
		f := func() float64 {
			DistillForward(negkl, logits, teacher, T, V, 2)
			var s float64
			for i, v := range negkl {
				s -= float64(dloss[i]) * float64(v)
			}
			return s
		}
		f()
		for _, v := range negkl {
			if v > 0 {
				t.Fatalf("KL %g < 0", -v)
			}
		}
		dl := make([]float32, T*V)
		DistillBackward(dl, logits, teacher, dloss, T, V, 2)
		checkGrad(t, "dlogits", logits, dl, f, 1e-3, rtol, atol, 100)
	})
	for _, p := range []float64{0, 0.3} {
		t.Run("lora", func(t *testing.T) {
			n, in, out, r := 3, 6, 5, 2
			l := &LoRA{A: randVec(rng, r*in, 1), B: randVec(rng, out*r, 1), R: r, In: in, Out: out, Scale: 1.5}
			x, dout := randVec(rng, n*in, 1), randVec(rng, n*out, 1)
			var act loraAct
			y := make([]float32, n*out)
			f := func() float64 {
				clear(y)
				LoRAForward(y, x, l, n, p, rand.New(rand.NewPCG(9, 9)), &act)
				return dot64(y, dout)
			}
			f()
			dx, gA, gB := make([]float32, n*in), make([]float32, r*in), make([]float32, out*r)
			LoRABackward(dx, gA, gB, dout, x, l, n, p, &act, make([]float32, n*r), make([]float32, n*in))
			checkGrad(t, "dx", x, dx, f, 1e-3, rtol, atol, 100)
			checkGrad(t, "dA", l.A, gA, f, 1e-3, rtol, atol, 100)
			checkGrad(t, "dB", l.B, gB, f, 1e-3, rtol, atol, 100)
		})
	}
	t.Run("linear", func(t *testing.T) {
		n, in, out := 3, 6, 5
		w := tensor.NewF32Mat(out, in, randVec(rng, out*in, 1))
		lin := &Linear{W: w, B: randVec(rng, out, 1)}
		x, dout := randVec(rng, n*in, 1), randVec(rng, n*out, 1)
		y := make([]float32, n*out)
		f := func() float64 { linForward(lin, y, x, n); return dot64(y, dout) }
		dx := make([]float32, n*in)
		LinearBackward(dx, dout, lin, n)
		checkGrad(t, "dx", x, dx, f, 1e-3, rtol, atol, 100)
	})
}

// gradModelConfig is a model small enough for finite differences.
func gradModelConfig(t *testing.T, arch string) Config {
	c, err := Preset("tiny", arch)
	if err != nil {
		t.Fatal(err)
	}
	c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKVHeads, c.HeadDim, c.VocabSize = 16, 24, 4, 2, 4, 32
	if arch == "mistral" {
		c.SlidingWindow = 3
	}
	return c
}

// TestModelGradients checks the analytic LoRA gradients of a whole tiny
// model of each architecture (all seven modules adapted, packed documents,
// mistral with a window shorter than the documents) against finite
// differences of the masked mean loss, and that gradient checkpointing
// gives the same gradients.
func TestModelGradients(t *testing.T) {
	for _, arch := range []string{"llama", "qwen2", "mistral"} {
		t.Run(arch, func(t *testing.T) {
			cfg := gradModelConfig(t, arch)
			m, err := New(cfg, 3)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(4, 5))
			for i := range m.Layers {
				for _, lin := range m.Layers[i].Linears() {
					if lin.B != nil {
						copy(lin.B, randVec(rng, len(lin.B), 0.1))
					}
				}
				copy(m.Layers[i].AttnNorm, randVec(rng, cfg.HiddenSize, 1))
			}
			lc := LoRAConfig{R: 2, Alpha: 4, Dropout: 0.1,
				Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}}
			p, err := NewLoRAParams(m, lc, 7)
			if err != nil {
				t.Fatal(err)
			}
			for _, mod := range p.Modules {
				copy(mod.LoRA.B, randVec(rng, len(mod.LoRA.B), 0.2))
			}
			tokens := []int{1, 5, 9, 3, 7, 1, 4, 8, 2, 6, 11}
			targets := []int{5, 9, 3, 7, -1, 4, 8, 2, 6, 11, 12}
			b := &Batch{Tokens: tokens, Targets: targets, Docs: []int{6, 5}}
			tr := NewTrainer(m, p)
			dloss := make([]float32, len(tokens))
			opt := ForwardOptions{Seed: 11, Dropout: true}
			f := func() float64 {
				logp, err := tr.Forward(b, opt)
				if err != nil {
					t.Fatal(err)
				}
				return MaskedMeanLoss(dloss, logp, targets)
			}
			f()
			p.ZeroGrad()
			if err := tr.Backward(dloss); err != nil {
				t.Fatal(err)
			}
			grads := append([]float32(nil), p.Grads()...)
			checkGrad(t, "lora", p.Params(), grads, f, 1e-3, 3e-2, 2e-4, 300)

			tr.Checkpoint = true
			f()
			p.ZeroGrad()
			if err := tr.Backward(dloss); err != nil {
				t.Fatal(err)
			}
			for i, g := range p.Grads() {
				if d := math.Abs(float64(g - grads[i])); d > 1e-6+1e-5*math.Abs(float64(g)) {
					t.Fatalf("checkpointed grad[%d] = %g, want %g", i, g, grads[i])
				}
			}
		})
	}
}

// TestPackingIsolatesDocuments checks that a document's log-probs do not
// depend on what it is packed with.
func TestPackingIsolatesDocuments(t *testing.T) {
	cfg := gradModelConfig(t, "llama")
	m, _ := New(cfg, 3)
	p, _ := NewLoRAParams(m, LoRAConfig{R: 2, Alpha: 4, Targets: []string{"q_proj"}}, 1)
	tr := NewTrainer(m, p)
	alone, err := tr.Forward(&Batch{Tokens: []int{4, 5, 6}, Targets: []int{5, 6, 7}}, ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), alone...)
	packed, err := tr.Forward(&Batch{Tokens: []int{9, 9, 9, 9, 4, 5, 6}, Targets: []int{1, 1, 1, 1, 5, 6, 7}, Docs: []int{4, 3}}, ForwardOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		if d := math.Abs(float64(packed[4+i] - w)); d > 1e-5 {
			t.Errorf("row %d: packed logp %g, alone %g", i, packed[4+i], w)
		}
	}
}

// TestTrainerMatchesInference checks that the training forward (no
// dropout) gives the same log-probs as the inference path with the same
// adapters attached (tolerance 1e-4).
func TestTrainerMatchesInference(t *testing.T) {
	for _, arch := range []string{"llama", "qwen2", "mistral"} {
		t.Run(arch, func(t *testing.T) {
			cfg := gradModelConfig(t, arch)
			m, _ := New(cfg, 5)
			p, err := NewLoRAParams(m, LoRAConfig{R: 2, Alpha: 4, Targets: []string{"q_proj", "v_proj", "o_proj", "up_proj", "down_proj"}}, 1)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(8, 8))
			for _, mod := range p.Modules {
				copy(mod.LoRA.B, randVec(rng, len(mod.LoRA.B), 0.3))
			}
			tokens := []int{3, 9, 4, 1, 7, 2, 8}
			targets := []int{9, 4, 1, 7, 2, 8, 5}
			logp, err := NewTrainer(m, p).Forward(&Batch{Tokens: tokens, Targets: targets}, ForwardOptions{})
			if err != nil {
				t.Fatal(err)
			}
			withA, err := m.WithAdapter(p.Adapter(""))
			if err != nil {
				t.Fatal(err)
			}
			logits, err := withA.Forward(tokens, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			V := cfg.VocabSize
			want, lse := make([]float32, len(tokens)), make([]float32, len(tokens))
			CrossEntropyForward(want, lse, logits, targets, len(tokens), V)
			for i := range want {
				if d := math.Abs(float64(logp[i] - want[i])); d > 1e-4 {
					t.Errorf("row %d: trainer logp %g, inference %g", i, logp[i], want[i])
				}
			}
		})
	}
}
