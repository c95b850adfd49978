package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/eval"
	"github.com/whet-dev/whet/internal/extract"
	"github.com/whet-dev/whet/internal/rag"
)

// collectionChunk is one chunk of a test collection's corpus, as exported
// for the BM25 library comparison (scripts/bench/bleve).
type collectionChunk struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Text   string `json:"text"`
}

// collectionChunks extracts every file under dir/corpus, splits CSV rows and
// chat conversations into their own documents ("path#record"), and chunks
// them with the index defaults; a chunk's text starts with its heading
// trail, as the index analyses it.
func collectionChunks(ctx context.Context, dir string) ([]collectionChunk, error) {
	root := filepath.Join(dir, "corpus")
	var out []collectionChunk
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.EqualFold(d.Name(), "MANIFEST.md") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		doc, err := extract.ExtractFile(ctx, p, extract.Options{})
		if err != nil {
			return fmt.Errorf("%s: %w", rel, err)
		}
		type unit struct {
			id, text string
			secs     []rag.Section
		}
		var units []unit
		if len(doc.Records) > 0 {
			for _, r := range doc.Records {
				units = append(units, unit{id: rel + "#" + r.ID, text: r.Text})
			}
		} else {
			var secs []rag.Section
			for _, s := range doc.Sections {
				secs = append(secs, rag.Section{Path: s.Path, Start: s.Start, End: s.End})
			}
			units = append(units, unit{id: rel, text: doc.Text, secs: secs})
		}
		for _, u := range units {
			for _, c := range rag.ChunkDocument(u.id, u.text, u.secs, rag.ChunkConfig{}, nil) {
				text := u.text[c.Start:c.End]
				if len(c.SectionPath) > 0 {
					text = strings.Join(c.SectionPath, " ") + "\n" + text
				}
				out = append(out, collectionChunk{ID: c.ID, Source: u.id, Text: text})
			}
		}
		return nil
	})
	return out, err
}

// benchQualityReport is the output of `whet bench search --collection`.
type benchQualityReport struct {
	Engine   string  `json:"engine"`
	Chunks   int     `json:"chunks"`
	Queries  int     `json:"queries"`
	MRR10    float64 `json:"mrr@10"`
	NDCG10   float64 `json:"ndcg@10"`
	Recall10 float64 `json:"recall@10"`
	BuildMS  float64 `json:"build_ms"`
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
}

// benchQuality scores whet's BM25 (k1 1.2, b 0.75, English analyzer) on a
// test collection (DIR/corpus, DIR/retrieval/queries.jsonl,
// DIR/retrieval/qrels/test.tsv) at file level, and optionally exports the
// chunks so another engine can be scored on exactly the same input.
func benchQuality(ctx context.Context, w io.Writer, dir, export string, asJSON bool) error {
	chunks, err := collectionChunks(ctx, dir)
	if err != nil {
		return err
	}
	if export != "" {
		f, err := os.Create(export)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(f)
		for _, c := range chunks {
			if err := enc.Encode(c); err != nil {
				f.Close()
				return err
			}
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	qf, err := os.Open(filepath.Join(dir, "retrieval", "queries.jsonl"))
	if err != nil {
		return err
	}
	queries, err := eval.ReadQueries(qf)
	qf.Close()
	if err != nil {
		return err
	}
	rf, err := os.Open(filepath.Join(dir, "retrieval", "qrels", "test.tsv"))
	if err != nil {
		return err
	}
	qrels, err := eval.ReadQrels(rf)
	rf.Close()
	if err != nil {
		return err
	}
	an := rag.NewAnalyzer("en")
	bm := rag.NewBM25(1.2, 0.75)
	t := time.Now()
	for _, c := range chunks {
		bm.Add(an.Tokens(c.Text))
	}
	rep := benchQualityReport{Engine: "whet", Chunks: len(chunks), BuildMS: float64(time.Since(t).Microseconds()) / 1000}
	results := map[string][]string{}
	var lat []time.Duration
	for range 5 { // repeat for stabler latency figures; rankings are identical
		for _, q := range queries {
			t := time.Now()
			hits := bm.Search(an.Tokens(q.Text), 50, nil)
			lat = append(lat, time.Since(t))
			srcs := make([]string, len(hits))
			for i, h := range hits {
				srcs[i] = chunks[h.Ord].Source
			}
			results[q.ID] = eval.FileRanking(srcs)
		}
	}
	m := eval.Evaluate(results, qrels, 10)
	rep.Queries, rep.MRR10, rep.NDCG10, rep.Recall10 = m.Queries, m.MRR, m.NDCG, m.Recall
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	rep.P50ms, rep.P95ms, _ = percentiles(lat)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	_, err = fmt.Fprintf(w, "%s BM25 on %s: %d chunks, %d queries: MRR@10 %.4f, nDCG@10 %.4f, recall@10 %.4f; build %.1f ms, search p50 %.3f ms, p95 %.3f ms\n",
		rep.Engine, dir, rep.Chunks, rep.Queries, rep.MRR10, rep.NDCG10, rep.Recall10, rep.BuildMS, rep.P50ms, rep.P95ms)
	return err
}
