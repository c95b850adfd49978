//go:build !amd64

package tensor

func transposeAsm(dst []float32, ldd int, src []float32, lds, rows, kc int) {
	transposeGo(dst, ldd, src, lds, rows, kc)
}
