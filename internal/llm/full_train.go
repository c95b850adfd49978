package llm

import (
	"fmt"
	"math"

	"github.com/whet-dev/whet/internal/tensor"
)

// Full-parameter training: every weight of an f32 model (embeddings, LM
// head, every projection weight and bias, every RMSNorm weight) receives a
// gradient. The forward pass is Trainer's (with no adapters); the backward
// mirrors Trainer.Backward and adds the weight gradients, each projection's
// as one SGEMM dW += dYᵀ·X.

// ParamTensor locates one model parameter inside FullParams.Buf.
type ParamTensor struct {
	Name   string // Hugging Face tensor name
	Offset int    // first element in the parameter section
	Size   int    // element count
	Shape  []int  // [rows, cols] for matrices, [n] for vectors
	// Decay reports whether weight decay applies: matrices yes, norms and
	// biases no.
	Decay bool
}

// layerGrads are the gradient views of one decoder layer.
type layerGrads struct {
	attnNorm, mlpNorm []float32 // [C]
	w, b              [7][]float32
}

// FullParams holds every parameter of a model and its AdamW state in one
// f32 buffer: [params | grads | first moment | second moment], N floats
// each. NewFullParams moves the model's weights into the parameter section,
// so the model (its inference Forward and Save included) always sees the
// current values.
type FullParams struct {
	Buf     []float32
	N       int
	Tensors []ParamTensor // in Hugging Face order; a tied LM head is not listed
	// gradient views
	gEmbed, gHead, gNorm []float32
	layers               []layerGrads
}

// Params returns the parameter section of Buf.
func (p *FullParams) Params() []float32 { return p.Buf[:p.N] }

// Grads returns the gradient section of Buf.
func (p *FullParams) Grads() []float32 { return p.Buf[p.N : 2*p.N] }

// Moments returns the AdamW first and second moments.
func (p *FullParams) Moments() (m, v []float32) { return p.Buf[2*p.N : 3*p.N], p.Buf[3*p.N : 4*p.N] }

// ZeroGrad clears the gradients.
func (p *FullParams) ZeroGrad() { clear(p.Grads()) }

// NewFullParams gathers the weights of m, which must hold f32 matrices,
// into one buffer and rebinds m's weights to views of it. The values are
// unchanged; m keeps working for inference.
func NewFullParams(m *Model) (*FullParams, error) {
	ps := m.params()
	n := 0
	for _, p := range ps {
		if p.mat != nil {
			if _, ok := (*p.mat).(*tensor.F32Mat); !ok {
				return nil, fmt.Errorf("%w: full-parameter training needs f32 weights (%s is %s)", ErrUnsupported, p.name, m.DType)
			}
			n += p.rows * p.cols
		} else {
			n += p.rows
		}
	}
	fp := &FullParams{Buf: make([]float32, 4*n), N: n, layers: make([]layerGrads, len(m.Layers))}
	params, grads := fp.Params(), fp.Grads()
	views := map[*[]float32][]float32{} // vector pointer → its gradient view
	off := 0
	for _, p := range ps {
		size, shape := p.rows, []int{p.rows}
		if p.mat != nil {
			size, shape = p.rows*p.cols, []int{p.rows, p.cols}
		}
		w, g := params[off:off+size:off+size], grads[off:off+size:off+size]
		if p.mat != nil {
			(*p.mat).Dequantize(w)
			*p.mat = tensor.NewF32Mat(p.rows, p.cols, w)
		} else {
			copy(w, *p.vec)
			*p.vec = w
			views[p.vec] = g
		}
		fp.Tensors = append(fp.Tensors, ParamTensor{Name: p.name, Offset: off, Size: size, Shape: shape, Decay: p.mat != nil})
		switch {
		case p.mat == &m.Embed:
			fp.gEmbed = g
		case p.mat == &m.LMHead.W:
			fp.gHead = g
		case p.vec == &m.Norm:
			fp.gNorm = g
		}
		off += size
	}
	if m.Config.TieWordEmbeddings {
		m.LMHead.W = m.Embed
		fp.gHead = fp.gEmbed
	}
	// Layer views, found again through the same pointers params() returned.
	off = 0
	for _, p := range ps {
		size := p.rows
		if p.mat != nil {
			size = p.rows * p.cols
		}
		for l := range m.Layers {
			L := &m.Layers[l]
			lg := &fp.layers[l]
			if p.vec == &L.AttnNorm {
				lg.attnNorm = views[p.vec]
			}
			if p.vec == &L.MLPNorm {
				lg.mlpNorm = views[p.vec]
			}
			for j, lin := range L.Linears() {
				if p.mat == &lin.W {
					lg.w[j] = grads[off : off+size : off+size]
				}
				if p.vec == &lin.B {
					lg.b[j] = views[p.vec]
				}
			}
		}
		off += size
	}
	return fp, nil
}

// FullTrainer runs the forward and backward passes of a model over packed
// batches with every parameter trainable; gradients accumulate into
// FullParams.Grads. It is not safe for concurrent use.
type FullTrainer struct {
	tr *Trainer
	p  *FullParams
	// Checkpoint keeps only each layer's input during Forward and
	// recomputes the layer's activations in Backward.
	Checkpoint bool
}

// NewFullTrainer returns a trainer for m whose parameters p were built by
// NewFullParams(m).
func NewFullTrainer(m *Model, p *FullParams) *FullTrainer {
	// An adapter set with no modules: Trainer's forward runs the plain model.
	return &FullTrainer{tr: NewTrainer(m, &LoRAParams{}), p: p}
}

// Model returns the trained model.
func (ft *FullTrainer) Model() *Model { return ft.tr.m }

// Params returns the parameters being trained.
func (ft *FullTrainer) Params() *FullParams { return ft.p }

// Forward runs the batch and returns logp[N], the log-probability of each
// row's target (0 on masked rows), as Trainer.Forward. The returned slice
// is reused by the next call.
func (ft *FullTrainer) Forward(b *Batch) ([]float32, error) {
	ft.tr.Checkpoint = ft.Checkpoint
	return ft.tr.Forward(b, ForwardOptions{})
}

// Backward accumulates into the parameter gradients the gradient of
// Σ_t dloss[t]·(−logp[t]) for the last Forward. dloss has one entry per
// row; masked rows are ignored.
func (ft *FullTrainer) Backward(dloss []float32) error {
	tr, g := ft.tr, ft.p
	m, c := tr.m, tr.m.Config
	N := len(tr.b.Tokens)
	if N == 0 || len(dloss) != N || len(tr.xs) != len(m.Layers)+1 {
		return fmt.Errorf("llm: full backward: needs a Forward and %d losses (got %d)", N, len(dloss))
	}
	C, V := c.HiddenSize, c.VocabSize
	ft.growBackward(N)

	// Final norm and LM head, recomputing logits per chunk of target rows.
	dxf := tr.dxn
	clear(dxf)
	var tg [lmChunk]int
	var dl, ls [lmChunk]float32
	for r0 := 0; r0 < len(tr.rows); r0 += lmChunk {
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
		dlog := tr.dlog[:n*V]
		if tr.b.Teacher != nil {
			DistillBackward(dlog, dlog, tr.b.Teacher[r0*V:(r0+n)*V], dl[:n], n, V, tr.b.Temperature)
		} else {
			CrossEntropyBackward(dlog, dlog, ls[:n], tg[:n], dl[:n], n, V)
		}
		// dW_head[V×C] += dlogitsᵀ·x
		tensor.MatMulTN(g.gHead, dlog, tr.xc[:n*C], V, C, n, true)
		clear(tr.xc[:n*C])
		m.LMHead.W.MulAcc(tr.xc[:n*C], dlog, n)
		for i := 0; i < n; i++ {
			row := tr.rows[r0+i]
			copy(dxf[row*C:(row+1)*C], tr.xc[i*C:(i+1)*C])
		}
	}
	ft.backwardFromHead(dxf)
	return nil
}

// ForwardBackward runs the batch forward and backward in one pass for the
// objective dscale·Σ_t −logp[t] over the rows with a target (dscale =
// 1/count gives the mean token loss): each chunk of LM-head logits turns
// into its gradient as soon as its loss is known, so the logits are
// computed once instead of again in Backward. It returns Σ −logp and the
// number of target rows. Distillation batches are not supported.
func (ft *FullTrainer) ForwardBackward(b *Batch, dscale float32) (lossSum float64, count int, err error) {
	if b.Teacher != nil {
		return 0, 0, fmt.Errorf("llm: full forward-backward: distillation batches need Forward and Backward")
	}
	// The trunk runs with every row masked, so Forward skips the head.
	masked := *b
	masked.Targets = make([]int, len(b.Targets))
	for i := range masked.Targets {
		masked.Targets[i] = -1
	}
	if len(b.Targets) != len(b.Tokens) {
		return 0, 0, fmt.Errorf("llm: full forward-backward: %d tokens, %d targets", len(b.Tokens), len(b.Targets))
	}
	for _, tg := range b.Targets {
		if tg >= ft.tr.m.Config.VocabSize {
			return 0, 0, fmt.Errorf("llm: full forward-backward: target outside vocabulary [0,%d)", ft.tr.m.Config.VocabSize)
		}
	}
	if _, err := ft.Forward(&masked); err != nil {
		return 0, 0, err
	}
	tr, g := ft.tr, ft.p
	m, c := tr.m, tr.m.Config
	N := len(b.Tokens)
	C, V := c.HiddenSize, c.VocabSize
	tr.b.Targets = b.Targets
	tr.rows = tr.rows[:0]
	for i, tg := range b.Targets {
		if tg >= 0 {
			tr.rows = append(tr.rows, i)
		}
	}
	ft.growBackward(N)
	dxf := tr.dxn
	clear(dxf)
	var tg [lmChunk]int
	for r0 := 0; r0 < len(tr.rows); r0 += lmChunk {
		n := min(lmChunk, len(tr.rows)-r0)
		tr.headLogits(r0, n, tg[:])
		dlog := tr.dlog[:n*V]
		var lp [lmChunk]float32
		tensor.ParallelGrain(n, 16, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				row := dlog[i*V : (i+1)*V]
				lp[i] = softmaxLogp(row, tg[i])
				tensor.Scale(row, dscale)
				row[tg[i]] -= dscale
			}
		})
		for _, v := range lp[:n] { // in row order: deterministic
			lossSum -= float64(v)
		}
		tensor.MatMulTN(g.gHead, dlog, tr.xc[:n*C], V, C, n, true)
		clear(tr.xc[:n*C])
		m.LMHead.W.MulAcc(tr.xc[:n*C], dlog, n)
		for i := 0; i < n; i++ {
			row := tr.rows[r0+i]
			copy(dxf[row*C:(row+1)*C], tr.xc[i*C:(i+1)*C])
		}
	}
	ft.backwardFromHead(dxf)
	return lossSum, len(tr.rows), nil
}

// softmaxLogp overwrites row with softmax(row) and returns log p[target],
// in float64 when p[target] would underflow float32 (as
// CrossEntropyForward).
func softmaxLogp(row []float32, target int) float32 {
	zt := row[target]
	// Four running maxima: independent chains the CPU overlaps.
	m0, m1, m2, m3 := row[0], row[0], row[0], row[0]
	i := 0
	for ; i+4 <= len(row); i += 4 {
		m0, m1, m2, m3 = max(m0, row[i]), max(m1, row[i+1]), max(m2, row[i+2]), max(m3, row[i+3])
	}
	for ; i < len(row); i++ {
		m0 = max(m0, row[i])
	}
	mx := max(m0, m1, m2, m3)
	var lp float32
	if zt-mx <= -60 {
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v - mx))
		}
		lp = float32(float64(zt-mx) - math.Log(s))
	}
	tensor.SoftmaxInPlace(row)
	if zt-mx > -60 {
		lp = float32(math.Log(float64(row[target])))
	}
	return lp
}

// growBackward sizes the backward buffers for N rows.
func (ft *FullTrainer) growBackward(N int) {
	tr, c := ft.tr, ft.tr.m.Config
	C, Q, KV, F := c.HiddenSize, c.QDim(), c.KVDim(), c.IntermediateSize
	tr.dx, tr.dxn = grow(tr.dx, N*C), grow(tr.dxn, N*C)
	tr.dq, tr.datt = grow(tr.dq, N*Q), grow(tr.datt, N*Q)
	tr.dk, tr.dv = grow(tr.dk, N*KV), grow(tr.dv, N*KV)
	tr.dact, tr.dup = grow(tr.dact, N*F), grow(tr.dup, N*F)
}

// backwardFromHead backpropagates dxf [N×C], the gradient with respect to
// the final norm's output, through the norm, every layer and the
// embedding.
func (ft *FullTrainer) backwardFromHead(dxf []float32) {
	tr, g := ft.tr, ft.p
	m, c := tr.m, tr.m.Config
	N, C := len(tr.b.Tokens), c.HiddenSize
	clear(tr.dx)
	L := len(m.Layers)
	RMSNormBackward(tr.dx, g.gNorm, dxf, tr.xs[L], m.Norm, tr.rstdF, N, C)
	for l := L - 1; l >= 0; l-- {
		a := tr.actFor(l)
		if tr.Checkpoint {
			tr.layerForward(l, a)
		}
		ft.layerBackward(l, a)
	}
	EmbeddingBackward(g.gEmbed, tr.dx, tr.b.Tokens, C)
}

// linBackward adds module j's input gradient dy·W into dx and accumulates
// its weight gradient dyᵀ·x and bias gradient Σ_rows dy.
func (ft *FullTrainer) linBackward(l, j int, dx, dy, x []float32) {
	N := len(ft.tr.b.Tokens)
	lin := ft.tr.m.Layers[l].Linears()[j]
	lg := &ft.p.layers[l]
	out, in := lin.Out(), lin.In()
	LinearBackward(dx, dy, lin, N)
	// dW[out×in] += dyᵀ[out×N]·x[N×in]
	tensor.MatMulTN(lg.w[j], dy[:N*out], x[:N*in], out, in, N, true)
	if gb := lg.b[j]; gb != nil {
		for t := 0; t < N; t++ {
			tensor.Axpy(1, dy[t*out:(t+1)*out], gb)
		}
	}
}

// layerBackward turns tr.dx from the gradient of layer l's output into the
// gradient of its input, accumulating the layer's parameter gradients.
func (ft *FullTrainer) layerBackward(l int, a *layerAct) {
	tr := ft.tr
	m, c := tr.m, tr.m.Config
	N := len(tr.b.Tokens)
	C, Q, KV, F := c.HiddenSize, c.QDim(), c.KVDim(), c.IntermediateSize
	L, lg := &m.Layers[l], &ft.p.layers[l]
	// MLP: out = xmid + down(silu(gate)·up)
	dact := tr.dact[:N*F]
	clear(dact)
	ft.linBackward(l, 6, dact, tr.dx, a.act)
	dgate := dact // overwritten in place by SwiGLUBackward
	SwiGLUBackward(dgate, tr.dup, dact, a.gate, a.up)
	clear(tr.dxn)
	ft.linBackward(l, 4, tr.dxn, dgate, a.xn2)
	ft.linBackward(l, 5, tr.dxn, tr.dup, a.xn2)
	RMSNormBackward(tr.dx, lg.mlpNorm, tr.dxn, a.xmid, L.MLPNorm, a.rstd2, N, C)
	// Attention: xmid = x + o(attn(rope(q), rope(k), v))
	clear(tr.datt)
	ft.linBackward(l, 3, tr.datt, tr.dx, a.attOut)
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
	ft.linBackward(l, 0, tr.dxn, tr.dq, a.xn1)
	ft.linBackward(l, 1, tr.dxn, tr.dk, a.xn1)
	ft.linBackward(l, 2, tr.dxn, tr.dv, a.xn1)
	RMSNormBackward(tr.dx, lg.attnNorm, tr.dxn, tr.xs[l], L.AttnNorm, a.rstd1, N, C)
}
