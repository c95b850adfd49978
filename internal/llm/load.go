package llm

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/whet-dev/whet/internal/safetensors"
	"github.com/whet-dev/whet/internal/tensor"
)

// LoadOptions chooses how weights are held in memory.
type LoadOptions struct {
	// DType is the storage format of the linear and embedding weights:
	// "f32" (default), "bf16", "int8" (per-row absmax) or "nf4" (block 64).
	DType string
}

// Load reads a Hugging Face model folder: config.json and model.safetensors
// (or a sharded set). Weights may be stored as F32, F16 or BF16.
func Load(dir string, opts LoadOptions) (*Model, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	dtype := opts.DType
	if dtype == "" {
		dtype = DTypeF32
	}
	if _, err := makeMatrix(dtype, 0, 0, nil); err != nil {
		return nil, err
	}
	st, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("llm: load weights: %w", err)
	}
	defer st.Close()
	m := &Model{Config: cfg, DType: dtype, Layers: make([]Layer, cfg.NumLayers)}
	for _, p := range m.params() {
		info, ok := st.Info(p.name)
		if !ok {
			return nil, fmt.Errorf("llm: load weights: %w: %q missing from %s", safetensors.ErrNotFound, p.name, dir)
		}
		want := []int{p.rows}
		if p.vec == nil {
			want = []int{p.rows, p.cols}
		}
		if !equalShape(info.Shape, want) {
			return nil, fmt.Errorf("llm: load weights: %w: %q has shape %v, config implies %v", ErrConfig, p.name, info.Shape, want)
		}
		if p.vec == nil && dtype == DTypeBF16 && info.DType == safetensors.BF16 {
			raw, err := st.Bytes(p.name)
			if err != nil {
				return nil, fmt.Errorf("llm: load weights: %w", err)
			}
			bits := make([]uint16, p.rows*p.cols)
			for i := range bits {
				bits[i] = binary.LittleEndian.Uint16(raw[2*i:])
			}
			*p.mat = tensor.NewBF16Mat(p.rows, p.cols, bits)
			continue
		}
		v, _, err := st.Float32(p.name)
		if err != nil {
			return nil, fmt.Errorf("llm: load weights: %w", err)
		}
		if p.vec != nil {
			*p.vec = v
			continue
		}
		if *p.mat, err = makeMatrix(dtype, p.rows, p.cols, v); err != nil {
			return nil, err
		}
	}
	if cfg.TieWordEmbeddings {
		m.LMHead.W = m.Embed
	}
	return m, m.finish()
}

func equalShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Save writes the model as a Hugging Face folder: config.json,
// generation_config.json and model.safetensors with HF tensor names, all
// weights as F32 (quantised weights are dequantised).
func (m *Model) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("llm: save: %w", err)
	}
	var ts []safetensors.Tensor
	for _, p := range m.params() {
		if p.vec != nil {
			ts = append(ts, safetensors.F32Tensor(p.name, []int{p.rows}, *p.vec))
			continue
		}
		w := make([]float32, p.rows*p.cols)
		(*p.mat).Dequantize(w)
		ts = append(ts, safetensors.F32Tensor(p.name, []int{p.rows, p.cols}, w))
	}
	if err := safetensors.WriteFile(filepath.Join(dir, safetensors.SingleFile), ts, map[string]string{"format": "pt"}); err != nil {
		return fmt.Errorf("llm: save: %w", err)
	}
	cb, err := json.Marshal(m.Config)
	if err != nil {
		return fmt.Errorf("llm: save config: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), append(cb, '\n'), 0o644); err != nil {
		return fmt.Errorf("llm: save config: %w", err)
	}
	gen := map[string]any{}
	if m.Config.BOSTokenID >= 0 {
		gen["bos_token_id"] = m.Config.BOSTokenID
	}
	if len(m.Config.EOSTokenIDs) > 0 {
		gen["eos_token_id"] = m.Config.EOSTokenIDs
	}
	gb, _ := json.MarshalIndent(gen, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "generation_config.json"), append(gb, '\n'), 0o644); err != nil {
		return fmt.Errorf("llm: save generation config: %w", err)
	}
	return nil
}

// isBias reports whether a parameter name is a bias.
func isBias(name string) bool { return strings.HasSuffix(name, ".bias") }
