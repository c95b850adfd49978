package tensor

import "math"

// Q8Mat is a frozen weight matrix W[rows×cols] stored as int8 with one
// float32 scale per output row: W[r,c] ≈ q[r,c]·scale[r], scale = absmax/127.
// The round-trip error is at most scale/2 = absmax(row)/254 per element.
type Q8Mat struct {
	rows, cols int
	q          []int8    // [rows×cols]
	scale      []float32 // [rows]
}

// QuantizeQ8 quantises w[rows×cols] to int8 with per-row absmax scaling.
func QuantizeQ8(rows, cols int, w []float32) *Q8Mat {
	checkMat("QuantizeQ8", rows, cols, len(w))
	m := &Q8Mat{rows: rows, cols: cols, q: make([]int8, rows*cols), scale: make([]float32, rows)}
	for r := 0; r < rows; r++ {
		src := w[r*cols : (r+1)*cols]
		var amax float32
		for _, v := range src {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		if amax == 0 {
			continue
		}
		s := amax / 127
		m.scale[r] = s
		inv := 1 / s
		dst := m.q[r*cols : (r+1)*cols]
		for i, v := range src {
			q := math.RoundToEven(float64(v * inv))
			dst[i] = int8(max(-127, min(127, q)))
		}
	}
	return m
}

// NewQ8Mat wraps already-quantised values q[rows×cols] and scales[rows]
// (not copied), e.g. read back from a checkpoint.
func NewQ8Mat(rows, cols int, q []int8, scales []float32) *Q8Mat {
	checkMat("NewQ8Mat", rows, cols, len(q))
	checkMat("NewQ8Mat scales", rows, 1, len(scales))
	return &Q8Mat{rows: rows, cols: cols, q: q[:rows*cols], scale: scales[:rows]}
}

// Rows returns the number of output features.
func (m *Q8Mat) Rows() int { return m.rows }

// Cols returns the number of input features.
func (m *Q8Mat) Cols() int { return m.cols }

// Bytes returns the memory held by values and scales.
func (m *Q8Mat) Bytes() int64 { return int64(len(m.q)) + 4*int64(len(m.scale)) }

// Data returns the int8 values and per-row scales (not copies).
func (m *Q8Mat) Data() ([]int8, []float32) { return m.q, m.scale }

// MulT computes y[n×rows] = x[n×cols]·Wᵀ.
func (m *Q8Mat) MulT(y, x []float32, n int) { mulT(m, m.rows, m.cols, y, x, n) }

// MulAcc computes dx[n×cols] += dy[n×rows]·W.
func (m *Q8Mat) MulAcc(dx, dy []float32, n int) { mulAcc(m, m.rows, m.cols, dx, dy, n) }

// Dequantize writes W into dst[rows×cols].
func (m *Q8Mat) Dequantize(dst []float32) {
	for r := 0; r < m.rows; r++ {
		m.decode(dst[r*m.cols:(r+1)*m.cols], r, 0, m.cols)
	}
}

// Row writes dequantised row i into dst[:cols].
func (m *Q8Mat) Row(i int, dst []float32) { m.decode(dst, i, 0, m.cols) }

func (m *Q8Mat) decode(dst []float32, r, c0, c1 int) {
	s := m.scale[r]
	src := m.q[r*m.cols+c0 : r*m.cols+c1]
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] = float32(v) * s
	}
}

func (m *Q8Mat) dotRow(r int, x []float32) float32 {
	return dotQ8Impl(m.q[r*m.cols:(r+1)*m.cols], x) * m.scale[r]
}

// dotQ8Go is Σ q[i]·x[i] with four partial sums.
func dotQ8Go(q []int8, x []float32) float32 {
	x = x[:len(q)]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(q); i += 4 {
		s0 += float32(q[i]) * x[i]
		s1 += float32(q[i+1]) * x[i+1]
		s2 += float32(q[i+2]) * x[i+2]
		s3 += float32(q[i+3]) * x[i+3]
	}
	for ; i < len(q); i++ {
		s0 += float32(q[i]) * x[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// NF4BlockSize is the number of consecutive weights (in row-major order)
// sharing one absmax in NF4Mat, as in QLoRA.
const NF4BlockSize = 64

// NF4CodeBook returns the 4-bit NormalFloat code book of QLoRA /
// bitsandbytes: the 16 values a normalised weight (w/absmax) is rounded to,
// indexed by the stored 4-bit code.
func NF4CodeBook() [16]float32 { return nf4Code }

// nf4Code is the NF4 code book (see NF4CodeBook); read-only.
var nf4Code = [16]float32{
	-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
	-0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
	0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
	0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
}

// NF4Mat is a frozen weight matrix W[rows×cols] in 4-bit NormalFloat: the
// row-major weights are cut into blocks of NF4BlockSize, each block keeps
// its absmax (float32), and each weight stores the index of the NF4CodeBook
// value nearest to w/absmax. Two indices share a byte, the first (even)
// element in the high nibble, as bitsandbytes packs them. The round-trip
// error of a weight is at most absmax × half the widest gap in nf4Code
// (about 0.152·absmax, between -1 and -0.696).
type NF4Mat struct {
	rows, cols int
	q          []byte    // [ceil(rows×cols/2)] packed indices
	absmax     []float32 // [ceil(rows×cols/64)]
}

// nf4Index returns the index of the code book value nearest to v ∈ [-1,1]
// (ties go to the larger value).
func nf4Index(v float32) byte {
	lo, hi := 0, 15
	for hi-lo > 1 { // binary search for the bracketing pair
		mid := (lo + hi) / 2
		if nf4Code[mid] <= v {
			lo = mid
		} else {
			hi = mid
		}
	}
	if v-nf4Code[lo] < nf4Code[hi]-v {
		return byte(lo)
	}
	return byte(hi)
}

// QuantizeNF4 quantises w[rows×cols] to NF4 with block size 64.
func QuantizeNF4(rows, cols int, w []float32) *NF4Mat {
	checkMat("QuantizeNF4", rows, cols, len(w))
	n := rows * cols
	m := &NF4Mat{rows: rows, cols: cols, q: make([]byte, (n+1)/2),
		absmax: make([]float32, (n+NF4BlockSize-1)/NF4BlockSize)}
	for b := range m.absmax {
		blk := w[b*NF4BlockSize : min((b+1)*NF4BlockSize, n)]
		var amax float32
		for _, v := range blk {
			amax = max(amax, float32(math.Abs(float64(v))))
		}
		m.absmax[b] = amax
		inv := float32(0)
		if amax > 0 {
			inv = 1 / amax
		}
		for i, v := range blk {
			e := b*NF4BlockSize + i
			idx := nf4Index(max(-1, min(1, v*inv)))
			if e&1 == 0 {
				m.q[e/2] |= idx << 4
			} else {
				m.q[e/2] |= idx
			}
		}
	}
	return m
}

// NewNF4Mat wraps already-quantised packed indices q[ceil(rows×cols/2)] and
// absmax[ceil(rows×cols/64)] (not copied).
func NewNF4Mat(rows, cols int, q []byte, absmax []float32) *NF4Mat {
	n := rows * cols
	checkMat("NewNF4Mat", (n+1)/2, 1, len(q))
	checkMat("NewNF4Mat absmax", (n+NF4BlockSize-1)/NF4BlockSize, 1, len(absmax))
	return &NF4Mat{rows: rows, cols: cols, q: q[:(n+1)/2], absmax: absmax[:(n+NF4BlockSize-1)/NF4BlockSize]}
}

// Rows returns the number of output features.
func (m *NF4Mat) Rows() int { return m.rows }

// Cols returns the number of input features.
func (m *NF4Mat) Cols() int { return m.cols }

// Bytes returns the memory held by indices and block scales.
func (m *NF4Mat) Bytes() int64 { return int64(len(m.q)) + 4*int64(len(m.absmax)) }

// Data returns the packed indices and block absmax values (not copies).
func (m *NF4Mat) Data() ([]byte, []float32) { return m.q, m.absmax }

// MulT computes y[n×rows] = x[n×cols]·Wᵀ.
func (m *NF4Mat) MulT(y, x []float32, n int) { mulT(m, m.rows, m.cols, y, x, n) }

// MulAcc computes dx[n×cols] += dy[n×rows]·W.
func (m *NF4Mat) MulAcc(dx, dy []float32, n int) { mulAcc(m, m.rows, m.cols, dx, dy, n) }

// Dequantize writes W into dst[rows×cols].
func (m *NF4Mat) Dequantize(dst []float32) {
	n := m.rows * m.cols
	m.decodeFlat(dst[:n], 0)
}

// Row writes dequantised row i into dst[:cols].
func (m *NF4Mat) Row(i int, dst []float32) { m.decode(dst, i, 0, m.cols) }

func (m *NF4Mat) decode(dst []float32, r, c0, c1 int) {
	m.decodeFlat(dst[:c1-c0], r*m.cols+c0)
}

// decodeFlat dequantises len(dst) weights starting at flat index e0.
func (m *NF4Mat) decodeFlat(dst []float32, e0 int) {
	for i := range dst {
		e := e0 + i
		b := m.q[e>>1]
		if e&1 == 0 {
			b >>= 4
		}
		dst[i] = nf4Code[b&15] * m.absmax[e/NF4BlockSize]
	}
}

func (m *NF4Mat) dotRow(r int, x []float32) float32 {
	e0 := r * m.cols
	x = x[:m.cols]
	if m.cols%NF4BlockSize == 0 {
		// Rows are whole blocks: decode in registers block by block.
		b0 := e0 / NF4BlockSize
		nb := m.cols / NF4BlockSize
		return dotNF4BlocksImpl(m.q[e0/2:(e0+m.cols)/2], m.absmax[b0:b0+nb], x)
	}
	var total float32
	for c := 0; c < m.cols; {
		e := e0 + c
		blk := e / NF4BlockSize
		end := min(m.cols, c+(blk+1)*NF4BlockSize-e)
		if e&1 == 0 && (end-c)&1 == 0 {
			total += dotNF4Impl(m.q[e>>1:(e+end-c)>>1], x[c:end]) * m.absmax[blk]
		} else {
			var s float32
			for i := c; i < end; i++ {
				ei := e0 + i
				b := m.q[ei>>1]
				if ei&1 == 0 {
					b >>= 4
				}
				s += nf4Code[b&15] * x[i]
			}
			total += s * m.absmax[blk]
		}
		c = end
	}
	return total
}

// dotNF4BlocksGo returns Σ_b absmax[b]·(block b of q)·x over len(absmax)
// whole blocks of NF4BlockSize weights.
func dotNF4BlocksGo(q []byte, absmax []float32, x []float32) float32 {
	var total float32
	for b, s := range absmax {
		total += dotNF4Go(q[b*NF4BlockSize/2:(b+1)*NF4BlockSize/2], x[b*NF4BlockSize:(b+1)*NF4BlockSize]) * s
	}
	return total
}

// dotNF4Go is Σ code[idx]·x over packed byte pairs (high nibble first):
// len(x) == 2·len(q).
func dotNF4Go(q []byte, x []float32) float32 {
	x = x[:2*len(q)]
	var s0, s1 float32
	for i, b := range q {
		s0 += nf4Code[b>>4] * x[2*i]
		s1 += nf4Code[b&15] * x[2*i+1]
	}
	return s0 + s1
}
