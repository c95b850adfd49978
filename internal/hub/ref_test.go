package hub

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	for _, tc := range []struct {
		in        string
		repo, rev string
		ok        bool
	}{
		{"hf://HuggingFaceTB/SmolLM2-135M", "HuggingFaceTB/SmolLM2-135M", "", true},
		{"hf://org/name@main", "org/name", "main", true},
		{"hf://org/name@v1.0", "org/name", "v1.0", true},
		{"hf://org/name@refs/pr/1", "org/name", "refs/pr/1", true},
		{"hf://org/name@0123456789abcdef0123456789abcdef01234567", "org/name", "0123456789abcdef0123456789abcdef01234567", true},
		{"hf://gpt2", "gpt2", "", true},
		{"hf://Qwen/Qwen2.5-0.5B-Instruct", "Qwen/Qwen2.5-0.5B-Instruct", "", true},
		{"org/name", "", "", false},
		{"hf://", "", "", false},
		{"hf://org/", "", "", false},
		{"hf:///name", "", "", false},
		{"hf://org/name/extra", "", "", false},
		{"hf://org/na me", "", "", false},
		{"hf://org/../x", "", "", false},
		{"hf://org/-name", "", "", false},
		{"hf://org/na--me", "", "", false},
		{"hf://org/name@", "", "", false},
		{"hf://org/name@a..b", "", "", false},
		{"hf://org/name@/x", "", "", false},
		{"hf://org/name@x y", "", "", false},
		{"hf://org/name@a@b", "", "", false},
		{"hf://org/name@x.lock", "", "", false},
	} {
		r, err := ParseRef(tc.in)
		if tc.ok != (err == nil) {
			t.Errorf("%q: err %v, want ok=%v", tc.in, err, tc.ok)
			continue
		}
		if !tc.ok {
			if !errors.Is(err, ErrBadRef) {
				t.Errorf("%q: want ErrBadRef, got %v", tc.in, err)
			}
			continue
		}
		if r.Repo != tc.repo || r.Revision != tc.rev {
			t.Errorf("%q: got %+v", tc.in, r)
		}
	}
}

// FuzzParseRef checks that accepted references round-trip and are safe to
// use as cache paths.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{"hf://org/name", "hf://org/name@main", "hf://gpt2@refs/pr/1",
		"hf://a/b@0123456789abcdef0123456789abcdef01234567", "hf://org/..", "hf://o/n@a..b", "hf://x/y@@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRef(s)
		if err != nil {
			if !errors.Is(err, ErrBadRef) {
				t.Fatalf("%q: error %v is not ErrBadRef", s, err)
			}
			return
		}
		if r.String() != s {
			t.Fatalf("%q: String() = %q", s, r.String())
		}
		r2, err := ParseRef(r.String())
		if err != nil || r2 != r {
			t.Fatalf("%q: round trip %+v, %v", s, r2, err)
		}
		c := cache{root: "/c"}
		for _, p := range []string{c.repoDir(r.Repo), c.refPath(r.Repo, r.rev())} {
			if !strings.HasPrefix(p, "/c/repos/") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
				t.Fatalf("%q: unsafe cache path %q", s, p)
			}
		}
	})
}

// FuzzFileName checks that a file name from a hub listing that passes
// validation stays inside the snapshot folder.
func FuzzFileName(f *testing.F) {
	for _, s := range []string{"config.json", "onnx/model.onnx", "../x", "a//b", "/etc/passwd", "a\\b", ".x.tmp-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if validFileName(name) != nil {
			return
		}
		p := filepath.Join("/snap", filepath.FromSlash(name))
		if !strings.HasPrefix(p, "/snap/") {
			t.Fatalf("%q escapes the snapshot: %s", name, p)
		}
	})
}

// FuzzShardIndex feeds model.safetensors.index.json contents to the shard
// selection: it must not panic and may only pick files the listing holds.
func FuzzShardIndex(f *testing.F) {
	f.Add(`{"weight_map":{"a":"model-1.safetensors","b":"model-2.safetensors"}}`)
	f.Add(`{"weight_map":{"a":"../../etc/passwd"}}`)
	f.Add(`{"weight_map":{}}`)
	f.Add(`[1,2]`)
	listing := []remoteFile{{Name: "config.json", Size: -1}, {Name: "model-1.safetensors", Size: 3},
		{Name: "model-2.safetensors", Size: 4}, {Name: indexFile, Size: -1}}
	f.Fuzz(func(t *testing.T, index string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, indexFile), []byte(index), 0o644); err != nil {
			t.Fatal(err)
		}
		shards, err := shardFiles(Ref{Repo: "o/n"}, dir, listing)
		if err != nil {
			return
		}
		for _, s := range shards {
			if !slices.Contains(listing, s) || validFileName(s.Name) != nil {
				t.Fatalf("picked %+v", s)
			}
		}
	})
}
