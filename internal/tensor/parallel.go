package tensor

import (
	"runtime"
	"sync"
)

// Parallel splits [0,n) into at most GOMAXPROCS contiguous chunks and calls
// fn(lo, hi) for each chunk concurrently, returning when all are done. When
// n is small (fewer than two items) or only one processor is available it
// calls fn(0, n) inline on the calling goroutine. fn must be safe to call
// concurrently on disjoint ranges.
func Parallel(n int, fn func(lo, hi int)) {
	ParallelGrain(n, 1, fn)
}

// ParallelGrain is Parallel with a minimum chunk size: no chunk holds fewer
// than grain items (except the last), so cheap per-item work is not spread
// over more goroutines than it can pay for.
func ParallelGrain(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	if grain < 1 {
		grain = 1
	}
	p := runtime.GOMAXPROCS(0)
	if maxp := n / grain; p > maxp {
		p = maxp
	}
	if p <= 1 {
		fn(0, n)
		return
	}
	chunk := (n + p - 1) / p
	var wg sync.WaitGroup
	for lo := chunk; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Go(func() { fn(lo, hi) })
	}
	fn(0, chunk)
	wg.Wait()
}
