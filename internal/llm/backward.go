package llm

import (
	"fmt"
	"math"
	"sync"

	"github.com/whet-dev/whet/internal/tensor"
)

// Backward passes of the decoder's ops, llm.c style: each mirrors its
// forward function, takes explicit shapes and reads what the forward saved.
// Functions named "…Backward" accumulate (+=) into input gradients that
// several paths feed (residual streams, shared keys and values) and say so;
// the others overwrite.

// EmbeddingBackward adds dout[T×C] into the rows of demb[V×C] selected by
// tokens[T]. The engine freezes embeddings; it exists for completeness.
func EmbeddingBackward(demb, dout []float32, tokens []int, C int) {
	for t, id := range tokens {
		tensor.Axpy(1, dout[t*C:(t+1)*C], demb[id*C:(id+1)*C])
	}
}

// RMSNormBackward mirrors RMSNormForward(out, rstd, x, w, T, C, eps):
//
//	dx   [T×C]  += gradient with respect to x
//	dw   [C]    += gradient with respect to w (nil: frozen)
//	dout [T×C]  gradient with respect to out
//	x    [T×C], w [C], rstd [T] as saved by the forward
//
// With x̂ = x·rstd and g = dout⊙w: dx = rstd·(g − x̂·mean(g⊙x̂)).
//
// Without dw, rows run in parallel.
func RMSNormBackward(dx, dw, dout, x, w, rstd []float32, T, C int) {
	if dw == nil && T > 1 {
		tensor.ParallelGrain(T, 64, func(lo, hi int) {
			rmsNormBackwardRows(dx[lo*C:hi*C], nil, dout[lo*C:hi*C], x[lo*C:hi*C], w, rstd[lo:hi], hi-lo, C)
		})
		return
	}
	rmsNormBackwardRows(dx, dw, dout, x, w, rstd, T, C)
}

func rmsNormBackwardRows(dx, dw, dout, x, w, rstd []float32, T, C int) {
	for t := 0; t < T; t++ {
		xr, dr, dxr := x[t*C:(t+1)*C], dout[t*C:(t+1)*C], dx[t*C:(t+1)*C]
		rs := rstd[t]
		var dot float64
		for i, v := range xr {
			dot += float64(dr[i]*w[i]) * float64(v*rs)
		}
		m := float32(dot / float64(C))
		for i, v := range xr {
			xh := v * rs
			dxr[i] += rs * (dr[i]*w[i] - xh*m)
			if dw != nil {
				dw[i] += dr[i] * xh
			}
		}
	}
}

// LayerNormBackward mirrors tensor.LayerNorm(out, x, w, b, T, C, eps, mean,
// rstd): dx [T×C], dw and db [C] (either may be nil) are accumulated.
// With x̂ = (x−mean)·rstd and g = dout⊙w:
// dx = rstd·(g − mean(g) − x̂·mean(g⊙x̂)).
func LayerNormBackward(dx, dw, db, dout, x, w, mean, rstd []float32, T, C int) {
	for t := 0; t < T; t++ {
		xr, dr, dxr := x[t*C:(t+1)*C], dout[t*C:(t+1)*C], dx[t*C:(t+1)*C]
		mu, rs := mean[t], rstd[t]
		var sg, sgx float64
		for i, v := range xr {
			g := float64(dr[i] * w[i])
			sg += g
			sgx += g * float64((v-mu)*rs)
		}
		mg, mgx := float32(sg/float64(C)), float32(sgx/float64(C))
		for i, v := range xr {
			xh := (v - mu) * rs
			dxr[i] += rs * (dr[i]*w[i] - mg - xh*mgx)
			if dw != nil {
				dw[i] += dr[i] * xh
			}
			if db != nil {
				db[i] += dr[i]
			}
		}
	}
}

// GELUBackward writes dx[i] = dout[i]·GELU'(x[i]) over len(dx) elements
// (exact GELU; tanh is true for the tanh approximation).
func GELUBackward(dx, dout, x []float32, tanh bool) {
	for i := range dx {
		if tanh {
			dx[i] = dout[i] * tensor.GELUTanhGrad(x[i])
		} else {
			dx[i] = dout[i] * tensor.GELUGrad(x[i])
		}
	}
}

// SwiGLUBackward mirrors SwiGLUForward(out, gate, up): it writes
// dgate = dout·up·silu'(gate) and dup = dout·silu(gate) over len(dout)
// elements. dgate may alias gate, and dup up, since each element is read
// before it is written.
func SwiGLUBackward(dgate, dup, dout, gate, up []float32) {
	n := len(dout)
	tensor.ParallelGrain(n, 1<<14, func(lo, hi int) {
		tensor.SwiGLUBackward(dgate[lo:hi], dup[lo:hi], dout[lo:hi], gate[lo:hi], up[lo:hi])
	})
}

// RoPEBackward turns the gradient with respect to RoPEForward's output
// dx[T×nHeads×headDim] into the gradient with respect to its input, in
// place: the rotation is orthogonal, so its backward is the inverse
// rotation.
func RoPEBackward(dx []float32, pos []int, nHeads, headDim int, cos, sin []float32) {
	tensor.RoPEInverse(dx, pos, nHeads, headDim, cos, sin)
}

// AttentionBackwardScratchSize returns the scratch AttentionBackward needs.
func AttentionBackwardScratchSize(T, S, nKV int) int { return nKV * T * S }

// AttentionBackward mirrors AttentionForward(out, att, q, k, v, …):
//
//	dq      [T×nHeads×headDim]  gradient with respect to q (overwritten)
//	dk, dv  [S×nKV×headDim]     gradients with respect to k and v (accumulated)
//	dout    [T×nHeads×headDim]  gradient with respect to out
//	att     [nHeads×T×S]        softmax probabilities saved by the forward
//	q, k, v                     the forward's inputs
//	scratch [AttentionBackwardScratchSize(T, S, nKV)]
//
// Per head, with P the probabilities and s = 1/√headDim: dV += Pᵀ·dO,
// dP = dO·Vᵀ, dZ = P⊙(dP − rowsum(dP⊙P)), dQ = s·dZ·K, dK += s·dZᵀ·Q.
// Masked keys have P = 0 and so get no gradient. Queries go in blocks of
// up to 128 whose products span only the keys the block sees (causal
// blocks skip the upper triangle). Heads run in parallel on up to nKV
// workers; with more than one, each accumulates dK and dV into its own
// buffer and the buffers are summed at the end in a fixed order.
func AttentionBackward(dq, dk, dv, dout, att, q, k, v, scratch []float32, T, pos0, nHeads, nKV, headDim, window int) {
	S := pos0 + T
	if len(scratch) < AttentionBackwardScratchSize(T, S, nKV) || len(att) < nHeads*T*S || len(dq) < T*nHeads*headDim ||
		len(dk) < S*nKV*headDim || len(dv) < S*nKV*headDim || nKV <= 0 || nHeads%nKV != 0 {
		panic(fmt.Sprintf("llm: AttentionBackward: bad buffers for T=%d S=%d heads=%d/%d dim=%d", T, S, nHeads, nKV, headDim))
	}
	qdim, kvdim, group := nHeads*headDim, nKV*headDim, nHeads/nKV
	scale := m32InvSqrt(headDim)
	qb := min(T, attnQueryBlock)
	head := func(h int, dp, dkAcc, dvAcc []float32) {
		p := att[h*T*S : (h+1)*T*S]
		qo, off := h*headDim, (h/group)*headDim
		for t0 := 0; t0 < T; t0 += qb {
			n := min(qb, T-t0)
			blo, _ := keyRange(pos0+t0, window)
			_, bhi := keyRange(pos0+t0+n-1, window)
			nk := bhi - blo
			pb, db := p[t0*S+blo:], dp[t0*S+blo:]
			// dV[blo:bhi] += Pᵀ[nk×n]·dO[n×hd]
			tensor.MatMulStrided(true, false, nk, headDim, n, pb, S, dout[t0*qdim+qo:], qdim, dvAcc[blo*kvdim+off:], kvdim, true)
			// dP[n×nk] = dO[n×hd]·V[blo:bhi]ᵀ
			tensor.MatMulStrided(false, true, n, nk, headDim, dout[t0*qdim+qo:], qdim, v[blo*kvdim+off:], kvdim, db, S, false)
			for t := 0; t < n; t++ {
				pr, dr := pb[t*S:t*S+nk], db[t*S:t*S+nk]
				lo, hi := keyRange(pos0+t0+t, window)
				lo, hi = lo-blo, hi-blo
				var dot float32
				for j := lo; j < hi; j++ {
					dot += pr[j] * dr[j]
				}
				clear(dr[:lo])
				clear(dr[hi:])
				for j := lo; j < hi; j++ {
					dr[j] = pr[j] * (dr[j] - dot) * scale
				}
			}
			// dQ[n×hd] = dZ[n×nk]·K[blo:bhi]
			tensor.MatMulStrided(false, false, n, headDim, nk, db, S, k[blo*kvdim+off:], kvdim, dq[t0*qdim+qo:], qdim, false)
			// dK[blo:bhi] += dZᵀ[nk×n]·Q[n×hd]
			tensor.MatMulStrided(true, false, nk, headDim, n, db, S, q[t0*qdim+qo:], qdim, dkAcc[blo*kvdim+off:], kvdim, true)
		}
	}
	workers := min(nKV, attnWorkers(nHeads))
	if workers == 1 {
		for h := 0; h < nHeads; h++ {
			head(h, scratch[:T*S], dk, dv)
		}
		return
	}
	// Heads are dealt to workers statically (h ≡ w mod workers), so each
	// dK/dV sum is formed in the same order on every run (seeded runs stay
	// bit-for-bit deterministic at a given thread count).
	var wg sync.WaitGroup
	parts := make([]*[]float32, workers)
	for w := 0; w < workers; w++ {
		buf := attnPartPool.Get().(*[]float32)
		if cap(*buf) < 2*S*kvdim {
			*buf = make([]float32, 2*S*kvdim)
		}
		*buf = (*buf)[:2*S*kvdim]
		clear(*buf)
		parts[w] = buf
		dp := scratch[w*T*S : (w+1)*T*S]
		wg.Go(func() {
			for h := w; h < nHeads; h += workers {
				head(h, dp, (*buf)[:S*kvdim], (*buf)[S*kvdim:])
			}
		})
	}
	wg.Wait()
	for _, buf := range parts {
		tensor.Add(dk[:S*kvdim], dk[:S*kvdim], (*buf)[:S*kvdim])
		tensor.Add(dv[:S*kvdim], dv[:S*kvdim], (*buf)[S*kvdim:])
		attnPartPool.Put(buf)
	}
}

// attnPartPool recycles AttentionBackward's per-worker dK/dV buffers.
var attnPartPool = sync.Pool{New: func() any { return new([]float32) }}

// CrossEntropyForward computes, for T rows of logits[T×V] with targets[T]
// (a target below 0 masks the row), logp[t] = log softmax(logits[t])[target]
// and saves lse[t] = logsumexp(logits[t]) for the backward. Masked rows get
// logp 0. The loss of a row is −logp. Scratch contract: rows are
// overwritten with their softmax probabilities (the vectorised softmax is
// the fast path); rows whose target lies more than 60 nats below the row
// maximum are computed in float64 instead and left unchanged.
func CrossEntropyForward(logp, lse, logits []float32, targets []int, T, V int) {
	for t := 0; t < T; t++ {
		if targets[t] < 0 {
			logp[t], lse[t] = 0, 0
			continue
		}
		row := logits[t*V : (t+1)*V]
		zt := row[targets[t]]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		if zt-mx > -60 {
			// p_target ≥ e^-60 survives float32: use the SIMD softmax.
			tensor.SoftmaxInPlace(row)
			lp := float32(math.Log(float64(row[targets[t]])))
			logp[t], lse[t] = lp, zt-lp
			continue
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v - mx))
		}
		l := float32(float64(mx) + math.Log(s))
		lse[t] = l
		logp[t] = zt - l
	}
}

// CrossEntropyForwardGrad is CrossEntropyForward followed by the backward
// at unit scale: it writes logp and lse as CrossEntropyForward does and
// overwrites each row of logits with softmax(logits[t]) − onehot(target),
// the gradient of the row's loss −logp[t] with respect to its logits (zeros
// on masked rows). A training step scales row t by its dloss[t] later, which
// lets the caller fold the LM head's input gradient into the forward pass.
// Rows run in parallel.
func CrossEntropyForwardGrad(logp, lse, logits []float32, targets []int, T, V int) {
	tensor.Parallel(T, func(lo, hi int) {
		crossEntropyForwardGradRows(logp[lo:hi], lse[lo:hi], logits[lo*V:hi*V], targets[lo:hi], hi-lo, V)
	})
}

func crossEntropyForwardGradRows(logp, lse, logits []float32, targets []int, T, V int) {
	for t := 0; t < T; t++ {
		row := logits[t*V : (t+1)*V]
		tg := targets[t]
		if tg < 0 {
			logp[t], lse[t] = 0, 0
			clear(row)
			continue
		}
		zt := row[tg]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		if zt-mx > -60 {
			tensor.SoftmaxInPlace(row)
			lp := float32(math.Log(float64(row[tg])))
			logp[t], lse[t] = lp, zt-lp
			row[tg]--
			continue
		}
		var s float64
		for _, v := range row {
			s += math.Exp(float64(v - mx))
		}
		l := float64(mx) + math.Log(s)
		lse[t], logp[t] = float32(l), zt-float32(l)
		for i, v := range row {
			row[i] = float32(math.Exp(float64(v) - l))
		}
		row[tg]--
	}
}

// CrossEntropyBackward mirrors CrossEntropyForward: with dloss[t] the
// gradient of the objective with respect to row t's loss (−logp[t]), it
// writes dlogits[t] = dloss[t]·(softmax(logits[t]) − onehot(target)).
// dlogits may alias logits. Masked rows get zeros. For the mean over
// unmasked rows, dloss = 1/count; see MaskedMeanLoss.
func CrossEntropyBackward(dlogits, logits, lse []float32, targets []int, dloss []float32, T, V int) {
	for t := 0; t < T; t++ {
		row, dr := logits[t*V:(t+1)*V], dlogits[t*V:(t+1)*V]
		if targets[t] < 0 || dloss[t] == 0 {
			clear(dr)
			continue
		}
		d, l := dloss[t], lse[t]
		if &dr[0] == &row[0] {
			// In place: the SIMD softmax equals exp(v − lse) up to rounding.
			tensor.SoftmaxInPlace(dr)
			tensor.Scale(dr, d)
		} else {
			for i, v := range row {
				dr[i] = d * float32(math.Exp(float64(v-l)))
			}
		}
		dr[targets[t]] -= d
	}
}

// MaskedMeanLoss returns the mean of −logp over unmasked rows and fills
// dloss[T] with the gradient of that mean (1/count on unmasked rows, 0
// elsewhere). It returns 0 when every row is masked.
func MaskedMeanLoss(dloss, logp []float32, targets []int) float64 {
	n := 0
	for _, tg := range targets {
		if tg >= 0 {
			n++
		}
	}
	var s float64
	for t, tg := range targets {
		dloss[t] = 0
		if tg >= 0 {
			s -= float64(logp[t])
			dloss[t] = 1 / float32(n)
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// LinearBackward adds the input gradient dy[n×out]·W into dx[n×in] through
// the frozen weight (biases are frozen too). A LoRA delta's gradients are
// handled by LoRABackward.
func LinearBackward(dx, dy []float32, l *Linear, n int) {
	l.W.MulAcc(dx, dy, n)
}

// logSoftmaxT writes log softmax(z/τ) of row into out.
func logSoftmaxT(out, row []float32, tau float32) {
	mx := row[0]
	for _, v := range row {
		mx = max(mx, v)
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64((v - mx) / tau))
	}
	l := float32(math.Log(s))
	for i, v := range row {
		out[i] = (v-mx)/tau - l
	}
}

// DistillForward computes, for T rows of student logits[T×V] and teacher
// logits[T×V], negkl[t] = −τ²·KL(softmax(teacher/τ) ‖ softmax(student/τ))
// (τ = tau, 0 meaning 1), in the sign convention of CrossEntropyForward's
// logp (the row's loss is −negkl).
func DistillForward(negkl, logits, teacher []float32, T, V int, tau float32) {
	if tau <= 0 {
		tau = 1
	}
	ls, lt := make([]float32, V), make([]float32, V)
	for t := 0; t < T; t++ {
		logSoftmaxT(ls, logits[t*V:(t+1)*V], tau)
		logSoftmaxT(lt, teacher[t*V:(t+1)*V], tau)
		var kl float64
		for i := range ls {
			p := math.Exp(float64(lt[i]))
			kl += p * float64(lt[i]-ls[i])
		}
		negkl[t] = -float32(kl) * tau * tau
	}
}

// DistillBackward mirrors DistillForward: dlogits[t] = dloss[t]·τ·
// (softmax(student/τ) − softmax(teacher/τ)). dlogits may alias logits.
func DistillBackward(dlogits, logits, teacher, dloss []float32, T, V int, tau float32) {
	if tau <= 0 {
		tau = 1
	}
	ls, lt := make([]float32, V), make([]float32, V)
	for t := 0; t < T; t++ {
		logSoftmaxT(ls, logits[t*V:(t+1)*V], tau)
		logSoftmaxT(lt, teacher[t*V:(t+1)*V], tau)
		d := dloss[t] * tau
		dr := dlogits[t*V : (t+1)*V]
		for i := range dr {
			dr[i] = d * (float32(math.Exp(float64(ls[i]))) - float32(math.Exp(float64(lt[i]))))
		}
	}
}
