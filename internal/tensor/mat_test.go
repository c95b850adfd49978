package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// weightMat is the method set every storage format shares.
type weightMat interface {
	Rows() int
	Cols() int
	Bytes() int64
	MulT(y, x []float32, m int)
	MulAcc(dx, dy []float32, m int)
	Dequantize(dst []float32)
	Row(i int, dst []float32)
}

var (
	_ weightMat = (*F32Mat)(nil)
	_ weightMat = (*BF16Mat)(nil)
	_ weightMat = (*Q8Mat)(nil)
	_ weightMat = (*NF4Mat)(nil)
)

func makeMats(rows, cols int, w []float32) map[string]weightMat {
	return map[string]weightMat{
		"f32":  NewF32Mat(rows, cols, w),
		"bf16": QuantizeBF16(rows, cols, w),
		"q8":   QuantizeQ8(rows, cols, w),
		"nf4":  QuantizeNF4(rows, cols, w),
	}
}

// TestMatProducts checks MulT and MulAcc of every format against float64
// products with the format's own dequantised matrix.
func TestMatProducts(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	shapes := [][2]int{{1, 1}, {7, 100}, {33, 64}, {65, 129}, {300, 257}, {5, 3}}
	for _, sh := range shapes {
		rows, cols := sh[0], sh[1]
		w := randSlice(r, rows*cols)
		for name, mat := range makeMats(rows, cols, w) {
			for _, m := range []int{1, 2, 5, 37} {
				t.Run(fmt.Sprintf("%s/%dx%d/m=%d", name, rows, cols, m), func(t *testing.T) {
					if mat.Rows() != rows || mat.Cols() != cols {
						t.Fatalf("shape %d×%d", mat.Rows(), mat.Cols())
					}
					deq := make([]float32, rows*cols)
					mat.Dequantize(deq)
					row := make([]float32, cols)
					for i := 0; i < rows; i++ {
						mat.Row(i, row)
						for j := range row {
							if row[j] != deq[i*cols+j] {
								t.Fatalf("Row(%d)[%d] = %v, Dequantize has %v", i, j, row[j], deq[i*cols+j])
							}
						}
					}
					x := randSlice(r, m*cols)
					y := randSlice(r, m*rows)
					mat.MulT(y, x, m)
					checkClose(t, y, refGemm("NT", nil, x, deq, m, rows, cols, false), cols)

					dy := randSlice(r, m*rows)
					dx := randSlice(r, m*cols)
					want := refGemm("NN", dx, dy, deq, m, cols, rows, true)
					mat.MulAcc(dx, dy, m)
					checkClose(t, dx, want, rows)
				})
			}
		}
	}
}

func TestQ8ErrorBound(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	rows, cols := 17, 300
	w := randSlice(r, rows*cols)
	for j := 0; j < cols; j++ {
		w[3*cols+j] = 0 // an all-zero row
	}
	mat := QuantizeQ8(rows, cols, w)
	deq := make([]float32, rows*cols)
	mat.Dequantize(deq)
	for i := 0; i < rows; i++ {
		var amax float64
		for j := 0; j < cols; j++ {
			amax = math.Max(amax, math.Abs(float64(w[i*cols+j])))
		}
		bound := amax/127/2 + 1e-6*amax
		for j := 0; j < cols; j++ {
			if d := math.Abs(float64(deq[i*cols+j] - w[i*cols+j])); d > bound {
				t.Fatalf("q8 error at (%d,%d) = %g > absmax/254 = %g", i, j, d, bound)
			}
		}
	}
	if mat.Bytes() != int64(rows*cols+4*rows) {
		t.Fatalf("Bytes = %d", mat.Bytes())
	}
}

// TestNF4RoundTrip checks that every dequantised weight is the code book
// value nearest to w/absmax of its block, times absmax, so its error is at
// most half the gap between neighbouring code values around it.
func TestNF4RoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 18))
	rows, cols := 9, 75 // blocks straddle rows; odd element count
	w := randSlice(r, rows*cols)
	mat := QuantizeNF4(rows, cols, w)
	deq := make([]float32, rows*cols)
	mat.Dequantize(deq)
	n := rows * cols
	for b := 0; b*NF4BlockSize < n; b++ {
		blk := w[b*NF4BlockSize : min(n, (b+1)*NF4BlockSize)]
		var amax float64
		for _, v := range blk {
			amax = math.Max(amax, math.Abs(float64(v)))
		}
		for i, v := range blk {
			norm := float64(v) / amax
			best := math.Inf(1)
			for _, c := range nf4Code {
				best = math.Min(best, math.Abs(norm-float64(c)))
			}
			got := float64(deq[b*NF4BlockSize+i])
			if err := math.Abs(got/amax - norm); err > best+1e-6 {
				t.Fatalf("element %d: normalised error %g, nearest code is %g away", b*NF4BlockSize+i, err, best)
			}
			if math.Abs(got-float64(v)) > 0.5*(1-0.6961928009986877)*amax+1e-6 {
				t.Fatalf("element %d error %g exceeds the widest half-gap", b*NF4BlockSize+i, math.Abs(got-float64(v)))
			}
		}
	}
	// the code book extremes and zero are exact
	for i, v := range []float32{-3, 0, 3} {
		w[i] = v
	}
	mat = QuantizeNF4(rows, cols, w)
	mat.Dequantize(deq)
	if deq[0] != -3 || deq[1] != 0 || deq[2] != 3 {
		t.Fatalf("exact values not preserved: %v", deq[:3])
	}
	if want := int64((n+1)/2 + 4*((n+63)/64)); mat.Bytes() != want {
		t.Fatalf("Bytes = %d want %d", mat.Bytes(), want)
	}
}

func TestNF4PackingHighNibbleFirst(t *testing.T) {
	w := make([]float32, 64)
	w[0], w[1] = -1, 1 // indices 0 and 15
	mat := QuantizeNF4(1, 64, w)
	q, amax := mat.Data()
	if q[0] != 0x0f || amax[0] != 1 {
		t.Fatalf("first byte %#x absmax %v, want 0x0f and 1", q[0], amax[0])
	}
}

func TestBF16MatMatchesRounding(t *testing.T) {
	w := []float32{1.00390625, -3.5, 1e-3, 7}
	mat := QuantizeBF16(2, 2, w)
	deq := make([]float32, 4)
	mat.Dequantize(deq)
	for i, v := range w {
		if deq[i] != BF16ToF32(F32ToBF16(v)) {
			t.Fatalf("element %d: %v", i, deq[i])
		}
	}
}
