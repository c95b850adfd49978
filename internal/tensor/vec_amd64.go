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
	return dotNF4AVX2(&q[0], &absmax[0], &x[0], nb, &nf4Code)
}

//go:noescape
func dotNF4AVX512(q *byte, absmax *float32, x *float32, nblocks int, code *[16]float32, consts *[48]uint32) float32

// nf4Consts holds dotNF4AVX512's lane tables: byte index for elements 0–15,
// for elements 16–31, and the nibble shift (4 for the high nibble of even
// elements, 0 for odd ones).
var nf4Consts = [48]uint32{
	0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7,
	8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15,
	4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0, 4, 0,
}

// dotNF4BlocksAsm512 is dotNF4BlocksAsm with AVX-512 (one VPERMPS looks up
// sixteen weights).
func dotNF4BlocksAsm512(q []byte, absmax []float32, x []float32) float32 {
	nb := len(absmax)
	if nb == 0 {
		return 0
	}
	_ = q[nb*NF4BlockSize/2-1]
	_ = x[nb*NF4BlockSize-1]
	return dotNF4AVX512(&q[0], &absmax[0], &x[0], nb, &nf4Code, &nf4Consts)
}

// nf4BlockImpls lists the NF4 block-dot implementations this CPU can run.
func nf4BlockImpls() map[string]func(q []byte, absmax, x []float32) float32 {
	impls := map[string]func(q []byte, absmax, x []float32) float32{"go": dotNF4BlocksGo}
	if hasAVX2FMA {
		impls["avx2"] = dotNF4BlocksAsm
	}
	if hasAVX512 {
		impls["avx512"] = dotNF4BlocksAsm512
	}
	return impls
}
