package tensor

//go:noescape
func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, kc8 int)

//go:noescape
func transpose4AVX2(dst *float32, ldd int, src *float32, lds int, kc8 int)

// transposeAsm writes dst[p*ldd+j] = src[j*lds+p] for j < rows, p < kc,
// eight (or four) rows and eight columns at a time in registers.
func transposeAsm(dst []float32, ldd int, src []float32, lds, rows, kc int) {
	kc8 := kc / 8
	j := 0
	if kc8 > 0 {
		for ; j+8 <= rows; j += 8 {
			_ = src[(j+7)*lds+kc8*8-1]
			_ = dst[(kc8*8-1)*ldd+j+7]
			transpose8AVX2(&dst[j], ldd, &src[j*lds], lds, kc8)
		}
		// Four more rows (the 12-row A panels of the AVX-512 kernel).
		if j+4 <= rows {
			_ = src[(j+3)*lds+kc8*8-1]
			_ = dst[(kc8*8-1)*ldd+j+3]
			transpose4AVX2(&dst[j], ldd, &src[j*lds], lds, kc8)
			j += 4
		}
	}
	// Rows left over, then the columns past the last multiple of 8.
	if j < rows {
		transposeGo(dst[j:], ldd, src[j*lds:], lds, rows-j, kc)
	}
	if p0 := kc8 * 8; p0 < kc && j > 0 {
		transposeGo(dst[p0*ldd:], ldd, src[p0:], lds, j, kc-p0)
	}
}
