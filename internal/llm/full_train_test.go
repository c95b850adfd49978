package llm

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/whet-dev/whet/internal/tensor"
)

// fullGradCase is one architecture variant of the full-parameter checks.
type fullGradCase struct {
	name, arch string
	tied, bias bool // bias: attention (q,k,v,o) and MLP biases on a llama
}

var fullGradCases = []fullGradCase{
	{name: "llama", arch: "llama"},
	{name: "llama-tied", arch: "llama", tied: true},
	{name: "llama-bias", arch: "llama", bias: true},
	{name: "mistral", arch: "mistral"},
	{name: "qwen2-tied", arch: "qwen2", tied: true},
	{name: "qwen2-untied", arch: "qwen2"},
}

// fullGradModel builds a tiny model of the case with every norm weight and
// bias randomised, so that no gradient is trivially symmetric.
func fullGradModel(t *testing.T, tc fullGradCase) *Model {
	t.Helper()
	cfg := gradModelConfig(t, tc.arch)
	cfg.TieWordEmbeddings = tc.tied
	if tc.bias {
		cfg.QKVBias, cfg.OBias, cfg.MLPBias = true, true, true
	}
	m, err := New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 5))
	for i := range m.Layers {
		L := &m.Layers[i]
		for _, lin := range L.Linears() {
			if lin.B != nil {
				copy(lin.B, randVec(rng, len(lin.B), 0.1))
			}
		}
		for j, v := range randVec(rng, cfg.HiddenSize, 0.3) {
			L.AttnNorm[j] += v
			L.MLPNorm[j] -= v
		}
	}
	for j, v := range randVec(rng, cfg.HiddenSize, 0.3) {
		m.Norm[j] += v
	}
	// Larger weights than the 0.02 initialisation make the loss depend
	// visibly on every parameter.
	for _, p := range m.params() {
		if p.mat != nil {
			tensor.Scale((*p.mat).(*tensor.F32Mat).Data(), 10)
		}
	}
	return m
}

// TestFullGradients checks the analytic gradient of every parameter tensor
// of a whole tiny model (each architecture, tied and untied heads, packed
// documents, a masked row, mistral's window shorter than the documents)
// against central differences of the masked mean loss. Tolerance:
// |a − n| ≤ 3e-2·max(|a|,|n|) + 2e-4 (float32 forwards, ε = 1e-3). It also
// checks that gradient checkpointing gives the same gradients (1e-5
// relative).
func TestFullGradients(t *testing.T) {
	for _, tc := range fullGradCases {
		t.Run(tc.name, func(t *testing.T) {
			m := fullGradModel(t, tc)
			before, err := m.Forward([]int{1, 5, 9}, 0, nil)
			if err != nil {
				t.Fatal(err)
			}
			before = slices.Clone(before)
			p, err := NewFullParams(m)
			if err != nil {
				t.Fatal(err)
			}
			after, _ := m.Forward([]int{1, 5, 9}, 0, nil)
			if !slices.Equal(before, after) {
				t.Fatal("NewFullParams changed the model's output")
			}
			if got, want := int64(p.N), m.ParamCount(); got != want {
				t.Fatalf("FullParams holds %d parameters, model has %d", got, want)
			}
			tokens := []int{1, 5, 9, 3, 7, 1, 4, 8, 2, 6, 11}
			targets := []int{5, 9, 3, 7, -1, 4, 8, 2, 6, 11, 12}
			b := &Batch{Tokens: tokens, Targets: targets, Docs: []int{6, 5}}
			ft := NewFullTrainer(m, p)
			dloss := make([]float32, len(tokens))
			f := func() float64 {
				logp, err := ft.Forward(b)
				if err != nil {
					t.Fatal(err)
				}
				return MaskedMeanLoss(dloss, logp, targets)
			}
			f()
			p.ZeroGrad()
			if err := ft.Backward(dloss); err != nil {
				t.Fatal(err)
			}
			grads := slices.Clone(p.Grads())
			params := p.Params()
			for _, pt := range p.Tensors {
				// Every tensor must receive some gradient.
				nz := false
				for _, g := range grads[pt.Offset : pt.Offset+pt.Size] {
					nz = nz || g != 0
				}
				if !nz {
					t.Errorf("%s: gradient is all zero", pt.Name)
				}
				checkGrad(t, pt.Name, params[pt.Offset:pt.Offset+pt.Size], grads[pt.Offset:pt.Offset+pt.Size], f, 1e-3, 3e-2, 2e-4, 12)
			}

			ft.Checkpoint = true
			f()
			p.ZeroGrad()
			if err := ft.Backward(dloss); err != nil {
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

// TestFullParamsRejectQuantized checks that a quantised model is refused.
func TestFullParamsRejectQuantized(t *testing.T) {
	m, err := New(gradModelConfig(t, "llama"), 1)
	if err != nil {
		t.Fatal(err)
	}
	q, err := m.Convert(DTypeBF16)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewFullParams(q); err == nil {
		t.Fatal("NewFullParams accepted a bf16 model")
	}
}

// TestFullTrainerLearns takes plain gradient steps on one batch and
// expects the loss to fall, and the inference path to see the new weights.
func TestFullTrainerLearns(t *testing.T) {
	m, err := New(gradModelConfig(t, "qwen2"), 2)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewFullParams(m)
	if err != nil {
		t.Fatal(err)
	}
	ft := NewFullTrainer(m, p)
	tokens := []int{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}
	targets := []int{1, 4, 1, 5, 9, 2, 6, 5, 3, 5}
	b := &Batch{Tokens: tokens, Targets: targets}
	dloss := make([]float32, len(tokens))
	var first, last float64
	for step := 0; step < 60; step++ {
		logp, err := ft.Forward(b)
		if err != nil {
			t.Fatal(err)
		}
		last = MaskedMeanLoss(dloss, logp, targets)
		if step == 0 {
			first = last
		}
		p.ZeroGrad()
		if err := ft.Backward(dloss); err != nil {
			t.Fatal(err)
		}
		params, grads := p.Params(), p.Grads()
		for i := range params {
			params[i] -= 0.5 * grads[i]
		}
	}
	if !(last < first*0.7) {
		t.Fatalf("loss %g → %g: want a fall of at least 30%%", first, last)
	}
	logits, err := m.Forward(tokens, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config.VocabSize
	want, lse := make([]float32, len(tokens)), make([]float32, len(tokens))
	CrossEntropyForward(want, lse, logits, targets, len(tokens), V)
	got, _ := ft.Forward(b)
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4 {
			t.Errorf("row %d: trainer logp %g, inference %g", i, got[i], want[i])
		}
	}
}

// TestFullForwardBackwardMatches checks the fused path against Forward and
// Backward with the masked mean loss: the same loss and gradients (1e-5
// relative), with and without gradient checkpointing.
func TestFullForwardBackwardMatches(t *testing.T) {
	for _, tc := range fullGradCases {
		t.Run(tc.name, func(t *testing.T) {
			m := fullGradModel(t, tc)
			p, err := NewFullParams(m)
			if err != nil {
				t.Fatal(err)
			}
			ft := NewFullTrainer(m, p)
			tokens := []int{1, 5, 9, 3, 7, 1, 4, 8, 2, 6, 11}
			targets := []int{5, 9, 3, 7, -1, 4, 8, 2, 6, 11, 12}
			b := &Batch{Tokens: tokens, Targets: targets, Docs: []int{6, 5}}
			logp, err := ft.Forward(b)
			if err != nil {
				t.Fatal(err)
			}
			dloss := make([]float32, len(tokens))
			want := MaskedMeanLoss(dloss, logp, targets)
			p.ZeroGrad()
			if err := ft.Backward(dloss); err != nil {
				t.Fatal(err)
			}
			grads := slices.Clone(p.Grads())
			for _, ckpt := range []bool{false, true} {
				ft.Checkpoint = ckpt
				p.ZeroGrad()
				sum, n, err := ft.ForwardBackward(b, 0.1)
				if err != nil {
					t.Fatal(err)
				}
				if n != 10 || math.Abs(sum/float64(n)-want) > 1e-5*want {
					t.Fatalf("fused loss %g over %d rows, want %g over 10", sum/float64(n), n, want)
				}
				for i, g := range p.Grads() {
					if d := math.Abs(float64(g - grads[i])); d > 1e-6+1e-5*math.Abs(float64(grads[i])) {
						t.Fatalf("checkpoint %v: fused grad[%d] = %g, want %g", ckpt, i, g, grads[i])
					}
				}
			}
		})
	}
}
