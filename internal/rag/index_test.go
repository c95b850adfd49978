package rag

import (
	"context"
	"errors"
	"hash/fnv"
	"strings"
	"testing"
)

// hashEmbedder is a deterministic bag-of-words embedder for tests: each
// analysed term adds to a hashed dimension, so texts sharing words are near.
type hashEmbedder struct{ dim int }

func (h hashEmbedder) Dim() int { return h.dim }
func (h hashEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	an := NewAnalyzer("en")
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, h.dim)
		for _, term := range an.Tokens(t) {
			f := fnv.New32a()
			f.Write([]byte(term))
			v[f.Sum32()%uint32(h.dim)] += 1
		}
		v[0] += 0.01
		out[i] = v
	}
	return out, nil
}

type lenReranker struct{}

// Score prefers passages that contain the word "receipts" (a stand-in
// cross-encoder with a known preference).
func (lenReranker) Score(_ context.Context, q string, ps []string) ([]float32, error) {
	out := make([]float32, len(ps))
	for i, p := range ps {
		if strings.Contains(p, "Receipts") {
			out[i] = 10
		}
	}
	return out, nil
}

var docs = []Doc{
	{ID: "travel", Source: "policies/travel.md", Text: "# Travel\n\nEmployees book rail travel for trips under 500 km. Flights need approval.",
		Metadata: map[string]any{"department": "hr", "updated_at": "2025-03-01", "access_tag": "internal"}},
	{ID: "expense", Source: "policies/expense.md", Text: "# Expenses\n\nReceipts are required for every expense over 25 EUR. Travel costs are expenses.",
		Metadata: map[string]any{"department": "finance", "updated_at": "2024-06-01", "access_tag": "internal"}},
	{ID: "secret", Source: "security/keys.md", Text: "# Keys\n\nRotate credentials every 90 days. Travel laptops use disk encryption.",
		Metadata: map[string]any{"department": "security", "updated_at": "2025-09-01", "access_tag": "restricted"}},
}

func TestIndexHybridFiltersAndVersions(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	x, err := Create(dir, Config{Chunking: ChunkConfig{ChildTokens: 16}}, hashEmbedder{64}, lenReranker{})
	if err != nil {
		t.Fatal(err)
	}
	v, err := x.Upsert(ctx, docs)
	if err != nil || v != 1 {
		t.Fatalf("upsert v=%d err=%v", v, err)
	}
	hits, err := x.Search(ctx, Query{Text: "rail travel trips", K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].Citation.DocumentID != "travel" || hits[0].Citation.Source != "policies/travel.md" {
		t.Fatalf("hits %+v", hits)
	}
	if hits[0].ParentText == "" || !strings.Contains(hits[0].ParentText, hits[0].Text) {
		t.Fatalf("parent text %q does not contain the child %q", hits[0].ParentText, hits[0].Text)
	}
	for _, mode := range []string{"bm25", "dense", "hybrid"} {
		if _, err := x.Search(ctx, Query{Text: "travel", K: 5, Mode: mode, Fusion: "weighted"}); err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
	}
	// Filters: the PRD's shape, ranges, access tags, source whitelist.
	hits, _ = x.Search(ctx, Query{Text: "travel", K: 10, Filters: map[string]any{"department": "hr", "updated_after": "2025-01-01"}})
	if len(hits) == 0 {
		t.Fatal("filtered search found nothing")
	}
	for _, h := range hits {
		if h.Citation.DocumentID != "travel" {
			t.Fatalf("filtered hits %+v", hits)
		}
	}
	hits, _ = x.Search(ctx, Query{Text: "travel", K: 10, AccessTags: []string{"internal"}})
	for _, h := range hits {
		if h.Citation.DocumentID == "secret" {
			t.Fatal("restricted chunk returned to a caller without the tag")
		}
	}
	hits, _ = x.Search(ctx, Query{Text: "travel", K: 10, Sources: []string{"security/"}})
	for _, h := range hits {
		if h.Citation.DocumentID != "secret" {
			t.Fatalf("source whitelist hits %+v", hits)
		}
	}
	// Re-ranking moves the passage the cross-encoder prefers to the top.
	hits, _ = x.Search(ctx, Query{Text: "travel", K: 3, Rerank: &RerankOptions{TopN: 10}})
	if !hits[0].Reranked || hits[0].Citation.DocumentID != "expense" {
		t.Fatalf("reranked hits %+v", hits)
	}
	// Bad input names the field.
	for _, q := range []Query{{Text: "", K: 3}, {Text: "x", K: 0}, {Text: "x", K: 1001}, {Text: strings.Repeat("x", MaxQueryBytes+1), K: 3},
		{Text: "x", K: 3, Filters: map[string]any{"departmnt": "hr"}}, {Text: "x", K: 3, Filters: map[string]any{"department": map[string]any{"approx": 1.0}}}} {
		var qe *QueryError
		if _, err := x.Search(ctx, q); !errors.As(err, &qe) {
			t.Errorf("query %+v: err = %v, want a QueryError", q.Filters, err)
		}
	}
	// Replace a document and delete one: new versions; the old one stays pinnable.
	if _, err := x.Upsert(ctx, []Doc{{ID: "travel", Source: "policies/travel.md", Text: "# Travel\n\nAll travel is by bicycle now.", Metadata: docs[0].Metadata}}); err != nil {
		t.Fatal(err)
	}
	hits, _ = x.Search(ctx, Query{Text: "rail trips", K: 3, Mode: "bm25"})
	for _, h := range hits {
		if strings.Contains(h.Text, "rail") {
			t.Fatal("replaced chunk still returned")
		}
	}
	old, err := Open(dir, 1, hashEmbedder{64}, nil)
	if err != nil {
		t.Fatal(err)
	}
	hits, _ = old.Search(ctx, Query{Text: "rail trips", K: 3, Mode: "bm25"})
	if len(hits) == 0 || !strings.Contains(hits[0].Text, "rail") {
		t.Fatal("pinned version 1 lost its content")
	}
	cur, err := Open(dir, 0, hashEmbedder{64}, nil)
	if err != nil || cur.Stats().Version != 2 || cur.Stats().Documents != 3 {
		t.Fatalf("reopened current: %+v %v", cur.Stats(), err)
	}
	if _, err := Open(dir, 0, nil, nil); err == nil {
		t.Fatal("dense index opened without an embedder")
	}
}

func TestBM25OnlyIndex(t *testing.T) {
	x, err := Create(t.TempDir(), Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	x.Upsert(context.Background(), docs)
	var qe *QueryError
	if _, err := x.Search(context.Background(), Query{Text: "travel", K: 3, Mode: "hybrid"}); !errors.As(err, &qe) || qe.Field != "hybrid" {
		t.Fatalf("hybrid on a BM25-only index: %v", err)
	}
}

// TestBM25MatchesLucene hand-computes Lucene's BM25 for a tiny collection
// (k1=1.2, b=0.75) and checks the scores, not just the order.
func TestBM25MatchesLucene(t *testing.T) {
	bm := NewBM25(1.2, 0.75)
	d0 := []string{"quick", "brown", "fox"}
	d1 := []string{"quick", "quick", "dog", "barks", "loud"}
	d2 := []string{"lazy", "dog"}
	bm.Add(d0)
	bm.Add(d1)
	bm.Add(d2)
	res := bm.Search([]string{"quick", "dog"}, 3, nil)
	avgdl := 10.0 / 3
	score := func(tf, dl, df float64) float64 {
		return IDF(3, int(df)) * tf / (tf + 1.2*(1-0.75+0.75*dl/avgdl))
	}
	want := map[int]float64{0: score(1, 3, 2), 1: score(2, 5, 2) + score(1, 5, 2), 2: score(1, 2, 2)}
	if len(res) != 3 {
		t.Fatalf("results %v", res)
	}
	for _, r := range res {
		if d := r.Score - want[r.Ord]; d > 1e-12 || d < -1e-12 {
			t.Errorf("doc %d score %v, want %v", r.Ord, r.Score, want[r.Ord])
		}
	}
	if res[0].Ord != 1 {
		t.Errorf("top doc %d, want 1", res[0].Ord)
	}
}
