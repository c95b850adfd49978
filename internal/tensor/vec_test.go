package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

type vecImpls struct {
	name string
	dot  func(a, b []float32) float32
	axpy func(alpha float32, x, y []float32)
}

func vecImplsUnderTest() []vecImpls {
	return []vecImpls{{"go", dotGo, axpyGo}, {"default", dotImpl, axpyImpl}}
}

func TestDotAxpy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, im := range vecImplsUnderTest() {
		for _, n := range []int{0, 1, 3, 7, 8, 15, 16, 31, 33, 64, 100, 1023, 4096} {
			t.Run(fmt.Sprintf("%s/n=%d", im.name, n), func(t *testing.T) {
				a, b := randSlice(r, n), randSlice(r, n+3)
				var want float64
				for i := range a {
					want += float64(a[i]) * float64(b[i])
				}
				if got := im.dot(a, b[:n]); math.Abs(float64(got)-want) > 1e-5*(1+math.Sqrt(float64(n)))*(1+math.Abs(want)) {
					t.Fatalf("dot = %v, want %v", got, want)
				}
				y := append([]float32(nil), b...)
				im.axpy(0.37, a, y[:n])
				for i := range y {
					w := b[i]
					if i < n {
						w = b[i] + 0.37*a[i]
					}
					if math.Abs(float64(y[i]-w)) > 1e-6*(1+math.Abs(float64(w))) {
						t.Fatalf("axpy[%d] = %v, want %v", i, y[i], w)
					}
				}
			})
		}
	}
}

func TestScaleAdd(t *testing.T) {
	x := []float32{1, -2, 3}
	Scale(x, 2)
	if x[0] != 2 || x[1] != -4 || x[2] != 6 {
		t.Fatalf("Scale: %v", x)
	}
	y := []float32{1, 1, 1}
	Add(x, x, y)
	if x[0] != 3 || x[1] != -3 || x[2] != 7 {
		t.Fatalf("Add aliasing dst=a: %v", x)
	}
}

func TestQuantDots(t *testing.T) {
	r := rand.New(rand.NewPCG(19, 20))
	for n := 0; n <= 80; n++ {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			x := randSlice(r, n)
			h := make([]uint16, n)
			q := make([]int8, n)
			nib := make([]byte, (n+1)/2)
			var wantH, wantQ, wantN float64
			for i := range x {
				h[i] = F32ToBF16(float32(r.NormFloat64()))
				q[i] = int8(r.IntN(255) - 127)
				idx := byte(r.IntN(16))
				if i&1 == 0 {
					nib[i/2] |= idx << 4
				} else {
					nib[i/2] |= idx
				}
				wantH += float64(BF16ToF32(h[i])) * float64(x[i])
				wantQ += float64(q[i]) * float64(x[i])
				wantN += float64(nf4Code[idx]) * float64(x[i])
			}
			tol := 1e-5 * (1 + math.Sqrt(float64(n)))
			for _, bf16 := range []func([]uint16, []float32) float32{dotBF16Go, dotBF16Impl} {
				if got := bf16(h, x); math.Abs(float64(got)-wantH) > tol*(1+math.Abs(wantH)) {
					t.Errorf("bf16 dot = %v want %v", got, wantH)
				}
			}
			for _, q8 := range []func([]int8, []float32) float32{dotQ8Go, dotQ8Impl} {
				if got := q8(q, x); math.Abs(float64(got)-wantQ) > tol*(1+math.Abs(wantQ))*127 {
					t.Errorf("q8 dot = %v want %v", got, wantQ)
				}
			}
			if n%2 == 0 {
				if got := dotNF4Impl(nib, x); math.Abs(float64(got)-wantN) > tol*(1+math.Abs(wantN)) {
					t.Errorf("nf4 dot = %v want %v", got, wantN)
				}
			}
		})
	}
}

func TestNF4Blocks(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	impls := nf4BlockImpls()
	for name, fn := range impls {
		for _, nb := range []int{0, 1, 2, 5, 9} {
			t.Run(fmt.Sprintf("%s/blocks=%d", name, nb), func(t *testing.T) {
				n := nb * NF4BlockSize
				q := make([]byte, n/2)
				for i := range q {
					q[i] = byte(r.IntN(256))
				}
				absmax, x := randSlice(r, nb), randSlice(r, n)
				var want float64
				for i := 0; i < n; i++ {
					idx := q[i/2] >> 4
					if i&1 == 1 {
						idx = q[i/2] & 15
					}
					want += float64(nf4Code[idx]) * float64(absmax[i/NF4BlockSize]) * float64(x[i])
				}
				got := fn(q, absmax, x)
				if math.Abs(float64(got)-want) > 1e-5*(1+math.Sqrt(float64(n)))*(1+math.Abs(want)) {
					t.Fatalf("got %v want %v", got, want)
				}
			})
		}
	}
}
