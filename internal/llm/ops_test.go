package llm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// naiveAttention is the textbook definition in float64.
func naiveAttention(q, k, v []float32, T, pos0, nH, nKV, hd, window int) []float64 {
	out := make([]float64, T*nH*hd)
	S := pos0 + T
	for t := 0; t < T; t++ {
		p := pos0 + t
		for h := 0; h < nH; h++ {
			g := h / (nH / nKV)
			scores := make([]float64, S)
			mx := math.Inf(-1)
			for j := 0; j <= p; j++ {
				if window > 0 && j <= p-window {
					scores[j] = math.Inf(-1)
					continue
				}
				var d float64
				for i := 0; i < hd; i++ {
					d += float64(q[(t*nH+h)*hd+i]) * float64(k[(j*nKV+g)*hd+i])
				}
				scores[j] = d / math.Sqrt(float64(hd))
				mx = math.Max(mx, scores[j])
			}
			var sum float64
			for j := 0; j <= p; j++ {
				scores[j] = math.Exp(scores[j] - mx)
				sum += scores[j]
			}
			for j := 0; j <= p; j++ {
				for i := 0; i < hd; i++ {
					out[(t*nH+h)*hd+i] += scores[j] / sum * float64(v[(j*nKV+g)*hd+i])
				}
			}
		}
	}
	return out
}

func TestAttentionForwardMatchesNaive(t *testing.T) {
	tests := []struct{ T, pos0, nH, nKV, hd, window int }{
		{1, 0, 4, 2, 8, 0},
		{1, 40, 4, 1, 8, 7},
		{5, 0, 2, 2, 4, 0},
		{300, 0, 3, 1, 16, 0},   // several query blocks
		{200, 90, 4, 2, 8, 64},  // offset start, window inside the blocks
		{130, 10, 2, 1, 8, 300}, // window longer than the sequence
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, 2))
			S := tc.pos0 + tc.T
			fill := func(n int) []float32 {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(r.NormFloat64())
				}
				return x
			}
			q, k, v := fill(tc.T*tc.nH*tc.hd), fill(S*tc.nKV*tc.hd), fill(S*tc.nKV*tc.hd)
			out := make([]float32, tc.T*tc.nH*tc.hd)
			att := make([]float32, tc.nH*tc.T*S)
			scratch := make([]float32, AttentionScratchSize(tc.T, S, tc.nH, tc.hd))
			AttentionForward(out, att, q, k, v, scratch, tc.T, tc.pos0, tc.nH, tc.nKV, tc.hd, tc.window)
			want := naiveAttention(q, k, v, tc.T, tc.pos0, tc.nH, tc.nKV, tc.hd, tc.window)
			for i := range want {
				if math.Abs(float64(out[i])-want[i]) > 1e-4 {
					t.Fatalf("out[%d] = %g, want %g", i, out[i], want[i])
				}
			}
			for h := 0; h < tc.nH; h++ {
				for tq := 0; tq < tc.T; tq++ {
					var sum float64
					for _, p := range att[(h*tc.T+tq)*S : (h*tc.T+tq+1)*S] {
						sum += float64(p)
					}
					if math.Abs(sum-1) > 1e-4 {
						t.Fatalf("att row h%d t%d sums to %g", h, tq, sum)
					}
				}
			}
		})
	}
}

func TestExp32(t *testing.T) {
	worst := 0.0
	for x := -87.0; x < 88.0; x += 0.0137 {
		got := float64(exp32(float32(x)))
		want := math.Exp(float64(float32(x)))
		worst = math.Max(worst, math.Abs(got-want)/want)
	}
	if worst > 3e-7 {
		t.Errorf("max relative error %g", worst)
	}
	if !math.IsInf(float64(exp32(100)), 1) || exp32(-100) != 0 || exp32(0) != 1 {
		t.Error("saturation or exp(0) wrong")
	}
}
