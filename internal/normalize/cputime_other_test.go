//go:build !unix

package normalize

import "time"

// cpuTime is unavailable here; benchmarks then skip per-CPU metrics.
func cpuTime() time.Duration { return 0 }
