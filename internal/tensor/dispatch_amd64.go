package tensor

// Kernels chosen for this CPU at start-up.
var (
	defaultKernel = goKernel
	dotImpl       = dotGo
	axpyImpl      = axpyGo
	dotBF16Impl   = dotBF16Go
	dotQ8Impl     = dotQ8Go
	dotNF4Impl    = dotNF4Go
)
