package pii

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/labelled.jsonl from testdata/labelled.src")

// goldSpan is one labelled span of testdata/labelled.jsonl.
type goldSpan struct {
	Type  Type   `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
	Text  string `json:"text"`
}

type goldDoc struct {
	ID    string     `json:"id"`
	Text  string     `json:"text"`
	Spans []goldSpan `json:"spans"`
}

// parseSource reads the authoring format of the gold set: one document per
// line, "\n" for a newline, and ⟦type:text⟧ around every gold span.
func parseSource(t testing.TB, path string) []goldDoc {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var docs []goldDoc
	for n, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		line = strings.ReplaceAll(line, `\n`, "\n")
		var text strings.Builder
		var spans []goldSpan
		for {
			i := strings.Index(line, "⟦")
			if i < 0 {
				text.WriteString(line)
				break
			}
			text.WriteString(line[:i])
			line = line[i+len("⟦"):]
			j := strings.Index(line, "⟧")
			typ, val, ok := strings.Cut(line[:max(j, 0)], ":")
			if j < 0 || !ok || !Type(typ).Valid() {
				t.Fatalf("%s line %d: bad markup near %q", path, n+1, line[:min(len(line), 30)])
			}
			start := text.Len()
			text.WriteString(val)
			spans = append(spans, goldSpan{Type: Type(typ), Start: start, End: text.Len(), Text: val})
			line = line[j+len("⟧"):]
		}
		docs = append(docs, goldDoc{ID: fmt.Sprintf("doc-%03d", n+1), Text: text.String(), Spans: spans})
	}
	return docs
}

func loadGold(t testing.TB, path string) []goldDoc {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var docs []goldDoc
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var d goldDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		docs = append(docs, d)
	}
	return docs
}

// TestLabelledSource keeps the JSONL gold files in step with their .src
// authoring files; run with -update after editing a source.
func TestLabelledSource(t *testing.T) {
	for _, name := range []string{"labelled", "heldout"} {
		t.Run(name, func(t *testing.T) {
			src, dst := "testdata/"+name+".src", "testdata/"+name+".jsonl"
			docs := parseSource(t, src)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			for _, d := range docs {
				if err := enc.Encode(d); err != nil {
					t.Fatal(err)
				}
			}
			if *update {
				if err := os.WriteFile(dst, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := os.ReadFile(dst)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, buf.Bytes()) {
				t.Fatalf("%s is stale; run go test -run TestLabelledSource -update", dst)
			}
			for _, d := range docs {
				for _, s := range d.Spans {
					if d.Text[s.Start:s.End] != s.Text {
						t.Fatalf("%s: span %+v does not match text", d.ID, s)
					}
				}
			}
		})
	}
}

type prf struct{ tp, fp, fn int }

func (c prf) precision() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}

func (c prf) recall() float64 {
	if c.tp+c.fn == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fn)
}

func (c prf) f1() float64 {
	p, r := c.precision(), c.recall()
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// evaluate scores predictions against gold per type. Strict matching needs
// the same type and exact offsets; overlap matching needs the same type and
// any overlap (each gold span matched at most once).
func evaluate(t testing.TB, d *Detector, docs []goldDoc, strict bool, verbose bool) map[Type]*prf {
	res := make(map[Type]*prf)
	for _, ty := range AllTypes() {
		res[ty] = &prf{}
	}
	for _, doc := range docs {
		pred := d.Detect(doc.Text)
		used := make([]bool, len(doc.Spans))
		for _, p := range pred {
			hit := false
			for i, g := range doc.Spans {
				if used[i] || g.Type != p.Type {
					continue
				}
				if (strict && g.Start == p.Start && g.End == p.End) || (!strict && g.Start < p.End && p.Start < g.End) {
					used[i] = true
					hit = true
					break
				}
			}
			if hit {
				res[p.Type].tp++
			} else {
				res[p.Type].fp++
				if verbose {
					t.Logf("FP %s %s [%s] (%s)", doc.ID, p.Type, p.Text, p.Detector)
				}
			}
		}
		for i, g := range doc.Spans {
			if !used[i] {
				res[g.Type].fn++
				if verbose {
					t.Logf("FN %s %s [%s]", doc.ID, g.Type, g.Text)
				}
			}
		}
	}
	return res
}

func table(res map[Type]*prf) string {
	var b strings.Builder
	b.WriteString("| type | gold | TP | FP | FN | precision | recall | F1 |\n|---|---|---|---|---|---|---|---|\n")
	types := AllTypes()
	sort.Slice(types, func(i, j int) bool { return types[i] < types[j] })
	var all prf
	for _, ty := range types {
		c := res[ty]
		all.tp += c.tp
		all.fp += c.fp
		all.fn += c.fn
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n", ty, c.tp+c.fn, c.tp, c.fp, c.fn, c.precision(), c.recall(), c.f1())
	}
	fmt.Fprintf(&b, "| **all** | %d | %d | %d | %d | %.3f | %.3f | %.3f |\n", all.tp+all.fn, all.tp, all.fp, all.fn, all.precision(), all.recall(), all.f1())
	return b.String()
}

// TestLabelledAccuracy measures precision, recall and F1 per type on the
// labelled set and asserts the goals on the structured types: recall ≥ 0.95
// and precision ≥ 0.90 with exact span boundaries.
func TestLabelledAccuracy(t *testing.T) {
	d, err := NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	docs := loadGold(t, "testdata/labelled.jsonl")
	total := 0
	for _, doc := range docs {
		total += len(doc.Spans)
	}
	if total < 300 {
		t.Fatalf("gold set has %d spans, want ≥ 300", total)
	}
	strict := evaluate(t, d, docs, true, testing.Verbose())
	t.Logf("strict (exact offsets), %d documents, %d gold spans:\n%s", len(docs), total, table(strict))
	overlap := evaluate(t, d, docs, false, false)
	t.Logf("overlap:\n%s", table(overlap))
	for _, ty := range AllTypes() {
		if !ty.Structured() {
			continue
		}
		c := strict[ty]
		if c.recall() < 0.95 || c.precision() < 0.90 {
			t.Errorf("%s: precision %.3f recall %.3f, goal ≥ 0.90 / ≥ 0.95", ty, c.precision(), c.recall())
		}
	}
}

// TestHeldOutAccuracy reports precision and recall on a second gold set
// written after the detectors were tuned and never used to tune them, as
// an honest estimate of accuracy on unseen text. It asserts only a floor.
func TestHeldOutAccuracy(t *testing.T) {
	d, err := NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	docs := loadGold(t, "testdata/heldout.jsonl")
	strict := evaluate(t, d, docs, true, testing.Verbose())
	t.Logf("held-out strict:\n%s", table(strict))
	t.Logf("held-out overlap:\n%s", table(evaluate(t, d, docs, false, false)))
	var all prf
	for _, ty := range AllTypes() {
		if ty.Structured() {
			all.tp += strict[ty].tp
			all.fp += strict[ty].fp
			all.fn += strict[ty].fn
		}
	}
	if all.recall() < 0.85 || all.precision() < 0.85 {
		t.Errorf("structured types on held-out: precision %.3f recall %.3f, floor 0.85", all.precision(), all.recall())
	}
}
