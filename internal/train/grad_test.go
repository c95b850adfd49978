package train

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tensor"
)

// gradModel is a tiny model of arch small enough for finite differences
// (internal/llm checks the cross-entropy objective the same way).
func gradModel(t *testing.T, arch string, seed uint64) *llm.Model {
	t.Helper()
	c, err := llm.Preset("tiny", arch)
	if err != nil {
		t.Fatal(err)
	}
	c.HiddenSize, c.IntermediateSize, c.NumHeads, c.NumKVHeads, c.HeadDim, c.VocabSize = 16, 24, 4, 2, 4, 32
	if arch == "mistral" {
		c.SlidingWindow = 3 // shorter than the documents
	}
	m, err := llm.New(c, seed)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// gradRun returns a run on m with rank-2 adapters on all seven modules,
// dropout on, and B randomised so that no gradient is trivially zero.
func gradRun(t *testing.T, m *llm.Model, method string) *Run {
	t.Helper()
	r, err := NewRun(m, Config{Method: method, Beta: 0.5, LR: 1, Seed: 7, LoRA: llm.LoRAConfig{R: 2, Alpha: 4, Dropout: 0.1,
		Targets: []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}}})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 5))
	for _, mod := range r.Params().Modules {
		for i := range mod.LoRA.B {
			mod.LoRA.B[i] = float32(rng.NormFloat64() * 0.3)
		}
	}
	return r
}

// fdCheck compares the gradient that objective leaves in p (after
// ZeroGrad) with central differences of the value it returns, on up to
// maxN parameters. Tolerance |a − n| ≤ 3e-2·max(|a|,|n|) + atol with
// ε = 1e-3; atol = 2e-4 is the cross-entropy checks' in internal/llm
// (float32 forwards). objective also runs a backward pass, whose
// gradients the differences ignore. At least a tenth of the checked
// gradients must exceed 10·atol, so that the relative tolerance decides.
func fdCheck(t *testing.T, p *llm.LoRAParams, objective func() float64, atol float64, maxN int) {
	t.Helper()
	const eps, rtol = 1e-3, 3e-2
	p.ZeroGrad()
	objective()
	grads := slices.Clone(p.Grads())
	nz := 0
	for _, g := range grads {
		if g != 0 {
			nz++
		}
	}
	if nz < len(grads)/2 {
		t.Fatalf("only %d of %d gradients are non-zero", nz, len(grads))
	}
	theta := p.Params()
	step := max(1, len(theta)/maxN)
	bad, big, checked := 0, 0, 0
	for i := 0; i < len(theta); i += step {
		orig := theta[i]
		theta[i] = orig + eps
		fp := objective()
		theta[i] = orig - eps
		fm := objective()
		theta[i] = orig
		num, an := (fp-fm)/(2*eps), float64(grads[i])
		checked++
		if math.Abs(an) > 10*atol {
			big++
		}
		if math.Abs(an-num) > rtol*math.Max(math.Abs(an), math.Abs(num))+atol {
			if bad < 5 {
				t.Errorf("param %d: analytic %.6g, numeric %.6g", i, an, num)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%d mismatches", bad)
	}
	if big < checked/10 {
		t.Errorf("only %d of %d checked gradients exceed %g", big, checked, 10*atol)
	}
}

// gradExamples are two prompt/response examples (packed together) over a
// 32-token vocabulary.
func gradExamples(t *testing.T, responses [][]int) []Example {
	t.Helper()
	prompts := [][]int{{1, 5, 9, 3}, {1, 4, 8, 3}}
	exs := make([]Example, len(responses))
	for i, resp := range responses {
		ex, err := FromPromptResponse(prompts[i%2], resp, 0)
		if err != nil {
			t.Fatal(err)
		}
		exs[i] = ex
	}
	return exs
}

// TestObjectiveGradients checks the analytic LoRA gradients of the DPO and
// IPO objectives (sequence log-probs against the adapter-free reference;
// DPO also with the chosen-answer NLL term, Config.ChosenNLL) and of logit
// distillation (KL to a teacher at temperature 2) for a whole
// tiny model of each architecture against finite differences. The
// per-token operations are checked in internal/llm; this checks how the
// objectives combine them. IPO and distillation use atol 1e-3: IPO's
// dL/dh = 2(h − 1/2τ) is about 2.5 here against DPO's β·σ(−βh) ≈ 0.25, and
// distillation's τ² = 4 scales its KL, so both magnify the float32 rounding
// of the forward pass by about ten in the differences.
func TestObjectiveGradients(t *testing.T) {
	t.Parallel()
	for _, arch := range []string{"llama", "qwen2", "mistral"} {
		for _, tc := range []struct {
			method string
			nll    float64
		}{{"dpo", 0}, {"ipo", 0}, {"dpo", 0.7}} {
			method := tc.method
			name := method
			if tc.nll > 0 {
				name += "+nll"
			}
			t.Run(arch+"/"+name, func(t *testing.T) {
				r := gradRun(t, gradModel(t, arch, 3), method)
				r.cfg.ChosenNLL = tc.nll
				chosen := gradExamples(t, [][]int{{12, 7, 2}, {20, 2}})
				rejected := gradExamples(t, [][]int{{13, 2}, {21, 6, 2}})
				pairs := []Pair{{Chosen: chosen[0], Rejected: rejected[0]}, {Chosen: chosen[1], Rejected: rejected[1]}}
				atol := 2e-4
				if method == "ipo" {
					atol = 1e-3
				}
				fdCheck(t, r.Params(), func() float64 {
					loss, _, _, _, err := r.preferenceMicro(pairs, 11)
					if err != nil {
						t.Fatal(err)
					}
					return loss
				}, atol, 64)
			})
		}
		t.Run(arch+"/distill", func(t *testing.T) {
			// Larger embeddings than the 0.02 initialisation give both
			// models peaked distributions and the KL visible gradients.
			student, teacher := gradModel(t, arch, 3), gradModel(t, arch, 9)
			for _, m := range []*llm.Model{student, teacher} {
				mats := []llm.Matrix{m.Embed}
				if !m.Config.TieWordEmbeddings {
					mats = append(mats, m.LMHead.W)
				}
				for _, w := range mats {
					tensor.Scale(w.(*tensor.F32Mat).Data(), 8)
				}
			}
			r := gradRun(t, student, "sft")
			exs := gradExamples(t, [][]int{{12, 7, 2}, {20, 2}})
			fdCheck(t, r.Params(), func() float64 {
				loss, _, err := r.distillMicro(exs, teacher, 2, 11)
				if err != nil {
					t.Fatal(err)
				}
				return loss
			}, 1e-3, 64)
		})
	}
}
