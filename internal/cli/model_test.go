package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runWhet(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(context.Background(), args, nil, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestModelInitInspectGenerate(t *testing.T) {
	for _, arch := range []string{"llama", "mistral", "qwen2"} {
		t.Run(arch, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "m")
			if code, _, errs := runWhet(t, "model", "init", "--arch", arch, "--preset", "tiny", "--out", dir, "--seed", "3"); code != 0 {
				t.Fatalf("init: %d %s", code, errs)
			}
			code, out, errs := runWhet(t, "model", "inspect", dir, "--json")
			if code != 0 {
				t.Fatalf("inspect: %d %s", code, errs)
			}
			var info modelInfo
			if err := json.Unmarshal([]byte(out), &info); err != nil {
				t.Fatal(err)
			}
			if info.Layers != 2 || info.Tokenizer == nil || info.Tokenizer.EOS != "<|im_end|>" || info.MemoryBytes["nf4"] >= info.MemoryBytes["int8"] {
				t.Errorf("inspect: %+v", info)
			}
			if code, out, errs := runWhet(t, "model", "inspect", dir); code != 0 || !strings.Contains(out, "memory int8") {
				t.Errorf("inspect text: %d %s %s", code, out, errs)
			}
			gen := func(extra ...string) generateOutput {
				t.Helper()
				args := append([]string{"generate", "--model", dir, "--prompt", "Hi there", "--max-tokens", "6", "--json"}, extra...)
				code, out, errs := runWhet(t, args...)
				if code != 0 {
					t.Fatalf("generate %v: %d %s", extra, code, errs)
				}
				var g generateOutput
				if err := json.Unmarshal([]byte(out), &g); err != nil {
					t.Fatalf("%v: %q", err, out)
				}
				return g
			}
			chat := gen()
			raw := gen("--raw")
			if len(chat.PromptTokenIDs) <= len(raw.PromptTokenIDs) || chat.PromptTokenIDs[0] != 1 {
				t.Errorf("chat prompt %v vs raw %v", chat.PromptTokenIDs, raw.PromptTokenIDs)
			}
			if chat.FinishReason != "length" && chat.FinishReason != "stop" {
				t.Errorf("finish %q", chat.FinishReason)
			}
			a := gen("--temperature", "1", "--seed", "5")
			b := gen("--temperature", "1", "--seed", "5", "--dtype", "f32")
			if !equalIDs(a.TokenIDs, b.TokenIDs) {
				t.Errorf("seeded runs differ: %v %v", a.TokenIDs, b.TokenIDs)
			}
			schema := filepath.Join(t.TempDir(), "schema.json")
			os.WriteFile(schema, []byte(`{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"],"additionalProperties":false}`), 0o644)
			js := gen("--json-schema", schema, "--max-tokens", "60", "--temperature", "1", "--seed", "1")
			if js.FinishReason == "stop" {
				var v map[string]any
				if err := json.Unmarshal([]byte(js.Text), &v); err != nil || len(v) != 1 {
					t.Errorf("schema output %q: %v", js.Text, err)
				}
			}
			if code, out, _ := runWhet(t, "generate", "--model", dir, "--prompt", "x", "--max-tokens", "3", "--raw"); code != 0 || !strings.HasSuffix(out, "\n") {
				t.Errorf("streaming: %d %q", code, out)
			}
		})
	}
}

func equalIDs(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestModelCmdErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "m")
	if code, _, errs := runWhet(t, "model", "init", "--out", dir); code != 0 {
		t.Fatalf("init: %s", errs)
	}
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"init no out", []string{"model", "init"}, 2},
		{"init bad arch", []string{"model", "init", "--arch", "gpt2", "--out", t.TempDir()}, 1},
		{"inspect missing", []string{"model", "inspect", t.TempDir()}, 1},
		{"generate no model", []string{"generate", "--prompt", "x"}, 2},
		{"generate raw system", []string{"generate", "--model", dir, "--prompt", "x", "--raw", "--system", "s"}, 2},
		{"generate adapter missing", []string{"generate", "--model", dir, "--prompt", "x", "--adapter", dir}, 1},
		{"generate bad dtype", []string{"generate", "--model", dir, "--prompt", "x", "--dtype", "fp8"}, 1},
		{"generate overflow", []string{"generate", "--model", dir, "--prompt", strings.Repeat("x", 600), "--raw"}, 1},
		{"generate bad schema", []string{"generate", "--model", dir, "--prompt", "x", "--json-schema", filepath.Join(dir, "model.safetensors")}, 1},
		{"bench bad batch", []string{"bench", "generate", "--batch", "0"}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if code, _, errs := runWhet(t, tc.args...); code != tc.code {
				t.Errorf("exit %d, want %d (%s)", code, tc.code, errs)
			}
		})
	}
}

func TestBenchGenerateTiny(t *testing.T) {
	code, out, errs := runWhet(t, "bench", "generate", "--preset", "tiny", "--dtype", "f32,int8", "--prefill-tokens", "16",
		"--decode-tokens", "2", "--runs", "1", "--batch", "1,2", "--sgemm-size", "64", "--read-mib", "4", "--json")
	if code != 0 {
		t.Fatalf("%d %s", code, errs)
	}
	var rep benchGenerateReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 2 || rep.Results[1].DType != "int8" || rep.Results[0].DecodeTokPerSec["2"] <= 0 || rep.ReadGBps <= 0 {
		t.Errorf("report %+v", rep)
	}
}
