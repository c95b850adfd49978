package tensor

import "fmt"

// DotQ8 returns Σ q[i]·x[i] over len(q) elements (int8 codes against
// float32; the caller applies the scale); x must be at least as long.
func DotQ8(q []int8, x []float32) float32 {
	if len(x) < len(q) {
		panic(fmt.Sprintf("tensor: DotQ8: len(x)=%d < len(q)=%d", len(x), len(q)))
	}
	return dotQ8Impl(q, x[:len(q)])
}
