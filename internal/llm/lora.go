package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/whet-dev/whet/internal/safetensors"
	"github.com/whet-dev/whet/internal/tensor"
)

// ErrAdapter marks a PEFT adapter folder this package cannot apply.
var ErrAdapter = errors.New("llm: invalid adapter")

// LoRA is a low-rank update of one linear map: delta(x) = Scale·(x·Aᵀ)·Bᵀ.
// It implements Delta.
type LoRA struct {
	A     []float32 // [R×In]  lora_A.weight
	B     []float32 // [Out×R] lora_B.weight
	R     int
	In    int
	Out   int
	Scale float32 // lora_alpha/r, or lora_alpha/√r with rsLoRA
}

// AddForward adds Scale·(x·Aᵀ)·Bᵀ [n×Out] into y for x [n×In].
func (l *LoRA) AddForward(y, x []float32, n int) {
	h := make([]float32, n*l.R) // [n×R]; small next to the base product
	tensor.MatMulNT(h, x, l.A, n, l.R, l.In, false)
	tensor.Scale(h, l.Scale)
	tensor.MatMulNT(y, h, l.B, n, l.Out, l.R, true)
}

// AdapterConfig is the part of a PEFT adapter_config.json that inference uses.
type AdapterConfig struct {
	PeftType      string   `json:"peft_type"`
	R             int      `json:"r"`
	LoRAAlpha     float64  `json:"lora_alpha"`
	TargetModules []string `json:"-"`
	UseRSLoRA     bool     `json:"use_rslora"`
	BaseModel     string   `json:"base_model_name_or_path"`
}

// Adapter is a loaded PEFT LoRA adapter: one LoRA per adapted module, keyed
// by layer and module name as in LinearNames ("self_attn.q_proj", …).
type Adapter struct {
	Config  AdapterConfig
	Modules map[string]*LoRA // key: "<layer>.<module>", e.g. "3.self_attn.q_proj"
}

// LoadAdapter reads a PEFT LoRA folder (adapter_config.json and
// adapter_model.safetensors). Features that change the computation beyond
// plain LoRA (DoRA, trained biases, modules_to_save, per-module rank or
// alpha patterns) are rejected with ErrAdapter.
func LoadAdapter(dir string) (*Adapter, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "adapter_config.json"))
	if err != nil {
		return nil, fmt.Errorf("llm: load adapter: %w", err)
	}
	var rc struct {
		AdapterConfig
		TargetModules json.RawMessage `json:"target_modules"`
		UseDoRA       bool            `json:"use_dora"`
		Bias          string          `json:"bias"`
		ModulesToSave []string        `json:"modules_to_save"`
		RankPattern   map[string]any  `json:"rank_pattern"`
		AlphaPattern  map[string]any  `json:"alpha_pattern"`
		FanInFanOut   bool            `json:"fan_in_fan_out"`
	}
	if err := json.Unmarshal(raw, &rc); err != nil {
		return nil, fmt.Errorf("%w: adapter_config.json: %v", ErrAdapter, err)
	}
	cfg := rc.AdapterConfig
	switch {
	case cfg.PeftType != "LORA":
		return nil, fmt.Errorf("%w: peft_type %q (only LORA)", ErrAdapter, cfg.PeftType)
	case cfg.R <= 0:
		return nil, fmt.Errorf("%w: r must be > 0", ErrAdapter)
	case rc.UseDoRA, rc.Bias != "" && rc.Bias != "none", len(rc.ModulesToSave) > 0,
		len(rc.RankPattern) > 0, len(rc.AlphaPattern) > 0, rc.FanInFanOut:
		return nil, fmt.Errorf("%w: DoRA, bias, modules_to_save, rank/alpha patterns and fan_in_fan_out are not supported", ErrAdapter)
	}
	var one string
	if json.Unmarshal(rc.TargetModules, &one) == nil {
		cfg.TargetModules = []string{one}
	} else {
		_ = json.Unmarshal(rc.TargetModules, &cfg.TargetModules)
	}
	scale := cfg.LoRAAlpha / float64(cfg.R)
	if cfg.UseRSLoRA {
		scale = cfg.LoRAAlpha / math.Sqrt(float64(cfg.R))
	}
	f, err := safetensors.Open(filepath.Join(dir, "adapter_model.safetensors"))
	if err != nil {
		return nil, fmt.Errorf("llm: load adapter: %w", err)
	}
	defer f.Close()
	a := &Adapter{Config: cfg, Modules: map[string]*LoRA{}}
	for _, name := range f.Names() {
		key, ok := adapterKey(name, ".lora_A.weight")
		if !ok {
			if _, isB := adapterKey(name, ".lora_B.weight"); !isB {
				return nil, fmt.Errorf("%w: unexpected tensor %q", ErrAdapter, name)
			}
			continue
		}
		A, sa, err := f.Float32(name)
		if err != nil {
			return nil, fmt.Errorf("llm: load adapter: %w", err)
		}
		bName := strings.TrimSuffix(name, ".lora_A.weight") + ".lora_B.weight"
		B, sb, err := f.Float32(bName)
		if err != nil {
			return nil, fmt.Errorf("llm: load adapter: %w", err)
		}
		if len(sa) != 2 || len(sb) != 2 || sa[0] != cfg.R || sb[1] != cfg.R {
			return nil, fmt.Errorf("%w: %s has shapes %v and %v for r=%d", ErrAdapter, key, sa, sb, cfg.R)
		}
		a.Modules[key] = &LoRA{A: A, B: B, R: cfg.R, In: sa[1], Out: sb[0], Scale: float32(scale)}
	}
	if len(a.Modules) == 0 {
		return nil, fmt.Errorf("%w: no LoRA weights in %s", ErrAdapter, dir)
	}
	return a, nil
}

// adapterKey turns "base_model.model.model.layers.3.self_attn.q_proj<suffix>"
// into "3.self_attn.q_proj".
func adapterKey(name, suffix string) (string, bool) {
	const prefix = "base_model.model.model.layers."
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) {
		return "", false
	}
	return strings.TrimSuffix(strings.TrimPrefix(name, prefix), suffix), true
}

// WithAdapter returns a model that shares m's weights and applies a's
// LoRA updates; m itself is unchanged, so one base can serve many adapters.
func (m *Model) WithAdapter(a *Adapter) (*Model, error) {
	out := &Model{Config: m.Config, DType: m.DType, Embed: m.Embed, Norm: m.Norm, LMHead: m.LMHead,
		cos: m.cos, sin: m.sin, maxSeq: m.maxSeq, Layers: append([]Layer(nil), m.Layers...)}
	used := 0
	for i := range out.Layers {
		for j, lin := range out.Layers[i].Linears() {
			l, ok := a.Modules[fmt.Sprintf("%d.%s", i, LinearNames[j])]
			if !ok {
				continue
			}
			if l.In != lin.In() || l.Out != lin.Out() || len(l.A) != l.R*l.In || len(l.B) != l.Out*l.R {
				return nil, fmt.Errorf("%w: layer %d %s is %d→%d, adapter has %d→%d", ErrAdapter, i, LinearNames[j], lin.In(), lin.Out(), l.In, l.Out)
			}
			lin.Delta = l
			used++
		}
	}
	if used != len(a.Modules) {
		return nil, fmt.Errorf("%w: %d of %d adapted modules match no layer of this model", ErrAdapter, len(a.Modules)-used, len(a.Modules))
	}
	return out, nil
}
