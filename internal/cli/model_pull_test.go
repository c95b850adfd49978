package cli

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/config"
	"github.com/whet-dev/whet/internal/hub"
)

// miniHub serves one model folder as hf://org/tiny at a fixed commit, with
// the hub's model-info JSON and resolve URLs (every file as a plain git file).
func miniHub(t *testing.T, dir, token string) *httptest.Server {
	const commit = "0123456789abcdef0123456789abcdef01234567"
	files := map[string][]byte{}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = b
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			w.Header().Set("X-Error-Code", "GatedRepo")
			http.Error(w, "gated", http.StatusUnauthorized)
			return
		}
		switch p := r.URL.Path; {
		case p == "/api/models/org/tiny/revision/main":
			var sibs []map[string]string
			for n := range files {
				sibs = append(sibs, map[string]string{"rfilename": n})
			}
			json.NewEncoder(w).Encode(map[string]any{"id": "org/tiny", "sha": commit, "siblings": sibs})
		case strings.HasPrefix(p, "/org/tiny/resolve/"+commit+"/"):
			b, ok := files[strings.TrimPrefix(p, "/org/tiny/resolve/"+commit+"/")]
			if !ok {
				http.NotFound(w, r)
				return
			}
			h := sha1.New()
			fmt.Fprintf(h, "blob %d\x00", len(b))
			h.Write(b)
			w.Header().Set("ETag", `"`+hex.EncodeToString(h.Sum(nil))+`"`)
			w.Header().Set("X-Repo-Commit", commit)
			w.Write(b)
		default:
			w.Header().Set("X-Error-Code", "RepoNotFound")
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestModelPullAndHubRefs(t *testing.T) {
	src := filepath.Join(t.TempDir(), "m")
	if code, _, errs := runWhet(t, "model", "init", "--preset", "tiny", "--out", src, "--seed", "5"); code != 0 {
		t.Fatalf("init: %d %s", code, errs)
	}
	const token = "hf_cliSECRET42"
	srv := miniHub(t, src, token)
	cache := t.TempDir()
	vars := []string{"WHET_HF_ENDPOINT=" + srv.URL, "WHET_HF_CACHE=" + cache, "HF_TOKEN=" + token}
	run := func(vars []string, args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Main(context.Background(), args, vars, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}

	code, out, errs := run(vars, "model", "pull", "hf://org/tiny", "--json")
	if code != 0 {
		t.Fatalf("pull: %d %s", code, errs)
	}
	var s hub.Snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.HasPrefix(s.Dir, cache) || len(s.Files) < 4 {
		t.Fatalf("snapshot %+v", s)
	}
	if code, out, errs := run(vars, "model", "pull", "hf://org/tiny"); code != 0 || !strings.Contains(out, s.Dir) {
		t.Fatalf("pull text: %d %s %s", code, out, errs)
	}

	// Without the token: a clear error that never shows a token.
	code, _, errs = run([]string{"WHET_HF_ENDPOINT=" + srv.URL, "WHET_HF_CACHE=" + t.TempDir(), "HF_TOKEN=hf_wrongOne77"}, "model", "pull", "hf://org/tiny")
	if code == 0 || !strings.Contains(errs, "set HF token") || strings.Contains(errs, "hf_wrongOne77") {
		t.Fatalf("gated: %d %s", code, errs)
	}
	if code, _, errs := run(vars, "model", "pull", "org/tiny"); code != 2 {
		t.Fatalf("not an hf:// ref: %d %s", code, errs)
	}

	// Commands taking a model accept the reference; offline, from the cache.
	offline := append(vars, "HF_HUB_OFFLINE=1", "WHET_HF_ENDPOINT=http://127.0.0.1:1")
	code, out, errs = run(offline, "model", "inspect", "hf://org/tiny", "--json")
	if code != 0 {
		t.Fatalf("inspect: %d %s", code, errs)
	}
	var info modelInfo
	if err := json.Unmarshal([]byte(out), &info); err != nil || info.Layers != 2 || info.Dir != s.Dir {
		t.Fatalf("inspect: %+v %v", info, err)
	}
	code, out, errs = run(offline, "generate", "--model", "hf://org/tiny", "--prompt", "Hi", "--max-tokens", "3", "--seed", "1", "--json")
	if code != 0 {
		t.Fatalf("generate: %d %s", code, errs)
	}
	var g generateOutput
	if err := json.Unmarshal([]byte(out), &g); err != nil || len(g.TokenIDs) == 0 {
		t.Fatalf("generate: %+v %v", g, err)
	}
	if code, _, errs := run(offline, "generate", "--model", "hf://org/other", "--prompt", "Hi"); code == 0 || !strings.Contains(errs, "hf://org/other") {
		t.Fatalf("uncached offline: %d %s", code, errs)
	}
	// train --model and model merge --base resolve references the same way.
	data := filepath.Join(t.TempDir(), "d.jsonl")
	os.WriteFile(data, []byte(`{"instruction":"a","output":"b"}`+"\n"), 0o644)
	for _, args := range [][]string{
		{"train", "--model", "hf://org/other", "--data", data, "--out", filepath.Join(t.TempDir(), "a")},
		{"model", "merge", "--base", "hf://org/other", "--adapter", t.TempDir(), "--out", filepath.Join(t.TempDir(), "m")},
	} {
		if code, _, errs := run(offline, args...); code == 0 || !strings.Contains(errs, "not in the model cache") {
			t.Fatalf("%v: %d %s", args[:3], code, errs)
		}
	}
}

func TestServerHubResolverUsesDataDir(t *testing.T) {
	src := filepath.Join(t.TempDir(), "m")
	if code, _, errs := runWhet(t, "model", "init", "--preset", "tiny", "--out", src); code != 0 {
		t.Fatalf("init: %d %s", code, errs)
	}
	srv := miniHub(t, src, "")
	data := t.TempDir()
	cfg, err := config.Load("", []string{"WHET_DATA=" + data, "WHET_HF_ENDPOINT=" + srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := serverHubResolver(&Env{Vars: []string{"HOME=" + t.TempDir()}}, cfg)(context.Background(), "hf://org/tiny")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(dir, filepath.Join(data, "models")+string(filepath.Separator)) {
		t.Fatalf("cache folder %s is not under DATA/models", dir)
	}
}
