package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func importAll(t *testing.T, k Kind, src string, opts ImportOptions) ([]Record, *ImportResult, error) {
	t.Helper()
	var recs []Record
	res, err := Import(strings.NewReader(src), k, opts, func(_ int, r Record) error {
		recs = append(recs, r)
		return nil
	})
	return recs, res, err
}

func TestImportFormats(t *testing.T) {
	tests := []struct {
		name      string
		kind      Kind
		line      string
		want      Record
		converted string
	}{
		{"native instruction", KindInstruction, `{"instruction":"Add","input":"1 2","output":"3"}`,
			Record{Instruction: "Add", Input: "1 2", Output: "3"}, ""},
		{"native chat", KindChat, `{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"hello"}]}`,
			Record{Messages: []Message{{Role: "user", Content: "hi"}, {Role: "assistant", Content: "hello"}}}, ""},
		{"sharegpt", KindChat, `{"conversations":[{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}],"system":"be brief"}`,
			Record{Messages: []Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hi"}, {Role: "assistant", Content: "yo"}}}, "sharegpt"},
		{"alpaca to chat", KindChat, `{"instruction":"Translate","input":"chat","output":"cat"}`,
			Record{Messages: []Message{{Role: "user", Content: "Translate\n\nchat"}, {Role: "assistant", Content: "cat"}}}, "alpaca"},
		{"trl preference", KindPreference, `{"prompt":[{"role":"user","content":"q"}],"chosen":[{"role":"assistant","content":"good"}],"rejected":[{"role":"assistant","content":"bad"}]}`,
			Record{Prompt: "q", Chosen: "good", Rejected: "bad"}, "trl"},
		{"document with metadata", KindDocuments, `{"id":"d1","text":"body","metadata":{"lang":"en"}}`,
			Record{ID: "d1", Text: "body", Metadata: map[string]any{"lang": "en"}}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, res, err := importAll(t, tc.kind, tc.line+"\n", ImportOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Errors) != 0 || len(recs) != 1 {
				t.Fatalf("errors %v, records %d", res.Errors, len(recs))
			}
			if recs[0].Digest() != tc.want.Digest() {
				g, _ := json.Marshal(recs[0])
				w, _ := json.Marshal(tc.want)
				t.Fatalf("got %s\nwant %s", g, w)
			}
			if tc.converted != "" && res.Converted[tc.converted] != 1 {
				t.Fatalf("converted = %v, want %s", res.Converted, tc.converted)
			}
		})
	}
}

func TestImportLineErrors(t *testing.T) {
	src := strings.Join([]string{
		`{"instruction":"ok","output":"fine"}`,
		`{"instruction":"x","ouput":"typo"}`,
		`not json`,
		``,
		`{"instruction":"x","output":7}`,
		"{\"instruction\":\"\xff\",\"output\":\"y\"}",
		`[1,2]`,
		`{"instruction":"last","output":"ok"}`,
	}, "\n")
	recs, res, err := importAll(t, KindInstruction, src, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || res.Accepted != 2 || res.Rejected != 5 || res.Lines != 7 {
		t.Fatalf("records %d accepted %d rejected %d lines %d: %v", len(recs), res.Accepted, res.Rejected, res.Lines, res.Errors)
	}
	want := map[string]bool{
		"2:/ouput": true, "2:/output": true, "3:/": true, "5:/output": true, "6:/": true, "7:/": true,
	}
	for _, e := range res.Errors {
		key := fmt.Sprintf("%d:%s", e.Line, e.Field)
		if !want[key] {
			t.Errorf("unexpected error %v", e)
		}
		delete(want, key)
	}
	if len(want) != 0 {
		t.Errorf("missing errors %v; got %v", want, res.Errors)
	}
}

func TestImportNestedFieldPointer(t *testing.T) {
	_, res, err := importAll(t, KindChat, `{"messages":[{"role":"user","content":"a"},{"role":"robot","content":"b"}]}`, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Field != "/messages/1/role" {
		t.Fatalf("errors = %v, want one at /messages/1/role", res.Errors)
	}
}

func TestImportLimits(t *testing.T) {
	long := `{"instruction":"` + strings.Repeat("a", 200) + `","output":"b"}`
	recs, res, err := importAll(t, KindInstruction, long+"\n"+`{"instruction":"a","output":"b"}`, ImportOptions{MaxLineBytes: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 || len(res.Errors) != 1 || res.Errors[0].Line != 1 {
		t.Fatalf("records %d errors %v", len(recs), res.Errors)
	}
	bad := strings.Repeat("x\n", 5)
	_, _, err = importAll(t, KindInstruction, bad, ImportOptions{MaxErrors: 3})
	if !errors.Is(err, ErrTooManyErrors) {
		t.Fatalf("err = %v, want ErrTooManyErrors", err)
	}
}

func TestCanonicalIgnoresKeyOrderAndSpacing(t *testing.T) {
	a, _, _ := importAll(t, KindDocuments, `{"text":"t","metadata":{"b":1,"a":[1.50,"<x>"]}}`, ImportOptions{})
	b, _, _ := importAll(t, KindDocuments, `{ "metadata" : { "a" : [1.50, "<x>"], "b" : 1 } , "text" : "t" }`, ImportOptions{})
	if a[0].Digest() != b[0].Digest() {
		t.Fatal("digests differ for the same content")
	}
	c, err := Canonical(a[0])
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"metadata":{"a":[1.50,"<x>"],"b":1},"text":"t"}`; string(c) != want {
		t.Fatalf("canonical = %s, want %s", c, want)
	}
}

func testManifest() *Manifest {
	return &Manifest{
		Kind:       KindDocuments,
		Parents:    []string{"sha256:bb", "sha256:aa"},
		Sources:    []Source{{ID: "src_2", Type: "folder", URI: "file:///b", Hash: "sha256:2"}, {ID: "src_1", Type: "upload", URI: "a.pdf", Hash: "sha256:1"}},
		Processing: json.RawMessage(`{"redact":{"enabled":true}}`),
		Items:      []Item{{ID: "doc_b", Digest: "sha256:b"}, {ID: "doc_a", Digest: "sha256:a"}},
	}
}

func TestLineageHashIsContentAddressed(t *testing.T) {
	m1, m2 := testManifest(), testManifest()
	// Same content, different input order.
	m2.Items[0], m2.Items[1] = m2.Items[1], m2.Items[0]
	m2.Sources[0], m2.Sources[1] = m2.Sources[1], m2.Sources[0]
	h1, err := m1.LineageHash()
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := m2.LineageHash()
	if h1 != h2 {
		t.Fatalf("same content, different hashes %s %s", h1, h2)
	}
	b1, _ := m1.Canonical()
	b2, _ := m2.Canonical()
	if !bytes.Equal(b1, b2) {
		t.Fatal("canonical manifests differ")
	}
	m3 := testManifest()
	m3.Items[0].Digest = "sha256:changed"
	if h3, _ := m3.LineageHash(); h3 == h1 {
		t.Fatal("changed item, same hash")
	}
	m4 := testManifest()
	m4.Processing = json.RawMessage(`{"redact":{"enabled":false}}`)
	if h4, _ := m4.LineageHash(); h4 == h1 {
		t.Fatal("changed processing, same hash")
	}
	dup := testManifest()
	dup.Items[1].ID = dup.Items[0].ID
	if _, err := dup.LineageHash(); !errors.Is(err, ErrManifest) {
		t.Fatalf("duplicate ids: err = %v", err)
	}
}

func TestSplitsDeterministicAndProportional(t *testing.T) {
	f := Fractions{Train: 0.8, Validation: 0.1, Test: 0.1}
	counts := map[string]int{}
	n := 20000
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("rec-%d", i)
		s := SplitOf(key, "seed", f)
		if s != SplitOf(key, "seed", f) {
			t.Fatal("split not deterministic")
		}
		counts[s]++
	}
	for name, want := range map[string]float64{SplitTrain: 0.8, SplitValidation: 0.1, SplitTest: 0.1} {
		got := float64(counts[name]) / float64(n)
		if math.Abs(got-want) > 0.01 {
			t.Errorf("%s fraction %.4f, want %.2f±0.01", name, got, want)
		}
	}
	if err := (Fractions{Train: 0.5, Test: 0.4}).Validate(); !errors.Is(err, ErrFractions) {
		t.Fatalf("err = %v", err)
	}
}

func TestMix(t *testing.T) {
	a := Component{Dataset: "a", LineageHash: "sha256:a", Weight: 3, Keys: []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "a10"}}
	b := Component{Dataset: "b", LineageHash: "sha256:b", Weight: 1, Keys: []string{"b1", "b2"}}
	picks, entries, err := Mix([]Component{a, b}, 10, "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(picks) != 10 || entries[0].Count+entries[1].Count != 10 {
		t.Fatalf("picks %d entries %+v", len(picks), entries)
	}
	if entries[0].Count != 8 || entries[1].Count != 2 { // 7.5 and 2.5 → largest remainder, stable order
		t.Fatalf("counts %d/%d", entries[0].Count, entries[1].Count)
	}
	again, _, _ := Mix([]Component{a, b}, 10, "s")
	for i := range picks {
		if picks[i] != again[i] {
			t.Fatal("mix not deterministic")
		}
	}
	over, entries, err := Mix([]Component{b}, 5, "s")
	if err != nil || entries[0].Count != 5 {
		t.Fatalf("oversampling: %+v err %v", entries, err)
	}
	uses := map[string]int{}
	maxRepeat := 0
	for _, p := range over {
		uses[p.Key]++
		maxRepeat = max(maxRepeat, p.Repeat)
	}
	if uses["b1"]+uses["b2"] != 5 || maxRepeat != 2 {
		t.Fatalf("oversampling picks %+v", over)
	}
	if _, _, err := Mix([]Component{{Dataset: "z", Weight: 0, Keys: []string{"x"}}}, 3, "s"); !errors.Is(err, ErrMix) {
		t.Fatalf("zero weight: err = %v", err)
	}
}

func TestURI(t *testing.T) {
	for _, s := range []string{"ds://acme/faq@1.2.0", "ds://acme/faq", "ds://acme/faq@sha256:" + strings.Repeat("a", 64)} {
		u, err := ParseURI(s)
		if err != nil || u.String() != s {
			t.Errorf("%s: %v %v", s, u, err)
		}
	}
	for _, s := range []string{"ds://acme", "s3://a/b", "ds://acme/faq@1.2", "ds://acme/faq@01.2.3", "ds://../x@1.0.0", "ds://a/b@sha256:zz"} {
		if _, err := ParseURI(s); !errors.Is(err, ErrVersion) {
			t.Errorf("%s: err = %v, want ErrVersion", s, err)
		}
	}
	v, _ := ParseSemVer("1.2.3")
	if v.Next(ChangeMinor).String() != "1.3.0" || v.Next(ChangeMajor).String() != "2.0.0" || v.Next(ChangePatch).String() != "1.2.4" {
		t.Fatal("Next")
	}
}

func TestCard(t *testing.T) {
	m := testManifest()
	h, _ := m.LineageHash()
	card := Card(CardInput{
		URI: URI{Project: "acme", Name: "docs", Version: "1.0.0"}, LineageHash: h, Manifest: m,
		Stats: Stats{Items: 2, Lengths: LengthHistogram([]int{10, 300}), PII: map[string]int{"email": 3},
			Languages: map[string]int{"en": 2}, Splits: map[string]int{"train": 2}},
	})
	for _, want := range []string{"ds://acme/docs@1.0.0", h, "| email | 3 |", "| en | 2 |", "| 256–1024 | 1 |", "src_1", "## Deduplication"} {
		if !strings.Contains(card, want) {
			t.Errorf("card lacks %q:\n%s", want, card)
		}
	}
}

func FuzzImport(f *testing.F) {
	f.Add([]byte(`{"messages":[{"role":"user","content":"hi"}]}`), uint8(3))
	f.Add([]byte(`{"conversations":[{"from":"human","value":"x"}]}`), uint8(3))
	f.Add([]byte(`{"instruction":"a","output":"b"}`+"\n"+`{"bad"`), uint8(1))
	f.Add([]byte(`{"prompt":[{"role":"user"}],"chosen":"a","rejected":"b"}`), uint8(2))
	kinds := []Kind{KindDocuments, KindInstruction, KindPreference, KindChat}
	f.Fuzz(func(t *testing.T, data []byte, k uint8) {
		kind := kinds[int(k)%len(kinds)]
		res, err := Import(bytes.NewReader(data), kind, ImportOptions{MaxLineBytes: 4096}, func(_ int, r Record) error {
			if _, err := Canonical(r); err != nil {
				t.Fatalf("accepted record does not canonicalise: %v", err)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrTooManyErrors) {
			t.Fatalf("import error: %v", err)
		}
		if res != nil && res.Accepted+res.Rejected != res.Lines {
			t.Fatalf("accepted %d + rejected %d != lines %d", res.Accepted, res.Rejected, res.Lines)
		}
	})
}
