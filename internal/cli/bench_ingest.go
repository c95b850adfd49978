package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/dedup"
	"github.com/whet-dev/whet/internal/extract"
	"github.com/whet-dev/whet/internal/normalize"
	"github.com/whet-dev/whet/internal/pii"
)

// benchIngestResult is the output of `whet bench ingest --json`.
type benchIngestResult struct {
	Docs            int            `json:"docs"`
	Bytes           int64          `json:"bytes"`
	ByFormat        map[string]int `json:"by_format"`
	Workers         int            `json:"workers"`
	PipelineSeconds float64        `json:"pipeline_seconds"`
	DocsPerSecond   float64        `json:"docs_per_second"`
	DocsPerSecCore  float64        `json:"docs_per_second_per_core"`
	// CPUSeconds is the process CPU time the pipeline used; DocsPerCPUSec
	// is the per-core rate on a machine shared with other work (0 where
	// the platform cannot say).
	CPUSeconds      float64 `json:"pipeline_cpu_seconds"`
	DocsPerCPUSec   float64 `json:"docs_per_cpu_second"`
	Errors          int64   `json:"errors"`
	PIISpans        int64   `json:"pii_spans"`
	NearDupSeconds  float64 `json:"near_dup_seconds"`
	NearDupCPUSecs  float64 `json:"near_dup_cpu_seconds"`
	NearDupClusters int     `json:"near_dup_clusters"`
	NearDupDropped  int     `json:"near_dup_dropped"`
	ExactDropped    int     `json:"exact_dropped"`
	GoalDocsPerCore float64 `json:"goal_docs_per_second_per_core"`
	GoalNearDupSecs float64 `json:"goal_near_dup_seconds"`
}

// benchDoc is one generated input file.
type benchDoc struct {
	name string
	raw  []byte
}

func newBenchIngestCmd(env *Env) *cobra.Command {
	var docs, workers int
	var seed int64
	var corpus string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ingest",
		Short: "Measure extract + normalise + redact + fingerprint throughput and near-dup time on a generated corpus",
		Long: "bench ingest generates --docs mixed documents in memory (Markdown, HTML, CSV rows and plain\n" +
			"text with planted PII and ~5% near-duplicates; every 50th document is a PDF or DOCX from the\n" +
			"sample corpus under --corpus, cycled), runs extraction, Unicode/whitespace normalisation,\n" +
			"PII redaction and SHA-256 fingerprinting on --workers goroutines (default: all cores),\n" +
			"and then times MinHash/LSH near-duplicate detection of the whole corpus with the default\n" +
			"dedup settings. Goals: ≥ 2,000 documents/s per core; near-dup of 100,000 documents < 60 s on 2 cores.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if docs < 1 {
				return fmt.Errorf("bench ingest: --docs must be at least 1")
			}
			if workers <= 0 {
				workers = runtime.GOMAXPROCS(0)
			}
			prev := runtime.GOMAXPROCS(workers)
			defer runtime.GOMAXPROCS(prev)
			binaries := loadBenchBinaries(corpus)
			if len(binaries) == 0 {
				fmt.Fprintf(env.Stderr, "bench ingest: no PDF/DOCX under %s; the corpus is Markdown, HTML, CSV and text only\n", corpus)
			}
			input := generateBenchCorpus(docs, seed, binaries)
			res, err := runBenchIngest(cmd.Context(), input, workers)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			w := env.Stdout
			fmt.Fprintf(w, "corpus:      %d documents, %.1f MiB (%s)\n", res.Docs, float64(res.Bytes)/(1<<20), formatCounts(res.ByFormat))
			fmt.Fprintf(w, "pipeline:    %.2f s on %d workers: %.0f docs/s, %.0f docs/s/core (goal ≥ %.0f); %d errors, %d PII spans\n",
				res.PipelineSeconds, res.Workers, res.DocsPerSecond, res.DocsPerSecCore, res.GoalDocsPerCore, res.Errors, res.PIISpans)
			fmt.Fprintf(w, "             %.2f CPU-s: %.0f docs per CPU-second (the per-core rate when the machine is shared)\n", res.CPUSeconds, res.DocsPerCPUSec)
			fmt.Fprintf(w, "near-dup:    %.2f s (%.2f CPU-s) on %d cores (goal < %.0f s for 100k on 2 cores): %d clusters, %d near and %d exact duplicates dropped\n",
				res.NearDupSeconds, res.NearDupCPUSecs, res.Workers, res.GoalNearDupSecs, res.NearDupClusters, res.NearDupDropped, res.ExactDropped)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&docs, "docs", 100000, "documents to generate")
	f.IntVar(&workers, "workers", 0, "worker goroutines and GOMAXPROCS for the run (0: all cores)")
	f.Int64Var(&seed, "seed", 1, "corpus generator seed")
	f.StringVar(&corpus, "corpus", filepath.Join("examples", "corpus"), "sample corpus whose PDF and DOCX files are cycled in")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func formatCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// loadBenchBinaries reads the PDF and DOCX files of the sample corpus.
func loadBenchBinaries(dir string) []benchDoc {
	var out []benchDoc
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		ext := strings.ToLower(filepath.Ext(p))
		if ext != ".pdf" && ext != ".docx" {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil {
			out = append(out, benchDoc{name: filepath.Base(p), raw: b})
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// benchRand is a small deterministic generator (xorshift64*).
type benchRand struct{ s uint64 }

func (r *benchRand) next() uint64 {
	r.s ^= r.s >> 12
	r.s ^= r.s << 25
	r.s ^= r.s >> 27
	return r.s * 2685821657736338717
}

func (r *benchRand) intn(n int) int { return int(r.next() % uint64(n)) }

var benchWords = strings.Fields(`account approval audit backhaul bank budget carrier claim client compliance contract
	credit customer data delivery depot detention dispatch document driver employee equipment expense freight
	holiday incident invoice laptop leave manager network office onboarding order pallet password payment
	policy procedure project receipt refund release report request retention review route schedule security
	service shipment software supplier support team tender ticket trailer training travel vendor warehouse
	window yard the a of to and in for on with by within every each must should may never always after before`)

var benchNames = []string{"Alice Martin", "Ben Okafor", "Chen Wei", "Dana Kowalski", "Elena Marchetti", "Farid Haddad"}

func (r *benchRand) sentence() string {
	n := 8 + r.intn(12)
	var b strings.Builder
	for i := 0; i < n; i++ {
		w := benchWords[r.intn(len(benchWords))]
		if i == 0 {
			w = strings.ToUpper(w[:1]) + w[1:]
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(w)
	}
	b.WriteByte('.')
	return b.String()
}

func (r *benchRand) paragraph() string {
	var parts []string
	for i, n := 0, 2+r.intn(4); i < n; i++ {
		parts = append(parts, r.sentence())
	}
	if r.intn(4) == 0 {
		// Planted PII: an e-mail, a phone number or a name with a cue.
		switch r.intn(3) {
		case 0:
			parts = append(parts, fmt.Sprintf("Contact %s at user%d@example.com for details.", benchNames[r.intn(len(benchNames))], r.intn(10000)))
		case 1:
			parts = append(parts, fmt.Sprintf("Call +44 20 7946 %04d during office hours.", r.intn(10000)))
		default:
			parts = append(parts, fmt.Sprintf("Approved by %s on the same day.", benchNames[r.intn(len(benchNames))]))
		}
	}
	return strings.Join(parts, " ")
}

// generateBenchCorpus makes n documents: Markdown 30%, HTML 25%, CSV 20%,
// plain text 23%, PDF/DOCX 2% (from binaries, when any); one in twenty is
// a near-duplicate of an earlier document with one sentence changed.
func generateBenchCorpus(n int, seed int64, binaries []benchDoc) []benchDoc {
	r := &benchRand{s: uint64(seed)*0x9E3779B97F4A7C15 + 1}
	out := make([]benchDoc, 0, n)
	bin := 0
	for i := 0; i < n; i++ {
		if i > 20 && r.intn(20) == 0 {
			src := out[r.intn(len(out))]
			if !strings.HasSuffix(src.name, ".pdf") && !strings.HasSuffix(src.name, ".docx") {
				raw := bytes.Replace(src.raw, []byte("."), []byte(". "+r.sentence()), 1)
				out = append(out, benchDoc{name: fmt.Sprintf("dup-%d-%s", i, src.name), raw: raw})
				continue
			}
		}
		k := r.intn(100)
		switch {
		case k < 2 && len(binaries) > 0:
			b := binaries[bin%len(binaries)]
			bin++
			out = append(out, benchDoc{name: fmt.Sprintf("%d-%s", i, b.name), raw: b.raw})
		case k < 32:
			var b strings.Builder
			fmt.Fprintf(&b, "# %s\n\n", strings.TrimSuffix(r.sentence(), "."))
			for s, ns := 0, 1+r.intn(3); s < ns; s++ {
				fmt.Fprintf(&b, "## %s\n\n%s\n\n", benchWords[r.intn(len(benchWords))], r.paragraph())
				if r.intn(3) == 0 {
					fmt.Fprintf(&b, "1. %s\n2. %s\n3. %s\n\n", r.sentence(), r.sentence(), r.sentence())
				}
			}
			out = append(out, benchDoc{name: fmt.Sprintf("doc-%d.md", i), raw: []byte(b.String())})
		case k < 57:
			var b strings.Builder
			fmt.Fprintf(&b, "<html><head><title>Page %d</title></head><body><nav><a href=\"/\">Home</a> | <a href=\"/help\">Help</a></nav><main><h1>%s</h1>",
				i, strings.TrimSuffix(r.sentence(), "."))
			for s, ns := 0, 2+r.intn(3); s < ns; s++ {
				fmt.Fprintf(&b, "<h2>%s</h2><p>%s</p>", benchWords[r.intn(len(benchWords))], r.paragraph())
			}
			b.WriteString("</main><footer>© Example Ltd</footer></body></html>")
			out = append(out, benchDoc{name: fmt.Sprintf("page-%d.html", i), raw: []byte(b.String())})
		case k < 77:
			row := fmt.Sprintf("%d,%s,%q,%d\n", i, benchWords[r.intn(len(benchWords))], r.paragraph(), r.intn(5000))
			out = append(out, benchDoc{name: fmt.Sprintf("rows-%d.csv", i), raw: []byte("id,category,description,amount\n" + row)})
		default:
			var b strings.Builder
			for p, np := 0, 2+r.intn(4); p < np; p++ {
				b.WriteString(r.paragraph())
				b.WriteString("\n\n")
			}
			out = append(out, benchDoc{name: fmt.Sprintf("note-%d.txt", i), raw: []byte(b.String())})
		}
	}
	return out
}

// runBenchIngest runs the per-document pipeline on workers goroutines, then
// near-duplicate detection of the redacted texts.
func runBenchIngest(ctx context.Context, input []benchDoc, workers int) (*benchIngestResult, error) {
	det, err := pii.NewDetector()
	if err != nil {
		return nil, err
	}
	res := &benchIngestResult{Docs: len(input), Workers: workers, ByFormat: map[string]int{}, GoalDocsPerCore: 2000, GoalNearDupSecs: 60}
	for _, d := range input {
		res.Bytes += int64(len(d.raw))
		ext := strings.TrimPrefix(filepath.Ext(d.name), ".")
		res.ByFormat[ext]++
	}
	texts := make([]string, len(input))
	var errs, spans atomic.Int64
	next := atomic.Int64{}
	var wg sync.WaitGroup
	start, cpu0 := time.Now(), processCPUTime()
	cfg := pii.Config{Enabled: true, Mode: pii.ModeMask}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(input) || ctx.Err() != nil {
					return
				}
				doc, err := extract.ExtractWith(ctx, input[i].name, "", bytes.NewReader(input[i].raw), extract.Options{})
				if err != nil {
					errs.Add(1)
					continue
				}
				text := doc.Text
				if len(doc.Records) > 0 {
					parts := make([]string, len(doc.Records))
					for j, r := range doc.Records {
						parts[j] = r.Text
					}
					text = strings.Join(parts, "\n\n")
				}
				text = normalize.Text(text)
				red, rep := det.Redact(text, cfg)
				spans.Add(int64(len(rep.Spans)))
				_ = dedup.Fingerprint(red)
				texts[i] = red
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.PipelineSeconds = time.Since(start).Seconds()
	res.CPUSeconds = (processCPUTime() - cpu0).Seconds()
	if res.CPUSeconds > 0 {
		res.DocsPerCPUSec = float64(len(input)) / res.CPUSeconds
	}
	res.DocsPerSecond = float64(len(input)) / res.PipelineSeconds
	res.DocsPerSecCore = res.DocsPerSecond / float64(workers)
	res.Errors, res.PIISpans = errs.Load(), spans.Load()

	idx, err := dedup.NewIndex(dedup.DefaultConfig())
	if err != nil {
		return nil, err
	}
	docs := make([]dedup.Document, 0, len(texts))
	for i, t := range texts {
		if t != "" {
			docs = append(docs, dedup.Document{ID: fmt.Sprint(i), Text: t})
		}
	}
	start, cpu0 = time.Now(), processCPUTime()
	if err := idx.AddAll(ctx, docs); err != nil {
		return nil, err
	}
	rep := idx.Clusters()
	res.NearDupSeconds = time.Since(start).Seconds()
	res.NearDupCPUSecs = (processCPUTime() - cpu0).Seconds()
	for _, c := range rep.Clusters {
		if c.Exact {
			res.ExactDropped += len(c.Drop)
		} else {
			res.NearDupDropped += len(c.Drop)
			res.NearDupClusters++
		}
	}
	return res, nil
}
