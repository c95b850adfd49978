package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinyTokenizer = `{"added_tokens":[{"id":5,"content":"<s>","special":true}],
 "pre_tokenizer":{"type":"WhitespaceSplit"},
 "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
  "special_tokens":{"<s>":{"id":"<s>","ids":[5],"tokens":["<s>"]}}},
 "model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"c":3,"<s>":5},"merges":["a b"]}}`

func TestTokenizeCmd(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(tinyTokenizer), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		code  int
		want  string
	}{
		{"ids", []string{"tokenize", "--tokenizer", dir}, "ab c<s>a", 0, "2 3 5 0\n"},
		{"special", []string{"tokenize", "--tokenizer", filepath.Join(dir, "tokenizer.json"), "--special"}, "ab", 0, "5 2\n"},
		{"json", []string{"tokenize", "--tokenizer", dir, "--json"}, "ab c", 0, `{"ids":[2,3],"tokens":["ab","c"]}` + "\n"},
		{"missing flag", []string{"tokenize"}, "", 2, ""},
		{"bad path", []string{"tokenize", "--tokenizer", filepath.Join(dir, "nope.json")}, "", 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Main(context.Background(), tc.args, nil, strings.NewReader(tc.stdin), &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tc.code, errb.String())
			}
			if out.String() != tc.want {
				t.Fatalf("stdout %q, want %q", out.String(), tc.want)
			}
		})
	}
}
