package chat

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// goldenNow is the instant scripts/chat_golden/render.py gives strftime_now.
var goldenNow = time.Date(2026, 1, 15, 9, 30, 0, 0, time.UTC)

// goldenSpecial mirrors SPECIAL in scripts/chat_golden/render.py.
var goldenSpecial = map[string]map[string]string{
	"llama3.1":       {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
	"llama3.2":       {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
	"qwen2.5":        {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
	"mistral-v0.3":   {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>"},
	"smollm2":        {"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "unk_token": "<|endoftext|>", "pad_token": "<|im_end|>"},
	"tinyllama":      {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>"},
	"deepseek-coder": {"bos_token": "<\uff5cbegin\u2581of\u2581sentence\uff5c>", "eos_token": "<|EOT|>", "pad_token": "<\uff5cend\u2581of\u2581sentence\uff5c>"},
	"phi-4":          {"bos_token": "<|endoftext|>", "eos_token": "<|im_end|>", "pad_token": "<|dummy_87|>"},
	"qwen2-vl":       {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"},
}

type goldenCase struct {
	Messages            []Message                  `json:"messages"`
	Tools               []json.RawMessage          `json:"tools"`
	Kwargs              map[string]json.RawMessage `json:"kwargs"`
	AddGenerationPrompt bool                       `json:"add_generation_prompt"`
}

func loadTemplate(t *testing.T, model string) *Template {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", "templates", model+".jinja"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := Parse(string(src))
	if err != nil {
		t.Fatalf("parse %s: %v", model, err)
	}
	sp := goldenSpecial[model]
	tpl.BOS, tpl.EOS = sp["bos_token"], sp["eos_token"]
	for k, v := range sp {
		if k != "bos_token" && k != "eos_token" {
			tpl.Special[k] = v
		}
	}
	return tpl
}

func loadCase(t *testing.T, path string) Input {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c goldenCase
	if err := json.Unmarshal(data, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	in := Input{Messages: c.Messages, Tools: c.Tools, AddGenerationPrompt: c.AddGenerationPrompt, Now: goldenNow}
	if len(c.Kwargs) > 0 {
		in.Kwargs = map[string]any{}
		for k, v := range c.Kwargs {
			in.Kwargs[k] = v
		}
	}
	return in
}

// TestGolden compares every template × case against the output of Python's jinja2,
// written by scripts/chat_golden/render.py. Goldens come only from that script.
func TestGolden(t *testing.T) {
	templates, _ := filepath.Glob(filepath.Join("testdata", "templates", "*.jinja"))
	cases, _ := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	if len(templates) < 6 || len(cases) < 5 {
		t.Fatalf("testdata missing: %d templates, %d cases", len(templates), len(cases))
	}
	checked := 0
	for _, tp := range templates {
		model := strings.TrimSuffix(filepath.Base(tp), ".jinja")
		tpl := loadTemplate(t, model)
		for _, cp := range cases {
			name := strings.TrimSuffix(filepath.Base(cp), ".json")
			t.Run(model+"/"+name, func(t *testing.T) {
				in := loadCase(t, cp)
				got, err := tpl.Render(in)
				base := filepath.Join("testdata", "golden", model+"__"+name)
				if want, rerr := os.ReadFile(base + ".txt"); rerr == nil {
					if err != nil {
						t.Fatalf("render: %v", err)
					}
					if got != string(want) {
						t.Fatalf("output differs from jinja2 golden %s.txt:\n%s", base, diff(string(want), got))
					}
					checked++
					return
				}
				wantErr, rerr := os.ReadFile(base + ".err")
				if rerr != nil {
					t.Fatalf("no golden for %s (run scripts/chat_golden/render.py)", base)
				}
				if err == nil {
					t.Fatalf("render succeeded, jinja2 failed with %q; got:\n%s", wantErr, got)
				}
				if msg, ok := strings.CutPrefix(string(wantErr), "raise: "); ok {
					var re *RaiseError
					if !errors.As(err, &re) || re.Message != msg {
						t.Fatalf("error = %v, want raise_exception(%q)", err, msg)
					}
				} else if !errors.Is(err, ErrRender) {
					t.Fatalf("error = %v, want a render error like jinja2's %q", err, wantErr)
				}
				checked++
			})
		}
	}
	if checked == 0 {
		t.Fatal("no golden compared")
	}
}

// diff shows the first differing line with context.
func diff(want, got string) string {
	wl := strings.Split(want, "\n")
	gl := strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g || i >= len(wl) || i >= len(gl) {
			var b strings.Builder
			for j := max(0, i-3); j < i; j++ {
				b.WriteString("  " + wl[j] + "\n")
			}
			if i < len(wl) {
				b.WriteString("- " + strings.ReplaceAll(w, "\t", "\\t") + "⏎\n")
			} else {
				b.WriteString("- <end of golden>\n")
			}
			if i < len(gl) {
				b.WriteString("+ " + strings.ReplaceAll(g, "\t", "\\t") + "⏎\n")
			} else {
				b.WriteString("+ <end of output>\n")
			}
			b.WriteString("(line " + strconv.Itoa(i+1) + ")")
			return b.String()
		}
	}
	return "(identical lines; differs in trailing bytes)"
}
