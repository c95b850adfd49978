package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/whet-dev/whet/internal/safetensors"
	"github.com/whet-dev/whet/internal/tensor"
)

// writeAdapter writes a PEFT LoRA folder with random A and B for the given
// modules of every layer and returns the tensors by key.
func writeAdapter(t *testing.T, dir string, cfg Config, r int, alpha float64, modules []int, extra map[string]any) map[string][2][]float32 {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 6))
	dims := map[int][2]int{0: {cfg.HiddenSize, cfg.QDim()}, 1: {cfg.HiddenSize, cfg.KVDim()}, 2: {cfg.HiddenSize, cfg.KVDim()},
		3: {cfg.QDim(), cfg.HiddenSize}, 4: {cfg.HiddenSize, cfg.IntermediateSize}, 5: {cfg.HiddenSize, cfg.IntermediateSize},
		6: {cfg.IntermediateSize, cfg.HiddenSize}}
	var ts []safetensors.Tensor
	out := map[string][2][]float32{}
	var targets []string
	for _, j := range modules {
		targets = append(targets, LinearNames[j][len("self_attn."):])
	}
	for l := 0; l < cfg.NumLayers; l++ {
		for _, j := range modules {
			in, o := dims[j][0], dims[j][1]
			A := make([]float32, r*in)
			B := make([]float32, o*r)
			for i := range A {
				A[i] = float32(rng.NormFloat64() * 0.1)
			}
			for i := range B {
				B[i] = float32(rng.NormFloat64() * 0.1)
			}
			p := fmt.Sprintf("base_model.model.model.layers.%d.%s", l, LinearNames[j])
			ts = append(ts, safetensors.F32Tensor(p+".lora_A.weight", []int{r, in}, A), safetensors.F32Tensor(p+".lora_B.weight", []int{o, r}, B))
			out[fmt.Sprintf("%d.%s", l, LinearNames[j])] = [2][]float32{A, B}
		}
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), ts, nil); err != nil {
		t.Fatal(err)
	}
	ac := map[string]any{"peft_type": "LORA", "r": r, "lora_alpha": alpha, "target_modules": targets, "bias": "none", "task_type": "CAUSAL_LM"}
	for k, v := range extra {
		ac[k] = v
	}
	b, _ := json.Marshal(ac)
	if err := os.WriteFile(filepath.Join(dir, "adapter_config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAdapterMatchesMergedWeights(t *testing.T) {
	cfg, _ := Preset("tiny", "qwen2")
	base, _ := New(cfg, 2)
	dir := t.TempDir()
	const r, alpha = 4, 8.0
	mods := []int{0, 2, 3, 6} // q, v, o, down
	lora := writeAdapter(t, dir, cfg, r, alpha, mods, nil)
	a, err := LoadAdapter(dir)
	if err != nil {
		t.Fatal(err)
	}
	adapted, err := base.WithAdapter(a)
	if err != nil {
		t.Fatal(err)
	}
	// Merge W' = W + (alpha/r)·B·A into a fresh copy of the base weights.
	merged, _ := New(cfg, 2)
	for key, ab := range lora {
		var l, j int
		var name string
		fmt.Sscanf(key, "%d.%s", &l, &name)
		for jj, n := range LinearNames {
			if n == name {
				j = jj
			}
		}
		lin := merged.Layers[l].Linears()[j]
		w := lin.W.(*tensor.F32Mat).Data()
		in, out := lin.In(), lin.Out()
		delta := make([]float32, out*in)
		tensor.MatMulNN(delta, ab[1], ab[0], out, in, r, false)
		tensor.Axpy(alpha/r, delta, w)
	}
	tokens := []int{1, 7, 300, 12, 99}
	got, err := adapted.Forward(tokens, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := merged.Forward(tokens, 0, nil)
	plain, _ := base.Forward(tokens, 0, nil)
	if e := maxRelErr(got, want); e > 1e-5 {
		t.Errorf("adapter vs merged: rel err %g", e)
	}
	if maxRelErr(plain, want) < 1e-3 {
		t.Error("adapter has no visible effect; test is vacuous")
	}
	// The base model is untouched.
	again, _ := base.Forward(tokens, 0, nil)
	if maxRelErr(again, plain) != 0 {
		t.Error("WithAdapter modified the base model")
	}
}

func TestAdapterErrors(t *testing.T) {
	cfg, _ := Preset("tiny", "llama")
	base, _ := New(cfg, 2)
	tests := []struct {
		name  string
		extra map[string]any
		cfg   Config
	}{
		{"dora", map[string]any{"use_dora": true}, cfg},
		{"not lora", map[string]any{"peft_type": "IA3"}, cfg},
		{"modules_to_save", map[string]any{"modules_to_save": []string{"lm_head"}}, cfg},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeAdapter(t, dir, tc.cfg, 2, 4, []int{0}, tc.extra)
			if _, err := LoadAdapter(dir); !errors.Is(err, ErrAdapter) {
				t.Errorf("err = %v", err)
			}
		})
	}
	// An adapter trained for another shape does not apply.
	other := cfg
	other.IntermediateSize = 64
	dir := t.TempDir()
	writeAdapter(t, dir, other, 2, 4, []int{6}, nil)
	a, err := LoadAdapter(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := base.WithAdapter(a); !errors.Is(err, ErrAdapter) {
		t.Errorf("shape mismatch err = %v", err)
	}
}
