package rag

import (
	"context"
	"fmt"
	"testing"
)

// tableEmbedder embeds texts by lookup, so a test controls every vector.
type tableEmbedder struct {
	dim  int
	vecs map[string][]float32
}

func (e tableEmbedder) Dim() int { return e.dim }
func (e tableEmbedder) Embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v, ok := e.vecs[t]
		if !ok {
			return nil, fmt.Errorf("no vector for %q", t)
		}
		out[i] = v
	}
	return out, nil
}

// TestUpsertBatchInsertion upserts thousands of one-chunk documents at once
// (one parallel HNSW.AddBatch), then replaces a tenth of them, with one id
// given twice in the same upsert. Dense search must find what exact search
// finds as well as a serially built graph does, never return a replaced or
// deleted chunk, and keep graph and chunk ordinals aligned.
func TestUpsertBatchInsertion(t *testing.T) {
	ctx := context.Background()
	n, dim := 3000, 48
	if raceEnabled {
		n = 600
	}
	emb := tableEmbedder{dim: dim, vecs: map[string][]float32{}}
	vs := randVecs(n+n/10+1, dim, 31)
	var batch []Doc
	for i := range n {
		text := fmt.Sprintf("doc %d", i)
		emb.vecs[text] = vs[i]
		batch = append(batch, Doc{ID: fmt.Sprintf("d%d", i), Text: text})
	}
	queries := randVecs(60, dim, 32)
	for i, q := range queries {
		emb.vecs[fmt.Sprintf("query %d", i)] = q
	}
	x, err := Create(t.TempDir(), Config{}, emb, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Upsert(ctx, batch); err != nil {
		t.Fatal(err)
	}
	// Replace every tenth document; d0 twice (the later text wins).
	var again []Doc
	for i := 0; i < n; i += 10 {
		text := fmt.Sprintf("doc %d v2", i)
		emb.vecs[text] = vs[n+i/10]
		again = append(again, Doc{ID: fmt.Sprintf("d%d", i), Text: text})
	}
	emb.vecs["doc 0 v3"] = vs[n+n/10]
	again = append(again, Doc{ID: "d0", Text: "doc 0 v3"})
	if _, err := x.Upsert(ctx, again); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Delete(ctx, []string{"d1", "d2"}); err != nil {
		t.Fatal(err)
	}
	st := x.st
	if st.HNSW.Len() != len(st.Chunks) || st.BM25.Live != n-2 || len(st.DocOrds) != n-2 {
		t.Fatalf("graph %d nodes, %d chunks, %d live, %d docs", st.HNSW.Len(), len(st.Chunks), st.BM25.Live, len(st.DocOrds))
	}
	for ord := range st.Chunks {
		if st.HNSW.Deleted[ord] != st.BM25.Deleted[ord] {
			t.Fatalf("chunk %d: deleted %v in the graph, %v in BM25", ord, st.HNSW.Deleted[ord], st.BM25.Deleted[ord])
		}
	}
	live := map[string]bool{}
	for doc, ords := range st.DocOrds {
		if len(ords) != 1 {
			t.Fatalf("%s has %d chunks", doc, len(ords))
		}
		live[st.Chunks[ords[0]].Text] = true
	}
	if !live["doc 0 v3"] || live["doc 0 v2"] || live["doc 0"] || live["doc 10"] || !live["doc 10 v2"] {
		t.Fatal("replaced texts still live, or replacements missing")
	}
	// The same live vectors inserted one at a time: the reference graph.
	serial := NewHNSW(dim, 0, 0, 0, 1)
	var liveVecs [][]float32
	for text := range live {
		liveVecs = append(liveVecs, emb.vecs[text])
	}
	for _, v := range liveVecs {
		serial.Add(v)
	}
	found, total := 0, 0
	for i, q := range queries {
		want := map[string]bool{}
		for _, s := range st.HNSW.Exact(q, 10, nil) {
			want[st.Chunks[s.Ord].Text] = true
		}
		hits, err := x.Search(ctx, Query{Text: fmt.Sprintf("query %d", i), K: 10, Mode: "dense"})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hits {
			if !live[h.Text] {
				t.Fatalf("query %d returned %q, replaced or deleted", i, h.Text)
			}
			if want[h.Text] {
				found++
			}
		}
		total += len(want)
	}
	recall := float64(found) / float64(total)
	ref := recallAt10(t, serial, queries, 0)
	t.Logf("recall@10 after batch upserts %.3f, serial graph %.3f (%d × %d)", recall, ref, n, dim)
	if recall < 0.95 || recall < ref-0.03 {
		t.Fatalf("recall@10 = %.3f after batch upserts, %.3f for a serial graph", recall, ref)
	}
	// Every live chunk (replaced ones in their new version) is in the graph:
	// a search for its own vector finds it in the top 10. HNSW is
	// approximate and a parallel build is not deterministic, so the top 1
	// may rarely be a near neighbour instead; at most one of the sampled
	// chunks may miss it.
	misses := 0
	for i := 3; i < n; i += 101 {
		text := fmt.Sprintf("doc %d", i)
		if i%10 == 0 {
			text += " v2"
		}
		got := st.HNSW.Search(emb.vecs[text], 10, 0, nil)
		at := -1
		for r, g := range got {
			if st.Chunks[g.Ord].Text == text {
				at = r
				break
			}
		}
		if at < 0 {
			t.Fatalf("self search %q: not in the top 10 %v", text, got)
		}
		if at > 0 {
			misses++
		}
	}
	if misses > 1 {
		t.Fatalf("self search: %d sampled chunks are not their own nearest neighbour", misses)
	}
}
