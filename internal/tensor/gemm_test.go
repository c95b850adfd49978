package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

func randSlice(r *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.NormFloat64())
	}
	return s
}

// refGemm is the float64 reference for the three variants.
func refGemm(variant string, c, a, b []float32, m, n, k int, acc bool) []float64 {
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				switch variant {
				case "NT":
					av, bv = a[i*k+p], b[j*k+p]
				case "NN":
					av, bv = a[i*k+p], b[p*n+j]
				case "TN":
					av, bv = a[p*m+i], b[p*n+j]
				}
				s += float64(av) * float64(bv)
			}
			if acc {
				s += float64(c[i*n+j])
			}
			out[i*n+j] = s
		}
	}
	return out
}

// kernelsUnderTest returns every micro-kernel this machine can run.
func kernelsUnderTest() []*microKernel {
	return append([]*microKernel{goKernel}, asmKernels()...)
}

// checkClose compares got with the float64 reference; the tolerance grows
// with √k because float32 rounding errors of a k-term sum add like a random
// walk: |err| ≤ 1e-5·(1+√k)·(1+|ref|) with N(0,1) inputs.
func checkClose(t *testing.T, got []float32, want []float64, k int) {
	t.Helper()
	tol := 1e-5 * (1 + math.Sqrt(float64(k)))
	for i, w := range want {
		if d := math.Abs(float64(got[i]) - w); d > tol*(1+math.Abs(w)) || math.IsNaN(float64(got[i])) {
			t.Fatalf("element %d: got %v want %v (diff %g > tol %g)", i, got[i], w, d, tol*(1+math.Abs(w)))
		}
	}
}

var gemmShapes = [][3]int{
	{1, 1, 1}, {7, 13, 5}, {1, 4096, 64}, {4096, 1, 7}, {33, 65, 129}, {2, 3, 300}, {2, 5000, 7},
	{5, 17, 1}, {6, 16, 256}, {12, 32, 512}, {13, 31, 257}, {100, 70, 600}, {3, 5, 0},
	{61, 127, 33}, {300, 9, 40},
}

func TestGemmKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, kern := range kernelsUnderTest() {
		for _, variant := range []string{"NT", "NN", "TN"} {
			for _, sh := range gemmShapes {
				for _, acc := range []bool{false, true} {
					m, n, k := sh[0], sh[1], sh[2]
					t.Run(fmt.Sprintf("%s/%s/%dx%dx%d/acc=%v", kern.name, variant, m, n, k, acc), func(t *testing.T) {
						a, b, c := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
						want := refGemm(variant, c, a, b, m, n, k, acc)
						var op *gemmOp
						switch variant {
						case "NT":
							op = opNT(c, a, b, m, n, k, acc)
						case "NN":
							op = opNN(c, a, b, m, n, k, acc)
						case "TN":
							op = opTN(c, a, b, m, n, k, acc)
						}
						gemm(kern, op)
						checkClose(t, c, want, k)
					})
				}
			}
		}
	}
}

func TestMatMulPublic(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	fns := map[string]func(c, a, b []float32, m, n, k int, acc bool){"NT": MatMulNT, "NN": MatMulNN, "TN": MatMulTN}
	for _, variant := range []string{"NT", "NN", "TN"} {
		for _, sh := range append(gemmShapes, [3]int{4, 200, 70}, [3]int{3, 1000, 33}, [3]int{130, 150, 170}) {
			for _, acc := range []bool{false, true} {
				m, n, k := sh[0], sh[1], sh[2]
				t.Run(fmt.Sprintf("%s/%dx%dx%d/acc=%v", variant, m, n, k, acc), func(t *testing.T) {
					a, b, c := randSlice(r, m*k), randSlice(r, k*n), randSlice(r, m*n)
					want := refGemm(variant, c, a, b, m, n, k, acc)
					fns[variant](c, a, b, m, n, k, acc)
					checkClose(t, c, want, k)
				})
			}
		}
	}
}

// TestGemmStrided checks a product written into a sub-block of a wider C,
// as the quantised MulT path does, leaves the rest of C alone.
func TestGemmStrided(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, kern := range kernelsUnderTest() {
		t.Run(kern.name, func(t *testing.T) {
			m, n, k, ldc, off := 9, 21, 35, 40, 7
			a, b := randSlice(r, m*k), randSlice(r, n*k)
			c := randSlice(r, m*ldc)
			orig := append([]float32(nil), c...)
			want := refGemm("NT", make([]float32, m*n), a, b, m, n, k, false)
			gemm(kern, &gemmOp{m: m, n: n, k: k, a: a, rsa: k, csa: 1, b: b, rsb: 1, csb: k, c: c[off:], ldc: ldc})
			got := make([]float32, m*n)
			for i := 0; i < m; i++ {
				copy(got[i*n:], c[off+i*ldc:off+i*ldc+n])
				for j := 0; j < ldc; j++ {
					if (j < off || j >= off+n) && c[i*ldc+j] != orig[i*ldc+j] {
						t.Fatalf("wrote outside the block at row %d col %d", i, j)
					}
				}
			}
			checkClose(t, got, want, k)
		})
	}
}

func TestMatMulPanicsOnShortBuffers(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a short buffer")
		}
	}()
	MatMulNT(make([]float32, 5), make([]float32, 6), make([]float32, 6), 2, 3, 3, false)
}

func TestParallelCoversRange(t *testing.T) {
	for _, n := range []int{0, 1, 2, 3, 17, 1000} {
		for _, grain := range []int{1, 4, 500} {
			t.Run(fmt.Sprintf("n=%d/grain=%d", n, grain), func(t *testing.T) {
				seen := make([]int32, n)
				ParallelGrain(n, grain, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						seen[i]++
					}
				})
				for i, v := range seen {
					if v != 1 {
						t.Fatalf("index %d visited %d times", i, v)
					}
				}
			})
		}
	}
}

func TestMatMulStrided(t *testing.T) {
	r := rand.New(rand.NewPCG(27, 28))
	for _, sh := range [][3]int{{1, 1, 1}, {7, 13, 5}, {33, 65, 129}, {64, 64, 64}, {5, 100, 3}, {3, 4, 0}} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, acc := range []bool{false, true} {
					m, n, k := sh[0], sh[1], sh[2]
					t.Run(fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v/acc=%v", m, n, k, tA, tB, acc), func(t *testing.T) {
						ar, ac := m, k
						if tA {
							ar, ac = k, m
						}
						br, bc := k, n
						if tB {
							br, bc = n, k
						}
						lda, ldb, ldc := ac+3, bc+1, n+2
						a := randSlice(r, max(ar*lda, 1))
						b := randSlice(r, max(br*ldb, 1))
						c := randSlice(r, m*ldc)
						orig := append([]float32(nil), c...)
						at := func(i, p int) float64 {
							if tA {
								return float64(a[p*lda+i])
							}
							return float64(a[i*lda+p])
						}
						bt := func(p, j int) float64 {
							if tB {
								return float64(b[j*ldb+p])
							}
							return float64(b[p*ldb+j])
						}
						MatMulStrided(tA, tB, m, n, k, a, lda, b, ldb, c, ldc, acc)
						got := make([]float32, m*n)
						want := make([]float64, m*n)
						for i := 0; i < m; i++ {
							for j := 0; j < ldc; j++ {
								if j >= n {
									if c[i*ldc+j] != orig[i*ldc+j] {
										t.Fatalf("wrote outside the view at (%d,%d)", i, j)
									}
									continue
								}
								var s float64
								for p := 0; p < k; p++ {
									s += at(i, p) * bt(p, j)
								}
								if acc {
									s += float64(orig[i*ldc+j])
								}
								want[i*n+j] = s
								got[i*n+j] = c[i*ldc+j]
							}
						}
						checkClose(t, got, want, k)
					})
				}
			}
		}
	}
}

// TestGemmParallelSplit forces several workers so both stripe directions
// (rows when m ≥ n, columns otherwise) run even on a one-CPU machine.
func TestGemmParallelSplit(t *testing.T) {
	prev := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(prev)
	r := rand.New(rand.NewPCG(29, 30))
	for _, kern := range kernelsUnderTest() {
		for _, sh := range [][3]int{{301, 97, 50}, {37, 403, 60}} {
			m, n, k := sh[0], sh[1], sh[2]
			t.Run(fmt.Sprintf("%s/%dx%dx%d", kern.name, m, n, k), func(t *testing.T) {
				a, b, c := randSlice(r, m*k), randSlice(r, n*k), randSlice(r, m*n)
				want := refGemm("NT", c, a, b, m, n, k, true)
				gemm(kern, opNT(c, a, b, m, n, k, true))
				checkClose(t, c, want, k)
			})
		}
	}
}
