package llm

import "github.com/whet-dev/whet/internal/tensor"

// Matrix is a frozen weight W[Rows×Cols] in any storage format; the
// internal/tensor types F32Mat, BF16Mat, Q8Mat and NF4Mat implement it.
type Matrix interface {
	Rows() int
	Cols() int
	// Bytes is the memory the weights occupy.
	Bytes() int64
	// MulT computes y[n×Rows] = x[n×Cols]·Wᵀ.
	MulT(y, x []float32, n int)
	// MulAcc computes dx[n×Cols] += dy[n×Rows]·W (the input gradient).
	MulAcc(dx, dy []float32, n int)
	// Dequantize writes W as float32 into dst[Rows×Cols].
	Dequantize(dst []float32)
	// Row writes row i as float32 into dst[:Cols].
	Row(i int, dst []float32)
}

var (
	_ Matrix = (*tensor.F32Mat)(nil)
	_ Matrix = (*tensor.BF16Mat)(nil)
	_ Matrix = (*tensor.Q8Mat)(nil)
	_ Matrix = (*tensor.NF4Mat)(nil)
)

// Delta is a trainable update added to a frozen linear map, such as a LoRA
// adapter: AddForward adds delta(x)[n×out] into y for input x[n×in].
type Delta interface {
	AddForward(y, x []float32, n int)
}

// Linear is one projection y = x·Wᵀ + b (+ Delta(x)). Every projection of
// the model goes through Forward, so an adapter attached here changes the
// model's output without touching the frozen weight.
type Linear struct {
	W     Matrix    // [out×in], frozen
	B     []float32 // [out] or nil
	Delta Delta     // nil: no adapter
}

// In returns the input width.
func (l *Linear) In() int { return l.W.Cols() }

// Out returns the output width.
func (l *Linear) Out() int { return l.W.Rows() }

// Row counts for which MulT is called in chunks of matVecRows rows: the
// kernels' mat-vec path (up to 4 rows) re-reads each weight row from cache,
// while their SGEMM path repacks the whole matrix on every call. Measured in
// CPU time on the SmolLM2 MLP shape (1536×576), two chunks of 4 rows cost
// 0.64× (f32) and 0.53× (int8) of one 8-row SGEMM; at 16 rows f32 breaks
// even and int8 still gains.
const (
	matVecRows       = 4
	chunkMaxRowsF32  = 12
	chunkMaxRowsQuan = 16
)

// mulT computes y[n×out] = x[n×in]·Wᵀ, chunking small batches.
func mulT(w Matrix, y, x []float32, n int) {
	limit := chunkMaxRowsQuan
	if _, ok := w.(*tensor.F32Mat); ok {
		limit = chunkMaxRowsF32
	}
	if n <= matVecRows || n > limit {
		w.MulT(y, x, n)
		return
	}
	out, in := w.Rows(), w.Cols()
	for r := 0; r < n; r += matVecRows {
		k := min(matVecRows, n-r)
		w.MulT(y[r*out:(r+k)*out], x[r*in:(r+k)*in], k)
	}
}

// Forward computes y[n×out] = x[n×in]·Wᵀ + b, then adds Delta.
func (l *Linear) Forward(y, x []float32, n int) {
	out := l.W.Rows()
	mulT(l.W, y, x, n)
	if l.B != nil {
		for t := 0; t < n; t++ {
			tensor.Add(y[t*out:(t+1)*out], y[t*out:(t+1)*out], l.B)
		}
	}
	if l.Delta != nil {
		l.Delta.AddForward(y, x, n)
	}
}
