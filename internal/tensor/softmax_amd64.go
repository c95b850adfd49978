package tensor

import "math"

//go:noescape
func maxAVX2(x *float32, n int) float32

//go:noescape
func expSumAVX2(x *float32, n int, max float32, consts *[13][8]float32) float32

//go:noescape
func swigluAVX2(out, gate, up *float32, n int, consts *[13][8]float32)

//go:noescape
func swigluBackAVX2(dgate, dup, dout, gate, up *float32, n int, consts *[13][8]float32)

// expConsts are expSumAVX2's constants, each repeated across 8 lanes: the
// lower clamp, log2(e), ln2 split in two (Cephes C1, C2), the polynomial
// coefficients, 1, the float exponent bias 127 (as int32 bits) and the
// upper clamp.
var expConsts = func() (c [13][8]float32) {
	vals := [11]float32{-87.33654, 1.44269504088896341, 0.693359375, -2.12194440e-4,
		1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2,
		1.6666665459e-1, 5.0000001201e-1, 1}
	for i, v := range vals {
		for j := range c[i] {
			c[i][j] = v
		}
	}
	for j := range c[11] {
		c[11][j] = math.Float32frombits(127)
		c[12][j] = 88.3762626647949
	}
	return c
}()

// softmaxAsm is SoftmaxInPlace with AVX2 max and exp passes.
func softmaxAsm(x []float32) {
	n8 := len(x) &^ 7
	if n8 == 0 {
		softmaxGo(x)
		return
	}
	mx := maxAVX2(&x[0], n8)
	for _, v := range x[n8:] {
		mx = max(mx, v)
	}
	if math.IsInf(float64(mx), -1) {
		clear(x)
		return
	}
	sum := float64(expSumAVX2(&x[0], n8, mx, &expConsts))
	for i := n8; i < len(x); i++ {
		e := float32(math.Exp(float64(x[i] - mx)))
		x[i] = e
		sum += float64(e)
	}
	Scale(x, float32(1/sum))
}

// swigluAsm is SwiGLU with the AVX2 exp.
func swigluAsm(out, gate, up []float32) {
	n8 := len(out) &^ 7
	if n8 > 0 {
		swigluAVX2(&out[0], &gate[:n8][0], &up[:n8][0], n8, &expConsts)
	}
	swigluGo(out[n8:], gate[n8:len(out)], up[n8:len(out)])
}

// swigluBackAsm is SwiGLUBackward with the AVX2 exp.
func swigluBackAsm(dgate, dup, dout, gate, up []float32) {
	n8 := len(dout) &^ 7
	if n8 > 0 {
		swigluBackAVX2(&dgate[:n8][0], &dup[:n8][0], &dout[0], &gate[:n8][0], &up[:n8][0], n8, &expConsts)
	}
	swigluBackGo(dgate[n8:], dup[n8:], dout[n8:], gate[n8:], up[n8:])
}
