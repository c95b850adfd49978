package hub

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

func TestConcurrentResolves(t *testing.T) {
	for _, noBlobs := range []bool{false, true} {
		t.Run(fmt.Sprintf("noBlobs=%v", noBlobs), func(t *testing.T) { testConcurrentResolves(t, noBlobs) })
	}
}

func testConcurrentResolves(t *testing.T, noBlobs bool) {
	h := newFakeHub(t)
	h.noBlobs = noBlobs
	files := tinyModel(t)
	h.commit("org/tiny", files, "main")
	cache := t.TempDir()
	const n = 6
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dirs[i], errs[i] = Resolve(context.Background(), "hf://org/tiny", opts(h, cache))
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("resolver %d: %v", i, errs[i])
		}
		if dirs[i] != dirs[0] {
			t.Fatalf("resolver %d got %s, resolver 0 %s", i, dirs[i], dirs[0])
		}
	}
	wantFiles(t, dirs[0], files, "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
	h.mu.Lock()
	cdn := len(h.ranges)
	h.mu.Unlock()
	if cdn != 1 {
		t.Fatalf("the weights were downloaded %d times, want once", cdn)
	}
	if n := h.countBodies(); n != len(files) {
		t.Fatalf("%d file bodies fetched for %d files", n, len(files))
	}
}

// TestConcurrentProcesses runs resolvers in two child processes (this test
// binary) and this one at once against one cache.
func TestConcurrentProcesses(t *testing.T) {
	if os.Getenv("WHET_HUB_HELPER") != "" {
		t.Skip("helper process")
	}
	h := newFakeHub(t)
	files := tinyModel(t)
	h.commit("org/tiny", files, "main")
	cache := t.TempDir()
	type result struct {
		out []byte
		err error
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHelperResolve$", "-test.count=1")
			cmd.Env = append(os.Environ(), "WHET_HUB_HELPER=1", "WHET_HUB_ENDPOINT="+h.hub.URL, "WHET_HUB_CACHE="+cache)
			results[i].out, results[i].err = cmd.CombinedOutput()
		}()
	}
	dir, err := Resolve(context.Background(), "hf://org/tiny", opts(h, cache))
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("child %d: %v\n%s", i, r.err, r.out)
		}
	}
	wantFiles(t, dir, files, "config.json", "model.safetensors", "tokenizer.json")
	var m manifest
	b, err := os.ReadFile(cache_(cache).manifestPath("org/tiny", h.repos["org/tiny"].refs["main"]))
	if err != nil || json.Unmarshal(b, &m) != nil || len(m.Files) != len(files) {
		t.Fatalf("manifest after concurrent writers: %s, %v", b, err)
	}
}

// TestHelperResolve is the child of TestConcurrentProcesses.
func TestHelperResolve(t *testing.T) {
	if os.Getenv("WHET_HUB_HELPER") == "" {
		t.Skip("run by TestConcurrentProcesses")
	}
	dir, err := Resolve(context.Background(), "hf://org/tiny",
		Options{Endpoint: os.Getenv("WHET_HUB_ENDPOINT"), CacheDir: os.Getenv("WHET_HUB_CACHE")})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(dir)
}
