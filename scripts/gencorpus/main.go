// Command gencorpus writes the Northwind Lattice sample corpus used by
// `whet quickstart`, the retrieval test collection and the QA pairs:
//
//	go run ./scripts/gencorpus -out examples/corpus
//
// It also writes the retrieval test collection (BEIR layout: queries.jsonl
// and qrels/test.tsv) to examples/retrieval and the extractive QA pairs to
// examples/qa/qa.jsonl, next to the corpus folder.
//
// Output is deterministic: fixed dates, no randomness, zip entries with
// fixed timestamps, PDFs with fixed creation dates. Before writing it checks
// that every planted credit card passes Luhn, every IBAN passes its mod-97
// checksum, and every planted value occurs in the file the manifest names.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// doc is one generated document. The body uses the Markdown subset that
// parseBody understands; the extension of path picks the output format.
type doc struct {
	path    string // relative to the corpus root
	kind    string // policy, procedure, product, faq, release-notes, support, report, contract
	title   string
	author  string
	owner   string
	date    string // YYYY-MM-DD
	version string
	body    string
	bare    bool // HTML without <main>/<article>
}

func (d *doc) versionOr(v string) string {
	if d.version != "" {
		return d.version
	}
	return v
}

// raw is a file written verbatim (plain text, CSV, JSONL).
type raw struct {
	path string
	body string
}

// pii is one planted personal or secret value, listed in MANIFEST.md.
type pii struct {
	kind  string // email, phone, credit_card, iban, ssn, ip, dob, address, aws_key, github_token, person
	value string
	path  string
}

// negative is a planted hard negative: looks like PII, is not.
type negative struct {
	kind  string
	value string
	path  string
}

// nearDup is a planted near-duplicate pair.
type nearDup struct {
	a, b, how string
}

var epoch = time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("out", "examples/corpus", "corpus output folder")
	retrieval := flag.String("retrieval", "", "retrieval collection folder (default: retrieval/ beside -out)")
	qaDir := flag.String("qa", "", "QA pairs folder (default: qa/ beside -out)")
	flag.Parse()
	if *retrieval == "" {
		*retrieval = filepath.Join(filepath.Dir(*out), "retrieval")
	}
	if *qaDir == "" {
		*qaDir = filepath.Join(filepath.Dir(*out), "qa")
	}
	if err := run(*out, *retrieval, *qaDir); err != nil {
		fmt.Fprintln(os.Stderr, "gencorpus:", err)
		os.Exit(1)
	}
}

func run(out, retrievalDir, qaDir string) error {
	docs := allDocs()
	raws := allRaws()
	files := map[string][]byte{}
	texts := map[string]string{} // source text used to verify planted values
	for i := range docs {
		d := &docs[i]
		var data []byte
		var err error
		switch filepath.Ext(d.path) {
		case ".md":
			data = renderMarkdown(d)
		case ".html":
			data = renderHTML(d)
		case ".pdf":
			data, err = renderPDF(d, epoch)
		case ".docx":
			data, err = renderDOCX(d, epoch)
		default:
			err = fmt.Errorf("%s: unknown extension", d.path)
		}
		if err != nil {
			return err
		}
		if _, dup := files[d.path]; dup {
			return fmt.Errorf("%s: written twice", d.path)
		}
		files[d.path] = data
		texts[d.path] = d.title + "\n" + d.author + "\n" + plain(d.body)
	}
	for _, r := range raws {
		if _, dup := files[r.path]; dup {
			return fmt.Errorf("%s: written twice", r.path)
		}
		files[r.path] = []byte(r.body)
		texts[r.path] = r.body
	}
	if err := checkPlanted(texts); err != nil {
		return err
	}
	files["MANIFEST.md"] = manifest(docs, raws, files)
	evalFiles, err := evalCollections(texts)
	if err != nil {
		return err
	}
	if err := writeTree(out, files); err != nil {
		return err
	}
	rel := map[string][]byte{"queries.jsonl": evalFiles["queries.jsonl"], "qrels/test.tsv": evalFiles["qrels/test.tsv"]}
	if err := writeTree(retrievalDir, rel); err != nil {
		return err
	}
	return writeTree(qaDir, map[string][]byte{"qa.jsonl": evalFiles["qa.jsonl"]})
}

// writeTree writes files (relative slash paths) under root.
func writeTree(root string, files map[string][]byte) error {
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	total := 0
	for _, p := range paths {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return err
		}
		total += len(files[p])
	}
	fmt.Printf("wrote %d files, %d bytes, to %s\n", len(paths), total, root)
	return nil
}

// evalCollections renders queries.jsonl, qrels/test.tsv and qa.jsonl after
// checking that every judged document exists and every QA answer occurs in
// its document.
func evalCollections(texts map[string]string) (map[string][]byte, error) {
	var errs []error
	var qb, rb, ab bytes.Buffer
	rb.WriteString("query-id\tcorpus-id\tscore\n")
	seen := map[string]bool{}
	for _, q := range queries {
		if seen[q.id] {
			errs = append(errs, fmt.Errorf("query %s: duplicate id", q.id))
		}
		seen[q.id] = true
		line, _ := json.Marshal(map[string]string{"_id": q.id, "text": q.text})
		qb.Write(line)
		qb.WriteByte('\n')
		docs := make([]string, 0, len(q.rels))
		for d := range q.rels {
			docs = append(docs, d)
		}
		sort.Slice(docs, func(i, j int) bool {
			if q.rels[docs[i]] != q.rels[docs[j]] {
				return q.rels[docs[i]] > q.rels[docs[j]]
			}
			return docs[i] < docs[j]
		})
		for _, d := range docs {
			if _, ok := texts[d]; !ok {
				errs = append(errs, fmt.Errorf("query %s: no document %s", q.id, d))
			}
			fmt.Fprintf(&rb, "%s\t%s\t%d\n", q.id, d, q.rels[d])
		}
	}
	for _, p := range qaPairs {
		t, ok := texts[p.path]
		i := strings.Index(t, p.answer)
		if !ok || i < 0 {
			errs = append(errs, fmt.Errorf("qa %s: answer %q not in %s", p.id, p.answer, p.path))
			continue
		}
		line, _ := json.Marshal(struct {
			ID       string   `json:"id"`
			Question string   `json:"question"`
			Answers  []string `json:"answers"`
			Document string   `json:"document"`
			Context  string   `json:"context"`
		}{p.id, p.question, []string{p.answer}, p.path, sentenceAround(t, i, len(p.answer))})
		ab.Write(line)
		ab.WriteByte('\n')
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return map[string][]byte{"queries.jsonl": qb.Bytes(), "qrels/test.tsv": rb.Bytes(), "qa.jsonl": ab.Bytes()}, nil
}

// sentenceAround returns the sentence or line holding text[i:i+n].
func sentenceAround(text string, i, n int) string {
	start := strings.LastIndexAny(text[:i], "\n") + 1
	if j := strings.LastIndex(text[start:i], ". "); j >= 0 {
		start += j + 2
	}
	end := len(text)
	if j := strings.IndexByte(text[i+n:], '\n'); j >= 0 {
		end = i + n + j
	}
	if j := strings.Index(text[i+n:end], ". "); j >= 0 {
		end = i + n + j + 1
	}
	return strings.TrimSpace(text[start:end])
}

// checkPlanted verifies checksums and that each planted value is present.
func checkPlanted(texts map[string]string) error {
	var errs []error
	for _, p := range plantedPII {
		t, ok := texts[p.path]
		if !ok {
			errs = append(errs, fmt.Errorf("pii %s %q: no file %s", p.kind, p.value, p.path))
			continue
		}
		if !strings.Contains(t, p.value) {
			errs = append(errs, fmt.Errorf("pii %s %q: not in %s", p.kind, p.value, p.path))
		}
		switch p.kind {
		case "credit_card":
			if !luhn(p.value) {
				errs = append(errs, fmt.Errorf("credit card %q fails Luhn", p.value))
			}
		case "iban":
			if !ibanValid(p.value) {
				errs = append(errs, fmt.Errorf("IBAN %q fails mod-97", p.value))
			}
		}
	}
	for _, n := range plantedNegatives {
		if t, ok := texts[n.path]; !ok || !strings.Contains(t, n.value) {
			errs = append(errs, fmt.Errorf("negative %s %q: not in %s", n.kind, n.value, n.path))
		}
	}
	for _, nd := range nearDups {
		if texts[nd.a] == "" || texts[nd.b] == "" {
			errs = append(errs, fmt.Errorf("near-duplicate pair %s / %s: missing file", nd.a, nd.b))
		}
	}
	return errors.Join(errs...)
}

func luhn(s string) bool {
	var digits []int
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, int(c-'0'))
		case c == ' ' || c == '-':
		default:
			return false
		}
	}
	if len(digits) < 12 {
		return false
	}
	sum := 0
	for i := range digits {
		d := digits[len(digits)-1-i]
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func ibanValid(s string) bool {
	s = strings.ReplaceAll(s, " ", "")
	if len(s) < 15 {
		return false
	}
	s = s[4:] + s[:4]
	var num strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			num.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			fmt.Fprintf(&num, "%d", c-'A'+10)
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(num.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

func manifest(docs []doc, raws []raw, files map[string][]byte) []byte {
	var b bytes.Buffer
	b.WriteString("# Northwind Lattice sample corpus — manifest\n\n")
	b.WriteString("Generated by `go run ./scripts/gencorpus -out examples/corpus`; do not edit by hand.\n")
	b.WriteString("Northwind Lattice is a fictional B2B logistics-software company. Every person, address,\n")
	b.WriteString("number, key and token below is invented; card numbers and IBANs are syntactically valid test\n")
	b.WriteString("values (they pass Luhn / mod-97) so detectors can be scored on them.\n\n")
	b.WriteString("## Files\n\n| path | format | bytes | title |\n|---|---|---|---|\n")
	type row struct{ path, format, title string }
	var rows []row
	for _, d := range docs {
		rows = append(rows, row{d.path, strings.TrimPrefix(filepath.Ext(d.path), "."), d.title})
	}
	for _, r := range raws {
		rows = append(rows, row{r.path, strings.TrimPrefix(filepath.Ext(r.path), "."), ""})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].path < rows[j].path })
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.format]++
		fmt.Fprintf(&b, "| %s | %s | %d | %s |\n", r.path, r.format, len(files[r.path]), r.title)
	}
	var fs []string
	for f, c := range counts {
		fs = append(fs, fmt.Sprintf("%s %d", f, c))
	}
	sort.Strings(fs)
	fmt.Fprintf(&b, "\n%d documents: %s.\n", len(rows), strings.Join(fs, ", "))
	b.WriteString("\n## Planted PII and secrets\n\nEach value occurs verbatim in the file named (the generator checks this).\n\n| type | value | file |\n|---|---|---|\n")
	for _, p := range plantedPII {
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", p.kind, p.value, p.path)
	}
	b.WriteString("\n## Hard negatives (look like PII, are not)\n\n| type | value | file |\n|---|---|---|\n")
	for _, n := range plantedNegatives {
		fmt.Fprintf(&b, "| %s | `%s` | %s |\n", n.kind, n.value, n.path)
	}
	b.WriteString("\n## Near-duplicate pairs\n\n| a | b | how they differ |\n|---|---|---|\n")
	for _, nd := range nearDups {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", nd.a, nd.b, nd.how)
	}
	return b.Bytes()
}
