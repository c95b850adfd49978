//go:build !unix

package dedup

import "time"

// cpuTime is unavailable here; benchmarks then skip per-CPU metrics.
func cpuTime() time.Duration { return 0 }
