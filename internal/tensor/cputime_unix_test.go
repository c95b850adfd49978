//go:build unix

package tensor

import "syscall"

// processCPUSeconds returns the user+system CPU time of this process. On a
// shared machine it excludes the time other tenants held the CPU, so
// benchmarks report throughput per CPU-second beside wall-clock figures.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
