package llm

import (
	"math/rand/v2"
	"testing"
)

func TestDbgGrad(t *testing.T) {
	for _, arch := range []string{"llama", "mistral"} {
	for _, drop := range []float64{0, 0.1} {
	for _, docs := range [][]int{{11}, {6, 5}} {
	for _, tg := range []string{"q_proj", "v_proj", "o_proj", "down_proj", "gate_proj"} {
		cfg := gradModelConfig(t, arch)
		m, _ := New(cfg, 3)
		rng := rand.New(rand.NewPCG(4, 5))
		p, _ := NewLoRAParams(m, LoRAConfig{R: 2, Alpha: 4, Dropout: drop, Targets: []string{tg}}, 7)
		for _, mod := range p.Modules {
			copy(mod.LoRA.B, randVec(rng, len(mod.LoRA.B), 0.5))
		}
		tokens := []int{1, 5, 9, 3, 7, 1, 4, 8, 2, 6, 11}
		targets := []int{5, 9, 3, 7, -1, 4, 8, 2, 6, 11, 12}
		b := &Batch{Tokens: tokens, Targets: targets, Docs: docs}
		tr := NewTrainer(m, p)
		dloss := make([]float32, len(tokens))
		f := func() float64 {
			logp, _ := tr.Forward(b, ForwardOptions{Seed: 11, Dropout: true})
			return MaskedMeanLoss(dloss, logp, targets)
		}
		f()
		p.ZeroGrad()
		tr.Backward(dloss)
		grads := append([]float32(nil), p.Grads()...)
		ok := t.Run(arch+tg, func(t *testing.T) { checkGrad(t, "lora", p.Params(), grads, f, 1e-2, 3e-2, 2e-4, 50) })
		t.Logf("%s drop=%v docs=%v %s ok=%v", arch, drop, docs, tg, ok)
	}}}}
}
