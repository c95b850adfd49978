package hub

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/safetensors"
	"github.com/whet-dev/whet/internal/tokenizer"
)

var (
	tinyOnce  sync.Once
	tinyFiles map[string][]byte
	tinyErr   error
)

// tinyModel returns the files of a tiny llama model folder with a
// byte-level tokenizer, built once per test binary.
func tinyModel(t testing.TB) map[string][]byte {
	t.Helper()
	tinyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hub-tiny-")
		if err != nil {
			tinyErr = err
			return
		}
		defer os.RemoveAll(dir)
		tinyFiles, tinyErr = buildTiny(dir)
	})
	if tinyErr != nil {
		t.Fatal(tinyErr)
	}
	out := map[string][]byte{}
	for k, v := range tinyFiles {
		out[k] = v
	}
	return out
}

func buildTiny(dir string) (map[string][]byte, error) {
	cfg, err := llm.Preset("tiny", "llama")
	if err != nil {
		return nil, err
	}
	m, err := llm.New(cfg, 7)
	if err != nil {
		return nil, err
	}
	if err := m.Save(dir); err != nil {
		return nil, err
	}
	tk, err := tokenizer.Train(context.Background(), func(func(string) bool) {}, tokenizer.TrainOptions{
		VocabSize: 259, SpecialTokens: []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}, ByteLevel: true})
	if err != nil {
		return nil, err
	}
	if err := tk.Save(filepath.Join(dir, "tokenizer.json")); err != nil {
		return nil, err
	}
	tc := `{"bos_token":"<|im_start|>","eos_token":"<|im_end|>","add_bos_token":false}`
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), []byte(tc), 0o644); err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		files[e.Name()] = b
	}
	return files, nil
}

func opts(h *fakeHub, cache string) Options {
	return Options{Endpoint: h.hub.URL, CacheDir: cache, HTTPClient: h.hub.Client()}
}

func wantFiles(t *testing.T, dir string, files map[string][]byte, names ...string) {
	t.Helper()
	for _, n := range names {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if !bytes.Equal(got, files[n]) {
			t.Fatalf("%s: content differs from the hub's", n)
		}
	}
}

func TestResolveLoadsModelAndCaches(t *testing.T) {
	h := newFakeHub(t)
	files := tinyModel(t)
	files["pytorch_model.bin"] = []byte("pickled weights")
	files["onnx/model.onnx"] = []byte("onnx graph")
	files["README.md"] = []byte("# tiny")
	h.commit("org/tiny", files, "main")
	cache := t.TempDir()
	ctx := context.Background()

	dir, err := Resolve(ctx, "hf://org/tiny", opts(h, cache))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := llm.Load(dir, llm.LoadOptions{DType: llm.DTypeF32}); err != nil {
		t.Fatalf("llm.Load on the snapshot: %v", err)
	}
	if _, err := tokenizer.Load(dir); err != nil {
		t.Fatalf("tokenizer.Load on the snapshot: %v", err)
	}
	wantFiles(t, dir, files, "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
	for _, skipped := range []string{"pytorch_model.bin", "onnx", "README.md"} {
		if _, err := os.Lstat(filepath.Join(dir, skipped)); err == nil {
			t.Errorf("%s was downloaded", skipped)
		}
	}
	target, err := os.Readlink(filepath.Join(dir, "model.safetensors"))
	if err != nil || filepath.Base(target) != sha256Hex(files["model.safetensors"]) {
		t.Fatalf("model.safetensors should link to its blob, got %q, %v", target, err)
	}
	first := h.countBodies()
	if first == 0 {
		t.Fatal("no file bodies were fetched")
	}

	s, err := Pull(ctx, "hf://org/tiny", opts(h, cache))
	if err != nil {
		t.Fatal(err)
	}
	if s.Dir != dir || s.Downloaded != 0 {
		t.Fatalf("second pull: dir %s (want %s), downloaded %d", s.Dir, dir, s.Downloaded)
	}
	if n := h.countBodies(); n != first {
		t.Fatalf("second pull fetched %d file bodies", n-first)
	}
	if len(s.Files) != 5 {
		t.Fatalf("snapshot lists %d files: %+v", len(s.Files), s.Files)
	}
	for _, f := range s.Files {
		if f.SHA256 != sha256Hex(files[f.Name]) || f.Size != int64(len(files[f.Name])) {
			t.Fatalf("snapshot file %+v does not describe the hub's", f)
		}
	}

	// The same weights under another repository come from the blob store.
	h.commit("other/copy", files, "main")
	s2, err := Pull(ctx, "hf://other/copy", opts(h, cache))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.ranges) != 1 {
		t.Fatalf("CDN saw %d downloads, want 1 (the blob is shared)", len(h.ranges))
	}
	wantFiles(t, s2.Dir, files, "model.safetensors", "config.json")

	// A renamed repository redirects (relative Location) and still resolves.
	s4, err := Pull(ctx, "hf://renamed/tiny", opts(h, cache))
	if err != nil {
		t.Fatal(err)
	}
	wantFiles(t, s4.Dir, files, "model.safetensors", "config.json")

	// AllowPatterns adds files.
	s3, err := Pull(ctx, "hf://org/tiny", Options{Endpoint: h.hub.URL, CacheDir: cache, AllowPatterns: []string{"*.bin"}})
	if err != nil {
		t.Fatal(err)
	}
	wantFiles(t, s3.Dir, files, "pytorch_model.bin")
}

func TestResolveWithoutBlobDetails(t *testing.T) {
	h := newFakeHub(t)
	h.noBlobs = true
	files := tinyModel(t)
	h.commit("org/tiny", files, "main")
	cache := t.TempDir()
	var seen sync.Map
	o := opts(h, cache)
	o.Progress = func(file string, done, total int64) {
		if total >= 0 && done > total {
			t.Errorf("progress %s: %d of %d", file, done, total)
		}
		seen.Store(file, done)
	}
	s, err := Pull(context.Background(), "hf://org/tiny", o)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles(t, s.Dir, files, "config.json", "model.safetensors", "tokenizer.json")
	if v, ok := seen.Load("model.safetensors"); !ok || v.(int64) != int64(len(files["model.safetensors"])) {
		t.Fatalf("progress for model.safetensors ended at %v", v)
	}
	bodies, heads := h.countBodies(), h.headCalls
	if _, err := Pull(context.Background(), "hf://org/tiny", o); err != nil {
		t.Fatal(err)
	}
	if h.countBodies() != bodies || h.headCalls != heads {
		t.Fatalf("cached pull made %d body and %d HEAD requests", h.countBodies()-bodies, h.headCalls-heads)
	}
}

func TestTamperedDownloadIsRejected(t *testing.T) {
	for _, noBlobs := range []bool{false, true} {
		h := newFakeHub(t)
		h.noBlobs = noBlobs
		files := tinyModel(t)
		h.commit("org/tiny", files, "main")
		sum := sha256Hex(files["model.safetensors"])
		h.tamper[sum] = true
		cache := t.TempDir()
		_, err := Pull(context.Background(), "hf://org/tiny", opts(h, cache))
		if !errors.Is(err, ErrIntegrity) {
			t.Fatalf("noBlobs=%v: want ErrIntegrity, got %v", noBlobs, err)
		}
		c := cache_(cache)
		if c.hasBlob(sum, -1) {
			t.Fatal("a corrupt blob entered the cache")
		}
		if parts, _ := filepath.Glob(filepath.Join(cache, "tmp", "*.part")); len(parts) != 0 {
			t.Fatalf("corrupt partial download kept: %v", parts)
		}
		h.mu.Lock()
		delete(h.tamper, sum)
		h.mu.Unlock()
		s, err := Pull(context.Background(), "hf://org/tiny", opts(h, cache))
		if err != nil {
			t.Fatal(err)
		}
		wantFiles(t, s.Dir, files, "model.safetensors")
	}
}

func cache_(dir string) cache { return cache{root: dir} }

func TestVerifyGitBlobID(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("hello"), 0o644)
	if _, err := verify(p, fileMeta{gitSHA1: gitBlobID([]byte("hello")), size: -1}); err != nil {
		t.Fatal(err)
	}
	if _, err := verify(p, fileMeta{gitSHA1: gitBlobID([]byte("hellO")), size: -1}); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("want ErrIntegrity, got %v", err)
	}
	if _, err := verify(p, fileMeta{size: 4}); !errors.Is(err, ErrIntegrity) {
		t.Fatalf("size mismatch: want ErrIntegrity, got %v", err)
	}
}

func TestInterruptedDownloadResumes(t *testing.T) {
	h := newFakeHub(t)
	files := tinyModel(t)
	h.commit("org/tiny", files, "main")
	weights := files["model.safetensors"]
	sum := sha256Hex(weights)
	cut := int64(len(weights) / 3)
	h.cutAfter[sum] = cut
	cache := t.TempDir()
	_, err := Pull(context.Background(), "hf://org/tiny", opts(h, cache))
	if err == nil || errors.Is(err, ErrIntegrity) {
		t.Fatalf("want a resumable download error, got %v", err)
	}
	fi, err := os.Stat(filepath.Join(cache, "tmp", sum+".part"))
	if err != nil || fi.Size() != cut {
		t.Fatalf("partial download: %v, %v (want %d bytes)", fi, err, cut)
	}
	s, err := Pull(context.Background(), "hf://org/tiny", opts(h, cache))
	if err != nil {
		t.Fatal(err)
	}
	wantFiles(t, s.Dir, files, "model.safetensors")
	if s.Downloaded >= int64(len(weights)) {
		t.Fatalf("resumed pull downloaded %d bytes, want fewer than %d", s.Downloaded, len(weights))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if last := h.ranges[len(h.ranges)-1]; last != "bytes="+strconv.FormatInt(cut, 10)+"-" {
		t.Fatalf("resume sent Range %q", last)
	}
}

func TestStalledDownloadIsCutAndResumes(t *testing.T) {
	defer func(d time.Duration) { stallTimeout = d }(stallTimeout)
	stallTimeout = 100 * time.Millisecond
	h := newFakeHub(t)
	files := tinyModel(t)
	h.commit("org/tiny", files, "main")
	weights := files["model.safetensors"]
	sum := sha256Hex(weights)
	h.stall[sum] = int64(len(weights) / 2)
	cache := t.TempDir()
	_, err := Pull(context.Background(), "hf://org/tiny", opts(h, cache))
	if err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Fatalf("want a stalled-download error, got %v", err)
	}
	s, err := Pull(context.Background(), "hf://org/tiny", opts(h, cache))
	if err != nil {
		t.Fatal(err)
	}
	wantFiles(t, s.Dir, files, "model.safetensors")
	h.mu.Lock()
	defer h.mu.Unlock()
	if last := h.ranges[len(h.ranges)-1]; last != "bytes="+strconv.Itoa(len(weights)/2)+"-" {
		t.Fatalf("resume sent Range %q", last)
	}
}

func TestOffline(t *testing.T) {
	h := newFakeHub(t)
	files := tinyModel(t)
	h.commit("org/tiny", files, "main")
	cache := t.TempDir()
	ctx := context.Background()
	online, err := Pull(ctx, "hf://org/tiny", opts(h, cache))
	if err != nil {
		t.Fatal(err)
	}
	o := opts(h, cache)
	o.Offline = true
	before := h.infoCalls
	s, err := Pull(ctx, "hf://org/tiny", o)
	if err != nil || s.Dir != online.Dir || !s.Offline {
		t.Fatalf("offline: %+v, %v", s, err)
	}
	if h.infoCalls != before {
		t.Fatal("offline mode asked the endpoint")
	}
	if _, err := llm.Load(s.Dir, llm.LoadOptions{DType: llm.DTypeF32}); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"hf://org/tiny@v2", "hf://org/never"} {
		if _, err := Pull(ctx, ref, o); !errors.Is(err, ErrNotCached) || !strings.Contains(err.Error(), ref) {
			t.Fatalf("offline %s: want ErrNotCached naming the ref, got %v", ref, err)
		}
	}
	// A failing endpoint (5xx) or an unreachable one falls back to the cache.
	h.mu.Lock()
	h.down = true
	h.mu.Unlock()
	s, err = Pull(ctx, "hf://org/tiny", opts(h, cache))
	if err != nil || s.Dir != online.Dir || !s.Offline {
		t.Fatalf("endpoint answering 503: %+v, %v", s, err)
	}
	h.hub.Close()
	s, err = Pull(ctx, "hf://org/tiny", opts(h, cache))
	if err != nil || s.Dir != online.Dir || !s.Offline {
		t.Fatalf("unreachable endpoint: %+v, %v", s, err)
	}
	if _, err := Pull(ctx, "hf://org/other", opts(h, cache)); !errors.Is(err, ErrUnreachable) {
		t.Fatalf("unreachable and not cached: want ErrUnreachable, got %v", err)
	}
}

func TestGatedRepoNeedsToken(t *testing.T) {
	h := newFakeHub(t)
	h.token = "hf_secretTOKEN123"
	files := tinyModel(t)
	h.commit("org/gated", files, "main")
	h.repos["org/gated"].gated = true
	ctx := context.Background()
	for _, tok := range []string{"", "hf_wrongTOKEN456"} {
		o := opts(h, t.TempDir())
		o.Token = tok
		_, err := Pull(ctx, "hf://org/gated", o)
		if !errors.Is(err, ErrGated) || !strings.Contains(err.Error(), "set HF token") || !strings.Contains(err.Error(), "hf://org/gated") {
			t.Fatalf("token %q: want ErrGated naming the ref, got %v", tok, err)
		}
		if tok != "" && strings.Contains(err.Error(), tok) {
			t.Fatal("the error shows the token")
		}
	}
	o := opts(h, t.TempDir())
	o.Token = h.token
	s, err := Pull(ctx, "hf://org/gated", o)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles(t, s.Dir, files, "model.safetensors", "config.json")
	if h.cdnAuth != 0 {
		t.Fatalf("the token was sent to the CDN %d times", h.cdnAuth)
	}
	if h.lastHubAuth != "Bearer "+h.token {
		t.Fatal("the token was not sent to the hub")
	}
}

func TestNotFound(t *testing.T) {
	h := newFakeHub(t)
	h.commit("org/tiny", tinyModel(t), "main")
	h.commit("org/readme", map[string][]byte{"README.md": []byte("hi")}, "main")
	h.commit("org/pickle", map[string][]byte{"config.json": []byte("{}"), "pytorch_model.bin": []byte("x")}, "main")
	ctx := context.Background()
	for _, tc := range []struct {
		ref, token string
		want       error
		mention    string
	}{
		{"hf://org/missing", "", ErrNotFound, "hf://org/missing"},
		{"hf://org/missing", "hf_tok", ErrNotFound, "hf://org/missing"},
		{"hf://org/tiny@nope", "", ErrNotFound, `"nope"`},
		{"hf://org/readme", "", ErrNotModel, "config.json"},
		{"hf://org/pickle", "", ErrNotModel, "pytorch_model.bin"},
		{"hf://org/a/b", "", ErrBadRef, "hf://org/a/b"},
		{"hf://org/tiny@a..b", "", ErrBadRef, "a..b"},
	} {
		o := opts(h, t.TempDir())
		o.Token = tc.token
		_, err := Pull(ctx, tc.ref, o)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.mention) {
			t.Errorf("%s: want %v mentioning %s, got %v", tc.ref, tc.want, tc.mention, err)
		}
		if tc.token != "" && err != nil && strings.Contains(err.Error(), tc.token) {
			t.Errorf("%s: the error shows the token", tc.ref)
		}
	}
	// With AllowPatterns the pickle repository is fetched as asked.
	o := opts(h, t.TempDir())
	o.AllowPatterns = []string{"*.bin"}
	if _, err := Pull(ctx, "hf://org/pickle", o); err != nil {
		t.Fatal(err)
	}
}

func TestRevisionPinning(t *testing.T) {
	h := newFakeHub(t)
	v1 := tinyModel(t)
	v1["generation_config.json"] = []byte(`{"temperature":0.5}`)
	v2 := tinyModel(t)
	v2["generation_config.json"] = []byte(`{"temperature":0.9}`)
	c1 := h.commit("org/tiny", v1, "v1", "refs/pr/1")
	c2 := h.commit("org/tiny", v2, "main")
	cache := t.TempDir()
	ctx := context.Background()
	for _, tc := range []struct {
		ref    string
		commit string
		files  map[string][]byte
	}{
		{"hf://org/tiny@v1", c1, v1},
		{"hf://org/tiny", c2, v2},
		{"hf://org/tiny@main", c2, v2},
		{"hf://org/tiny@" + c1, c1, v1},
		{"hf://org/tiny@refs/pr/1", c1, v1},
	} {
		s, err := Pull(ctx, tc.ref, opts(h, cache))
		if err != nil {
			t.Fatalf("%s: %v", tc.ref, err)
		}
		if s.Commit != tc.commit || filepath.Base(s.Dir) != tc.commit {
			t.Fatalf("%s: commit %s dir %s, want %s", tc.ref, s.Commit, s.Dir, tc.commit)
		}
		wantFiles(t, s.Dir, tc.files, "generation_config.json", "model.safetensors")
	}
	// A pinned commit needs no request once cached.
	before := h.infoCalls
	if _, err := Pull(ctx, "hf://org/tiny@"+c1, opts(h, cache)); err != nil {
		t.Fatal(err)
	}
	if h.infoCalls != before {
		t.Fatal("a cached pinned commit asked the endpoint")
	}
	// Moving a branch moves the resolution.
	c3 := h.commit("org/tiny", v1, "main")
	s, err := Pull(ctx, "hf://org/tiny", opts(h, cache))
	if err != nil || s.Commit != c3 {
		t.Fatalf("after main moved: %+v, %v", s, err)
	}
}

func TestShardedIndex(t *testing.T) {
	h := newFakeHub(t)
	files := tinyModel(t)
	shard := "model-00001-of-00001.safetensors"
	files[shard] = files["model.safetensors"]
	delete(files, "model.safetensors")
	files["consolidated.safetensors"] = []byte("another format of the same weights")
	files[indexFile] = []byte(`{"metadata":{},"weight_map":{` + weightMap(t, files[shard], shard) + `}}`)
	h.commit("org/sharded", files, "main")
	s, err := Pull(context.Background(), "hf://org/sharded", opts(h, t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(filepath.Join(s.Dir, "consolidated.safetensors")); err == nil {
		t.Fatal("a safetensors file outside the index was downloaded")
	}
	if _, err := llm.Load(s.Dir, llm.LoadOptions{DType: llm.DTypeF32}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range s.Files {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	if got, want := strings.Join(names, ","), "config.json,generation_config.json,"+shard+","+indexFile+",tokenizer.json,tokenizer_config.json"; got != want {
		t.Fatalf("files %s, want %s", got, want)
	}
}

// weightMap lists the tensors of a safetensors file as JSON weight_map
// entries pointing at shard.
func weightMap(t *testing.T, b []byte, shard string) string {
	p := filepath.Join(t.TempDir(), "w.safetensors")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var parts []string
	for _, n := range f.Names() {
		parts = append(parts, strconv.Quote(n)+":"+strconv.Quote(shard))
	}
	return strings.Join(parts, ",")
}

func TestResolveLocalPath(t *testing.T) {
	dir := t.TempDir()
	got, err := Resolve(context.Background(), dir, Options{})
	if err != nil || got != dir {
		t.Fatalf("local dir: %q, %v", got, err)
	}
	if _, err := Resolve(context.Background(), filepath.Join(dir, "nope"), Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing dir: %v", err)
	}
}
