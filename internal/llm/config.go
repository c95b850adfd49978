package llm

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/whet-dev/whet/internal/tensor"
)

// ErrConfig marks a config.json this package cannot run.
var ErrConfig = errors.New("llm: invalid config")

// ErrUnsupported marks an architecture or feature this package does not run.
var ErrUnsupported = errors.New("llm: unsupported")

// Architectures this package runs, as named in config.json "architectures".
const (
	ArchLlama   = "LlamaForCausalLM"
	ArchMistral = "MistralForCausalLM"
	ArchQwen2   = "Qwen2ForCausalLM"
)

// Config is the subset of a Hugging Face config.json that defines a
// Llama-family decoder.
type Config struct {
	Architecture          string // ArchLlama, ArchMistral or ArchQwen2
	HiddenSize            int
	IntermediateSize      int
	NumLayers             int
	NumHeads              int
	NumKVHeads            int
	HeadDim               int
	RMSNormEps            float64
	RopeTheta             float64
	RopeScaling           *tensor.RoPEScaling // nil: none
	MaxPositionEmbeddings int
	VocabSize             int
	TieWordEmbeddings     bool
	// QKVBias adds a bias to the q, k and v projections (Qwen2, or Llama with
	// attention_bias); OBias to the output projection (Llama attention_bias).
	QKVBias, OBias bool
	MLPBias        bool
	// SlidingWindow limits attention to the last SlidingWindow positions
	// (the query's own included); 0 means full causal attention.
	SlidingWindow int
	BOSTokenID    int   // -1 when unset
	EOSTokenIDs   []int // may be empty
	TorchDType    string
}

// rawConfig mirrors config.json; pointer fields tell absent from zero.
type rawConfig struct {
	Architectures         []string        `json:"architectures"`
	ModelType             string          `json:"model_type"`
	HiddenSize            int             `json:"hidden_size"`
	IntermediateSize      int             `json:"intermediate_size"`
	NumHiddenLayers       int             `json:"num_hidden_layers"`
	NumAttentionHeads     int             `json:"num_attention_heads"`
	NumKeyValueHeads      *int            `json:"num_key_value_heads"`
	HeadDim               *int            `json:"head_dim"`
	RMSNormEps            *float64        `json:"rms_norm_eps"`
	RopeTheta             *float64        `json:"rope_theta"`
	RopeScaling           json.RawMessage `json:"rope_scaling"`
	MaxPositionEmbeddings int             `json:"max_position_embeddings"`
	VocabSize             int             `json:"vocab_size"`
	TieWordEmbeddings     *bool           `json:"tie_word_embeddings"`
	AttentionBias         bool            `json:"attention_bias"`
	MLPBias               bool            `json:"mlp_bias"`
	SlidingWindow         *int            `json:"sliding_window"`
	UseSlidingWindow      *bool           `json:"use_sliding_window"`
	HiddenAct             string          `json:"hidden_act"`
	BOSTokenID            json.RawMessage `json:"bos_token_id"`
	EOSTokenID            json.RawMessage `json:"eos_token_id"`
	TorchDType            string          `json:"torch_dtype"`
	DType                 string          `json:"dtype"`
}

type rawRopeScaling struct {
	RopeType       string  `json:"rope_type"`
	Type           string  `json:"type"`
	Factor         float64 `json:"factor"`
	LowFreqFactor  float64 `json:"low_freq_factor"`
	HighFreqFactor float64 `json:"high_freq_factor"`
	OriginalMaxPos int     `json:"original_max_position_embeddings"`
}

// parseTokenIDs accepts null, an int or a list of ints.
func parseTokenIDs(raw json.RawMessage) ([]int, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one int
	if err := json.Unmarshal(raw, &one); err == nil {
		return []int{one}, nil
	}
	var many []int
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, fmt.Errorf("token id %s is neither an int nor a list of ints", raw)
	}
	return many, nil
}

// ParseConfig decodes and validates a config.json document.
func ParseConfig(b []byte) (Config, error) {
	var r rawConfig
	if err := json.Unmarshal(b, &r); err != nil {
		return Config{}, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if len(r.Architectures) == 0 {
		return Config{}, fmt.Errorf("%w: no architectures listed", ErrConfig)
	}
	c := Config{
		Architecture:          r.Architectures[0],
		HiddenSize:            r.HiddenSize,
		IntermediateSize:      r.IntermediateSize,
		NumLayers:             r.NumHiddenLayers,
		NumHeads:              r.NumAttentionHeads,
		NumKVHeads:            r.NumAttentionHeads,
		RMSNormEps:            1e-6,
		RopeTheta:             10000,
		MaxPositionEmbeddings: r.MaxPositionEmbeddings,
		VocabSize:             r.VocabSize,
		MLPBias:               r.MLPBias,
		BOSTokenID:            -1,
		TorchDType:            r.TorchDType,
	}
	if c.TorchDType == "" {
		c.TorchDType = r.DType
	}
	if r.NumKeyValueHeads != nil {
		c.NumKVHeads = *r.NumKeyValueHeads
	}
	if r.RMSNormEps != nil {
		c.RMSNormEps = *r.RMSNormEps
	}
	if r.RopeTheta != nil {
		c.RopeTheta = *r.RopeTheta
	}
	if r.HiddenAct != "" && r.HiddenAct != "silu" {
		return Config{}, fmt.Errorf("%w: hidden_act %q (only silu)", ErrUnsupported, r.HiddenAct)
	}
	switch c.Architecture {
	case ArchLlama:
		c.QKVBias, c.OBias = r.AttentionBias, r.AttentionBias
		c.TieWordEmbeddings = r.TieWordEmbeddings != nil && *r.TieWordEmbeddings
	case ArchMistral:
		if r.SlidingWindow != nil {
			c.SlidingWindow = *r.SlidingWindow
		}
		c.TieWordEmbeddings = r.TieWordEmbeddings != nil && *r.TieWordEmbeddings
	case ArchQwen2:
		c.QKVBias = true
		// Qwen2's config class defaults tie_word_embeddings to false, but
		// the small checkpoints set it explicitly.
		c.TieWordEmbeddings = r.TieWordEmbeddings != nil && *r.TieWordEmbeddings
		if r.UseSlidingWindow != nil && *r.UseSlidingWindow {
			return Config{}, fmt.Errorf("%w: Qwen2 use_sliding_window=true (per-layer windows)", ErrUnsupported)
		}
	default:
		return Config{}, fmt.Errorf("%w: architecture %q (want %s, %s or %s)", ErrUnsupported, c.Architecture, ArchLlama, ArchMistral, ArchQwen2)
	}
	if r.HeadDim != nil && *r.HeadDim > 0 {
		c.HeadDim = *r.HeadDim
	} else if c.NumHeads > 0 {
		c.HeadDim = c.HiddenSize / c.NumHeads
	}
	if len(r.RopeScaling) > 0 && string(r.RopeScaling) != "null" {
		var rs rawRopeScaling
		if err := json.Unmarshal(r.RopeScaling, &rs); err != nil {
			return Config{}, fmt.Errorf("%w: rope_scaling: %v", ErrConfig, err)
		}
		typ := rs.RopeType
		if typ == "" {
			typ = rs.Type
		}
		switch typ {
		case "default", "":
		case "llama3", "linear":
			c.RopeScaling = &tensor.RoPEScaling{Type: typ, Factor: rs.Factor, LowFreqFactor: rs.LowFreqFactor,
				HighFreqFactor: rs.HighFreqFactor, OriginalMaxPos: rs.OriginalMaxPos}
		default:
			return Config{}, fmt.Errorf("%w: rope_scaling type %q (want llama3 or linear)", ErrUnsupported, typ)
		}
	}
	bos, err := parseTokenIDs(r.BOSTokenID)
	if err != nil {
		return Config{}, fmt.Errorf("%w: bos_token_id: %v", ErrConfig, err)
	}
	if len(bos) > 0 {
		c.BOSTokenID = bos[0]
	}
	if c.EOSTokenIDs, err = parseTokenIDs(r.EOSTokenID); err != nil {
		return Config{}, fmt.Errorf("%w: eos_token_id: %v", ErrConfig, err)
	}
	return c, c.Validate()
}

// Validate checks that the dimensions are positive and consistent.
func (c Config) Validate() error {
	switch {
	case c.HiddenSize <= 0 || c.IntermediateSize <= 0 || c.NumLayers <= 0 || c.VocabSize <= 0:
		return fmt.Errorf("%w: hidden_size, intermediate_size, num_hidden_layers and vocab_size must be > 0", ErrConfig)
	case c.NumHeads <= 0 || c.NumKVHeads <= 0 || c.NumHeads%c.NumKVHeads != 0:
		return fmt.Errorf("%w: num_attention_heads %d must be a positive multiple of num_key_value_heads %d", ErrConfig, c.NumHeads, c.NumKVHeads)
	case c.HeadDim <= 0 || c.HeadDim%2 != 0:
		return fmt.Errorf("%w: head_dim %d must be positive and even", ErrConfig, c.HeadDim)
	case c.MaxPositionEmbeddings <= 0:
		return fmt.Errorf("%w: max_position_embeddings must be > 0", ErrConfig)
	case !(c.RMSNormEps > 0) || !(c.RopeTheta > 0):
		return fmt.Errorf("%w: rms_norm_eps and rope_theta must be > 0", ErrConfig)
	case c.SlidingWindow < 0:
		return fmt.Errorf("%w: sliding_window must be >= 0", ErrConfig)
	case c.HiddenSize > 1<<16 || c.IntermediateSize > 1<<18 || c.VocabSize > 1<<22 || c.NumLayers > 1024 ||
		c.NumHeads > 1024 || c.HeadDim > 1024:
		return fmt.Errorf("%w: dimensions too large", ErrConfig)
	}
	if err := c.RopeScaling.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrConfig, err)
	}
	return nil
}

// QDim is the width of the query projection (heads × head_dim).
func (c Config) QDim() int { return c.NumHeads * c.HeadDim }

// KVDim is the width of the key and value projections.
func (c Config) KVDim() int { return c.NumKVHeads * c.HeadDim }

// ParamCount returns the number of parameters the config defines, counting a
// tied embedding once.
func (c Config) ParamCount() int64 {
	h, f, q, kv := int64(c.HiddenSize), int64(c.IntermediateSize), int64(c.QDim()), int64(c.KVDim())
	layer := 2*h + h*q + 2*h*kv + q*h + 3*h*f
	if c.QKVBias {
		layer += q + 2*kv
	}
	if c.OBias {
		layer += h
	}
	if c.MLPBias {
		layer += 2*f + h
	}
	n := int64(c.NumLayers)*layer + h + int64(c.VocabSize)*h
	if !c.TieWordEmbeddings {
		n += int64(c.VocabSize) * h
	}
	return n
}

// MarshalJSON writes the config as a Hugging Face config.json.
func (c Config) MarshalJSON() ([]byte, error) {
	m := map[string]any{
		"architectures":           []string{c.Architecture},
		"hidden_size":             c.HiddenSize,
		"intermediate_size":       c.IntermediateSize,
		"num_hidden_layers":       c.NumLayers,
		"num_attention_heads":     c.NumHeads,
		"num_key_value_heads":     c.NumKVHeads,
		"head_dim":                c.HeadDim,
		"rms_norm_eps":            c.RMSNormEps,
		"rope_theta":              c.RopeTheta,
		"max_position_embeddings": c.MaxPositionEmbeddings,
		"vocab_size":              c.VocabSize,
		"tie_word_embeddings":     c.TieWordEmbeddings,
		"hidden_act":              "silu",
		"torch_dtype":             "float32",
	}
	switch c.Architecture {
	case ArchLlama:
		m["model_type"] = "llama"
		m["attention_bias"] = c.QKVBias
		m["mlp_bias"] = c.MLPBias
	case ArchMistral:
		m["model_type"] = "mistral"
		if c.SlidingWindow > 0 {
			m["sliding_window"] = c.SlidingWindow
		} else {
			m["sliding_window"] = nil
		}
	case ArchQwen2:
		m["model_type"] = "qwen2"
		m["use_sliding_window"] = false
	}
	if s := c.RopeScaling; s != nil {
		rs := map[string]any{"rope_type": s.Type, "factor": s.Factor}
		if s.Type == "llama3" {
			rs["low_freq_factor"] = s.LowFreqFactor
			rs["high_freq_factor"] = s.HighFreqFactor
			rs["original_max_position_embeddings"] = s.OriginalMaxPos
		}
		m["rope_scaling"] = rs
	}
	if c.BOSTokenID >= 0 {
		m["bos_token_id"] = c.BOSTokenID
	}
	switch len(c.EOSTokenIDs) {
	case 0:
	case 1:
		m["eos_token_id"] = c.EOSTokenIDs[0]
	default:
		m["eos_token_id"] = c.EOSTokenIDs
	}
	return json.MarshalIndent(m, "", "  ")
}

// LoadConfig reads dir/config.json.
func LoadConfig(dir string) (Config, error) {
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return Config{}, fmt.Errorf("llm: read config: %w", err)
	}
	c, err := ParseConfig(b)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", filepath.Join(dir, "config.json"), err)
	}
	return c, nil
}

// GenerationConfig holds the sampling defaults of generation_config.json.
// Zero values mean "not set".
type GenerationConfig struct {
	BOSTokenID        int // -1 when unset
	EOSTokenIDs       []int
	DoSample          bool
	Temperature       float64
	TopP              float64
	TopK              int
	RepetitionPenalty float64
	MaxNewTokens      int
}

// LoadGenerationConfig reads dir/generation_config.json; a missing file
// gives an empty config and no error.
func LoadGenerationConfig(dir string) (GenerationConfig, error) {
	g := GenerationConfig{BOSTokenID: -1}
	b, err := os.ReadFile(filepath.Join(dir, "generation_config.json"))
	if errors.Is(err, os.ErrNotExist) {
		return g, nil
	}
	if err != nil {
		return g, fmt.Errorf("llm: read generation config: %w", err)
	}
	var r struct {
		BOSTokenID        json.RawMessage `json:"bos_token_id"`
		EOSTokenID        json.RawMessage `json:"eos_token_id"`
		DoSample          bool            `json:"do_sample"`
		Temperature       float64         `json:"temperature"`
		TopP              float64         `json:"top_p"`
		TopK              int             `json:"top_k"`
		RepetitionPenalty float64         `json:"repetition_penalty"`
		MaxNewTokens      int             `json:"max_new_tokens"`
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return g, fmt.Errorf("%w: generation_config.json: %v", ErrConfig, err)
	}
	bos, err := parseTokenIDs(r.BOSTokenID)
	if err != nil {
		return g, fmt.Errorf("%w: generation_config.json bos_token_id: %v", ErrConfig, err)
	}
	if len(bos) > 0 {
		g.BOSTokenID = bos[0]
	}
	if g.EOSTokenIDs, err = parseTokenIDs(r.EOSTokenID); err != nil {
		return g, fmt.Errorf("%w: generation_config.json eos_token_id: %v", ErrConfig, err)
	}
	g.DoSample, g.Temperature, g.TopP, g.TopK = r.DoSample, r.Temperature, r.TopP, r.TopK
	g.RepetitionPenalty, g.MaxNewTokens = r.RepetitionPenalty, r.MaxNewTokens
	return g, nil
}

// Preset returns a named configuration for arch ("llama", "mistral" or
// "qwen2", or an architecture name): "tiny" is a test-sized model and
// "smollm2-135m" the real SmolLM2-135M shape.
func Preset(name, arch string) (Config, error) {
	var a string
	switch arch {
	case "llama", "", ArchLlama:
		a = ArchLlama
	case "mistral", ArchMistral:
		a = ArchMistral
	case "qwen2", ArchQwen2:
		a = ArchQwen2
	default:
		return Config{}, fmt.Errorf("%w: architecture %q (want llama, mistral or qwen2)", ErrUnsupported, arch)
	}
	var c Config
	switch name {
	case "tiny":
		c = Config{HiddenSize: 64, IntermediateSize: 128, NumLayers: 2, NumHeads: 4, NumKVHeads: 2, HeadDim: 16,
			RMSNormEps: 1e-5, RopeTheta: 10000, MaxPositionEmbeddings: 512, VocabSize: 512,
			BOSTokenID: 1, EOSTokenIDs: []int{2}}
	case "small":
		// Chosen by held-out loss after 90 s of pretraining on the sample
		// corpus on 2 cores (docs/BENCHMARKS.md): d_model 128 beat 160, 192
		// and 256, and 6 layers, at that budget.
		c = Config{HiddenSize: 128, IntermediateSize: 352, NumLayers: 4, NumHeads: 4, NumKVHeads: 2, HeadDim: 32,
			RMSNormEps: 1e-5, RopeTheta: 10000, MaxPositionEmbeddings: 1024, VocabSize: 4096,
			TieWordEmbeddings: true, BOSTokenID: 0, EOSTokenIDs: []int{0, 2}}
	case "smollm2-135m":
		c = Config{HiddenSize: 576, IntermediateSize: 1536, NumLayers: 30, NumHeads: 9, NumKVHeads: 3, HeadDim: 64,
			RMSNormEps: 1e-5, RopeTheta: 100000, MaxPositionEmbeddings: 8192, VocabSize: 49152,
			TieWordEmbeddings: true, BOSTokenID: 1, EOSTokenIDs: []int{2}}
	default:
		return Config{}, fmt.Errorf("%w: preset %q (want tiny, small or smollm2-135m)", ErrConfig, name)
	}
	c.Architecture = a
	switch a {
	case ArchMistral:
		c.SlidingWindow = c.MaxPositionEmbeddings / 2
	case ArchQwen2:
		c.QKVBias = true
		c.TieWordEmbeddings = true
	}
	return c, c.Validate()
}

// WeightBytes estimates the memory of the parameters stored in dtype
// (f32, bf16, int8 with a f32 scale per row, nf4 with a f32 absmax per 64
// weights); norms and biases are always f32.
func (c Config) WeightBytes(dtype string) (int64, error) {
	h, f, q, kv, v := int64(c.HiddenSize), int64(c.IntermediateSize), int64(c.QDim()), int64(c.KVDim()), int64(c.VocabSize)
	type mat struct{ rows, cols int64 }
	mats := []mat{{v, h}}
	if !c.TieWordEmbeddings {
		mats = append(mats, mat{v, h})
	}
	var vec int64 = h
	for i := 0; i < c.NumLayers; i++ {
		mats = append(mats, mat{q, h}, mat{kv, h}, mat{kv, h}, mat{h, q}, mat{f, h}, mat{f, h}, mat{h, f})
		vec += 2 * h
		if c.QKVBias {
			vec += q + 2*kv
		}
		if c.OBias {
			vec += h
		}
		if c.MLPBias {
			vec += 2*f + h
		}
	}
	total := 4 * vec
	for _, m := range mats {
		n := m.rows * m.cols
		switch dtype {
		case DTypeF32:
			total += 4 * n
		case DTypeBF16:
			total += 2 * n
		case DTypeInt8:
			total += n + 4*m.rows
		case DTypeNF4:
			total += (n+1)/2 + 4*((n+63)/64)
		default:
			return 0, fmt.Errorf("%w: weight dtype %q (want f32, bf16, int8 or nf4)", ErrUnsupported, dtype)
		}
	}
	return total, nil
}
