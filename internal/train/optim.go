package train

import (
	"math"

	"github.com/whet-dev/whet/internal/llm"
)

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), as
// torch.optim.AdamW: θ ← θ − lr·(m̂/(√v̂+ε) + λ·θ).
type AdamW struct {
	Beta1, Beta2 float64 // 0: 0.9 and 0.999
	Eps          float64 // 0: 1e-8
	WeightDecay  float64
}

// Step applies one update with learning rate lr at step t (1-based) to the
// parameters of p from its gradients, using p's moment buffers.
func (o AdamW) Step(p *llm.LoRAParams, lr float64, t int) {
	b1, b2, eps := o.Beta1, o.Beta2, o.Eps
	if b1 == 0 {
		b1 = 0.9
	}
	if b2 == 0 {
		b2 = 0.999
	}
	if eps == 0 {
		eps = 1e-8
	}
	c1 := 1 - math.Pow(b1, float64(t))
	c2 := 1 - math.Pow(b2, float64(t))
	theta, g := p.Params(), p.Grads()
	m, v := p.Moments()
	fb1, fb2 := float32(b1), float32(b2)
	for i, gi := range g {
		m[i] = fb1*m[i] + (1-fb1)*gi
		v[i] = fb2*v[i] + (1-fb2)*gi*gi
		mh := float64(m[i]) / c1
		vh := float64(v[i]) / c2
		theta[i] -= float32(lr * (mh/(math.Sqrt(vh)+eps) + o.WeightDecay*float64(theta[i])))
	}
}

// ClipGradNorm scales the gradients so that their global L2 norm is at
// most maxNorm (0: no clipping) and returns the norm before clipping.
func ClipGradNorm(g []float32, maxNorm float64) float64 {
	var s float64
	for _, v := range g {
		s += float64(v) * float64(v)
	}
	n := math.Sqrt(s)
	if maxNorm > 0 && n > maxNorm {
		f := float32(maxNorm / (n + 1e-6))
		for i := range g {
			g[i] *= f
		}
	}
	return n
}

// Schedule gives the learning rate at each step: a linear warm-up from 0
// over Warmup steps, then constant, linear decay or cosine decay to 0 at
// Total steps.
type Schedule struct {
	Kind   string // "constant", "linear" or "cosine" ("" = linear)
	Peak   float64
	Warmup int
	Total  int
}

// LR returns the learning rate for step (0-based).
func (s Schedule) LR(step int) float64 {
	if step < s.Warmup {
		return s.Peak * float64(step+1) / float64(s.Warmup)
	}
	if s.Total <= s.Warmup || s.Kind == "constant" {
		return s.Peak
	}
	f := float64(step-s.Warmup) / float64(s.Total-s.Warmup)
	f = min(max(f, 0), 1)
	if s.Kind == "cosine" {
		return s.Peak * 0.5 * (1 + math.Cos(math.Pi*f))
	}
	return s.Peak * (1 - f)
}
