package llm

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/whet-dev/whet/internal/tensor"
)

// ErrContextOverflow reports a sequence longer than the model or cache allows.
var ErrContextOverflow = errors.New("llm: context length exceeded")

// Weight storage formats accepted by LoadOptions.DType and Model.Convert.
const (
	DTypeF32  = "f32"
	DTypeBF16 = "bf16"
	DTypeInt8 = "int8"
	DTypeNF4  = "nf4"
)

// maxRoPEPositions caps the RoPE tables (and so the usable context) for
// models that advertise very long contexts.
const maxRoPEPositions = 1 << 16

// Layer holds one decoder block's parameters. Shapes use C = hidden size,
// Q = heads×head_dim, KV = kv heads×head_dim, F = intermediate size.
type Layer struct {
	AttnNorm []float32 // [C] input_layernorm
	Q        Linear    // [Q×C] (+bias [Q])
	K        Linear    // [KV×C] (+bias [KV])
	V        Linear    // [KV×C] (+bias [KV])
	O        Linear    // [C×Q] (+bias [C])
	MLPNorm  []float32 // [C] post_attention_layernorm
	Gate     Linear    // [F×C]
	Up       Linear    // [F×C]
	Down     Linear    // [C×F]
}

// Model is a loaded decoder. Its weights are read-only after construction;
// Forward and DecodeBatch may run concurrently on different caches.
type Model struct {
	Config Config
	// DType is the storage format of the linear weights (DTypeF32, …).
	DType  string
	Embed  Matrix    // [V×C] token embeddings
	Layers []Layer   // [NumLayers]
	Norm   []float32 // [C] final norm
	LMHead Linear    // [V×C]; W is Embed when TieWordEmbeddings

	cos, sin []float32 // [MaxSeq×HeadDim/2] RoPE tables
	maxSeq   int
	// Free workspaces. A plain list rather than a sync.Pool: the pool is
	// emptied at every GC, and re-faulting megabytes of fresh activation
	// buffers costs a prefill more than the buffers are worth.
	wsMu   sync.Mutex
	wsFree []*workspace
}

// maxFreeWorkspaces bounds the retained workspaces (one per concurrent
// forward call up to this many).
const maxFreeWorkspaces = 4

func (m *Model) getWorkspace() *workspace {
	m.wsMu.Lock()
	defer m.wsMu.Unlock()
	if n := len(m.wsFree); n > 0 {
		ws := m.wsFree[n-1]
		m.wsFree = m.wsFree[:n-1]
		return ws
	}
	return &workspace{}
}

func (m *Model) putWorkspace(ws *workspace) {
	m.wsMu.Lock()
	defer m.wsMu.Unlock()
	if len(m.wsFree) < maxFreeWorkspaces {
		m.wsFree = append(m.wsFree, ws)
	}
}

// MaxSeq is the longest sequence the model runs (max_position_embeddings,
// capped at 65536).
func (m *Model) MaxSeq() int { return m.maxSeq }

// ParamCount returns the number of parameters (a tied embedding once).
func (m *Model) ParamCount() int64 { return m.Config.ParamCount() }

// WeightBytes returns the memory held by all parameters in their storage
// formats (norms and biases are f32).
func (m *Model) WeightBytes() int64 {
	n := m.Embed.Bytes() + 4*int64(len(m.Norm))
	if !m.Config.TieWordEmbeddings {
		n += m.LMHead.W.Bytes()
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		n += 4 * int64(len(l.AttnNorm)+len(l.MLPNorm))
		for _, lin := range l.Linears() {
			n += lin.W.Bytes() + 4*int64(len(lin.B))
		}
	}
	return n
}

// Linears returns the layer's seven projections in HF order
// (q, k, v, o, gate, up, down), as pointers so a Delta can be attached.
func (l *Layer) Linears() []*Linear {
	return []*Linear{&l.Q, &l.K, &l.V, &l.O, &l.Gate, &l.Up, &l.Down}
}

// LinearNames are the HF module names matching Layer.Linears.
var LinearNames = [...]string{"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
	"mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"}

// finish validates the config and builds the RoPE tables.
func (m *Model) finish() error {
	c := m.Config
	m.maxSeq = min(c.MaxPositionEmbeddings, maxRoPEPositions)
	m.cos, m.sin = tensor.RoPETables(m.maxSeq, c.HeadDim, c.RopeTheta, c.RopeScaling)
	return nil
}

// makeMatrix stores w[rows×cols] in the given format.
func makeMatrix(dtype string, rows, cols int, w []float32) (Matrix, error) {
	switch dtype {
	case DTypeF32, "":
		return tensor.NewF32Mat(rows, cols, w), nil
	case DTypeBF16:
		return tensor.QuantizeBF16(rows, cols, w), nil
	case DTypeInt8:
		return tensor.QuantizeQ8(rows, cols, w), nil
	case DTypeNF4:
		return tensor.QuantizeNF4(rows, cols, w), nil
	}
	return nil, fmt.Errorf("%w: weight dtype %q (want f32, bf16, int8 or nf4)", ErrUnsupported, dtype)
}

// shapes lists every parameter with its HF name and shape; rows×cols for
// matrices, cols==0 for vectors. The callback receives a pointer to fill.
type param struct {
	name       string
	rows, cols int
	vec        *[]float32 // vectors (norms, biases)
	mat        *Matrix    // matrices
}

func (m *Model) params() []param {
	c := m.Config
	C, Q, KV, F, V := c.HiddenSize, c.QDim(), c.KVDim(), c.IntermediateSize, c.VocabSize
	ps := []param{{name: "model.embed_tokens.weight", rows: V, cols: C, mat: &m.Embed}}
	for i := range m.Layers {
		l := &m.Layers[i]
		p := fmt.Sprintf("model.layers.%d.", i)
		ps = append(ps, param{name: p + "input_layernorm.weight", rows: C, vec: &l.AttnNorm},
			param{name: p + "post_attention_layernorm.weight", rows: C, vec: &l.MLPNorm})
		dims := [7][2]int{{Q, C}, {KV, C}, {KV, C}, {C, Q}, {F, C}, {F, C}, {C, F}}
		bias := [7]bool{c.QKVBias, c.QKVBias, c.QKVBias, c.OBias, c.MLPBias, c.MLPBias, c.MLPBias}
		for j, lin := range l.Linears() {
			ps = append(ps, param{name: p + LinearNames[j] + ".weight", rows: dims[j][0], cols: dims[j][1], mat: &lin.W})
			if bias[j] {
				ps = append(ps, param{name: p + LinearNames[j] + ".bias", rows: dims[j][0], vec: &lin.B})
			}
		}
	}
	ps = append(ps, param{name: "model.norm.weight", rows: C, vec: &m.Norm})
	if !c.TieWordEmbeddings {
		ps = append(ps, param{name: "lm_head.weight", rows: V, cols: C, mat: &m.LMHead.W})
	}
	return ps
}

// New builds a randomly initialised f32 model as Hugging Face's
// _init_weights does: linear and embedding weights ~ N(0, 0.02²), biases 0,
// norm weights 1. The same seed gives the same weights.
func New(cfg Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, DType: DTypeF32, Layers: make([]Layer, cfg.NumLayers)}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	for _, p := range m.params() {
		if p.vec != nil {
			v := make([]float32, p.rows)
			if isBias(p.name) {
				*p.vec = v
				continue
			}
			for i := range v {
				v[i] = 1
			}
			*p.vec = v
			continue
		}
		w := make([]float32, p.rows*p.cols)
		for i := range w {
			w[i] = float32(rng.NormFloat64() * 0.02)
		}
		*p.mat = tensor.NewF32Mat(p.rows, p.cols, w)
	}
	if cfg.TieWordEmbeddings {
		m.LMHead.W = m.Embed
	}
	return m, m.finish()
}

// Convert returns a copy of the model with its matrices stored in dtype.
// Norms and biases are shared with m.
func (m *Model) Convert(dtype string) (*Model, error) {
	if _, err := makeMatrix(dtype, 0, 0, nil); err != nil {
		return nil, err
	}
	out := &Model{Config: m.Config, DType: dtype, Layers: make([]Layer, len(m.Layers))}
	src, dst := m.params(), out.params()
	for i, p := range src {
		q := dst[i]
		if p.vec != nil {
			*q.vec = *p.vec
			continue
		}
		w := make([]float32, p.rows*p.cols)
		(*p.mat).Dequantize(w)
		mat, err := makeMatrix(dtype, p.rows, p.cols, w)
		if err != nil {
			return nil, err
		}
		*q.mat = mat
	}
	if m.Config.TieWordEmbeddings {
		out.LMHead.W = out.Embed
	}
	return out, out.finish()
}

// rmsEps is the config epsilon as the float32 the kernels take.
func (m *Model) rmsEps() float32 { return float32(m.Config.RMSNormEps) }
