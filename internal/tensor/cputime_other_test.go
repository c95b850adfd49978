//go:build !unix

package tensor

// processCPUSeconds is unavailable here; benchmarks then omit CPU-time rates.
func processCPUSeconds() float64 { return 0 }
