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
