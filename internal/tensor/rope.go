package tensor

import (
	"errors"
	"fmt"
	"math"
)

// ErrRoPEScaling reports an unsupported or malformed rope_scaling config.
var ErrRoPEScaling = errors.New("tensor: invalid rope scaling")

// RoPEScaling is a Hugging Face rope_scaling config. Type "llama3" uses
// Factor, LowFreqFactor, HighFreqFactor and OriginalMaxPos
// (original_max_position_embeddings); type "linear" divides positions by
// Factor. A nil *RoPEScaling means no scaling.
type RoPEScaling struct {
	Type                          string
	Factor                        float64
	LowFreqFactor, HighFreqFactor float64
	OriginalMaxPos                int
}

// Validate reports whether s describes a scaling RoPETables can apply.
func (s *RoPEScaling) Validate() error {
	if s == nil {
		return nil
	}
	switch s.Type {
	case "linear":
		if !(s.Factor > 0) {
			return fmt.Errorf("%w: linear factor %v must be > 0", ErrRoPEScaling, s.Factor)
		}
	case "llama3":
		if !(s.Factor > 0) || s.OriginalMaxPos <= 0 || !(s.HighFreqFactor > s.LowFreqFactor) || !(s.LowFreqFactor > 0) {
			return fmt.Errorf("%w: llama3 needs factor>0, original_max_position_embeddings>0 and high_freq_factor>low_freq_factor>0", ErrRoPEScaling)
		}
	default:
		return fmt.Errorf("%w: type %q (want \"llama3\" or \"linear\")", ErrRoPEScaling, s.Type)
	}
	return nil
}

// RoPEInvFreq returns the headDim/2 inverse frequencies theta^(-2i/headDim),
// adjusted by scaling as transformers' rope init functions do. It panics if
// scaling does not Validate; check the config when loading a model.
func RoPEInvFreq(headDim int, theta float64, scaling *RoPEScaling) []float64 {
	if err := scaling.Validate(); err != nil {
		panic(err)
	}
	half := headDim / 2
	inv := make([]float64, half)
	for i := range inv {
		inv[i] = 1 / math.Pow(theta, float64(2*i)/float64(headDim))
	}
	if scaling == nil {
		return inv
	}
	switch scaling.Type {
	case "linear":
		for i := range inv {
			inv[i] /= scaling.Factor
		}
	case "llama3":
		old := float64(scaling.OriginalMaxPos)
		lowWavelen := old / scaling.LowFreqFactor
		highWavelen := old / scaling.HighFreqFactor
		for i, f := range inv {
			wavelen := 2 * math.Pi / f
			switch {
			case wavelen < highWavelen: // high frequency: unchanged
			case wavelen > lowWavelen: // low frequency: slowed by factor
				inv[i] = f / scaling.Factor
			default: // in between: interpolate smoothly
				smooth := (old/wavelen - scaling.LowFreqFactor) / (scaling.HighFreqFactor - scaling.LowFreqFactor)
				inv[i] = (1-smooth)*f/scaling.Factor + smooth*f
			}
		}
	}
	return inv
}

// RoPETables returns cos and sin tables [maxPos×headDim/2] with
// cos[p*headDim/2+i] = cos(p·invFreq[i]) for the rotate-half (Hugging Face)
// convention. It panics if scaling does not Validate.
func RoPETables(maxPos, headDim int, theta float64, scaling *RoPEScaling) (cos, sin []float32) {
	inv := RoPEInvFreq(headDim, theta, scaling)
	half := headDim / 2
	cos = make([]float32, maxPos*half)
	sin = make([]float32, maxPos*half)
	for p := 0; p < maxPos; p++ {
		for i, f := range inv {
			s, c := math.Sincos(float64(p) * f)
			cos[p*half+i] = float32(c)
			sin[p*half+i] = float32(s)
		}
	}
	return cos, sin
}

// RoPE rotates x[len(pos)×nHeads×headDim] in place by the rotate-half
// convention: for each head, with h = headDim/2, (x[i], x[i+h]) becomes
// (x[i]·cos − x[i+h]·sin, x[i+h]·cos + x[i]·sin) at angle pos[t]·invFreq[i].
// cos and sin are tables from RoPETables. The backward pass is RoPEInverse.
func RoPE(x []float32, pos []int, nHeads, headDim int, cos, sin []float32) {
	rope(x, pos, nHeads, headDim, cos, sin, 1)
}

// RoPEInverse rotates x by the opposite angles, undoing RoPE. Since the
// rotation is orthogonal, it is also RoPE's backward pass: applied to the
// gradient with respect to RoPE's output it yields the gradient with respect
// to its input.
func RoPEInverse(x []float32, pos []int, nHeads, headDim int, cos, sin []float32) {
	rope(x, pos, nHeads, headDim, cos, sin, -1)
}

// rope rotates by sign·angle.
func rope(x []float32, pos []int, nHeads, headDim int, cos, sin []float32, sign float32) {
	half := headDim / 2
	if len(x) < len(pos)*nHeads*headDim {
		panic(fmt.Sprintf("tensor: RoPE: len(x)=%d < %d×%d×%d", len(x), len(pos), nHeads, headDim))
	}
	for t, p := range pos {
		if p < 0 || (p+1)*half > len(cos) || (p+1)*half > len(sin) {
			panic(fmt.Sprintf("tensor: RoPE: position %d outside the tables", p))
		}
		cr := cos[p*half : p*half+half]
		sr := sin[p*half : p*half+half]
		for h := 0; h < nHeads; h++ {
			v := x[(t*nHeads+h)*headDim:][:headDim]
			x1 := v[:half]
			x2 := v[half : 2*half]
			for i := range x1 {
				a, b, s := x1[i], x2[i], sign*sr[i]
				x1[i] = a*cr[i] - b*s
				x2[i] = b*cr[i] + a*s
			}
		}
	}
}
