//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package hub

import (
	"context"
	"sync"
)

var locks sync.Map // path → chan struct{} (capacity 1)

// lockFile excludes other goroutines of this process only: on this platform
// two processes resolving the same file at once may download it twice (the
// atomic renames still keep the cache consistent).
func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	v, _ := locks.LoadOrStore(path, make(chan struct{}, 1))
	ch := v.(chan struct{})
	select {
	case ch <- struct{}{}:
		return func() { <-ch }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
