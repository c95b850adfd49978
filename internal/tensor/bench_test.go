package tensor

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"
)

// Run single-threaded for the OpenBLAS comparison (docs/BENCHMARKS.md):
//
//	go test -run '^$' -bench . -cpu 1 -count 5 ./internal/tensor
//
// Each benchmark reports its rate per wall-clock second and, as "-cpu"
// metrics, per CPU-second of this process (robust to time slicing on a
// shared machine; with -cpu 1 the two agree on an idle one).

// rate runs the benchmark loop body and reports work/second metrics: flops
// as GFLOP/s, bytes as GB/s (either may be 0 to omit it).
func rate(b *testing.B, flops, bytes float64, body func()) {
	b.Helper()
	// Settle the heap and warm the packing-buffer pool (a GC empties it
	// only on the second cycle) so the timed loop measures steady state.
	runtime.GC()
	body()
	c0 := processCPUSeconds()
	for b.Loop() {
		body()
	}
	cpu := processCPUSeconds() - c0
	wall := b.Elapsed().Seconds()
	n := float64(b.N)
	if flops > 0 {
		b.ReportMetric(flops*n/wall/1e9, "GFLOP/s")
		if cpu > 0 {
			b.ReportMetric(flops*n/cpu/1e9, "GFLOP/s-cpu")
		}
	}
	if bytes > 0 {
		b.ReportMetric(bytes*n/wall/1e9, "GB/s")
		if cpu > 0 {
			b.ReportMetric(bytes*n/cpu/1e9, "GB/s-cpu")
		}
	}
}

var benchGemmShapes = [][3]int{
	{256, 256, 256}, {512, 512, 512}, {1024, 1024, 1024}, {2048, 2048, 2048}, {4096, 4096, 4096},
	{512, 576, 576}, {512, 1536, 576}, {512, 49152, 576},
}

func BenchmarkSGEMM(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, sh := range benchGemmShapes {
		m, n, k := sh[0], sh[1], sh[2]
		for _, v := range []struct {
			name string
			fn   func(c, a, b []float32, m, n, k int, acc bool)
		}{{"NT", MatMulNT}, {"NN", MatMulNN}, {"TN", MatMulTN}} {
			if v.name != "NT" && m != n {
				continue
			}
			b.Run(fmt.Sprintf("%s/m=%d/n=%d/k=%d", v.name, m, n, k), func(b *testing.B) {
				x, w, c := randSlice(r, m*k), randSlice(r, n*k), make([]float32, m*n)
				rate(b, 2*float64(m)*float64(n)*float64(k), 0, func() { v.fn(c, x, w, m, n, k, false) })
			})
		}
	}
}

func BenchmarkMatVec(b *testing.B) {
	r := rand.New(rand.NewPCG(2, 2))
	for _, sh := range [][2]int{{576, 1536}, {1536, 576}, {49152, 576}} {
		rows, cols := sh[0], sh[1]
		w := randSlice(r, rows*cols)
		x, y := randSlice(r, cols), make([]float32, rows)
		for name, mat := range map[string]weightMat{
			"f32": NewF32Mat(rows, cols, w), "bf16": QuantizeBF16(rows, cols, w),
			"q8": QuantizeQ8(rows, cols, w), "nf4": QuantizeNF4(rows, cols, w),
		} {
			b.Run(fmt.Sprintf("%s/rows=%d/cols=%d", name, rows, cols), func(b *testing.B) {
				rate(b, 2*float64(rows*cols), float64(mat.Bytes()), func() { mat.MulT(y, x, 1) })
			})
		}
	}
}

func BenchmarkQuantMulT(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	m, rows, cols := 512, 1536, 576
	w := randSlice(r, rows*cols)
	x, y := randSlice(r, m*cols), make([]float32, m*rows)
	for name, mat := range map[string]weightMat{
		"f32": NewF32Mat(rows, cols, w), "bf16": QuantizeBF16(rows, cols, w),
		"q8": QuantizeQ8(rows, cols, w), "nf4": QuantizeNF4(rows, cols, w),
	} {
		b.Run(fmt.Sprintf("%s/m=%d/rows=%d/cols=%d", name, m, rows, cols), func(b *testing.B) {
			rate(b, 2*float64(m*rows*cols), 0, func() { mat.MulT(y, x, m) })
		})
	}
}

func BenchmarkDot(b *testing.B) {
	r := rand.New(rand.NewPCG(4, 4))
	for _, n := range []int{64, 576, 4096} {
		x, y := randSlice(r, n), randSlice(r, n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			var s float32
			rate(b, 2*float64(n), 0, func() { s += Dot(x, y) })
			_ = s
		})
	}
}

func BenchmarkSoftmax(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{512, 49152} {
		x := randSlice(r, n)
		buf := make([]float32, n)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			rate(b, 0, 4*float64(n), func() {
				copy(buf, x)
				SoftmaxInPlace(buf)
			})
		})
	}
}

// BenchmarkSGEMMKernels compares the micro-kernels this CPU can run on the
// same packed blocked algorithm (single goroutine).
func BenchmarkSGEMMKernels(b *testing.B) {
	r := rand.New(rand.NewPCG(6, 6))
	for _, kern := range append([]*microKernel{goKernel}, asmKernels()...) {
		for _, sh := range [][3]int{{1024, 1024, 1024}, {512, 1536, 576}} {
			m, n, k := sh[0], sh[1], sh[2]
			x, w, c := randSlice(r, m*k), randSlice(r, n*k), make([]float32, m*n)
			b.Run(fmt.Sprintf("%s/m=%d/n=%d/k=%d", kern.name, m, n, k), func(b *testing.B) {
				rate(b, 2*float64(m)*float64(n)*float64(k), 0, func() { gemmSerial(kern, opNT(c, x, w, m, n, k, false)) })
			})
		}
	}
}

func BenchmarkSwiGLU(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 7))
	n := 512 * 1536
	gate, up, out := randSlice(r, n), randSlice(r, n), make([]float32, n)
	rate(b, 0, 12*float64(n), func() { SwiGLU(out, gate, up) })
}

// BenchmarkMicroKernel runs each micro-kernel on L1-resident packed panels:
// the arithmetic ceiling the blocked SGEMM can approach.
func BenchmarkMicroKernel(b *testing.B) {
	for _, kern := range append([]*microKernel{goKernel}, asmKernels()...) {
		const kc = 256
		a := make([]float32, kern.mr*kc)
		p := make([]float32, kern.nr*kc)
		c := make([]float32, kern.mr*kern.nr)
		b.Run(kern.name, func(b *testing.B) {
			rate(b, 2*float64(kern.mr*kern.nr*kc), 0, func() { kern.fn(kc, a, p, c, kern.nr, true) })
		})
	}
}
