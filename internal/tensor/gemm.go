package tensor

import (
	"fmt"
	"runtime"
	"sync"
)

// MatMulNT computes C[m×n] = A[m×k]·B[n×k]ᵀ, or adds the product into C when
// accumulate is true. It is the linear layer y = x·Wᵀ with W in nn.Linear
// layout.
func MatMulNT(c, a, b []float32, m, n, k int, accumulate bool) {
	checkGemm("MatMulNT", c, a, b, m, n, k)
	if m == 0 || n == 0 {
		return
	}
	if m <= smallM && k > 0 {
		matMulNTSmallM(c, a, b, m, n, k, accumulate)
		return
	}
	gemm(defaultKernel, opNT(c, a, b, m, n, k, accumulate))
}

// MatMulNN computes C[m×n] = A[m×k]·B[k×n], or adds the product into C when
// accumulate is true.
func MatMulNN(c, a, b []float32, m, n, k int, accumulate bool) {
	checkGemm("MatMulNN", c, a, b, m, n, k)
	if m == 0 || n == 0 {
		return
	}
	if m <= smallM {
		matMulNNSmallM(c, a, b, m, n, k, accumulate)
		return
	}
	gemm(defaultKernel, opNN(c, a, b, m, n, k, accumulate))
}

// MatMulTN computes C[m×n] = A[k×m]ᵀ·B[k×n], or adds the product into C when
// accumulate is true. With A = dy and B = x it is the weight gradient
// dW += dyᵀ·x of a linear layer.
func MatMulTN(c, a, b []float32, m, n, k int, accumulate bool) {
	checkGemm("MatMulTN", c, a, b, m, n, k)
	if m == 0 || n == 0 {
		return
	}
	gemm(defaultKernel, opTN(c, a, b, m, n, k, accumulate))
}

// MatMulStrided computes C (+)= op(A)·op(B) on strided row-major views,
// like BLAS sgemm: op(A) is m×k and op(B) is k×n. Without transA,
// A(i,p) = a[i*lda+p]; with it, A is stored k×m and A(i,p) = a[p*lda+i].
// Without transB, B(p,j) = b[p*ldb+j]; with it, B is stored n×k and
// B(p,j) = b[j*ldb+p]. C(i,j) = c[i*ldc+j]. The views may be sub-blocks of
// larger buffers (one head of an interleaved [T×heads×headDim] activation,
// say); elements of c outside the m×n view are not touched.
func MatMulStrided(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, accumulate bool) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("tensor: MatMulStrided: negative shape m=%d n=%d k=%d", m, n, k))
	}
	if m == 0 || n == 0 {
		return
	}
	g := &gemmOp{m: m, n: n, k: k, a: a, rsa: lda, csa: 1, b: b, rsb: ldb, csb: 1, c: c, ldc: ldc, acc: accumulate}
	ar, ac := m, k // stored shape of A
	if transA {
		g.rsa, g.csa = 1, lda
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		g.rsb, g.csb = 1, ldb
		br, bc = n, k
	}
	if lda < ac || ldb < bc || ldc < n || (k > 0 && (len(a) < (ar-1)*lda+ac || len(b) < (br-1)*ldb+bc)) || len(c) < (m-1)*ldc+n {
		panic(fmt.Sprintf("tensor: MatMulStrided: buffers too short or strides too small for m=%d n=%d k=%d lda=%d ldb=%d ldc=%d (len a=%d b=%d c=%d)",
			m, n, k, lda, ldb, ldc, len(a), len(b), len(c)))
	}
	gemm(defaultKernel, g)
}

func checkGemm(name string, c, a, b []float32, m, n, k int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("tensor: %s: negative shape m=%d n=%d k=%d", name, m, n, k))
	}
	if len(c) < m*n || len(a) < m*k || len(b) < k*n {
		panic(fmt.Sprintf("tensor: %s: buffers too short for m=%d n=%d k=%d (len c=%d a=%d b=%d)",
			name, m, n, k, len(c), len(a), len(b)))
	}
}

// smallM is the largest m for which MatMulNT and MatMulNN use dot products
// or axpys instead of packing: the decode mat-vec and tiny batches are bound
// by reading B, not by arithmetic.
const smallM = 4

// matMulNTSmallM computes the NT product as m dot products per row of B, so
// each row of B is read from memory once; parallel over rows of B.
func matMulNTSmallM(c, a, b []float32, m, n, k int, acc bool) {
	grain := max(1, (1<<14)/k)
	ParallelGrain(n, grain, func(lo, hi int) {
		for j := lo; j < hi; j++ {
			bj := b[j*k : j*k+k]
			for i := 0; i < m; i++ {
				d := dotImpl(a[i*k:i*k+k], bj)
				if acc {
					c[i*n+j] += d
				} else {
					c[i*n+j] = d
				}
			}
		}
	})
}

func opNT(c, a, b []float32, m, n, k int, acc bool) *gemmOp {
	return &gemmOp{m: m, n: n, k: k, a: a, rsa: k, csa: 1, b: b, rsb: 1, csb: k, c: c, ldc: n, acc: acc}
}

func opNN(c, a, b []float32, m, n, k int, acc bool) *gemmOp {
	return &gemmOp{m: m, n: n, k: k, a: a, rsa: k, csa: 1, b: b, rsb: n, csb: 1, c: c, ldc: n, acc: acc}
}

func opTN(c, a, b []float32, m, n, k int, acc bool) *gemmOp {
	return &gemmOp{m: m, n: n, k: k, a: a, rsa: 1, csa: m, b: b, rsb: n, csb: 1, c: c, ldc: n, acc: acc}
}

// matMulNNSmallM computes the NN product for a few rows of A as axpys of
// the rows of B into C, parallel over column stripes, so B streams through
// once per row of A instead of being packed.
func matMulNNSmallM(c, a, b []float32, m, n, k int, acc bool) {
	ParallelGrain(n, 1024, func(lo, hi int) {
		for i := 0; i < m; i++ {
			ci := c[i*n+lo : i*n+hi]
			if !acc {
				clear(ci)
			}
			for p := 0; p < k; p++ {
				axpyImpl(a[i*k+p], b[p*n+lo:p*n+hi], ci)
			}
		}
	})
}

// gemmOp describes one strided product C[m×n] (+)= A[m×k]·B[k×n] with
// A(i,p) = a[i*rsa+p*csa], B(p,j) = b[p*rsb+j*csb] and C(i,j) = c[i*ldc+j].
type gemmOp struct {
	m, n, k  int
	a        []float32
	rsa, csa int
	b        []float32
	rsb, csb int
	c        []float32
	ldc      int
	acc      bool
}

// microKernel computes one mr×nr tile of C from packed panels: a holds kc
// groups of mr values of A, b holds kc groups of nr values of B; the tile is
// c[i*ldc+j] for i<mr, j<nr, overwritten unless acc. mc, kc and nc are the
// cache block sizes that suit it (mc a multiple of mr, nc of nr).
type microKernel struct {
	name       string
	mr, nr     int
	mc, kc, nc int
	fn         func(kc int, a, b, c []float32, ldc int, acc bool)
}

// goKernel is the portable micro-kernel: a 4×4 tile held in sixteen scalars.
var goKernel = &microKernel{name: "go4x4", mr: 4, nr: 4, mc: 128, kc: 256, nc: 2048, fn: kernelGo4x4}

// bufPool recycles packing buffers between calls.
var bufPool = sync.Pool{New: func() any { return new([]float32) }}

func getBuf(n int) *[]float32 {
	p := bufPool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// gemmMinParallel is the flop count (m·n·k) below which a product runs on one
// goroutine.
const gemmMinParallel = 1 << 18

// gemm splits C into row or column stripes, one per processor, and runs the
// serial blocked algorithm on each.
func gemm(kern *microKernel, g *gemmOp) {
	if g.k == 0 {
		if !g.acc {
			for i := 0; i < g.m; i++ {
				clear(g.c[i*g.ldc : i*g.ldc+g.n])
			}
		}
		return
	}
	procs := runtime.GOMAXPROCS(0)
	if procs == 1 || g.m*g.n*g.k < gemmMinParallel {
		gemmSerial(kern, g)
		return
	}
	if g.m >= g.n {
		blocks := (g.m + kern.mr - 1) / kern.mr
		Parallel(blocks, func(lo, hi int) {
			r0, r1 := lo*kern.mr, min(hi*kern.mr, g.m)
			sub := *g
			sub.m = r1 - r0
			sub.a = g.a[r0*g.rsa:]
			sub.c = g.c[r0*g.ldc:]
			gemmSerial(kern, &sub)
		})
		return
	}
	blocks := (g.n + kern.nr - 1) / kern.nr
	Parallel(blocks, func(lo, hi int) {
		c0, c1 := lo*kern.nr, min(hi*kern.nr, g.n)
		sub := *g
		sub.n = c1 - c0
		sub.b = g.b[c0*g.csb:]
		sub.c = g.c[c0:]
		gemmSerial(kern, &sub)
	})
}

// gemmSerial is the GotoBLAS loop nest on one goroutine: for each nc-wide
// column block and kc-deep slice, pack B once; for each mc-tall row block,
// pack A and sweep the micro-kernel over the tiles.
func gemmSerial(kern *microKernel, g *gemmOp) {
	mr, nr := kern.mr, kern.nr
	// Balance the k blocks so no slice is much thinner than the others
	// (k=576 with kc=512 becomes two slices of 288, not 512+64).
	kcMax := (g.k + (g.k+kern.kc-1)/kern.kc - 1) / ((g.k + kern.kc - 1) / kern.kc)
	ncMax := min(kern.nc, roundUp(g.n, nr))
	mcMax := min(kern.mc, roundUp(g.m, mr))
	pa := getBuf(mcMax * kcMax)
	pb := getBuf(ncMax * kcMax)
	defer bufPool.Put(pa)
	defer bufPool.Put(pb)
	bufA, bufB := *pa, *pb
	var tile [maxTile]float32 // edge tiles land here first
	for jc := 0; jc < g.n; jc += ncMax {
		nc := min(ncMax, g.n-jc)
		for pc := 0; pc < g.k; pc += kcMax {
			kc := min(kcMax, g.k-pc)
			acc := g.acc || pc > 0
			packB(bufB, g, pc, kc, jc, nc, nr)
			for ic := 0; ic < g.m; ic += mcMax {
				mc := min(mcMax, g.m-ic)
				packA(bufA, g, ic, mc, pc, kc, mr)
				for jr := 0; jr < nc; jr += nr {
					bp := bufB[jr*kc : (jr+nr)*kc]
					cols := min(nr, nc-jr)
					for ir := 0; ir < mc; ir += mr {
						ap := bufA[ir*kc : (ir+mr)*kc]
						rows := min(mr, mc-ir)
						off := (ic+ir)*g.ldc + jc + jr
						if rows == mr && cols == nr {
							kern.fn(kc, ap, bp, g.c[off:], g.ldc, acc)
							continue
						}
						t := tile[:mr*nr]
						kern.fn(kc, ap, bp, t, nr, false)
						for i := 0; i < rows; i++ {
							dst := g.c[off+i*g.ldc : off+i*g.ldc+cols]
							src := t[i*nr : i*nr+cols]
							if acc {
								for j, v := range src {
									dst[j] += v
								}
							} else {
								copy(dst, src)
							}
						}
					}
				}
			}
		}
	}
}

// maxTile bounds mr·nr of any micro-kernel (the edge-tile buffer size).
const maxTile = 512

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// packA copies A[ic:ic+mc, pc:pc+kc] into panels of mr rows, each stored
// p-major (mr values per p), zero-padding the last panel.
func packA(dst []float32, g *gemmOp, ic, mc, pc, kc, mr int) {
	for ir := 0; ir < mc; ir += mr {
		rows := min(mr, mc-ir)
		d := dst[ir*kc : (ir+mr)*kc]
		if rows < mr {
			clear(d)
		}
		switch {
		case g.csa == 1:
			transposeImpl(d, mr, g.a[(ic+ir)*g.rsa+pc:], g.rsa, rows, kc)
		case g.rsa == 1:
			for p := 0; p < kc; p++ {
				src := g.a[(pc+p)*g.csa+ic+ir:][:rows]
				copy(d[p*mr:p*mr+rows], src)
			}
		default:
			for p := 0; p < kc; p++ {
				for i := 0; i < rows; i++ {
					d[p*mr+i] = g.a[(ic+ir+i)*g.rsa+(pc+p)*g.csa]
				}
			}
		}
	}
}

// packB copies B[pc:pc+kc, jc:jc+nc] into panels of nr columns, each stored
// p-major (nr values per p), zero-padding the last panel.
func packB(dst []float32, g *gemmOp, pc, kc, jc, nc, nr int) {
	if g.csb == 1 && (nr == 32 || nr == 16) {
		packBRows(dst, g, pc, kc, jc, nc, nr)
		return
	}
	for jr := 0; jr < nc; jr += nr {
		cols := min(nr, nc-jr)
		d := dst[jr*kc : (jr+nr)*kc]
		if cols < nr {
			clear(d)
		}
		switch {
		case g.csb == 1:
			for p := 0; p < kc; p++ {
				src := g.b[(pc+p)*g.rsb+jc+jr:][:cols]
				copy(d[p*nr:p*nr+cols], src)
			}
		case g.rsb == 1:
			transposeImpl(d, nr, g.b[(jc+jr)*g.csb+pc:], g.csb, cols, kc)
		default:
			for p := 0; p < kc; p++ {
				for j := 0; j < cols; j++ {
					d[p*nr+j] = g.b[(pc+p)*g.rsb+(jc+jr+j)*g.csb]
				}
			}
		}
	}
}

// packBRows is packB for row-major B (csb == 1) and nr of 32 or 16: it
// walks each row of B once, front to back (a weight streaming from memory
// reads sequentially), and moves full nr-wide pieces as fixed-size arrays
// instead of one memmove call each.
func packBRows(dst []float32, g *gemmOp, pc, kc, jc, nc, nr int) {
	full := nc / nr * nr
	if full < nc {
		clear(dst[full*kc : (full+nr)*kc])
	}
	for p := 0; p < kc; p++ {
		src := g.b[(pc+p)*g.rsb+jc:][:nc]
		jr := 0
		if nr == 32 {
			for ; jr < full; jr += 32 {
				*(*[32]float32)(dst[jr*kc+p*32:]) = *(*[32]float32)(src[jr:])
			}
		} else {
			for ; jr < full; jr += 16 {
				*(*[16]float32)(dst[jr*kc+p*16:]) = *(*[16]float32)(src[jr:])
			}
		}
		if jr < nc {
			copy(dst[jr*kc+p*nr:jr*kc+p*nr+nc-jr], src[jr:])
		}
	}
}

// transposeGo writes dst[p*ldd+j] = src[j*lds+p] for j < rows, p < kc.
func transposeGo(dst []float32, ldd int, src []float32, lds, rows, kc int) {
	for j := 0; j < rows; j++ {
		row := src[j*lds:][:kc]
		for p, v := range row {
			dst[p*ldd+j] = v
		}
	}
}

// kernelGo4x4 is the portable micro-kernel (mr=4, nr=4).
func kernelGo4x4(kc int, a, b, c []float32, ldc int, acc bool) {
	a = a[:4*kc]
	b = b[:4*kc]
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < kc; p++ {
		ap := a[p*4 : p*4+4 : p*4+4]
		bp := b[p*4 : p*4+4 : p*4+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	r0 := c[0:4:4]
	r1 := c[ldc : ldc+4 : ldc+4]
	r2 := c[2*ldc : 2*ldc+4 : 2*ldc+4]
	r3 := c[3*ldc : 3*ldc+4 : 3*ldc+4]
	if acc {
		r0[0] += c00
		r0[1] += c01
		r0[2] += c02
		r0[3] += c03
		r1[0] += c10
		r1[1] += c11
		r1[2] += c12
		r1[3] += c13
		r2[0] += c20
		r2[1] += c21
		r2[2] += c22
		r2[3] += c23
		r3[0] += c30
		r3[1] += c31
		r3[2] += c32
		r3[3] += c33
		return
	}
	r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
	r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
	r2[0], r2[1], r2[2], r2[3] = c20, c21, c22, c23
	r3[0], r3[1], r3[2], r3[3] = c30, c31, c32, c33
}
