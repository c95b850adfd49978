//go:build unix

package pii

import (
	"syscall"
	"time"
)

// cpuTime returns the user+system CPU time of the process, so benchmarks
// can report throughput per CPU-second, which stays meaningful on a
// machine shared with other work.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
