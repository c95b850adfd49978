package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestAttentionBackwardBlocks compares AttentionBackward on sequences longer
// than one query block (causal blocks, sliding window, a cached prefix)
// with a direct loop over the formulas, on one and on several workers.
func TestAttentionBackwardBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for _, tc := range []struct{ T, pos0, nH, nKV, D, window int }{
		{300, 0, 4, 2, 8, 0}, {260, 0, 6, 3, 4, 70}, {140, 20, 2, 1, 4, 0},
	} {
		for _, procs := range []int{1, 2, 4} {
			t.Run(fmt.Sprintf("T=%d/pos0=%d/window=%d/procs=%d", tc.T, tc.pos0, tc.window, procs), func(t *testing.T) {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				T, S, nH, nKV, D := tc.T, tc.pos0+tc.T, tc.nH, tc.nKV, tc.D
				q, k, v := randVec(rng, T*nH*D, 1), randVec(rng, S*nKV*D, 1), randVec(rng, S*nKV*D, 1)
				dout := randVec(rng, T*nH*D, 1)
				out, att := make([]float32, T*nH*D), make([]float32, nH*T*S)
				AttentionForward(out, att, q, k, v, make([]float32, AttentionScratchSize(T, S, nH, D)), T, tc.pos0, nH, nKV, D, tc.window)
				dk0, dv0 := randVec(rng, S*nKV*D, 1), randVec(rng, S*nKV*D, 1) // accumulated into
				dq, dk, dv := make([]float32, len(q)), append([]float32(nil), dk0...), append([]float32(nil), dv0...)
				AttentionBackward(dq, dk, dv, dout, att, q, k, v, make([]float32, AttentionBackwardScratchSize(T, S, nKV)),
					T, tc.pos0, nH, nKV, D, tc.window)
				// Reference, in float64.
				wq, wk, wv := make([]float64, len(q)), make([]float64, len(k)), make([]float64, len(v))
				for i := range wk {
					wk[i], wv[i] = float64(dk0[i]), float64(dv0[i])
				}
				qd, kd, scale := nH*D, nKV*D, 1/math.Sqrt(float64(D))
				dp := make([]float64, S)
				for h := 0; h < nH; h++ {
					off := (h / (nH / nKV)) * D
					for t2 := 0; t2 < T; t2++ {
						p := att[(h*T+t2)*S : (h*T+t2+1)*S]
						do := dout[t2*qd+h*D : t2*qd+h*D+D]
						var sum float64
						for j := 0; j < S; j++ {
							dp[j] = 0
							for d := 0; d < D; d++ {
								wv[j*kd+off+d] += float64(p[j]) * float64(do[d])
								dp[j] += float64(do[d]) * float64(v[j*kd+off+d])
							}
							sum += dp[j] * float64(p[j])
						}
						for j := 0; j < S; j++ {
							dz := float64(p[j]) * (dp[j] - sum) * scale
							for d := 0; d < D; d++ {
								wq[t2*qd+h*D+d] += dz * float64(k[j*kd+off+d])
								wk[j*kd+off+d] += dz * float64(q[t2*qd+h*D+d])
							}
						}
					}
				}
				for name, pair := range map[string]struct {
					got  []float32
					want []float64
				}{"dq": {dq, wq}, "dk": {dk, wk}, "dv": {dv, wv}} {
					for i := range pair.want {
						if d := math.Abs(float64(pair.got[i]) - pair.want[i]); d > 1e-4*(1+math.Abs(pair.want[i])) {
							t.Fatalf("%s[%d] = %g, want %g", name, i, pair.got[i], pair.want[i])
						}
					}
				}
			})
		}
	}
}

// TestAttentionBackwardDeterministic checks that repeated calls on several
// workers give bit-identical gradients (seeded training runs rely on it).
func TestAttentionBackwardDeterministic(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	rng := rand.New(rand.NewPCG(23, 24))
	T, nH, nKV, D := 200, 9, 3, 8
	q, k, v := randVec(rng, T*nH*D, 1), randVec(rng, T*nKV*D, 1), randVec(rng, T*nKV*D, 1)
	dout := randVec(rng, T*nH*D, 1)
	out, att := make([]float32, T*nH*D), make([]float32, nH*T*T)
	AttentionForward(out, att, q, k, v, make([]float32, AttentionScratchSize(T, T, nH, D)), T, 0, nH, nKV, D, 0)
	var first []float32
	for rep := 0; rep < 20; rep++ {
		dq, dk, dv := make([]float32, len(q)), make([]float32, len(k)), make([]float32, len(v))
		AttentionBackward(dq, dk, dv, dout, att, q, k, v, make([]float32, AttentionBackwardScratchSize(T, T, nKV)), T, 0, nH, nKV, D, 0)
		got := append(append(dq, dk...), dv...)
		if first == nil {
			first = got
			continue
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(first[i]) {
				t.Fatalf("run %d differs at %d: %g vs %g", rep, i, got[i], first[i])
			}
		}
	}
}
