package tensor

import (
	"math"
	"testing"
)

func TestBF16(t *testing.T) {
	tests := []struct {
		in   float32
		want uint16
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{0, 0},
		{float32(math.Inf(1)), 0x7f80},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, odd rounds up
		{math.Float32frombits(0x3f808001), 0x3f81}, // above half rounds up
		{math.Float32frombits(0x7f7fffff), 0x7f80}, // max float rounds to inf
	}
	for _, tc := range tests {
		if got := F32ToBF16(tc.in); got != tc.want {
			t.Errorf("F32ToBF16(%#x) = %#x, want %#x", math.Float32bits(tc.in), got, tc.want)
		}
	}
	if nan := F32ToBF16(float32(math.NaN())); !math.IsNaN(float64(BF16ToF32(nan))) {
		t.Errorf("NaN not preserved: %#x", nan)
	}
	for h := 0; h < 1<<16; h++ {
		f := BF16ToF32(uint16(h))
		if math.IsNaN(float64(f)) {
			continue
		}
		if back := F32ToBF16(f); back != uint16(h) {
			t.Fatalf("round trip %#x -> %v -> %#x", h, f, back)
		}
	}
}

func TestF16(t *testing.T) {
	tests := []struct {
		in   uint16
		want float32
	}{
		{0x3c00, 1},
		{0xc000, -2},
		{0x7bff, 65504},
		{0x0001, float32(math.Ldexp(1, -24))},
		{0x03ff, float32(math.Ldexp(1023, -24))},
		{0x0400, float32(math.Ldexp(1, -14))},
		{0x8000, float32(math.Copysign(0, -1))},
		{0x7c00, float32(math.Inf(1))},
		{0x3555, 0.333251953125},
	}
	for _, tc := range tests {
		got := F16ToF32(tc.in)
		if math.Float32bits(got) != math.Float32bits(tc.want) {
			t.Errorf("F16ToF32(%#x) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if !math.IsNaN(float64(F16ToF32(0x7e00))) {
		t.Error("0x7e00 is not NaN")
	}
	// every finite half equals its mathematical value
	for h := 0; h < 1<<16; h++ {
		exp, mant := (h>>10)&0x1f, h&0x3ff
		if exp == 0x1f {
			continue
		}
		var v float64
		if exp == 0 {
			v = math.Ldexp(float64(mant), -24)
		} else {
			v = math.Ldexp(float64(mant|0x400), exp-25)
		}
		if h&0x8000 != 0 {
			v = -v
		}
		if float64(F16ToF32(uint16(h))) != v {
			t.Fatalf("F16ToF32(%#x) = %v want %v", h, F16ToF32(uint16(h)), v)
		}
	}
}
