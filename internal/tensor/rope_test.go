package tensor

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

func TestRoPEMatchesRotation(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	nHeads, headDim := 3, 8
	pos := []int{0, 5, 17}
	cos, sin := RoPETables(32, headDim, 10000, nil)
	x := randSlice(r, len(pos)*nHeads*headDim)
	orig := append([]float32(nil), x...)
	RoPE(x, pos, nHeads, headDim, cos, sin)
	half := headDim / 2
	for ti, p := range pos {
		for h := 0; h < nHeads; h++ {
			base := (ti*nHeads + h) * headDim
			for i := 0; i < half; i++ {
				ang := float64(p) * math.Pow(10000, -float64(2*i)/float64(headDim))
				a, b := float64(orig[base+i]), float64(orig[base+i+half])
				w1 := a*math.Cos(ang) - b*math.Sin(ang)
				w2 := b*math.Cos(ang) + a*math.Sin(ang)
				if math.Abs(float64(x[base+i])-w1) > 1e-5 || math.Abs(float64(x[base+i+half])-w2) > 1e-5 {
					t.Fatalf("pos %d head %d i %d: got (%v,%v) want (%v,%v)", p, h, i, x[base+i], x[base+i+half], w1, w2)
				}
			}
		}
	}
	// RoPEInverse restores the input
	RoPEInverse(x, pos, nHeads, headDim, cos, sin)
	for i := range x {
		if math.Abs(float64(x[i]-orig[i])) > 1e-5 {
			t.Fatalf("inverse rotation differs at %d: %v vs %v", i, x[i], orig[i])
		}
	}
}

// TestRoPELlama3 checks the llama3 rule band by band: wavelengths shorter
// than original/high_freq_factor keep their frequency, longer than
// original/low_freq_factor are divided by factor, and in between the
// frequency is the smooth interpolation, which is continuous at both edges.
func TestRoPELlama3(t *testing.T) {
	sc := &RoPEScaling{Type: "llama3", Factor: 32, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 8192}
	headDim, theta := 64, 500000.0
	base := RoPEInvFreq(headDim, theta, nil)
	got := RoPEInvFreq(headDim, theta, sc)
	var nHigh, nLow, nMid int
	for i, f := range base {
		wl := 2 * math.Pi / f
		var want float64
		switch {
		case wl < 8192.0/4:
			want = f
			nHigh++
		case wl > 8192.0/1:
			want = f / 32
			nLow++
		default:
			s := (8192/wl - 1) / (4 - 1)
			want = (1-s)*f/32 + s*f
			nMid++
			if got[i] > f || got[i] < f/32 {
				t.Fatalf("mid band %d outside [f/32, f]: %v", i, got[i])
			}
		}
		if math.Abs(got[i]-want) > 1e-12*want {
			t.Fatalf("inv_freq[%d] = %v, want %v", i, got[i], want)
		}
	}
	if nHigh == 0 || nLow == 0 || nMid == 0 {
		t.Fatalf("test does not exercise all bands: high %d low %d mid %d", nHigh, nLow, nMid)
	}
	// Tables agree with the frequencies.
	cos, sin := RoPETables(10, headDim, theta, sc)
	half := headDim / 2
	for i := 0; i < half; i++ {
		if math.Abs(float64(cos[7*half+i])-math.Cos(7*got[i])) > 1e-6 || math.Abs(float64(sin[7*half+i])-math.Sin(7*got[i])) > 1e-6 {
			t.Fatalf("table entry %d disagrees with inv_freq", i)
		}
	}
	lin := RoPEInvFreq(headDim, theta, &RoPEScaling{Type: "linear", Factor: 4})
	for i := range lin {
		if math.Abs(lin[i]-base[i]/4) > 1e-15 {
			t.Fatalf("linear scaling %d: %v want %v", i, lin[i], base[i]/4)
		}
	}
}

func TestRoPEScalingValidate(t *testing.T) {
	tests := []struct {
		name string
		s    *RoPEScaling
		ok   bool
	}{
		{"nil", nil, true},
		{"linear", &RoPEScaling{Type: "linear", Factor: 2}, true},
		{"linear zero", &RoPEScaling{Type: "linear"}, false},
		{"llama3", &RoPEScaling{Type: "llama3", Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalMaxPos: 8192}, true},
		{"llama3 missing", &RoPEScaling{Type: "llama3", Factor: 8}, false},
		{"yarn", &RoPEScaling{Type: "yarn", Factor: 2}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.s.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrRoPEScaling) {
				t.Fatalf("error %v is not ErrRoPEScaling", err)
			}
		})
	}
}
