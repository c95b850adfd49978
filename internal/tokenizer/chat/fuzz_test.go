package chat

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary sources to the parser and renderer: they may fail, never panic
// or hang.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "templates", "*.jinja"))
	snippets, _ := filepath.Glob(filepath.Join("testdata", "snippets", "*.jinja"))
	for _, p := range append(files, snippets...) {
		if data, err := os.ReadFile(p); err == nil {
			f.Add(string(data))
		}
	}
	f.Add("{% for x in y %}{{ x | tojson(indent=2) }}{% endfor %}")
	f.Add("{{ 'a'[::-1] }}{% set ns = namespace(a=1) %}{% set ns.a = 2 %}")
	in := Input{
		Messages:            []Message{{Role: "system", Content: "s"}, {Role: "user", Content: "u"}, {Role: "assistant", Content: "a"}},
		AddGenerationPrompt: true,
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := Parse(src)
		if err != nil {
			return
		}
		_, _ = tpl.Render(in)
	})
}
