package tensor

// Kernels chosen for this CPU at start-up.
var (
	defaultKernel = pick(hasAVX512, avx512Kernel, pick(hasAVX2FMA, avx2Kernel, goKernel))
	dotImpl       = dotGo
	axpyImpl      = axpyGo
	dotBF16Impl   = dotBF16Go
	dotQ8Impl     = dotQ8Go
	dotNF4Impl    = dotNF4Go
)

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}
