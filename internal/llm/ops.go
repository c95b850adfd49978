package llm

import (
	"fmt"
	"math"

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
// reciprocal RMS of each row in rstd[T] (nil: not saved).
func RMSNormForward(out, rstd, x, w []float32, T, C int, eps float32) {
	tensor.RMSNorm(out, x, w, T, C, eps, rstd)
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
	for i := range out {
		out[i] = tensor.SiLU(gate[i]) * up[i]
	}
}

// keyRange returns the keys [lo, hi) that the query at position p sees.
func keyRange(p, window int) (lo, hi int) {
	if window > 0 && p-window+1 > 0 {
		lo = p - window + 1
	}
	return lo, p + 1
}

// AttentionScratchSize returns the scratch AttentionForward needs for T
// queries over S = pos0+T keys.
func AttentionScratchSize(T, S, nHeads, headDim int) int {
	if T == 1 {
		return nHeads * S
	}
	return nHeads * ((2*S+2*T)*headDim + T*S)
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
// per head. Heads run in parallel.
func AttentionForward(out, att, q, k, v, scratch []float32, T, pos0, nHeads, nKV, headDim, window int) {
	S := pos0 + T
	if len(scratch) < AttentionScratchSize(T, S, nHeads, headDim) || len(q) < T*nHeads*headDim ||
		len(out) < T*nHeads*headDim || len(k) < S*nKV*headDim || len(v) < S*nKV*headDim ||
		(att != nil && len(att) < nHeads*T*S) || nHeads%nKV != 0 {
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
	lo0, _ := keyRange(pos0, window)
	Sk := S - lo0
	per := (2*S+2*T)*headDim + T*S
	tensor.Parallel(nHeads, func(h0, h1 int) {
		for h := h0; h < h1; h++ {
			buf := scratch[h*per : (h+1)*per]
			kh, buf := buf[:Sk*headDim], buf[Sk*headDim:]
			vh, buf := buf[:Sk*headDim], buf[Sk*headDim:]
			qh, buf := buf[:T*headDim], buf[T*headDim:]
			oh, buf := buf[:T*headDim], buf[T*headDim:]
			sc := buf[:T*Sk]
			off := (h / group) * headDim
			for j := 0; j < Sk; j++ {
				src := (lo0 + j) * kvdim
				copy(kh[j*headDim:(j+1)*headDim], k[src+off:src+off+headDim])
				copy(vh[j*headDim:(j+1)*headDim], v[src+off:src+off+headDim])
			}
			for t := 0; t < T; t++ {
				copy(qh[t*headDim:(t+1)*headDim], q[t*qdim+h*headDim:t*qdim+(h+1)*headDim])
			}
			tensor.MatMulNT(sc, qh, kh, T, Sk, headDim, false)
			for t := 0; t < T; t++ {
				lo, hi := keyRange(pos0+t, window)
				lo, hi = lo-lo0, hi-lo0
				row := sc[t*Sk : (t+1)*Sk]
				clear(row[:lo])
				clear(row[hi:])
				tensor.Scale(row[lo:hi], scale)
				tensor.SoftmaxInPlace(row[lo:hi])
				if att != nil {
					a := att[(h*T+t)*S : (h*T+t+1)*S]
					clear(a[:lo0])
					copy(a[lo0:], row)
				}
			}
			tensor.MatMulNN(oh, sc, vh, T, headDim, Sk, false)
			for t := 0; t < T; t++ {
				copy(out[t*qdim+h*headDim:t*qdim+(h+1)*headDim], oh[t*headDim:(t+1)*headDim])
			}
		}
	})
}

// m32InvSqrt returns 1/sqrt(n) as float32.
func m32InvSqrt(n int) float32 { return float32(1 / math.Sqrt(float64(n))) }
