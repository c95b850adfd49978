package llm

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/whet-dev/whet/internal/safetensors"
	"github.com/whet-dev/whet/internal/tensor"
)

// SaveAdapter writes a PEFT LoRA folder that PEFT and vLLM load unchanged:
// adapter_config.json and adapter_model.safetensors with PEFT's key names
// (base_model.model.model.layers.{i}.self_attn.q_proj.lora_A.weight [r×in],
// …lora_B.weight [out×r]). dropout is recorded as lora_dropout.
func SaveAdapter(dir string, a *Adapter, dropout float64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("llm: save adapter: %w", err)
	}
	keys := make([]string, 0, len(a.Modules))
	for k := range a.Modules {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var ts []safetensors.Tensor
	for _, k := range keys {
		l := a.Modules[k]
		p := "base_model.model.model.layers." + k
		ts = append(ts, safetensors.F32Tensor(p+".lora_A.weight", []int{l.R, l.In}, l.A),
			safetensors.F32Tensor(p+".lora_B.weight", []int{l.Out, l.R}, l.B))
	}
	if err := safetensors.WriteFile(filepath.Join(dir, "adapter_model.safetensors"), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("llm: save adapter: %w", err)
	}
	targets := a.Config.TargetModules
	if len(targets) == 0 {
		for _, k := range keys {
			short := k[strings.LastIndexByte(k, '.')+1:]
			if !strings.Contains(strings.Join(targets, ","), short) {
				targets = append(targets, short)
			}
		}
	}
	cfg := map[string]any{
		"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": a.Config.R, "lora_alpha": a.Config.LoRAAlpha,
		"lora_dropout": dropout, "target_modules": targets, "base_model_name_or_path": a.Config.BaseModel,
		"bias": "none", "use_rslora": a.Config.UseRSLoRA, "fan_in_fan_out": false, "inference_mode": true,
		"init_lora_weights": true, "modules_to_save": nil, "use_dora": false,
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return fmt.Errorf("llm: save adapter: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "adapter_config.json"), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("llm: save adapter: %w", err)
	}
	return nil
}

// Merge returns an f32 copy of m with every adapter folded into its base
// weight: W' = W + Scale·B·A. Norms and biases are shared with m.
func (m *Model) Merge(a *Adapter) (*Model, error) {
	if _, err := m.WithAdapter(a); err != nil {
		return nil, err
	}
	out, err := m.Convert(DTypeF32)
	if err != nil {
		return nil, err
	}
	for i := range out.Layers {
		for j, lin := range out.Layers[i].Linears() {
			l, ok := a.Modules[fmt.Sprintf("%d.%s", i, LinearNames[j])]
			if !ok {
				continue
			}
			w := lin.W.(*tensor.F32Mat).Data()
			// W[out×in] += Scale·B[out×r]·A[r×in]
			sb := append([]float32(nil), l.B...)
			tensor.Scale(sb, l.Scale)
			tensor.MatMulNN(w, sb, l.A, l.Out, l.In, l.R, true)
		}
	}
	return out, nil
}
