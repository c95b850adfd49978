package encoder

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/whet-dev/whet/internal/safetensors"
	"github.com/whet-dev/whet/internal/tensor"
)

// Pooling turns per-token hidden states into one vector.
type Pooling string

// Pooling modes.
const (
	PoolDefault Pooling = ""     // from 1_Pooling/config.json, else CLS
	PoolCLS     Pooling = "cls"  // the first token ([CLS])
	PoolMean    Pooling = "mean" // mean over the non-padding tokens
)

// Options configure Load.
type Options struct {
	// Pooling overrides the sentence-transformers pooling config.
	Pooling Pooling
	// Normalize L2-normalises embeddings; when nil, it follows the presence of a
	// sentence_transformers Normalize module in modules.json.
	Normalize *bool
	// Int8 quantises every linear layer to int8 per output channel (embeddings and
	// LayerNorms stay float32).
	Int8 bool
}

// linear is a frozen weight matrix W[out×in] that computes y[n×out] = x[n×in]·Wᵀ.
type linear interface {
	MulT(y, x []float32, n int)
}

// dense is a linear layer with bias.
type dense struct {
	w       linear
	b       []float32 // [out]
	in, out int
}

func (d *dense) forward(y, x []float32, n int) {
	d.w.MulT(y[:n*d.out], x[:n*d.in], n)
	for r := 0; r < n; r++ {
		row := y[r*d.out : (r+1)*d.out]
		for i, b := range d.b {
			row[i] += b
		}
	}
}

// layer is one post-LN transformer encoder block.
type layer struct {
	q, k, v, o dense     // [H×H]
	ln1w, ln1b []float32 // attention output LayerNorm [H]
	up, down   dense     // [I×H], [H×I]
	ln2w, ln2b []float32 // output LayerNorm [H]
}

// Model is a BERT-family encoder (BertModel, optionally with the sequence
// classification head).
type Model struct {
	Config Config

	wordEmb, posEmb, typeEmb []float32 // [V×H], [P×H], [T×H]
	embLNw, embLNb           []float32 // [H]
	layers                   []layer

	pooler     *dense // [H×H], tanh; nil when absent
	classifier *dense // [labels×H]; nil unless a classifier

	pooling   Pooling
	normalize bool
	act       func(float32) float32
	work      sync.Pool // *workspace
}

// weightSource is what Load reads tensors from.
type weightSource interface {
	Float32(name string) ([]float32, []int, error)
	Names() []string
}

// Load reads a Hugging Face BERT folder: config.json, *.safetensors (keys with or without
// the "bert." prefix), and sentence-transformers' 1_Pooling/config.json and modules.json
// when present.
func Load(dir string, opts Options) (*Model, error) {
	cfg, err := LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	src, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("encoder: open weights: %w", err)
	}
	defer src.Close()
	m, err := build(cfg, src, opts)
	if err != nil {
		return nil, err
	}
	m.pooling, m.normalize = PoolCLS, false
	if p, ok := readPooling(dir); ok {
		m.pooling = p
	}
	if opts.Pooling != PoolDefault {
		if opts.Pooling != PoolCLS && opts.Pooling != PoolMean {
			return nil, fmt.Errorf("%w: unknown pooling %q", ErrConfig, opts.Pooling)
		}
		m.pooling = opts.Pooling
	}
	if opts.Normalize != nil {
		m.normalize = *opts.Normalize
	} else {
		m.normalize = hasNormalizeModule(dir)
	}
	return m, nil
}

func build(cfg Config, src weightSource, opts Options) (*Model, error) {
	act, _ := activation(cfg.HiddenAct)
	m := &Model{Config: cfg, act: act}
	m.work.New = func() any { return new(workspace) }
	prefix := ""
	for _, n := range src.Names() {
		if strings.HasPrefix(n, "bert.embeddings.") {
			prefix = "bert."
			break
		}
	}
	H, I := cfg.HiddenSize, cfg.IntermediateSize
	get := func(name string, shape ...int) ([]float32, error) {
		v, sh, err := src.Float32(name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrWeights, name, err)
		}
		n := 1
		for _, d := range shape {
			n *= d
		}
		if len(v) != n || len(sh) != len(shape) {
			return nil, fmt.Errorf("%w: %s has shape %v, want %v", ErrWeights, name, sh, shape)
		}
		return v, nil
	}
	// LayerNorm parameters are "weight"/"bias" in current checkpoints, "gamma"/"beta" in old ones.
	getLN := func(base string) (w, b []float32, err error) {
		if w, err = get(base+".weight", H); err != nil {
			var e2 error
			if w, e2 = get(base+".gamma", H); e2 != nil {
				return nil, nil, err
			}
			if b, err = get(base+".beta", H); err != nil {
				return nil, nil, err
			}
			return w, b, nil
		}
		b, err = get(base+".bias", H)
		return w, b, err
	}
	getDense := func(base string, out, in int) (dense, error) {
		w, err := get(base+".weight", out, in)
		if err != nil {
			return dense{}, err
		}
		b, err := get(base+".bias", out)
		if err != nil {
			return dense{}, err
		}
		var lw linear = tensor.NewF32Mat(out, in, w)
		if opts.Int8 {
			lw = tensor.QuantizeQ8(out, in, w)
		}
		return dense{w: lw, b: b, in: in, out: out}, nil
	}
	var err error
	p := prefix + "embeddings."
	if m.wordEmb, err = get(p+"word_embeddings.weight", cfg.VocabSize, H); err != nil {
		return nil, err
	}
	if m.posEmb, err = get(p+"position_embeddings.weight", cfg.MaxPositionEmbeddings, H); err != nil {
		return nil, err
	}
	if m.typeEmb, err = get(p+"token_type_embeddings.weight", cfg.TypeVocabSize, H); err != nil {
		return nil, err
	}
	if m.embLNw, m.embLNb, err = getLN(p + "LayerNorm"); err != nil {
		return nil, err
	}
	for l := 0; l < cfg.NumHiddenLayers; l++ {
		p := fmt.Sprintf("%sencoder.layer.%d.", prefix, l)
		var ly layer
		if ly.q, err = getDense(p+"attention.self.query", H, H); err != nil {
			return nil, err
		}
		if ly.k, err = getDense(p+"attention.self.key", H, H); err != nil {
			return nil, err
		}
		if ly.v, err = getDense(p+"attention.self.value", H, H); err != nil {
			return nil, err
		}
		if ly.o, err = getDense(p+"attention.output.dense", H, H); err != nil {
			return nil, err
		}
		if ly.ln1w, ly.ln1b, err = getLN(p + "attention.output.LayerNorm"); err != nil {
			return nil, err
		}
		if ly.up, err = getDense(p+"intermediate.dense", I, H); err != nil {
			return nil, err
		}
		if ly.down, err = getDense(p+"output.dense", H, I); err != nil {
			return nil, err
		}
		if ly.ln2w, ly.ln2b, err = getLN(p + "output.LayerNorm"); err != nil {
			return nil, err
		}
		m.layers = append(m.layers, ly)
	}
	if hasName(src, prefix+"pooler.dense.weight") {
		d, err := getDense(prefix+"pooler.dense", H, H)
		if err != nil {
			return nil, err
		}
		m.pooler = &d
	}
	if cfg.IsClassifier() {
		if m.pooler == nil {
			return nil, fmt.Errorf("%w: sequence classifier without pooler weights", ErrWeights)
		}
		labels := cfg.NumLabels
		if labels == 0 {
			labels = 1
		}
		d, err := getDense("classifier", labels, H)
		if err != nil {
			return nil, err
		}
		m.classifier = &d
		m.Config.NumLabels = labels
	}
	return m, nil
}

func hasName(src weightSource, name string) bool {
	for _, n := range src.Names() {
		if n == name {
			return true
		}
	}
	return false
}

// readPooling reads sentence-transformers' 1_Pooling/config.json.
func readPooling(dir string) (Pooling, bool) {
	data, err := os.ReadFile(filepath.Join(dir, "1_Pooling", "config.json"))
	if err != nil {
		return "", false
	}
	var pc struct {
		CLS  bool `json:"pooling_mode_cls_token"`
		Mean bool `json:"pooling_mode_mean_tokens"`
	}
	if json.Unmarshal(data, &pc) != nil {
		return "", false
	}
	switch {
	case pc.Mean:
		return PoolMean, true
	case pc.CLS:
		return PoolCLS, true
	}
	return "", false
}

// hasNormalizeModule reports whether modules.json lists a Normalize module.
func hasNormalizeModule(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "modules.json"))
	if err != nil {
		return false
	}
	var mods []struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(data, &mods) != nil {
		return false
	}
	for _, m := range mods {
		if strings.HasSuffix(m.Type, ".Normalize") {
			return true
		}
	}
	return false
}

func activation(name string) (func(float32) float32, error) {
	switch name {
	case "gelu":
		return geluErf, nil
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		return tensor.GELUTanh, nil
	case "relu":
		return func(x float32) float32 { return max(x, 0) }, nil
	}
	return nil, fmt.Errorf("%w: hidden_act %q", ErrConfig, name)
}

// Pooling returns the pooling mode in effect.
func (m *Model) Pooling() Pooling { return m.pooling }

// Normalizes reports whether embeddings are L2-normalised.
func (m *Model) Normalizes() bool { return m.normalize }

// Dim returns the embedding width.
func (m *Model) Dim() int { return m.Config.HiddenSize }

func l2normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	n := math.Sqrt(s)
	if n < 1e-12 {
		n = 1e-12
	}
	inv := float32(1 / n)
	for i := range v {
		v[i] *= inv
	}
}
