package llm

import (
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/whet-dev/whet/internal/tensor"
)

// EmbeddingForward writes out[T×C] with row t = emb[tokens[t], :]
// (emb [V×C]). It panics on an out-of-range token; callers validate ids.
func EmbeddingForward(out []float32, tokens []int, emb Matrix) {
	c := emb.Cols()
	for t, id := range tokens {
		emb.Row(id, out[t*c:(t+1)*c])
	}
}

// RMSNormForward computes out[T×C] = x / rms(x) ⊙ w per row and saves the
// reciprocal RMS of each row in rstd[T] (nil: not saved). Rows run in
// parallel.
func RMSNormForward(out, rstd, x, w []float32, T, C int, eps float32) {
	tensor.ParallelGrain(T, 64, func(lo, hi int) {
		var rs []float32
		if rstd != nil {
			rs = rstd[lo:hi]
		}
		tensor.RMSNorm(out[lo*C:hi*C], x[lo*C:hi*C], w, hi-lo, C, eps, rs)
	})
}

// RoPEForward rotates x[T×nHeads×headDim] in place at positions pos[T]
// (rotate-half convention) with tables from tensor.RoPETables.
func RoPEForward(x []float32, pos []int, nHeads, headDim int, cos, sin []float32) {
	tensor.RoPE(x, pos, nHeads, headDim, cos, sin)
}

// SwiGLUForward computes out[i] = silu(gate[i])·up[i] over len(out)
// elements. out may alias gate or up; backward needs gate and up, so a
// training caller keeps them and passes a separate out.
func SwiGLUForward(out, gate, up []float32) {
	gate, up = gate[:len(out)], up[:len(out)]
	tensor.ParallelGrain(len(out), 1<<14, func(lo, hi int) {
		tensor.SwiGLU(out[lo:hi], gate[lo:hi], up[lo:hi])
	})
}

// keyRange returns the keys [lo, hi) that the query at position p sees.
func keyRange(p, window int) (lo, hi int) {
	if window > 0 && p-window+1 > 0 {
		lo = p - window + 1
	}
	return lo, p + 1
}

// attnQueryBlock is the number of queries whose scores are computed by one
// SGEMM, bounding the score scratch to attnQueryBlock×S per worker.
const attnQueryBlock = 128

// attnWorkers is the number of heads processed concurrently.
func attnWorkers(nHeads int) int { return max(1, min(nHeads, runtime.GOMAXPROCS(0))) }

// AttentionScratchSize returns the scratch AttentionForward needs for T
// queries over S = pos0+T keys.
func AttentionScratchSize(T, S, nHeads, headDim int) int {
	if T == 1 {
		return nHeads * S
	}
	return attnWorkers(nHeads) * min(T, attnQueryBlock) * S
}

// AttentionForward is grouped-query causal attention for one sequence.
//
//	out     [T×nHeads×headDim]   result (before the output projection)
//	att     [nHeads×T×S] or nil  saved softmax probabilities for backward
//	q       [T×nHeads×headDim]   queries at positions pos0..pos0+T-1 (RoPE applied)
//	k, v    [S×nKV×headDim]      keys (RoPE applied) and values at positions 0..S-1, S = pos0+T
//	scratch [AttentionScratchSize(T, S, nHeads, headDim)]
//
// Query head h reads kv head h/(nHeads/nKV). The query at position p sees
// keys j ≤ p, and with window > 0 only j > p-window. One query (decoding)
// takes dot products per head; several (prefill, training) take two SGEMMs
// per block of up to 128 queries and head. Heads run in parallel.
func AttentionForward(out, att, q, k, v, scratch []float32, T, pos0, nHeads, nKV, headDim, window int) {
	S := pos0 + T
	if len(scratch) < AttentionScratchSize(T, S, nHeads, headDim) || len(q) < T*nHeads*headDim ||
		len(out) < T*nHeads*headDim || len(k) < S*nKV*headDim || len(v) < S*nKV*headDim ||
		(att != nil && len(att) < nHeads*T*S) || nKV <= 0 || nHeads%nKV != 0 {
		panic(fmt.Sprintf("llm: AttentionForward: bad buffers for T=%d S=%d heads=%d/%d dim=%d", T, S, nHeads, nKV, headDim))
	}
	qdim, kvdim, group := nHeads*headDim, nKV*headDim, nHeads/nKV
	scale := float32(1 / math.Sqrt(float64(headDim)))
	if T == 1 {
		lo, hi := keyRange(pos0, window)
		tensor.Parallel(nHeads, func(h0, h1 int) {
			for h := h0; h < h1; h++ {
				qh := q[h*headDim : (h+1)*headDim]
				off := (h / group) * headDim
				a := scratch[h*S : (h+1)*S]
				clear(a[:lo])
				for j := lo; j < hi; j++ {
					a[j] = tensor.Dot(qh, k[j*kvdim+off:]) * scale
				}
				tensor.SoftmaxInPlace(a[lo:hi])
				o := out[h*headDim : (h+1)*headDim]
				clear(o)
				for j := lo; j < hi; j++ {
					tensor.Axpy(a[j], v[j*kvdim+off:j*kvdim+off+headDim], o)
				}
				if att != nil {
					copy(att[h*S:(h+1)*S], a)
				}
			}
		})
		return
	}
	qb := min(T, attnQueryBlock)
	workers := attnWorkers(nHeads)
	var next atomic.Int32
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		sc := scratch[w*qb*S : (w+1)*qb*S]
		wg.Go(func() {
			for h := int(next.Add(1)) - 1; h < nHeads; h = int(next.Add(1)) - 1 {
				off := (h / group) * headDim
				for t0 := 0; t0 < T; t0 += qb {
					n := min(qb, T-t0)
					blo, _ := keyRange(pos0+t0, window)
					_, bhi := keyRange(pos0+t0+n-1, window)
					nk := bhi - blo
					// scores[n×nk] = Q_h[t0:t0+n] · K_g[blo:bhi]ᵀ on strided views,
					// straight into the saved probabilities when there are any.
					buf, ld := sc, nk
					if att != nil {
						buf, ld = att[(h*T+t0)*S+blo:], S
					}
					tensor.MatMulStrided(false, true, n, nk, headDim, q[t0*qdim+h*headDim:], qdim,
						k[blo*kvdim+off:], kvdim, buf, ld, false)
					for t := 0; t < n; t++ {
						lo, hi := keyRange(pos0+t0+t, window)
						lo, hi = lo-blo, hi-blo
						row := buf[t*ld : t*ld+nk]
						clear(row[:lo])
						clear(row[hi:])
						tensor.Scale(row[lo:hi], scale)
						tensor.SoftmaxInPlace(row[lo:hi])
						if att != nil {
							a := att[(h*T+t0+t)*S : (h*T+t0+t+1)*S]
							clear(a[:blo])
							clear(a[bhi:])
						}
					}
					// out_h[t0:t0+n] = P[n×nk] · V_g[blo:bhi].
					tensor.MatMulStrided(false, false, n, headDim, nk, buf, ld, v[blo*kvdim+off:], kvdim,
						out[t0*qdim+h*headDim:], qdim, false)
				}
			}
		})
	}
	wg.Wait()
}

// exp32 is e^x in float32 (Cephes expf: Cody-Waite reduction by ln 2 and a
// degree-6 polynomial, about 1 ulp), several times faster than math.Exp on
// float64. It saturates to +Inf above 88.72 and to 0 below -87.33.
func exp32(x float32) float32 {
	switch {
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654:
		return 0
	case x != x:
		return x
	}
	k := float32(math.Floor(float64(x*1.44269504088896341 + 0.5)))
	r := x - k*0.693359375 + k*2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	return y * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// m32InvSqrt returns 1/sqrt(n) as float32.
func m32InvSqrt(n int) float32 { return float32(1 / math.Sqrt(float64(n))) }
