package chat

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSnippets renders small feature templates (filters, tests, loops, scoping, macros,
// whitespace control, …) and compares them with jinja2's output from
// scripts/chat_golden/render.py.
func TestSnippets(t *testing.T) {
	ctxData, err := os.ReadFile(filepath.Join("testdata", "snippet_context.json"))
	if err != nil {
		t.Fatal(err)
	}
	ctxVal, err := ParseJSON(ctxData)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxVal.(*Map)
	files, _ := filepath.Glob(filepath.Join("testdata", "snippets", "*.jinja"))
	if len(files) < 10 {
		t.Fatalf("only %d snippets", len(files))
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".jinja")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			tpl, err := Parse(string(src))
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			kw := map[string]any{}
			for _, k := range ctx.Keys() {
				v, _ := ctx.Get(k)
				kw[k] = v
			}
			got, err := tpl.Render(Input{Kwargs: kw, Now: goldenNow})
			base := filepath.Join("testdata", "golden", "snippet__"+name)
			if want, rerr := os.ReadFile(base + ".txt"); rerr == nil {
				if err != nil {
					t.Fatalf("render: %v", err)
				}
				if got != string(want) {
					t.Fatalf("differs from jinja2:\n%s", diff(string(want), got))
				}
				return
			}
			wantErr, rerr := os.ReadFile(base + ".err")
			if rerr != nil {
				t.Fatalf("no golden for %s", base)
			}
			msg, _ := strings.CutPrefix(string(wantErr), "raise: ")
			var re *RaiseError
			if !errors.As(err, &re) || re.Message != msg {
				t.Fatalf("error = %v, want raise_exception(%q)", err, msg)
			}
		})
	}
}
