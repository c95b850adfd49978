package rag

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Query is a search request.
type Query struct {
	Text       string
	K          int
	Mode       string         // bm25, dense or hybrid; default hybrid when the index has vectors
	Fusion     string         // rrf (default) or weighted
	Weights    [2]float64     // BM25 and dense weights for weighted fusion; default 0.5/0.5
	Filters    map[string]any // metadata equality, any-of lists, ranges ({"gte":…}) and *_after/*_before
	Sources    []string       // source whitelist (prefixes of the source URI)
	AccessTags []string       // nil: no restriction; otherwise a chunk's access tag must be listed
	Rerank     *RerankOptions // cross-encoder re-ranking of the fused top N
	Candidates int            // per-retriever depth before fusion; default max(50, 4k)
}

// RerankOptions bound re-ranking.
type RerankOptions struct {
	TopN   int           // re-rank this many fused candidates; default 50
	Budget time.Duration // stop scoring when spent; default 200 ms
}

// Hit is one search result.
type Hit struct {
	Score      float64  `json:"score"`
	ChunkID    string   `json:"chunk_id"`
	Text       string   `json:"text"`
	ParentText string   `json:"parent_text"`
	Citation   Citation `json:"citation"`
	Reranked   bool     `json:"reranked,omitempty"`
}

// Citation says where a hit's text comes from.
type Citation struct {
	DocumentID  string   `json:"document_id"`
	Source      string   `json:"source"`
	SectionPath []string `json:"section_path"`
	Span        [2]int   `json:"span"`
}

// ErrQuery reports an invalid query; *QueryError names the field.
var ErrQuery = errors.New("rag: invalid query")

// QueryError is an invalid query field.
type QueryError struct {
	Field, Message string
}

func (e *QueryError) Error() string { return fmt.Sprintf("rag: %s: %s", e.Field, e.Message) }
func (e *QueryError) Unwrap() error { return ErrQuery }

// MaxQueryBytes bounds a query's text.
const MaxQueryBytes = 8 << 10

// Search runs a query against the current version.
func (x *Index) Search(ctx context.Context, q Query) ([]Hit, error) {
	if strings.TrimSpace(q.Text) == "" {
		return nil, &QueryError{"query", "must not be empty"}
	}
	if len(q.Text) > MaxQueryBytes {
		return nil, &QueryError{"query", fmt.Sprintf("longer than %d bytes", MaxQueryBytes)}
	}
	if q.K <= 0 || q.K > 1000 {
		return nil, &QueryError{"k", "must be between 1 and 1000"}
	}
	x.mu.RLock()
	st := x.st
	hasDense := st.HNSW != nil
	mode := q.Mode
	if mode == "" {
		mode = "bm25"
		if hasDense {
			mode = "hybrid"
		}
	}
	x.mu.RUnlock()
	switch mode {
	case "bm25", "hybrid", "dense":
	default:
		return nil, &QueryError{"mode", "must be bm25, dense or hybrid"}
	}
	if mode != "bm25" && !hasDense {
		return nil, &QueryError{"hybrid", "this index is BM25-only (created without an embedding model)"}
	}
	var qvec []float32
	if mode != "bm25" {
		vs, err := x.emb.Embed(ctx, []string{q.Text})
		if err != nil {
			return nil, fmt.Errorf("embed query: %w", err)
		}
		qvec = vs[0]
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	st = x.st
	filter, err := compileFilter(st, q)
	if err != nil {
		return nil, err
	}
	depth := q.Candidates
	if depth <= 0 {
		depth = max(50, 4*q.K)
	}
	if q.Rerank != nil && q.Rerank.TopN > depth {
		depth = q.Rerank.TopN
	}
	var sparse, dense []Scored
	if mode != "dense" {
		sparse = st.BM25.Search(x.an.Tokens(q.Text), depth, filter)
	}
	if mode != "bm25" {
		sparse2 := st.HNSW.Search(qvec, depth, 0, filter)
		dense = sparse2
	}
	var fused []Scored
	switch {
	case mode == "bm25":
		fused = sparse
	case mode == "dense":
		fused = dense
	case q.Fusion == "weighted":
		w := q.Weights
		if w[0] == 0 && w[1] == 0 {
			w = [2]float64{0.5, 0.5}
		}
		fused = WeightedFusion([][]Scored{sparse, dense}, w[:])
	case q.Fusion == "" || q.Fusion == "rrf":
		fused = RRF([][]Scored{sparse, dense}, 60)
	default:
		return nil, &QueryError{"fusion", "must be rrf or weighted"}
	}
	hits := make([]Hit, 0, len(fused))
	for _, s := range fused {
		c := st.Chunks[s.Ord]
		hits = append(hits, Hit{Score: s.Score, ChunkID: c.ID, Text: c.Text, ParentText: st.Parents[c.Parent],
			Citation: Citation{DocumentID: c.DocID, Source: c.Source, SectionPath: c.SectionPath, Span: [2]int{c.Start, c.End}}})
	}
	if q.Rerank != nil && x.rr != nil && len(hits) > 1 {
		hits = x.rerank(ctx, q, hits)
	}
	if len(hits) > q.K {
		hits = hits[:q.K]
	}
	return hits, nil
}

// rerank scores the top N hits with the cross-encoder in small batches until
// the time budget is spent; scored hits come first, in score order, and the
// rest keep their fused order behind them.
func (x *Index) rerank(ctx context.Context, q Query, hits []Hit) []Hit {
	n := q.Rerank.TopN
	if n <= 0 {
		n = 50
	}
	n = min(n, len(hits))
	budget := q.Rerank.Budget
	if budget <= 0 {
		budget = 200 * time.Millisecond
	}
	deadline := time.Now().Add(budget)
	scored := 0
	for scored < n && time.Now().Before(deadline) && ctx.Err() == nil {
		end := min(scored+8, n)
		texts := make([]string, 0, end-scored)
		for _, h := range hits[scored:end] {
			texts = append(texts, h.Text)
		}
		scores, err := x.rr.Score(ctx, q.Text, texts)
		if err != nil {
			break
		}
		for i, s := range scores {
			hits[scored+i].Score = float64(s)
			hits[scored+i].Reranked = true
		}
		scored = end
	}
	sort.SliceStable(hits[:scored], func(i, j int) bool { return hits[i].Score > hits[j].Score })
	return hits
}

// RRF is reciprocal-rank fusion: Σ 1/(k + rank).
func RRF(lists [][]Scored, k float64) []Scored {
	sum := map[int]float64{}
	for _, l := range lists {
		for r, s := range l {
			sum[s.Ord] += 1 / (k + float64(r+1))
		}
	}
	return sortScores(sum)
}

// WeightedFusion min-max normalises each list's scores to [0, 1] and sums
// them with the given weights.
func WeightedFusion(lists [][]Scored, weights []float64) []Scored {
	sum := map[int]float64{}
	for i, l := range lists {
		if len(l) == 0 {
			continue
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, s := range l {
			lo, hi = math.Min(lo, s.Score), math.Max(hi, s.Score)
		}
		for _, s := range l {
			v := 1.0
			if hi > lo {
				v = (s.Score - lo) / (hi - lo)
			}
			sum[s.Ord] += weights[i] * v
		}
	}
	return sortScores(sum)
}

func sortScores(m map[int]float64) []Scored {
	out := make([]Scored, 0, len(m))
	for o, s := range m {
		out = append(out, Scored{Ord: o, Score: s})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].Ord < out[j].Ord
	})
	return out
}
