//go:build !unix

package cli

import "time"

// processCPUTime is unavailable here; CPU-time figures read as zero.
func processCPUTime() time.Duration { return 0 }
