package llm

import (
	"fmt"
	"math/rand/v2"

	"github.com/whet-dev/whet/internal/tensor"
)

// Batch is one training step's tokens: several documents packed into N
// rows. Each document attends only to itself (block-diagonal causal mask)
// and its positions start at 0, so packing is exact.
type Batch struct {
	Tokens  []int // [N]
	Targets []int // [N] the token row t should predict; < 0 masks the row
	Docs    []int // document lengths in order, summing to N; nil: one document
	// Teacher, when set, turns the objective into logit distillation: one
	// row of teacher logits [V] per row with a target (in order), and row
	// t's "loss" becomes τ²·KL(softmax(teacher/τ) ‖ softmax(student/τ))
	// with τ = Temperature (0: 1). Forward reports −KL in logp.
	Teacher     []float32
	Temperature float32
}

// ForwardOptions select how Trainer.Forward runs.
type ForwardOptions struct {
	Seed      uint64 // dropout masks derive from it (per layer and module)
	Dropout   bool   // apply LoRA dropout (training); false for evaluation
	NoAdapter bool   // run the frozen base only (DPO reference log-probs); no Backward after it
}

// layerAct is what one layer's forward saves for its backward. Shapes use
// N rows, C hidden, Q = heads×head_dim, KV = kv heads×head_dim, F
// intermediate.
type layerAct struct {
	xn1, xn2     []float32 // [N×C] normed inputs of attention and MLP
	rstd1, rstd2 []float32 // [N]
	q            []float32 // [N×Q] after RoPE
	k, v         []float32 // [N×KV] (k after RoPE)
	probs        []float32 // [Σ nHeads×len²] softmax probabilities per document
	attOut       []float32 // [N×Q] attention output before o_proj
	xmid         []float32 // [N×C] residual after attention
	gate, up     []float32 // [N×F]
	act          []float32 // [N×F] silu(gate)·up
	lora         [7]loraAct
}

// Trainer runs the forward and backward passes of a model with trainable
// LoRA adapters over packed batches. The base weights stay frozen; only
// LoRAParams.Grads receive gradients. It is not safe for concurrent use.
type Trainer struct {
	m *Model
	p *LoRAParams
	// Checkpoint keeps only each layer's input during Forward and
	// recomputes the layer's activations in Backward (less memory, about
	// one more forward of compute).
	Checkpoint bool

	// saved by Forward
	b       Batch
	opt     ForwardOptions
	pos     []int
	docs    []int
	xs      [][]float32 // [L+1][N×C] residual stream entering each layer (xs[L]: final)
	acts    []layerAct  // [L], or [1] with Checkpoint
	xf      []float32   // [N×C] after the final norm
	rstdF   []float32   // [N]
	rows    []int       // rows with a target
	logp    []float32   // [N]
	lse     []float32   // [N]
	scratch []float32
	tmp     []float32
	// backward buffers
	dx, dxn, dq, dk, dv, datt, dact, dup, dh, dxd, dlog, xc []float32
	// dhead [N×C], valid when headGrad: a training Forward (Dropout set)
	// also computes each target row's LM-head input gradient at unit loss
	// scale, so Backward only scales it by dloss instead of recomputing
	// the logits (one vocabulary-sized product less per step).
	dhead    []float32
	headGrad bool
}

// lmChunk is the number of rows whose logits exist at once (512 rows of a
// 49152-token vocabulary: 100 MB), large enough that the LM head weight is
// packed and streamed once per 512 rows (twice for a 4×256 batch).
const lmChunk = 512

// NewTrainer returns a trainer for m with adapters p (built for m).
func NewTrainer(m *Model, p *LoRAParams) *Trainer {
	return &Trainer{m: m, p: p}
}

// Model returns the trained model.
func (tr *Trainer) Model() *Model { return tr.m }

// Params returns the LoRA parameters.
func (tr *Trainer) Params() *LoRAParams { return tr.p }

// Forward runs the batch and returns logp[N], the log-probability of each
// row's target (0 on masked rows). The returned slice is reused by the next
// call. Activations are kept for Backward.
func (tr *Trainer) Forward(b *Batch, opt ForwardOptions) ([]float32, error) {
	m, c := tr.m, tr.m.Config
	N := len(b.Tokens)
	if N == 0 || len(b.Targets) != N {
		return nil, fmt.Errorf("llm: train forward: %d tokens, %d targets", N, len(b.Targets))
	}
	docs := b.Docs
	if docs == nil {
		docs = []int{N}
	}
	sum, maxLen := 0, 0
	for _, d := range docs {
		if d <= 0 {
			return nil, fmt.Errorf("llm: train forward: empty document")
		}
		sum += d
		maxLen = max(maxLen, d)
	}
	if sum != N {
		return nil, fmt.Errorf("llm: train forward: documents hold %d tokens, batch %d", sum, N)
	}
	if b.Teacher != nil {
		rows := 0
		for _, tg := range b.Targets {
			if tg >= 0 {
				rows++
			}
		}
		if len(b.Teacher) != rows*c.VocabSize {
			return nil, fmt.Errorf("llm: train forward: %d teacher logits for %d target rows", len(b.Teacher), rows)
		}
	}
	if maxLen > m.maxSeq {
		return nil, fmt.Errorf("%w: document of %d tokens, limit %d", ErrContextOverflow, maxLen, m.maxSeq)
	}
	for i, id := range b.Tokens {
		if id < 0 || id >= c.VocabSize || b.Targets[i] >= c.VocabSize {
			return nil, fmt.Errorf("llm: train forward: token id outside vocabulary [0,%d)", c.VocabSize)
		}
	}
	tr.b, tr.opt, tr.docs = *b, opt, docs
	if cap(tr.pos) < N {
		tr.pos = make([]int, N)
	}
	tr.pos = tr.pos[:N]
	r := 0
	for _, d := range docs {
		for i := 0; i < d; i++ {
			tr.pos[r] = i
			r++
		}
	}
	L, C := len(m.Layers), c.HiddenSize
	if len(tr.xs) != L+1 {
		tr.xs = make([][]float32, L+1)
	}
	for l := range tr.xs {
		tr.xs[l] = grow(tr.xs[l], N*C)
	}
	nActs := L
	if tr.Checkpoint {
		nActs = 1
	}
	if len(tr.acts) != nActs {
		tr.acts = make([]layerAct, nActs)
	}
	sc := 0
	for _, d := range docs {
		sc = max(sc, AttentionScratchSize(d, d, c.NumHeads, c.HeadDim), AttentionBackwardScratchSize(d, d, c.NumKVHeads))
	}
	tr.scratch = grow(tr.scratch, sc)
	tr.tmp = grow(tr.tmp, N*C)

	EmbeddingForward(tr.xs[0], b.Tokens, m.Embed)
	for l := 0; l < L; l++ {
		tr.layerForward(l, tr.actFor(l))
	}
	tr.xf = grow(tr.xf, N*C)
	tr.rstdF = grow(tr.rstdF, N)
	RMSNormForward(tr.xf, tr.rstdF, tr.xs[L], m.Norm, N, C, m.rmsEps())
	tr.rows = tr.rows[:0]
	for i, tg := range b.Targets {
		if tg >= 0 {
			tr.rows = append(tr.rows, i)
		}
	}
	tr.logp = grow(tr.logp, N)
	tr.lse = grow(tr.lse, N)
	clear(tr.logp)
	clear(tr.lse)
	V := c.VocabSize
	tr.dlog = grow(tr.dlog, lmChunk*V)
	tr.xc = grow(tr.xc, lmChunk*C)
	var lp, ls, ones [lmChunk]float32
	var tg [lmChunk]int
	grad := opt.Dropout && !opt.NoAdapter
	if grad {
		tr.dhead = grow(tr.dhead, N*C)
		for i := range ones {
			ones[i] = 1
		}
	}
	tr.headGrad = false
	for r0 := 0; r0 < len(tr.rows); r0 += lmChunk {
		n := min(lmChunk, len(tr.rows)-r0)
		tr.headLogits(r0, n, tg[:])
		switch {
		case b.Teacher != nil:
			DistillForward(lp[:n], tr.dlog[:n*V], b.Teacher[r0*V:(r0+n)*V], n, V, b.Temperature)
			if grad {
				DistillBackward(tr.dlog[:n*V], tr.dlog[:n*V], b.Teacher[r0*V:(r0+n)*V], ones[:n], n, V, b.Temperature)
			}
		case grad:
			CrossEntropyForwardGrad(lp[:n], ls[:n], tr.dlog[:n*V], tg[:n], n, V)
		default:
			CrossEntropyForward(lp[:n], ls[:n], tr.dlog[:n*V], tg[:n], n, V)
		}
		if grad {
			clear(tr.xc[:n*C])
			m.LMHead.W.MulAcc(tr.xc[:n*C], tr.dlog[:n*V], n)
			for i := 0; i < n; i++ {
				row := tr.rows[r0+i]
				copy(tr.dhead[row*C:(row+1)*C], tr.xc[i*C:(i+1)*C])
			}
		}
		for i := 0; i < n; i++ {
			tr.logp[tr.rows[r0+i]], tr.lse[tr.rows[r0+i]] = lp[i], ls[i]
		}
	}
	tr.headGrad = grad
	return tr.logp, nil
}

// headLogits gathers target rows r0..r0+n of the final hidden state into xc
// and writes their logits into dlog and targets into tg.
func (tr *Trainer) headLogits(r0, n int, tg []int) {
	C, V := tr.m.Config.HiddenSize, tr.m.Config.VocabSize
	for i := 0; i < n; i++ {
		row := tr.rows[r0+i]
		copy(tr.xc[i*C:(i+1)*C], tr.xf[row*C:(row+1)*C])
		tg[i] = tr.b.Targets[row]
	}
	linForward(&tr.m.LMHead, tr.dlog[:n*V], tr.xc[:n*C], n)
}

func (tr *Trainer) actFor(l int) *layerAct {
	if tr.Checkpoint {
		return &tr.acts[0]
	}
	return &tr.acts[l]
}

// linForward is Linear.Forward without the Delta (adapters are applied by
// the trainer so that it can save their activations).
func linForward(lin *Linear, y, x []float32, n int) {
	out := lin.W.Rows()
	mulT(lin.W, y, x, n)
	if lin.B != nil {
		for t := 0; t < n; t++ {
			tensor.Add(y[t*out:(t+1)*out], y[t*out:(t+1)*out], lin.B)
		}
	}
}

// project runs module j of layer l: base projection plus its adapter.
func (tr *Trainer) project(l, j int, a *layerAct, y, x []float32) {
	N := len(tr.b.Tokens)
	lin := tr.m.Layers[l].Linears()[j]
	linForward(lin, y, x, N)
	if tr.opt.NoAdapter {
		return
	}
	mod := tr.p.module(l, j)
	if mod == nil {
		return
	}
	var rng *rand.Rand
	p := tr.p.Config.Dropout
	if tr.opt.Dropout && p > 0 {
		rng = rand.New(rand.NewPCG(tr.opt.Seed, uint64(l*8+j+1)))
	} else {
		p = 0
	}
	LoRAForward(y, x, mod.LoRA, N, p, rng, &a.lora[j])
}

// layerForward runs layer l from xs[l] into xs[l+1], saving activations in a.
func (tr *Trainer) layerForward(l int, a *layerAct) {
	m, c := tr.m, tr.m.Config
	N := len(tr.b.Tokens)
	C, Q, KV, F := c.HiddenSize, c.QDim(), c.KVDim(), c.IntermediateSize
	for _, p := range []*[]float32{&a.xn1, &a.xn2, &a.xmid} {
		*p = grow(*p, N*C)
	}
	a.q, a.attOut = grow(a.q, N*Q), grow(a.attOut, N*Q)
	a.k, a.v = grow(a.k, N*KV), grow(a.v, N*KV)
	a.gate, a.up, a.act = grow(a.gate, N*F), grow(a.up, N*F), grow(a.act, N*F)
	a.rstd1, a.rstd2 = grow(a.rstd1, N), grow(a.rstd2, N)
	np := 0
	for _, d := range tr.docs {
		np += c.NumHeads * d * d
	}
	a.probs = grow(a.probs, np)

	L := &m.Layers[l]
	x, out := tr.xs[l], tr.xs[l+1]
	eps := m.rmsEps()
	RMSNormForward(a.xn1, a.rstd1, x, L.AttnNorm, N, C, eps)
	tr.project(l, 0, a, a.q, a.xn1)
	tr.project(l, 1, a, a.k, a.xn1)
	tr.project(l, 2, a, a.v, a.xn1)
	RoPEForward(a.q, tr.pos, c.NumHeads, c.HeadDim, m.cos, m.sin)
	RoPEForward(a.k, tr.pos, c.NumKVHeads, c.HeadDim, m.cos, m.sin)
	r0, po := 0, 0
	for _, d := range tr.docs {
		AttentionForward(a.attOut[r0*Q:], a.probs[po:], a.q[r0*Q:], a.k[r0*KV:(r0+d)*KV], a.v[r0*KV:(r0+d)*KV],
			tr.scratch, d, 0, c.NumHeads, c.NumKVHeads, c.HeadDim, c.SlidingWindow)
		r0 += d
		po += c.NumHeads * d * d
	}
	tr.project(l, 3, a, tr.tmp, a.attOut)
	tensor.Add(a.xmid, x, tr.tmp)
	RMSNormForward(a.xn2, a.rstd2, a.xmid, L.MLPNorm, N, C, eps)
	tr.project(l, 4, a, a.gate, a.xn2)
	tr.project(l, 5, a, a.up, a.xn2)
	SwiGLUForward(a.act, a.gate, a.up)
	tr.project(l, 6, a, tr.tmp, a.act)
	tensor.Add(out, a.xmid, tr.tmp)
}

// Backward accumulates into the LoRA gradients the gradient of
// Σ_t dloss[t]·(−logp[t]) for the last Forward (which must have run with
// adapters). dloss has one entry per row; masked rows are ignored.
func (tr *Trainer) Backward(dloss []float32) error {
	m, c := tr.m, tr.m.Config
	N := len(tr.b.Tokens)
	if N == 0 || len(dloss) != N || tr.opt.NoAdapter {
		return fmt.Errorf("llm: train backward: needs a Forward with adapters and %d losses (got %d)", N, len(dloss))
	}
	C, Q, KV, F, V := c.HiddenSize, c.QDim(), c.KVDim(), c.IntermediateSize, c.VocabSize
	tr.dx, tr.dxn = grow(tr.dx, N*C), grow(tr.dxn, N*C)
	tr.dq, tr.datt = grow(tr.dq, N*Q), grow(tr.datt, N*Q)
	tr.dk, tr.dv = grow(tr.dk, N*KV), grow(tr.dv, N*KV)
	tr.dact, tr.dup = grow(tr.dact, N*F), grow(tr.dup, N*F)
	tr.dh = grow(tr.dh, N*tr.p.Config.R)
	maxIn := max(C, Q, F)
	if tr.p.Config.Dropout > 0 {
		tr.dxd = grow(tr.dxd, N*maxIn)
	}

	// Final norm and LM head, recomputing logits per chunk of target rows.
	dxf := tr.dxn
	clear(dxf)
	var tg [lmChunk]int
	var dl [lmChunk]float32
	var ls [lmChunk]float32
	if tr.headGrad {
		for _, row := range tr.rows {
			tensor.Axpy(dloss[row], tr.dhead[row*C:(row+1)*C], dxf[row*C:(row+1)*C])
		}
	}
	for r0 := 0; r0 < len(tr.rows) && !tr.headGrad; r0 += lmChunk {
		n := min(lmChunk, len(tr.rows)-r0)
		hit := false
		for i := 0; i < n; i++ {
			dl[i], ls[i] = dloss[tr.rows[r0+i]], tr.lse[tr.rows[r0+i]]
			hit = hit || dl[i] != 0
		}
		if !hit {
			continue
		}
		tr.headLogits(r0, n, tg[:])
		if tr.b.Teacher != nil {
			DistillBackward(tr.dlog[:n*V], tr.dlog[:n*V], tr.b.Teacher[r0*V:(r0+n)*V], dl[:n], n, V, tr.b.Temperature)
		} else {
			CrossEntropyBackward(tr.dlog[:n*V], tr.dlog[:n*V], ls[:n], tg[:n], dl[:n], n, V)
		}
		clear(tr.xc[:n*C])
		m.LMHead.W.MulAcc(tr.xc[:n*C], tr.dlog[:n*V], n)
		for i := 0; i < n; i++ {
			row := tr.rows[r0+i]
			copy(dxf[row*C:(row+1)*C], tr.xc[i*C:(i+1)*C])
		}
	}
	clear(tr.dx)
	L := len(m.Layers)
	RMSNormBackward(tr.dx, nil, dxf, tr.xs[L], m.Norm, tr.rstdF, N, C)
	for l := L - 1; l >= 0; l-- {
		a := tr.actFor(l)
		if tr.Checkpoint {
			tr.layerForward(l, a)
		}
		tr.layerBackward(l, a)
	}
	return nil
}

// projectBackward adds module j's input gradient dy·W (+ its adapter's)
// into dx and accumulates the adapter's parameter gradients.
func (tr *Trainer) projectBackward(l, j int, a *layerAct, dx, dy, x []float32) {
	N := len(tr.b.Tokens)
	lin := tr.m.Layers[l].Linears()[j]
	LinearBackward(dx, dy, lin, N)
	mod := tr.p.module(l, j)
	if mod == nil {
		return
	}
	p := tr.p.Config.Dropout
	if !tr.opt.Dropout {
		p = 0
	}
	LoRABackward(dx, mod.GA, mod.GB, dy, x, mod.LoRA, N, p, &a.lora[j], tr.dh, tr.dxd)
}

// layerBackward turns tr.dx from the gradient of layer l's output into the
// gradient of its input, accumulating adapter gradients.
func (tr *Trainer) layerBackward(l int, a *layerAct) {
	m, c := tr.m, tr.m.Config
	N := len(tr.b.Tokens)
	C, Q, KV, F := c.HiddenSize, c.QDim(), c.KVDim(), c.IntermediateSize
	L := &m.Layers[l]
	// MLP: out = xmid + down(silu(gate)·up)
	dact := tr.dact[:N*F]
	clear(dact)
	tr.projectBackward(l, 6, a, dact, tr.dx, a.act)
	dgate := dact // overwritten in place by SwiGLUBackward
	SwiGLUBackward(dgate, tr.dup, dact, a.gate, a.up)
	clear(tr.dxn)
	tr.projectBackward(l, 4, a, tr.dxn, dgate, a.xn2)
	tr.projectBackward(l, 5, a, tr.dxn, tr.dup, a.xn2)
	RMSNormBackward(tr.dx, nil, tr.dxn, a.xmid, L.MLPNorm, a.rstd2, N, C)
	// Attention: xmid = x + o(attn(rope(q), rope(k), v))
	clear(tr.datt)
	tr.projectBackward(l, 3, a, tr.datt, tr.dx, a.attOut)
	clear(tr.dk)
	clear(tr.dv)
	r0, po := 0, 0
	for _, d := range tr.docs {
		AttentionBackward(tr.dq[r0*Q:], tr.dk[r0*KV:(r0+d)*KV], tr.dv[r0*KV:(r0+d)*KV], tr.datt[r0*Q:], a.probs[po:],
			a.q[r0*Q:], a.k[r0*KV:(r0+d)*KV], a.v[r0*KV:(r0+d)*KV], tr.scratch, d, 0, c.NumHeads, c.NumKVHeads, c.HeadDim, c.SlidingWindow)
		r0 += d
		po += c.NumHeads * d * d
	}
	RoPEBackward(tr.dq, tr.pos, c.NumHeads, c.HeadDim, m.cos, m.sin)
	RoPEBackward(tr.dk, tr.pos, c.NumKVHeads, c.HeadDim, m.cos, m.sin)
	clear(tr.dxn)
	tr.projectBackward(l, 0, a, tr.dxn, tr.dq, a.xn1)
	tr.projectBackward(l, 1, a, tr.dxn, tr.dk, a.xn1)
	tr.projectBackward(l, 2, a, tr.dxn, tr.dv, a.xn1)
	RMSNormBackward(tr.dx, nil, tr.dxn, tr.xs[l], L.AttnNorm, a.rstd1, N, C)
}
