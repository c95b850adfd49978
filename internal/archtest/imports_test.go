package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const mod = "github.com/whet-dev/whet/internal/"

// rules lists, per package directory (relative to internal/), every import
// outside the standard library it may use. The compute packages may use
// golang.org/x/sys/cpu and lower compute packages only; the tokenizer adds a
// lookahead regex engine and Unicode normalisation.
var rules = map[string][]string{
	"tensor":      {"golang.org/x/sys/cpu"},
	"safetensors": {"golang.org/x/sys/cpu", mod + "tensor"},
	"llm":         {"golang.org/x/sys/cpu", mod + "tensor", mod + "safetensors"},
	"encoder":     {"golang.org/x/sys/cpu", mod + "tensor", mod + "safetensors"},
	"generate":    {"golang.org/x/sys/cpu", mod + "tensor", mod + "safetensors", mod + "llm"},
	"train":       {"golang.org/x/sys/cpu", mod + "tensor", mod + "llm"},
	"tokenizer":   {"github.com/dlclark/regexp2", "golang.org/x/text/unicode/norm"},
}

func TestEngineImports(t *testing.T) {
	for dir, allowedList := range rules {
		allowed := map[string]bool{mod + dir: true}
		for _, a := range allowedList {
			allowed[a] = true
		}
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			af, err := parser.ParseFile(token.NewFileSet(), f, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range af.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				first, _, _ := strings.Cut(path, "/")
				if strings.Contains(first, ".") && !allowed[path] {
					t.Errorf("%s imports %s, which internal/%s may not use", f, path, dir)
				}
			}
		}
	}
}
