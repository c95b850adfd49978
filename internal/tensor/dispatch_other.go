//go:build !amd64

package tensor

// Kernels chosen for this CPU: the portable Go ones on non-amd64 targets.
var (
	defaultKernel    = goKernel
	transposeImpl    = transposeGo
	softmaxImpl      = softmaxGo
	swigluImpl       = swigluGo
	swigluBackImpl   = swigluBackGo
	dotImpl          = dotGo
	axpyImpl         = axpyGo
	dotBF16Impl      = dotBF16Go
	dotQ8Impl        = dotQ8Go
	dotNF4Impl       = dotNF4Go
	dotNF4BlocksImpl = dotNF4BlocksGo
)

// asmKernels lists the assembly micro-kernels this CPU can run: none.
func asmKernels() []*microKernel { return nil }

// nf4BlockImpls lists the NF4 block-dot implementations: the portable one.
func nf4BlockImpls() map[string]func(q []byte, absmax, x []float32) float32 {
	return map[string]func(q []byte, absmax, x []float32) float32{"go": dotNF4BlocksGo}
}
