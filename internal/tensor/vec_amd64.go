package tensor

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func dotBF16AVX2(w *uint16, x *float32, n int) float32

//go:noescape
func dotQ8AVX2(q *int8, x *float32, n int) float32

func dotAsm(a, b []float32) float32 {
	if len(a) == 0 {
		return 0
	}
	b = b[:len(a)]
	return dotAVX2(&a[0], &b[0], len(a))
}

func axpyAsm(alpha float32, x, y []float32) {
	if len(x) == 0 {
		return
	}
	y = y[:len(x)]
	axpyAVX2(alpha, &x[0], &y[0], len(x))
}

func dotBF16Asm(w []uint16, x []float32) float32 {
	n := len(w) &^ 7
	var s float32
	if n > 0 {
		s = dotBF16AVX2(&w[0], &x[:n][0], n)
	}
	if n < len(w) {
		s += dotBF16Go(w[n:], x[n:len(w)])
	}
	return s
}

func dotQ8Asm(q []int8, x []float32) float32 {
	n := len(q) &^ 7
	var s float32
	if n > 0 {
		s = dotQ8AVX2(&q[0], &x[:n][0], n)
	}
	if n < len(q) {
		s += dotQ8Go(q[n:], x[n:len(q)])
	}
	return s
}

//go:noescape
func dotNF4AVX2(q *byte, absmax *float32, x *float32, nblocks int, code *[16]float32) float32

// dotNF4BlocksAsm returns Σ_b absmax[b]·(block b of q)·x over len(absmax)
// whole blocks of NF4BlockSize weights (q holds 32 bytes per block).
func dotNF4BlocksAsm(q []byte, absmax []float32, x []float32) float32 {
	nb := len(absmax)
	if nb == 0 {
		return 0
	}
	_ = q[nb*NF4BlockSize/2-1]
	_ = x[nb*NF4BlockSize-1]
	return dotNF4AVX2(&q[0], &absmax[0], &x[0], nb, &NF4Code)
}
