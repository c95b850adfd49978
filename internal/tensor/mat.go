package tensor

import "fmt"

// rowCodec is what the generic MulT/MulAcc drivers need from a storage
// format: decode part of one row, and the fused dot of a row with x.
type rowCodec interface {
	// decode writes W[r, c0:c1] into dst[:c1-c0].
	decode(dst []float32, r, c0, c1 int)
	// dotRow returns W[r,:]·x without materialising the row.
	dotRow(r int, x []float32) float32
}

func checkMat(name string, rows, cols, n int) {
	if rows < 0 || cols < 0 || n < rows*cols {
		panic(fmt.Sprintf("tensor: %s: %d values for a %d×%d matrix", name, n, rows, cols))
	}
}

func checkMulT(rows, cols int, y, x []float32, m int) {
	if len(y) < m*rows || len(x) < m*cols {
		panic(fmt.Sprintf("tensor: MulT: buffers too short for m=%d on a %d×%d matrix (len y=%d x=%d)", m, rows, cols, len(y), len(x)))
	}
}

func checkMulAcc(rows, cols int, dx, dy []float32, m int) {
	if len(dx) < m*cols || len(dy) < m*rows {
		panic(fmt.Sprintf("tensor: MulAcc: buffers too short for m=%d on a %d×%d matrix (len dx=%d dy=%d)", m, rows, cols, len(dx), len(dy)))
	}
}

// scratchFloats is the size of the per-goroutine dequantisation scratch.
const scratchFloats = 1 << 16

// mulT computes y[m×rows] = x[m×cols]·Wᵀ for a quantised W. m==1 is the fused
// mat-vec (parallel over rows); larger m dequantises blocks of rows into a
// scratch buffer and runs the packed SGEMM on each block.
func mulT(w rowCodec, rows, cols int, y, x []float32, m int) {
	checkMulT(rows, cols, y, x, m)
	if m == 0 || rows == 0 {
		return
	}
	if m <= smallM || cols == 0 {
		grain := max(1, (1<<13)/max(cols, 1))
		ParallelGrain(rows, grain, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				for i := 0; i < m; i++ {
					y[i*rows+r] = w.dotRow(r, x[i*cols:i*cols+cols])
				}
			}
		})
		return
	}
	rb := max(defaultKernel.nr, min(256, scratchFloats/cols/defaultKernel.nr*defaultKernel.nr))
	blocks := (rows + rb - 1) / rb
	Parallel(blocks, func(lo, hi int) {
		buf := getBuf(rb * cols)
		defer bufPool.Put(buf)
		for blk := lo; blk < hi; blk++ {
			r0 := blk * rb
			r1 := min(r0+rb, rows)
			s := (*buf)[:(r1-r0)*cols]
			for r := r0; r < r1; r++ {
				w.decode(s[(r-r0)*cols:(r-r0+1)*cols], r, 0, cols)
			}
			gemmSerial(defaultKernel, &gemmOp{m: m, n: r1 - r0, k: cols,
				a: x, rsa: cols, csa: 1, b: s, rsb: 1, csb: cols, c: y[r0:], ldc: rows})
		}
	})
}

// mulAcc computes dx[m×cols] += dy[m×rows]·W for a quantised W, parallel
// over column stripes of dx, dequantising blocks of W into scratch.
func mulAcc(w rowCodec, rows, cols int, dx, dy []float32, m int) {
	checkMulAcc(rows, cols, dx, dy, m)
	if m == 0 || rows == 0 || cols == 0 {
		return
	}
	const cw = 256 // column stripe width
	stripes := (cols + cw - 1) / cw
	ParallelGrain(stripes, 1, func(lo, hi int) {
		rb := max(1, scratchFloats/cw)
		buf := getBuf(rb * cw)
		defer bufPool.Put(buf)
		for st := lo; st < hi; st++ {
			c0 := st * cw
			c1 := min(c0+cw, cols)
			wd := c1 - c0
			for r0 := 0; r0 < rows; r0 += rb {
				r1 := min(r0+rb, rows)
				s := (*buf)[:(r1-r0)*wd]
				for r := r0; r < r1; r++ {
					w.decode(s[(r-r0)*wd:(r-r0+1)*wd], r, c0, c1)
				}
				if m == 1 {
					d := dx[c0:c1]
					for r := r0; r < r1; r++ {
						if g := dy[r]; g != 0 {
							axpyImpl(g, s[(r-r0)*wd:(r-r0+1)*wd], d)
						}
					}
					continue
				}
				gemmSerial(defaultKernel, &gemmOp{m: m, n: wd, k: r1 - r0,
					a: dy[r0:], rsa: rows, csa: 1, b: s, rsb: wd, csb: 1, c: dx[c0:], ldc: cols, acc: true})
			}
		}
	})
}

// F32Mat is a frozen float32 weight matrix W[rows×cols].
type F32Mat struct {
	rows, cols int
	w          []float32 // [rows×cols]
}

// NewF32Mat wraps w[rows×cols] (not copied).
func NewF32Mat(rows, cols int, w []float32) *F32Mat {
	checkMat("NewF32Mat", rows, cols, len(w))
	return &F32Mat{rows: rows, cols: cols, w: w[:rows*cols]}
}

// Rows returns the number of output features.
func (m *F32Mat) Rows() int { return m.rows }

// Cols returns the number of input features.
func (m *F32Mat) Cols() int { return m.cols }

// Bytes returns the memory held by the weights.
func (m *F32Mat) Bytes() int64 { return 4 * int64(len(m.w)) }

// Data returns the underlying row-major values (not a copy).
func (m *F32Mat) Data() []float32 { return m.w }

// MulT computes y[n×rows] = x[n×cols]·Wᵀ.
func (m *F32Mat) MulT(y, x []float32, n int) {
	checkMulT(m.rows, m.cols, y, x, n)
	MatMulNT(y, x, m.w, n, m.rows, m.cols, false)
}

// MulAcc computes dx[n×cols] += dy[n×rows]·W.
func (m *F32Mat) MulAcc(dx, dy []float32, n int) {
	checkMulAcc(m.rows, m.cols, dx, dy, n)
	MatMulNN(dx, dy, m.w, n, m.cols, m.rows, true)
}

// Dequantize copies W into dst[rows×cols].
func (m *F32Mat) Dequantize(dst []float32) { copy(dst[:len(m.w)], m.w) }

// Row copies row i into dst[:cols].
func (m *F32Mat) Row(i int, dst []float32) { copy(dst[:m.cols], m.w[i*m.cols:(i+1)*m.cols]) }

// BF16Mat is a frozen bfloat16 weight matrix W[rows×cols].
type BF16Mat struct {
	rows, cols int
	w          []uint16 // [rows×cols] bfloat16 bits
}

// NewBF16Mat wraps bfloat16 bits w[rows×cols] (not copied).
func NewBF16Mat(rows, cols int, w []uint16) *BF16Mat {
	checkMat("NewBF16Mat", rows, cols, len(w))
	return &BF16Mat{rows: rows, cols: cols, w: w[:rows*cols]}
}

// QuantizeBF16 rounds w[rows×cols] to bfloat16 (nearest even).
func QuantizeBF16(rows, cols int, w []float32) *BF16Mat {
	checkMat("QuantizeBF16", rows, cols, len(w))
	h := make([]uint16, rows*cols)
	F32ToBF16Slice(h, w[:rows*cols])
	return &BF16Mat{rows: rows, cols: cols, w: h}
}

// Rows returns the number of output features.
func (m *BF16Mat) Rows() int { return m.rows }

// Cols returns the number of input features.
func (m *BF16Mat) Cols() int { return m.cols }

// Bytes returns the memory held by the weights.
func (m *BF16Mat) Bytes() int64 { return 2 * int64(len(m.w)) }

// Data returns the underlying bfloat16 bits (not a copy).
func (m *BF16Mat) Data() []uint16 { return m.w }

// MulT computes y[n×rows] = x[n×cols]·Wᵀ.
func (m *BF16Mat) MulT(y, x []float32, n int) { mulT(m, m.rows, m.cols, y, x, n) }

// MulAcc computes dx[n×cols] += dy[n×rows]·W.
func (m *BF16Mat) MulAcc(dx, dy []float32, n int) { mulAcc(m, m.rows, m.cols, dx, dy, n) }

// Dequantize widens W into dst[rows×cols].
func (m *BF16Mat) Dequantize(dst []float32) { BF16ToF32Slice(dst, m.w) }

// Row widens row i into dst[:cols].
func (m *BF16Mat) Row(i int, dst []float32) { m.decode(dst, i, 0, m.cols) }

func (m *BF16Mat) decode(dst []float32, r, c0, c1 int) {
	BF16ToF32Slice(dst, m.w[r*m.cols+c0:r*m.cols+c1])
}

func (m *BF16Mat) dotRow(r int, x []float32) float32 {
	return dotBF16Impl(m.w[r*m.cols:(r+1)*m.cols], x)
}

// dotBF16Go is Σ bf16(w[i])·x[i] with four partial sums.
func dotBF16Go(w []uint16, x []float32) float32 {
	x = x[:len(w)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(w); i += 4 {
		s0 += BF16ToF32(w[i]) * x[i]
		s1 += BF16ToF32(w[i+1]) * x[i+1]
		s2 += BF16ToF32(w[i+2]) * x[i+2]
		s3 += BF16ToF32(w[i+3]) * x[i+3]
	}
	for ; i < len(w); i++ {
		s0 += BF16ToF32(w[i]) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}
