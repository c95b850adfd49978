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
