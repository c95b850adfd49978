package tensor

import (
	"fmt"
	"math"
)

// SoftmaxInPlace replaces x with softmax(x), subtracting the maximum first so
// large logits do not overflow. Entries equal to -Inf get probability 0; a
// row that is entirely -Inf becomes all zeros.
func SoftmaxInPlace(x []float32) {
	softmaxImpl(x)
}

// softmaxGo is the portable SoftmaxInPlace.
func softmaxGo(x []float32) {
	if len(x) == 0 {
		return
	}
	mx := float32(math.Inf(-1))
	for _, v := range x {
		if v > mx {
			mx = v
		}
	}
	if math.IsInf(float64(mx), -1) {
		clear(x)
		return
	}
	var sum float64
	for i, v := range x {
		e := float32(math.Exp(float64(v - mx)))
		x[i] = e
		sum += float64(e)
	}
	Scale(x, float32(1/sum))
}

// RMSNorm computes out[r] = x[r] / sqrt(mean(x[r]²) + eps) ⊙ w for each of
// rows rows of dim values (x, out [rows×dim], w [dim]). out may alias x. If
// rstd is not nil, rstd[r] = 1/sqrt(mean(x[r]²)+eps) is saved for backward.
func RMSNorm(out, x, w []float32, rows, dim int, eps float32, rstd []float32) {
	if len(x) < rows*dim || len(out) < rows*dim || len(w) < dim || (rstd != nil && len(rstd) < rows) {
		panic(fmt.Sprintf("tensor: RMSNorm: buffers too short for rows=%d dim=%d", rows, dim))
	}
	w = w[:dim]
	for r := 0; r < rows; r++ {
		xr := x[r*dim : r*dim+dim]
		or := out[r*dim : r*dim+dim]
		var ss float64
		for _, v := range xr {
			ss += float64(v) * float64(v)
		}
		rs := float32(1 / math.Sqrt(ss/float64(dim)+float64(eps)))
		for i, v := range xr {
			or[i] = v * rs * w[i]
		}
		if rstd != nil {
			rstd[r] = rs
		}
	}
}

// LayerNorm computes out[r] = (x[r]-mean)/sqrt(var+eps) ⊙ w + b for each of
// rows rows of dim values (x, out [rows×dim], w, b [dim]; b may be nil for
// no bias). out may alias x. mean and rstd [rows], if not nil, receive the
// row statistics for backward.
func LayerNorm(out, x, w, b []float32, rows, dim int, eps float32, mean, rstd []float32) {
	if len(x) < rows*dim || len(out) < rows*dim || len(w) < dim || (b != nil && len(b) < dim) ||
		(mean != nil && len(mean) < rows) || (rstd != nil && len(rstd) < rows) {
		panic(fmt.Sprintf("tensor: LayerNorm: buffers too short for rows=%d dim=%d", rows, dim))
	}
	w = w[:dim]
	for r := 0; r < rows; r++ {
		xr := x[r*dim : r*dim+dim]
		or := out[r*dim : r*dim+dim]
		var s float64
		for _, v := range xr {
			s += float64(v)
		}
		mu := s / float64(dim)
		var vs float64
		for _, v := range xr {
			d := float64(v) - mu
			vs += d * d
		}
		rs := 1 / math.Sqrt(vs/float64(dim)+float64(eps))
		m32, r32 := float32(mu), float32(rs)
		if b != nil {
			bb := b[:dim]
			for i, v := range xr {
				or[i] = (v-m32)*r32*w[i] + bb[i]
			}
		} else {
			for i, v := range xr {
				or[i] = (v - m32) * r32 * w[i]
			}
		}
		if mean != nil {
			mean[r] = m32
		}
		if rstd != nil {
			rstd[r] = r32
		}
	}
}

// SiLU returns x·sigmoid(x) (the Swish activation of SwiGLU).
func SiLU(x float32) float32 {
	return x / (1 + float32(math.Exp(float64(-x))))
}

// SwiGLU computes out[i] = SiLU(gate[i])·up[i] over len(out) elements (the
// Llama MLP activation); out may alias gate or up.
func SwiGLU(out, gate, up []float32) {
	if len(gate) < len(out) || len(up) < len(out) {
		panic(fmt.Sprintf("tensor: SwiGLU: len(out)=%d but len(gate)=%d len(up)=%d", len(out), len(gate), len(up)))
	}
	swigluImpl(out, gate[:len(out)], up[:len(out)])
}

// swigluGo is the portable SwiGLU.
func swigluGo(out, gate, up []float32) {
	gate = gate[:len(out)]
	up = up[:len(out)]
	for i, g := range gate {
		out[i] = SiLU(g) * up[i]
	}
}

// SwiGLUBackward is the backward of SwiGLU over len(dout) elements: with
// s = sigmoid(gate[i]), dup[i] = dout[i]·gate[i]·s and dgate[i] =
// dout[i]·up[i]·s·(1 + gate[i]·(1−s)). dgate may alias dout or gate, and
// dup up (each element is read before it is written).
func SwiGLUBackward(dgate, dup, dout, gate, up []float32) {
	n := len(dout)
	if len(dgate) < n || len(dup) < n || len(gate) < n || len(up) < n {
		panic(fmt.Sprintf("tensor: SwiGLUBackward: len(dout)=%d but len(dgate)=%d len(dup)=%d len(gate)=%d len(up)=%d",
			n, len(dgate), len(dup), len(gate), len(up)))
	}
	swigluBackImpl(dgate[:n], dup[:n], dout, gate[:n], up[:n])
}

// swigluBackGo is the portable SwiGLUBackward.
func swigluBackGo(dgate, dup, dout, gate, up []float32) {
	dgate, dup, gate, up = dgate[:len(dout)], dup[:len(dout)], gate[:len(dout)], up[:len(dout)]
	for i, d := range dout {
		g, u := gate[i], up[i]
		s := 1 / (1 + float32(math.Exp(float64(-g))))
		dgate[i] = d * u * s * (1 + g*(1-s))
		dup[i] = d * g * s
	}
}

// SiLUGrad returns d SiLU(x) / dx = s·(1 + x·(1-s)) with s = sigmoid(x).
func SiLUGrad(x float32) float32 {
	s := 1 / (1 + float32(math.Exp(float64(-x))))
	return s * (1 + x*(1-s))
}

// GELU returns the exact GELU, 0.5·x·(1 + erf(x/√2)) (BERT's "gelu").
func GELU(x float32) float32 {
	return float32(0.5 * float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2)))
}

// GELUGrad returns d GELU(x) / dx = Φ(x) + x·φ(x).
func GELUGrad(x float32) float32 {
	xf := float64(x)
	cdf := 0.5 * (1 + math.Erf(xf/math.Sqrt2))
	pdf := math.Exp(-0.5*xf*xf) / math.Sqrt(2*math.Pi)
	return float32(cdf + xf*pdf)
}

// sqrt2OverPi is √(2/π), the constant of the tanh GELU approximation.
const sqrt2OverPi = 0.7978845608028654

// GELUTanh returns the tanh approximation 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³)))
// ("gelu_pytorch_tanh", "gelu_new").
func GELUTanh(x float32) float32 {
	xf := float64(x)
	return float32(0.5 * xf * (1 + math.Tanh(sqrt2OverPi*(xf+0.044715*xf*xf*xf))))
}

// GELUTanhGrad returns the derivative of GELUTanh at x.
func GELUTanhGrad(x float32) float32 {
	xf := float64(x)
	u := sqrt2OverPi * (xf + 0.044715*xf*xf*xf)
	t := math.Tanh(u)
	du := sqrt2OverPi * (1 + 3*0.044715*xf*xf)
	return float32(0.5*(1+t) + 0.5*xf*(1-t*t)*du)
}
