package tensor

import "golang.org/x/sys/cpu"

//go:noescape
func sgemm6x16AVX2(kc int, a, b, c *float32, ldc int, acc bool)

// avx2Kernel is the AVX2+FMA 6×16 micro-kernel. Blocking: a 16×kc B
// micro-panel (16 KiB at kc=256) stays in L1, an mc×kc block of A in L2.
var avx2Kernel = &microKernel{name: "avx2_6x16", mr: 6, nr: 16, mc: 144, kc: 256, nc: 4080,
	fn: func(kc int, a, b, c []float32, ldc int, acc bool) {
		_ = a[6*kc-1]
		_ = b[16*kc-1]
		_ = c[5*ldc+15]
		sgemm6x16AVX2(kc, &a[0], &b[0], &c[0], ldc, acc)
	}}

// hasAVX2FMA reports whether the CPU and OS support AVX2 and FMA.
var hasAVX2FMA = cpu.X86.HasAVX2 && cpu.X86.HasFMA

//go:noescape
func sgemm12x32AVX512(kc int, a, b, c *float32, ldc int, acc bool)

// avx512Kernel is the AVX-512 12×32 micro-kernel, used where the CPU has
// AVX-512F (it doubles the FMA width of avx2Kernel). Blocking measured on
// AMD Zen 5 (48 KiB L1d, 1 MiB L2): deep k slices (kc up to 640) amortise the C
// tile loads and stores best; the 32×kc B micro-panel streams from L1/L2
// and the 144×kc block of A (≤ 360 KiB) stays in L2.
var avx512Kernel = &microKernel{name: "avx512_12x32", mr: 12, nr: 32, mc: 144, kc: 640, nc: 4096,
	fn: func(kc int, a, b, c []float32, ldc int, acc bool) {
		_ = a[12*kc-1]
		_ = b[32*kc-1]
		_ = c[11*ldc+31]
		sgemm12x32AVX512(kc, &a[0], &b[0], &c[0], ldc, acc)
	}}

// hasAVX512 reports whether the CPU and OS support AVX-512F (and FMA).
var hasAVX512 = cpu.X86.HasAVX512F && cpu.X86.HasFMA

// asmKernels lists the assembly micro-kernels this CPU can run.
func asmKernels() []*microKernel {
	var ks []*microKernel
	if hasAVX2FMA {
		ks = append(ks, avx2Kernel)
	}
	if hasAVX512 {
		ks = append(ks, avx512Kernel)
	}
	return ks
}
