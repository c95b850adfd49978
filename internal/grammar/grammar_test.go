package grammar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// tinyVocab has every printable ASCII byte as a token (so no state dead-ends for lack of
// a token), multi-byte JSON fragments, and UTF-8 pieces split across tokens.
func tinyVocab() [][]byte {
	var toks [][]byte
	toks = append(toks, nil) // id 0: EOS-like special with no bytes
	for b := 0x20; b < 0x7f; b++ {
		toks = append(toks, []byte{byte(b)})
	}
	for _, s := range []string{
		"\n", "\t", `{"`, `":`, `", "`, `"}`, `},`, `],`, "true", "false", "null", " [", "[]", "{}",
		"12", "0.5", "-1", "e+", `\"`, `\\`, `\n`, `\u00e9`, "é", "日本", "\xe6", "\x97\xa5", "\xc3",
		"\xa9", "name", "age", `"name"`, `"tags": [`, `"id":`, "ab", " ", "  ", `""`, `"a`, `a"`,
		"1,", "2]", "3}", "\"x\": ", "\\u12", "34",
	} {
		toks = append(toks, []byte(s))
	}
	return toks
}

var schemas = map[string]string{
	"object": `{"type":"object","properties":{"name":{"type":"string","minLength":1,"maxLength":12},
		"age":{"type":"integer"},"score":{"type":"number"},"ok":{"type":"boolean"},
		"tags":{"type":"array","items":{"type":"string","maxLength":5},"minItems":1,"maxItems":3},
		"kind":{"enum":["a","b",3,null]},"v":{"const":"fixed"},"nothing":{"type":"null"}},
		"required":["name","tags"],"additionalProperties":false}`,
	"nested": `{"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"integer"},
		"email":{"type":["string","null"]}},"required":["id"]},"items":{"type":"array","maxItems":2,
		"items":{"type":"object","properties":{"x":{"type":"number"}},"required":["x"]}}},"required":["user"]}`,
	"array":    `{"type":"array","items":{"type":"integer"},"minItems":2,"maxItems":4}`,
	"string":   `{"type":"string","maxLength":8}`,
	"number":   `{"type":"number"}`,
	"enum":     `{"enum":[1,12,123,"x"]}`,
	"anyof":    `{"anyOf":[{"type":"string"},{"type":"integer"},{"type":"object","properties":{"k":{"type":"boolean"}},"required":["k"]}]}`,
	"free":     `{"type":"object","additionalProperties":{"type":"integer"}}`,
	"any":      `{}`,
	"defs":     `{"$defs":{"pt":{"type":"object","properties":{"x":{"type":"integer"},"y":{"type":"integer"}},"required":["x","y"]}},"type":"array","items":{"$ref":"#/$defs/pt"},"maxItems":3}`,
	"emptyobj": `{"type":"object","additionalProperties":false}`,
}

func compileValidator(t testing.TB, schema string) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(schema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRandomWalks samples tokens uniformly from the mask until the value is done and
// checks that the text parses as JSON and validates against the schema.
func TestRandomWalks(t *testing.T) {
	vocab := tinyVocab()
	v := NewVocab(vocab)
	for name, schema := range schemas {
		t.Run(name, func(t *testing.T) {
			g, err := Compile([]byte(schema))
			if err != nil {
				t.Fatal(err)
			}
			val := compileValidator(t, schema)
			rng := rand.New(rand.NewPCG(1, uint64(len(name))))
			mask := make([]bool, len(vocab))
			completed := 0
			for walk := 0; walk < 150; walk++ {
				m := g.NewMatcher(v)
				var out bytes.Buffer
				for steps := 0; steps < 400; steps++ {
					if m.Done() && (m.Finished() || rng.IntN(3) == 0) {
						break
					}
					m.Allowed(mask)
					var allowed []int
					for id, ok := range mask {
						if ok {
							allowed = append(allowed, id)
						}
					}
					if len(allowed) == 0 && m.Done() {
						break // a complete top-level number: nothing may follow
					}
					if len(allowed) == 0 {
						t.Fatalf("dead end after %q", out.String())
					}
					id := allowed[rng.IntN(len(allowed))]
					if err := m.Accept(id); err != nil {
						t.Fatalf("mask allowed token %d (%q) but Accept failed after %q: %v", id, vocab[id], out.String(), err)
					}
					out.Write(vocab[id])
				}
				if !m.Done() {
					continue // walk too long; try another
				}
				completed++
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out.Bytes()))
				if err != nil {
					t.Fatalf("generated text is not JSON: %q: %v", out.String(), err)
				}
				if err := val.Validate(inst); err != nil {
					t.Fatalf("generated %q does not validate: %v", out.String(), err)
				}
			}
			if completed < 20 {
				t.Fatalf("only %d of 150 walks completed", completed)
			}
		})
	}
}

// TestMaskMatchesAccept checks, token by token, that Allowed agrees with Accept on a
// scratch copy for every token in a few states.
func TestMaskMatchesAccept(t *testing.T) {
	vocab := tinyVocab()
	v := NewVocab(vocab)
	g, err := Compile([]byte(schemas["object"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "{", `{"name": "ab`, `{"name":"x","tags":[`, `{"name":"é`, `{"name":"\u00`, `{"name":"x","tags":["a"],"age":1`} {
		m := g.NewMatcher(v)
		if err := m.AcceptBytes([]byte(prefix)); err != nil {
			t.Fatalf("prefix %q: %v", prefix, err)
		}
		mask := make([]bool, len(vocab))
		m.Allowed(mask)
		for id, tok := range vocab {
			c := g.NewMatcher(v)
			_ = c.AcceptBytes([]byte(prefix))
			ok := len(tok) > 0 && c.AcceptBytes(tok) == nil
			if ok != mask[id] {
				t.Errorf("prefix %q token %q: mask %v, accept %v", prefix, tok, mask[id], ok)
			}
		}
	}
}

func TestAcceptTable(t *testing.T) {
	tests := []struct {
		schema, text string
		ok, done     bool
	}{
		{`{"type":"integer"}`, "-12", true, true},
		{`{"type":"integer"}`, "1.5", false, false},
		{`{"type":"integer"}`, "01", false, false},
		{`{"type":"number"}`, "1.5e-3", true, true},
		{`{"type":"number"}`, "1.", true, false},
		{`{"type":"string","maxLength":2}`, `"abc"`, false, false},
		{`{"type":"string","minLength":2}`, `"a"`, false, false},
		{`{"type":"string"}`, `"a\u00e9\n"`, true, true},
		{`{"type":"string"}`, "\"a\x01\"", false, false},
		{`{"type":"string"}`, "\"\xff\"", false, false},
		{`{"type":"boolean"}`, "true", true, true},
		{`{"type":"null"}`, "nul", true, false},
		{`{"enum":[1,12]}`, "1", true, true},
		{`{"enum":[1,12]}`, "13", false, false},
		{`{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}`, `{}`, false, false},
		{`{"type":"object","properties":{"a":{"type":"integer"}}}`, `{"a":1,"a":2}`, false, false},
		{`{"type":"object","properties":{"a":{"type":"integer"}}}`, `{"b":1}`, false, false},
		{`{"type":"object","properties":{"a":{"type":"integer"}}}`, `{ "a" : 1 }`, true, true},
		{`{"type":"array","maxItems":1}`, `[1,2]`, false, false},
		{`{"type":"array","minItems":1}`, `[]`, false, false},
		{`{"type":"array"}`, `[1,]`, false, false},
		{`{}`, `{"x":[1,{"y":null}],"z":"s"}`, true, true},
		{`{}`, "{}      ", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.schema+" "+tt.text, func(t *testing.T) {
			g, err := Compile([]byte(tt.schema))
			if err != nil {
				t.Fatal(err)
			}
			m := g.NewMatcher(NewVocab(nil))
			err = m.AcceptBytes([]byte(tt.text))
			if (err == nil) != tt.ok {
				t.Fatalf("accept err = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrRejected) {
				t.Fatalf("error %v does not wrap ErrRejected", err)
			}
			if tt.ok && m.Done() != tt.done {
				t.Fatalf("Done = %v, want %v", m.Done(), tt.done)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	for _, s := range []string{
		`[`, `3`, `false`, `{"type":"object","required":["x"],"properties":{"y":{}}}`,
		`{"anyOf":[{"type":"string"},{"enum":["a"]}]}`, `{"type":"string","pattern":"a+"}`,
		`{"$ref":"#/$defs/missing"}`, `{"$ref":"#"}`, `{"type":"array","minItems":3,"maxItems":1}`,
		`{"type":"wat"}`, `{"allOf":[{}]}`,
	} {
		if _, err := Compile([]byte(s)); !errors.Is(err, ErrSchema) {
			t.Errorf("Compile(%s) err = %v, want ErrSchema", s, err)
		}
	}
}

func TestMaskSkipsEmptyAndDone(t *testing.T) {
	vocab := tinyVocab()
	g, _ := Compile([]byte(`{"type":"boolean"}`))
	m := g.NewMatcher(NewVocab(vocab))
	if err := m.AcceptBytes([]byte("true")); err != nil {
		t.Fatal(err)
	}
	mask := make([]bool, len(vocab))
	m.Allowed(mask)
	for id, ok := range mask {
		if ok {
			t.Fatalf("token %d %q allowed after a complete value", id, vocab[id])
		}
	}
	if !m.Done() {
		t.Fatal("not done after true")
	}
	if err := m.Accept(0); err == nil {
		t.Fatal("accepted a token with no bytes")
	}
}

func ExampleMatcher() {
	g, _ := Compile([]byte(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"]}`))
	vocab := [][]byte{nil, []byte(`{"ok":`), []byte("true"), []byte("}"), []byte(`{"no":`)}
	m := g.NewMatcher(NewVocab(vocab))
	mask := make([]bool, len(vocab))
	for !m.Done() {
		m.Allowed(mask)
		for id, ok := range mask {
			if ok {
				_ = m.Accept(id)
				fmt.Print(string(vocab[id]))
				break
			}
		}
	}
	fmt.Println()
	// Output: {"ok":true}
}

var _ = json.Marshal

type fakeTokens [][]byte

func (f fakeTokens) VocabSize() int           { return len(f) }
func (f fakeTokens) TokenBytes(id int) []byte { return f[id] }
func (f fakeTokens) IsSpecial(id int) bool    { return id == 0 }

func TestVocabFrom(t *testing.T) {
	toks := fakeTokens{[]byte("<eos>"), []byte("{"), []byte("}")}
	v := VocabFrom(toks)
	g, _ := Compile([]byte(`{"type":"object"}`))
	m := g.NewMatcher(v)
	mask := make([]bool, len(toks))
	m.Allowed(mask)
	if mask[0] || !mask[1] || mask[2] {
		t.Fatalf("mask = %v, want only '{'", mask)
	}
}
