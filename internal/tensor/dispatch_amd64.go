package tensor

// Kernels chosen for this CPU at start-up.
var (
	defaultKernel    = pick(hasAVX512, avx512Kernel, pick(hasAVX2FMA, avx2Kernel, goKernel))
	transposeImpl    = pick(hasAVX2FMA, transposeAsm, transposeGo)
	softmaxImpl      = pick(hasAVX2FMA, softmaxAsm, softmaxGo)
	swigluImpl       = pick(hasAVX2FMA, swigluAsm, swigluGo)
	swigluBackImpl   = pick(hasAVX2FMA, swigluBackAsm, swigluBackGo)
	dotImpl          = pick(hasAVX2FMA, dotAsm, dotGo)
	axpyImpl         = pick(hasAVX2FMA, axpyAsm, axpyGo)
	dotBF16Impl      = pick(hasAVX2FMA, dotBF16Asm, dotBF16Go)
	dotQ8Impl        = pick(hasAVX2FMA, dotQ8Asm, dotQ8Go)
	dotNF4Impl       = dotNF4Go
	dotNF4BlocksImpl = pick(hasAVX512, dotNF4BlocksAsm512, pick(hasAVX2FMA, dotNF4BlocksAsm, dotNF4BlocksGo))
)

func pick[T any](cond bool, yes, no T) T {
	if cond {
		return yes
	}
	return no
}
