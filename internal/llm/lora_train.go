package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/whet-dev/whet/internal/tensor"
)

// LoRAConfig describes trainable LoRA adapters (PEFT's LoraConfig).
type LoRAConfig struct {
	R       int     // rank
	Alpha   float64 // lora_alpha
	Dropout float64 // lora_dropout, on the adapter's input only
	RSLoRA  bool    // scale alpha/√r instead of alpha/r
	// Targets are short module names: any of q_proj, k_proj, v_proj,
	// o_proj, gate_proj, up_proj, down_proj.
	Targets []string
}

// Scale returns the factor applied to B·A.
func (c LoRAConfig) Scale() float32 {
	if c.RSLoRA {
		return float32(c.Alpha / math.Sqrt(float64(c.R)))
	}
	return float32(c.Alpha / float64(c.R))
}

// Validate checks the rank, dropout and target names.
func (c LoRAConfig) Validate() error {
	if c.R <= 0 {
		return fmt.Errorf("%w: lora r must be > 0", ErrConfig)
	}
	if c.Dropout < 0 || c.Dropout >= 1 {
		return fmt.Errorf("%w: lora dropout %g outside [0,1)", ErrConfig, c.Dropout)
	}
	if len(c.Targets) == 0 {
		return fmt.Errorf("%w: no lora target modules", ErrConfig)
	}
	for _, t := range c.Targets {
		if moduleIndex(t) < 0 {
			return fmt.Errorf("%w: lora target module %q (want q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj or down_proj)", ErrConfig, t)
		}
	}
	return nil
}

// moduleIndex maps "q_proj" (or "self_attn.q_proj") to its index in
// Layer.Linears, or -1.
func moduleIndex(name string) int {
	for i, full := range LinearNames {
		if name == full || strings.HasSuffix(full, "."+name) {
			return i
		}
	}
	return -1
}

// LoRAModule is one adapted projection: its weights A and B are views of
// LoRAParams.Params, their gradients views of LoRAParams.Grads.
type LoRAModule struct {
	Layer, Index int    // layer and index into Layer.Linears
	Name         string // HF module name, e.g. "self_attn.q_proj"
	LoRA         *LoRA  // A [R×In], B [Out×R] (views into the parameter buffer)
	GA, GB       []float32
}

// LoRAParams holds every trainable LoRA parameter of a model and the AdamW
// state in one f32 buffer: [params | grads | first moment | second moment],
// N floats each.
type LoRAParams struct {
	Config  LoRAConfig
	Buf     []float32
	N       int
	Modules []LoRAModule // by layer, then in Layer.Linears order
	// byKey finds a module by layer*8+index.
	byKey map[int]*LoRAModule
}

// Params returns the parameter section of Buf.
func (p *LoRAParams) Params() []float32 { return p.Buf[:p.N] }

// Grads returns the gradient section of Buf.
func (p *LoRAParams) Grads() []float32 { return p.Buf[p.N : 2*p.N] }

// Moments returns the AdamW first and second moments.
func (p *LoRAParams) Moments() (m, v []float32) { return p.Buf[2*p.N : 3*p.N], p.Buf[3*p.N : 4*p.N] }

// ZeroGrad clears the gradients.
func (p *LoRAParams) ZeroGrad() { clear(p.Grads()) }

func (p *LoRAParams) module(layer, index int) *LoRAModule {
	return p.byKey[layer*8+index]
}

// NewLoRAParams allocates adapters for cfg.Targets on every layer of m,
// initialised as PEFT does: A Kaiming-uniform (a=√5, so U(±1/√in)), B zero.
// The same seed gives the same parameters.
func NewLoRAParams(m *Model, cfg LoRAConfig, seed uint64) (*LoRAParams, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var idx []int
	for _, t := range cfg.Targets {
		if i := moduleIndex(t); !slices.Contains(idx, i) {
			idx = append(idx, i)
		}
	}
	slices.Sort(idx)
	p := &LoRAParams{Config: cfg, byKey: map[int]*LoRAModule{}}
	for l := range m.Layers {
		lins := m.Layers[l].Linears()
		for _, j := range idx {
			p.N += cfg.R * (lins[j].In() + lins[j].Out())
		}
	}
	p.Buf = make([]float32, 4*p.N)
	rng := rand.New(rand.NewPCG(seed, 0x10a4))
	off := 0
	params, grads := p.Params(), p.Grads()
	for l := range m.Layers {
		lins := m.Layers[l].Linears()
		for _, j := range idx {
			in, out := lins[j].In(), lins[j].Out()
			na, nb := cfg.R*in, out*cfg.R
			A := params[off : off+na]
			bound := 1 / math.Sqrt(float64(in))
			for i := range A {
				A[i] = float32((2*rng.Float64() - 1) * bound)
			}
			mod := LoRAModule{Layer: l, Index: j, Name: LinearNames[j],
				LoRA: &LoRA{A: A, B: params[off+na : off+na+nb], R: cfg.R, In: in, Out: out, Scale: cfg.Scale()},
				GA:   grads[off : off+na], GB: grads[off+na : off+na+nb]}
			p.Modules = append(p.Modules, mod)
			off += na + nb
		}
	}
	for i := range p.Modules {
		p.byKey[p.Modules[i].Layer*8+p.Modules[i].Index] = &p.Modules[i]
	}
	return p, nil
}

// Adapter returns the adapters as an inference Adapter sharing the
// parameter buffer (so Model.WithAdapter serves the current weights).
func (p *LoRAParams) Adapter(baseModel string) *Adapter {
	a := &Adapter{Config: AdapterConfig{PeftType: "LORA", R: p.Config.R, LoRAAlpha: p.Config.Alpha,
		UseRSLoRA: p.Config.RSLoRA, BaseModel: baseModel, TargetModules: p.targetNames()},
		Modules: map[string]*LoRA{}}
	for _, m := range p.Modules {
		a.Modules[fmt.Sprintf("%d.%s", m.Layer, m.Name)] = m.LoRA
	}
	return a
}

// targetNames returns the short names of the adapted modules in HF order.
func (p *LoRAParams) targetNames() []string {
	var out []string
	for _, m := range p.Modules {
		short := m.Name[strings.IndexByte(m.Name, '.')+1:]
		if !slices.Contains(out, short) {
			out = append(out, short)
		}
	}
	return out
}

// loraAct is what LoRAForward saves for LoRABackward.
type loraAct struct {
	h    []float32 // [n×R] Scale·xd·Aᵀ
	xd   []float32 // [n×In] dropped-out input, or nil without dropout
	keep []bool    // [n×In] dropout mask, nil without dropout
}

// LoRAForward adds Scale·(drop(x)·Aᵀ)·Bᵀ into y[n×Out] for x[n×In] and
// saves h and the dropout mask in act. A dropout p > 0 zeroes inputs with
// probability p and scales the rest by 1/(1−p), drawing from rng.
func LoRAForward(y, x []float32, l *LoRA, n int, p float64, rng *rand.Rand, act *loraAct) {
	xd := x[:n*l.In]
	if p > 0 && rng != nil {
		act.xd = grow(act.xd, n*l.In)
		if cap(act.keep) < n*l.In {
			act.keep = make([]bool, n*l.In)
		}
		act.keep = act.keep[:n*l.In]
		inv := float32(1 / (1 - p))
		for i, v := range xd {
			k := rng.Float64() >= p
			act.keep[i] = k
			if k {
				act.xd[i] = v * inv
			} else {
				act.xd[i] = 0
			}
		}
		xd = act.xd
	} else {
		act.xd, act.keep = nil, nil
	}
	act.h = grow(act.h, n*l.R)
	tensor.MatMulNT(act.h, xd, l.A, n, l.R, l.In, false)
	tensor.Scale(act.h, l.Scale)
	tensor.MatMulNT(y, act.h, l.B, n, l.Out, l.R, true)
}

// LoRABackward mirrors LoRAForward:
//
//	dx     [n×In]   += gradient with respect to x (nil: not needed)
//	gA, gB          += gradients of A [R×In] and B [Out×R]
//	dy     [n×Out]  gradient with respect to y
//	x      [n×In]   the forward's input
//	dh     [n×R]    scratch
//	dxd    [n×In]   scratch (used with dropout only)
func LoRABackward(dx, gA, gB, dy, x []float32, l *LoRA, n int, p float64, act *loraAct, dh, dxd []float32) {
	xd := x[:n*l.In]
	if act.xd != nil {
		xd = act.xd
	}
	// dB += dyᵀ·h (h already carries the scale)
	tensor.MatMulTN(gB, dy, act.h, l.Out, l.R, n, true)
	// dh = Scale·dy·B
	tensor.MatMulNN(dh, dy, l.B, n, l.R, l.Out, false)
	tensor.Scale(dh[:n*l.R], l.Scale)
	// dA += dhᵀ·xd
	tensor.MatMulTN(gA, dh, xd, l.R, l.In, n, true)
	if dx == nil {
		return
	}
	if act.keep == nil {
		tensor.MatMulNN(dx, dh, l.A, n, l.In, l.R, true)
		return
	}
	tensor.MatMulNN(dxd, dh, l.A, n, l.In, l.R, false)
	inv := float32(1 / (1 - p))
	for i, k := range act.keep {
		if k {
			dx[i] += dxd[i] * inv
		}
	}
}
