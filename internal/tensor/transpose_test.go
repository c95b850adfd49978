package tensor

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestTranspose(t *testing.T) {
	r := rand.New(rand.NewPCG(23, 24))
	impls := map[string]func(dst []float32, ldd int, src []float32, lds, rows, kc int){"go": transposeGo, "default": transposeImpl}
	for name, fn := range impls {
		for _, sh := range [][2]int{{1, 1}, {8, 8}, {7, 9}, {16, 24}, {17, 33}, {32, 576}, {5, 3}, {12, 576}, {13, 17}, {4, 8}, {6, 19}} {
			rows, kc := sh[0], sh[1]
			t.Run(fmt.Sprintf("%s/%dx%d", name, rows, kc), func(t *testing.T) {
				lds, ldd := kc+3, rows+5
				src := randSlice(r, rows*lds)
				dst := randSlice(r, kc*ldd)
				orig := append([]float32(nil), dst...)
				fn(dst, ldd, src, lds, rows, kc)
				for p := 0; p < kc; p++ {
					for j := 0; j < ldd; j++ {
						want := orig[p*ldd+j]
						if j < rows {
							want = src[j*lds+p]
						}
						if dst[p*ldd+j] != want {
							t.Fatalf("dst[%d,%d] = %v want %v", p, j, dst[p*ldd+j], want)
						}
					}
				}
			})
		}
	}
}
