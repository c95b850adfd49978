package tokenizer

import (
	"go/parser"
	"go/token"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestImports holds the package to the standard library plus the regex
// engine and Unicode normalization (STYLE.md habit 13).
func TestImports(t *testing.T) {
	allowed := map[string]bool{
		"github.com/dlclark/regexp2":     true,
		"golang.org/x/text/unicode/norm": true,
	}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if !strings.Contains(first, ".") || allowed[path] {
				continue
			}
			t.Errorf("%s imports %s", name, path)
		}
	}
}
