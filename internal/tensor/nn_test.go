package tensor

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

func TestSoftmax(t *testing.T) {
	tests := []struct {
		name string
		in   []float32
	}{
		{"small", []float32{1, 2, 3}},
		{"large logits", []float32{1000, 1001, 999}},
		{"with -inf", []float32{0, float32(math.Inf(-1)), 1}},
		{"single", []float32{5}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := append([]float32(nil), tc.in...)
			SoftmaxInPlace(x)
			mx := math.Inf(-1)
			for _, v := range tc.in {
				mx = math.Max(mx, float64(v))
			}
			var sum float64
			for _, v := range tc.in {
				sum += math.Exp(float64(v) - mx)
			}
			for i, v := range tc.in {
				want := math.Exp(float64(v)-mx) / sum
				if math.Abs(float64(x[i])-want) > 1e-6 {
					t.Fatalf("p[%d] = %v, want %v", i, x[i], want)
				}
			}
		})
	}
	allInf := []float32{float32(math.Inf(-1)), float32(math.Inf(-1))}
	SoftmaxInPlace(allInf)
	if allInf[0] != 0 || allInf[1] != 0 {
		t.Fatalf("all -inf row: %v", allInf)
	}
}

func TestNorms(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	rows, dim := 3, 37
	x, w, b := randSlice(r, rows*dim), randSlice(r, dim), randSlice(r, dim)
	const eps = 1e-5
	out, rstd := make([]float32, rows*dim), make([]float32, rows)
	RMSNorm(out, x, w, rows, dim, eps, rstd)
	for i := 0; i < rows; i++ {
		var ss float64
		for j := 0; j < dim; j++ {
			ss += float64(x[i*dim+j]) * float64(x[i*dim+j])
		}
		rs := 1 / math.Sqrt(ss/float64(dim)+eps)
		if math.Abs(float64(rstd[i])-rs) > 1e-5*rs {
			t.Fatalf("rmsnorm rstd[%d] = %v want %v", i, rstd[i], rs)
		}
		for j := 0; j < dim; j++ {
			want := float64(x[i*dim+j]) * rs * float64(w[j])
			if math.Abs(float64(out[i*dim+j])-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("rmsnorm out[%d,%d] = %v want %v", i, j, out[i*dim+j], want)
			}
		}
	}
	mean := make([]float32, rows)
	LayerNorm(out, x, w, b, rows, dim, eps, mean, rstd)
	for i := 0; i < rows; i++ {
		var s, vs float64
		for j := 0; j < dim; j++ {
			s += float64(x[i*dim+j])
		}
		mu := s / float64(dim)
		for j := 0; j < dim; j++ {
			d := float64(x[i*dim+j]) - mu
			vs += d * d
		}
		rs := 1 / math.Sqrt(vs/float64(dim)+eps)
		if math.Abs(float64(mean[i])-mu) > 1e-6 || math.Abs(float64(rstd[i])-rs) > 1e-5*rs {
			t.Fatalf("layernorm stats row %d: %v %v want %v %v", i, mean[i], rstd[i], mu, rs)
		}
		for j := 0; j < dim; j++ {
			want := (float64(x[i*dim+j])-mu)*rs*float64(w[j]) + float64(b[j])
			if math.Abs(float64(out[i*dim+j])-want) > 1e-5*(1+math.Abs(want)) {
				t.Fatalf("layernorm out[%d,%d] = %v want %v", i, j, out[i*dim+j], want)
			}
		}
	}
	// in place (out aliases x), no bias, nil stats
	y := append([]float32(nil), x...)
	LayerNorm(y, y, w, nil, rows, dim, eps, nil, nil)
	LayerNorm(out, x, w, nil, rows, dim, eps, nil, nil)
	for i := range y {
		if y[i] != out[i] {
			t.Fatalf("in-place layernorm differs at %d", i)
		}
	}
}

func TestActivations(t *testing.T) {
	tests := []struct {
		name string
		f    func(float32) float32
		grad func(float32) float32
		ref  func(float64) float64
	}{
		{"silu", SiLU, SiLUGrad, func(x float64) float64 { return x / (1 + math.Exp(-x)) }},
		{"gelu", GELU, GELUGrad, func(x float64) float64 { return x * 0.5 * math.Erfc(-x/math.Sqrt2) }},
		{"gelu_tanh", GELUTanh, GELUTanhGrad, func(x float64) float64 {
			return 0.5 * x * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(x+0.044715*x*x*x)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, x := range []float64{-6, -2.5, -1, -0.3, 0, 0.2, 1, 3.7, 8} {
				if got, want := float64(tc.f(float32(x))), tc.ref(x); math.Abs(got-want) > 1e-6*(1+math.Abs(want)) {
					t.Fatalf("f(%v) = %v, want %v", x, got, want)
				}
				const h = 1e-4
				fd := (tc.ref(x+h) - tc.ref(x-h)) / (2 * h)
				if got := float64(tc.grad(float32(x))); math.Abs(got-fd) > 1e-4*(1+math.Abs(fd)) {
					t.Fatalf("grad(%v) = %v, finite difference %v", x, got, fd)
				}
			}
		})
	}
	// GELU and its tanh form agree to ~1e-3 everywhere.
	for x := float32(-5); x < 5; x += 0.1 {
		if d := math.Abs(float64(GELU(x) - GELUTanh(x))); d > 1e-3 {
			t.Fatalf("GELU vs GELUTanh at %v: %v", x, d)
		}
	}
}

func TestSoftmaxImpls(t *testing.T) {
	r := rand.New(rand.NewPCG(25, 26))
	impls := map[string]func([]float32){"go": softmaxGo, "default": softmaxImpl}
	for name, fn := range impls {
		for _, n := range []int{1, 7, 8, 9, 16, 100, 1000, 49152} {
			t.Run(name+"/"+strconv.Itoa(n), func(t *testing.T) {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(r.NormFloat64() * 20)
					if r.IntN(10) == 0 {
						x[i] = float32(math.Inf(-1)) // masked position
					}
				}
				x[0] = 3 // at least one finite entry
				mx := math.Inf(-1)
				for _, v := range x {
					mx = math.Max(mx, float64(v))
				}
				want := make([]float64, n)
				var sum float64
				for i, v := range x {
					want[i] = math.Exp(float64(v) - mx)
					sum += want[i]
				}
				fn(x)
				for i := range x {
					w := want[i] / sum
					if math.Abs(float64(x[i])-w) > 2e-6*w+1e-12 || (w == 0 && x[i] != 0) {
						t.Fatalf("p[%d] = %g, want %g", i, x[i], w)
					}
				}
			})
		}
	}
}

func TestSwiGLU(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	impls := map[string]func(out, gate, up []float32){"go": swigluGo, "default": swigluImpl}
	for name, fn := range impls {
		for _, n := range []int{0, 1, 7, 8, 9, 33, 1536} {
			t.Run(name+"/"+strconv.Itoa(n), func(t *testing.T) {
				gate, up := randSlice(r, n), randSlice(r, n)
				for i := range gate {
					gate[i] *= 10
				}
				if n > 3 {
					gate[0], gate[1], gate[2] = 120, -120, 0 // saturated tails and zero
				}
				out := make([]float32, n)
				fn(out, gate, up)
				for i := range out {
					g := float64(gate[i])
					want := g / (1 + math.Exp(-g)) * float64(up[i])
					if math.Abs(float64(out[i])-want) > 1e-6*(1+math.Abs(want)) {
						t.Fatalf("out[%d] = %v want %v (gate %v up %v)", i, out[i], want, gate[i], up[i])
					}
				}
				// in place over gate
				fn(gate, gate, up)
				for i := range out {
					if gate[i] != out[i] {
						t.Fatalf("in-place differs at %d", i)
					}
				}
			})
		}
	}
}

func TestSwiGLUBackward(t *testing.T) {
	r := rand.New(rand.NewPCG(33, 34))
	impls := map[string]func(dgate, dup, dout, gate, up []float32){"go": swigluBackGo, "default": swigluBackImpl}
	for name, fn := range impls {
		for _, n := range []int{0, 1, 7, 8, 9, 33, 1536} {
			t.Run(name+"/"+strconv.Itoa(n), func(t *testing.T) {
				gate, up, dout := randSlice(r, n), randSlice(r, n), randSlice(r, n)
				for i := range gate {
					gate[i] *= 10
				}
				if n > 3 {
					gate[0], gate[1], gate[2] = 120, -120, 0
				}
				dgate, dup := make([]float32, n), make([]float32, n)
				fn(dgate, dup, dout, gate, up)
				for i := range dout {
					g, u, d := float64(gate[i]), float64(up[i]), float64(dout[i])
					s := 1 / (1 + math.Exp(-g))
					wg, wu := d*u*s*(1+g*(1-s)), d*g*s
					if math.Abs(float64(dgate[i])-wg) > 1e-5*(1+math.Abs(wg)) || math.Abs(float64(dup[i])-wu) > 1e-5*(1+math.Abs(wu)) {
						t.Fatalf("[%d] dgate %v dup %v, want %v %v (gate %v up %v dout %v)", i, dgate[i], dup[i], wg, wu, gate[i], up[i], dout[i])
					}
				}
				// dgate aliasing dout, as the trainer calls it
				d2 := append([]float32(nil), dout...)
				dup2 := make([]float32, n)
				fn(d2, dup2, d2, gate, up)
				for i := range d2 {
					if d2[i] != dgate[i] || dup2[i] != dup[i] {
						t.Fatalf("aliased call differs at %d", i)
					}
				}
			})
		}
	}
}
