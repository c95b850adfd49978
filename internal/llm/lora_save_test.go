package llm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdapterRoundTripAndMerge saves trained-shape adapters in PEFT layout,
// loads them back, and checks that the adapter model and the merged model
// give the same logits (tolerance 1e-4 absolute).
func TestAdapterRoundTripAndMerge(t *testing.T) {
	cfg := gradModelConfig(t, "qwen2")
	m, err := New(cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewLoRAParams(m, LoRAConfig{R: 2, Alpha: 8, RSLoRA: true, Targets: []string{"q_proj", "v_proj", "down_proj"}}, 2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	for _, mod := range p.Modules {
		copy(mod.LoRA.B, randVec(rng, len(mod.LoRA.B), 0.3))
	}
	dir := t.TempDir()
	if err := SaveAdapter(dir, p.Adapter("tiny"), 0.05); err != nil {
		t.Fatal(err)
	}
	a, err := LoadAdapter(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Modules) != len(p.Modules) || a.Config.R != 2 || !a.Config.UseRSLoRA {
		t.Fatalf("loaded %d modules, config %+v", len(a.Modules), a.Config)
	}
	withA, err := m.WithAdapter(a)
	if err != nil {
		t.Fatal(err)
	}
	merged, err := m.Merge(a)
	if err != nil {
		t.Fatal(err)
	}
	tokens := []int{3, 7, 1, 9, 4}
	base, _ := m.Forward(tokens, 0, nil)
	got, _ := withA.Forward(tokens, 0, nil)
	want, _ := merged.Forward(tokens, 0, nil)
	diff := 0.0
	for i := range got {
		if d := math.Abs(float64(got[i] - want[i])); d > 1e-4 {
			t.Fatalf("logit %d: adapter %g, merged %g", i, got[i], want[i])
		}
		diff += math.Abs(float64(got[i] - base[i]))
	}
	if diff == 0 {
		t.Fatal("adapter did not change the logits")
	}
}
