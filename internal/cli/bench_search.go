package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/encoder"
	"github.com/whet-dev/whet/internal/rag"
	"github.com/whet-dev/whet/internal/tokenizer"
)

// benchSearchLatency is one retrieval path's latency distribution.
type benchSearchLatency struct {
	Path        string  `json:"path"`
	Chunks      int     `json:"chunks"`
	Concurrency int     `json:"concurrency"`
	Queries     int     `json:"queries"`
	QPS         float64 `json:"qps"`
	P50ms       float64 `json:"p50_ms"`
	P95ms       float64 `json:"p95_ms"`
	P99ms       float64 `json:"p99_ms"`
}

// benchSearchSweep is recall@10 and single-threaded dense latency at one
// efSearch.
type benchSearchSweep struct {
	EfSearch int     `json:"ef_search"`
	EfUpper  int     `json:"ef_upper"`
	Int8     bool    `json:"int8"`
	Recall10 float64 `json:"recall@10"`
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
	P99ms    float64 `json:"p99_ms"`
}

// benchSearchReport is the output of `whet bench search`.
type benchSearchReport struct {
	Chunks           int                  `json:"chunks"`
	DenseChunks      int                  `json:"dense_chunks"`
	Dim              int                  `json:"dim"`
	Vocabulary       int                  `json:"vocabulary"`
	MeanChunkTerms   float64              `json:"mean_chunk_terms"`
	GOMAXPROCS       int                  `json:"gomaxprocs"`
	BM25BuildSec     float64              `json:"bm25_build_seconds"`
	BM25BuildPerSec  float64              `json:"bm25_build_chunks_per_second"`
	HNSWBuildSec     float64              `json:"hnsw_build_seconds"`
	HNSWBuildPerSec  float64              `json:"hnsw_build_chunks_per_second"`
	HNSWM            int                  `json:"hnsw_m"`
	HNSWEfConstr     int                  `json:"hnsw_ef_construction"`
	EfSweep          []benchSearchSweep   `json:"ef_sweep,omitempty"`
	HNSWBuildWorkers int                  `json:"hnsw_build_workers"`
	DenseInt8        bool                 `json:"dense_int8"`
	DenseRecall10    float64              `json:"dense_recall@10"`
	EfSearch         int                  `json:"ef_search"`
	Latency          []benchSearchLatency `json:"latency"`
	// RerankPairTokens is the mean length of a (query, passage) pair fed
	// to the cross-encoder; RerankBudgetScored the mean number of the 50
	// passages scored within RerankBudgetMS.
	RerankPairTokens   float64 `json:"rerank_pair_tokens,omitempty"`
	RerankBudgetMS     float64 `json:"rerank_budget_ms,omitempty"`
	RerankBudgetScored float64 `json:"rerank_budget_scored,omitempty"`
	PeakRSSMB          float64 `json:"peak_rss_mb"`
	HeapMB             float64 `json:"heap_mb"`
}

// zipfCorpus generates chunks whose terms follow a Zipf law over a
// pseudo-word vocabulary that the English analyzer leaves unchanged, so
// BM25 sees realistic posting-list lengths.
type zipfCorpus struct {
	vocab []string
	rng   *rand.Rand
	zipf  *rand.Zipf
}

func newZipfCorpus(seed uint64, size int) *zipfCorpus {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	an := rag.NewAnalyzer("en")
	cons, vows := "bcdfghjklmnprtvwz", "aeiou"
	seen := map[string]bool{}
	var vocab []string
	for len(vocab) < size {
		var b strings.Builder
		for range 2 + rng.IntN(3) {
			b.WriteByte(cons[rng.IntN(len(cons))])
			b.WriteByte(vows[rng.IntN(len(vows))])
		}
		b.WriteByte(cons[rng.IntN(len(cons))])
		w := b.String()
		if seen[w] {
			continue
		}
		if t := an.Tokens(w); len(t) != 1 || t[0] != w {
			continue
		}
		seen[w] = true
		vocab = append(vocab, w)
	}
	return &zipfCorpus{vocab: vocab, rng: rng, zipf: rand.NewZipf(rng, 1.07, 2, uint64(size-1))}
}

func (z *zipfCorpus) chunk() []string { return z.words(z.chunkIDs()) }

// chunkIDs draws a chunk as vocabulary indices (a compact form to keep
// for re-ranking; the vocabulary stays under 65,536 words).
func (z *zipfCorpus) chunkIDs() []uint16 {
	n := 40 + z.rng.IntN(80)
	out := make([]uint16, n)
	for i := range out {
		out[i] = uint16(z.zipf.Uint64())
	}
	return out
}

func (z *zipfCorpus) words(ids []uint16) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = z.vocab[id]
	}
	return out
}

// query draws 2–4 terms of middle frequency, as real queries mostly are.
func (z *zipfCorpus) query() string {
	n := 2 + z.rng.IntN(3)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = z.vocab[20+z.rng.IntN(min(5000, len(z.vocab)-20))]
	}
	return strings.Join(ws, " ")
}

// clusteredVectors returns n unit vectors around n/clusterSize random
// centres (embeddings of real text cluster by topic; uniform random vectors
// have no meaningful nearest neighbours), then extra more drawn the same
// way: the queries, held out from the index as in ANN benchmarks.
func clusteredVectors(rng *rand.Rand, n, extra, dim, clusterSize int) (data, held [][]float32) {
	centres := make([][]float32, max(1, n/clusterSize))
	for i := range centres {
		centres[i] = gaussVec(rng, dim, 1)
	}
	out := make([][]float32, n+extra)
	for i := range out {
		c := centres[rng.IntN(len(centres))]
		v := gaussVec(rng, dim, 0.6)
		for j := range v {
			v[j] += c[j]
		}
		rag.Normalize(v)
		out[i] = v
	}
	return out[:n], out[n:]
}

func gaussVec(rng *rand.Rand, dim int, sd float64) []float32 {
	v := make([]float32, dim)
	for j := range v {
		v[j] = float32(rng.NormFloat64() * sd)
	}
	return v
}

func percentiles(ds []time.Duration) (p50, p95, p99 float64) {
	if len(ds) == 0 {
		return
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(s)))) - 1
		return float64(s[max(0, min(i, len(s)-1))].Microseconds()) / 1000
	}
	return at(0.50), at(0.95), at(0.99)
}

// measure runs fn for every query index with the given concurrency and
// returns the latency distribution.
func measure(path string, chunks, nq, conc int, fn func(i int)) benchSearchLatency {
	lat := make([]time.Duration, nq)
	start := time.Now()
	var wg sync.WaitGroup
	next := make(chan int)
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				fn(i)
				lat[i] = time.Since(t)
			}
		}()
	}
	for i := range nq {
		next <- i
	}
	close(next)
	wg.Wait()
	wall := time.Since(start).Seconds()
	r := benchSearchLatency{Path: path, Chunks: chunks, Concurrency: conc, Queries: nq, QPS: float64(nq) / wall}
	r.P50ms, r.P95ms, r.P99ms = percentiles(lat)
	return r
}

func newBenchSearchCmd(env *Env) *cobra.Command {
	var chunks, denseChunks, dim, conc, nq, vocab, efSearch, buildWorkers, buildProcs, hnswM, efConstruction int
	var efSweep, efUpperSweep []int
	var clusterSize int
	var efUpper int
	var int8Walk bool
	var reranker, rerankInit, collection, export string
	var rerankTokens, rerankQueries int
	var rerankBudget time.Duration
	var seed uint64
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "search",
		Short: "Benchmark BM25, dense (HNSW) and hybrid retrieval on a generated corpus",
		Long: "Generates --chunks chunks with a Zipfian vocabulary for BM25 and --dense-chunks clustered random\n" +
			"vectors for HNSW (building HNSW over 1M × 384 takes long on two cores, so the dense side defaults\n" +
			"to 100k), then reports build throughput, recall@10 of HNSW against exact search, and p50/p95/p99\n" +
			"latency at k=10 single-threaded and at --concurrency, plus memory. Hybrid fuses BM25 over all\n" +
			"chunks with dense over the first --dense-chunks (RRF, 50 candidates each); --reranker DIR adds\n" +
			"cross-encoder re-ranking of the top 50.\n\n" +
			"--collection DIR instead scores BM25 quality on a test collection (DIR/corpus,\n" +
			"DIR/retrieval) at file level; --export FILE writes its chunks as JSONL for the\n" +
			"library comparison in scripts/bench/bleve.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if collection != "" {
				return benchQuality(cmd.Context(), env.Stdout, collection, export, asJSON)
			}
			if chunks <= 0 || dim <= 0 || conc <= 0 || nq <= 0 {
				return &exitError{code: 2, err: fmt.Errorf("--chunks, --dim, --concurrency and --queries must be positive")}
			}
			denseChunks = min(denseChunks, chunks)
			ctx := cmd.Context()
			rep := benchSearchReport{Chunks: chunks, DenseChunks: denseChunks, Dim: dim, Vocabulary: vocab, GOMAXPROCS: runtime.GOMAXPROCS(0)}
			z := newZipfCorpus(seed, vocab)
			an := rag.NewAnalyzer("en")
			logf := func(format string, a ...any) { fmt.Fprintf(env.Stderr, format+"\n", a...) }

			// BM25 build: generation is excluded from the timing.
			bm := rag.NewBM25(1.2, 0.75)
			var buildTime time.Duration
			var terms int64
			if rerankInit != "" && reranker == "" {
				cfg, err := encoder.Preset(rerankInit, true)
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--reranker-init: %w", err)}
				}
				dir, err := os.MkdirTemp("", "whet-cross-encoder-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				if err := encoder.WriteRandom(dir, cfg, seed); err != nil {
					return err
				}
				reranker = dir
				logf("reranker: random-weight %s cross-encoder in %s", rerankInit, dir)
			}
			if vocab > 65536 {
				return &exitError{code: 2, err: fmt.Errorf("--vocabulary must be at most 65536")}
			}
			var keep [][]uint16 // the first chunks as word ids, for re-ranking
			for i := 0; i < chunks; i++ {
				ids := z.chunkIDs()
				c := z.words(ids)
				terms += int64(len(c))
				if reranker != "" && i < denseChunks {
					keep = append(keep, ids)
				}
				t := time.Now()
				bm.Add(c)
				buildTime += time.Since(t)
				if (i+1)%200000 == 0 {
					logf("bm25: %d chunks", i+1)
				}
			}
			rep.MeanChunkTerms = float64(terms) / float64(chunks)
			rep.BM25BuildSec = buildTime.Seconds()
			rep.BM25BuildPerSec = float64(chunks) / buildTime.Seconds()
			logf("bm25: built %d chunks in %.1fs", chunks, rep.BM25BuildSec)

			queries := make([]string, nq)
			for i := range queries {
				queries[i] = z.query()
			}

			var h *rag.HNSW
			var qvecs [][]float32
			if denseChunks > 0 {
				rng := rand.New(rand.NewPCG(seed+1, seed+2))
				vecs, held := clusteredVectors(rng, denseChunks, nq, dim, max(1, clusterSize))
				h = rag.NewHNSW(dim, hnswM, efConstruction, efSearch, seed)
				rep.HNSWM, rep.HNSWEfConstr = h.M, h.EfConstruction
				h.EfUpper = efUpper
				if buildProcs > 0 {
					runtime.GOMAXPROCS(buildProcs)
				}
				t := time.Now()
				// Parallel insertion on all cores, in slices of 50k so that
				// an interrupt stops the build between slices.
				const slice = 50000
				for lo := 0; lo < len(vecs); lo += slice {
					hi := min(len(vecs), lo+slice)
					h.AddBatch(vecs[lo:hi], buildWorkers, nil)
					logf("hnsw: %d vectors (%.0fs)", hi, time.Since(t).Seconds())
					if ctx.Err() != nil {
						return ctx.Err()
					}
				}
				rep.HNSWBuildWorkers = buildWorkers
				if buildWorkers <= 0 {
					rep.HNSWBuildWorkers = runtime.GOMAXPROCS(0)
				}
				rep.HNSWBuildSec = time.Since(t).Seconds()
				if buildProcs > 0 {
					runtime.GOMAXPROCS(rep.GOMAXPROCS)
				}
				rep.HNSWBuildPerSec = float64(denseChunks) / rep.HNSWBuildSec
				rep.EfSearch = h.EfSearch
				logf("hnsw: built %d × %d in %.1fs", denseChunks, dim, rep.HNSWBuildSec)
				// Queries come from the data's distribution. (Until
				// 2026-11-26 they were a data vector plus N(0, 0.3²) in every
				// coordinate: noise of norm 5.9 on a unit vector, so the
				// queries were nearly random directions whose true
				// neighbours were scattered over the whole set.)
				qvecs = held
				// recall@10 against exact search on the first 100 queries.
				exact := make([]map[int]bool, min(100, nq))
				for i := range exact {
					exact[i] = map[int]bool{}
					for _, s := range h.Exact(qvecs[i], 10, nil) {
						exact[i][s.Ord] = true
					}
				}
				recall := func(ef int) float64 {
					var found, total int
					for i, want := range exact {
						for _, s := range h.Search(qvecs[i], 10, ef, nil) {
							if want[s.Ord] {
								found++
							}
						}
						total += len(want)
					}
					return float64(found) / float64(max(1, total))
				}
				h.Int8 = int8Walk
				rep.DenseInt8 = int8Walk
				rep.DenseRecall10 = recall(0)
				// Recall and single-threaded dense latency per efSearch.
				modes := []bool{false}
				if int8Walk {
					modes = append(modes, true)
				}
				for _, q8 := range modes {
					h.Int8 = q8
					for _, eu := range append([]int{efUpper}, efUpperSweep...) {
						h.EfUpper = eu
						for _, ef := range efSweep {
							r := measure(fmt.Sprintf("dense ef %d", ef), denseChunks, nq, 1, func(i int) { h.Search(qvecs[i], 10, ef, nil) })
							row := benchSearchSweep{EfSearch: ef, EfUpper: eu, Int8: q8, Recall10: recall(ef), P50ms: r.P50ms, P95ms: r.P95ms, P99ms: r.P99ms}
							logf("dense efSearch %d efUpper %d int8 %v: recall@10 %.3f, p50 %.2f ms, p95 %.2f ms, p99 %.2f ms", ef, eu, q8, row.Recall10, row.P50ms, row.P95ms, row.P99ms)
							rep.EfSweep = append(rep.EfSweep, row)
						}
					}
				}
				h.EfUpper, h.Int8 = efUpper, int8Walk
				vecs = nil
			}
			var rr rag.Reranker
			var rerankTexts map[int]string
			if reranker != "" && h != nil {
				var err error
				if rr, err = rag.NewReranker(reranker); err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--reranker: %w", err)}
				}
				tk, err := tokenizer.Load(reranker)
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--reranker tokenizer: %w", err)}
				}
				// Passages are cut to whole words so that a (query,
				// passage) pair is at most --rerank-tokens tokens; this is
				// set up outside the timed path.
				rerankTexts = map[int]string{}
				var pairTokens, pairs int
				for i := range min(nq, rerankQueries) {
					qt := len(tk.Encode(queries[i], true))
					for _, c := range hybridCandidates(bm, h, an, queries[i], qvecs[i], denseChunks) {
						if _, ok := rerankTexts[c]; ok {
							continue
						}
						words := z.words(keep[c])
						n, text := 0, ""
						for w := 1; w <= len(words); w++ {
							t := strings.Join(words[:w], " ")
							nt := len(tk.Encode(t, false))
							if qt+nt+1 > rerankTokens {
								break
							}
							n, text = nt, t
						}
						rerankTexts[c] = text
						pairTokens += qt + n + 1
						pairs++
					}
				}
				rep.RerankPairTokens = float64(pairTokens) / float64(max(1, pairs))
				keep = nil
			}

			// rerank is hybrid retrieval then the cross-encoder over the
			// fused top 50 within budget (0: none, batches of 8; counted
			// from the end of retrieval), with rag.ScoreWithin as
			// rag.Index.Search uses it; it counts passages scored.
			var rerankScored, rerankCalls atomic.Int64
			rerank := func(i int, budget time.Duration) {
				f := hybridCandidates(bm, h, an, queries[i], qvecs[i], denseChunks)
				texts := make([]string, len(f))
				for j, c := range f {
					texts[j] = rerankTexts[c]
				}
				scores, err := rag.ScoreWithin(context.Background(), rr, queries[i], texts, budget, nil)
				if err != nil {
					logf("rerank: %v", err)
					return
				}
				scored := len(scores)
				if budget > 0 {
					rerankScored.Add(int64(scored))
					rerankCalls.Add(1)
				}
			}
			paths := []struct {
				name   string
				chunks int
				fn     func(i int)
			}{
				{"bm25", chunks, func(i int) { bm.Search(an.Tokens(queries[i]), 10, nil) }},
			}
			if h != nil {
				paths = append(paths,
					struct {
						name   string
						chunks int
						fn     func(i int)
					}{"dense", denseChunks, func(i int) { h.Search(qvecs[i], 10, 0, nil) }},
					struct {
						name   string
						chunks int
						fn     func(i int)
					}{"hybrid", chunks, func(i int) {
						s := bm.Search(an.Tokens(queries[i]), 50, nil)
						d := h.Search(qvecs[i], 50, 0, nil)
						f := rag.RRF([][]rag.Scored{s, d}, 60)
						_ = f[:min(10, len(f))]
					}})
				if rr != nil {
					paths = append(paths, struct {
						name   string
						chunks int
						fn     func(i int)
					}{"hybrid+rerank50", chunks, func(i int) {
						rerank(i, 0)
					}}, struct {
						name   string
						chunks int
						fn     func(i int)
					}{"hybrid+rerank50/budget", chunks, func(i int) {
						rerank(i, rerankBudget)
					}})
				}
			}
			for _, p := range paths {
				n := nq
				if strings.Contains(p.name, "rerank") {
					n = min(nq, rerankQueries)
				}
				for _, c := range []int{1, conc} {
					r := measure(p.name, p.chunks, n, c, p.fn)
					logf("%-16s conc %d: p50 %.2f ms, p95 %.2f ms, p99 %.2f ms, %.0f q/s", p.name, c, r.P50ms, r.P95ms, r.P99ms, r.QPS)
					rep.Latency = append(rep.Latency, r)
				}
			}
			if c := rerankCalls.Load(); c > 0 {
				rep.RerankBudgetScored = float64(rerankScored.Load()) / float64(c)
				rep.RerankBudgetMS = float64(rerankBudget.Microseconds()) / 1000
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			rep.HeapMB = float64(ms.HeapAlloc) / (1 << 20)
			rep.PeakRSSMB = peakRSSMB()
			runtime.KeepAlive(bm)
			runtime.KeepAlive(h)
			if asJSON {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "corpus: %d chunks (%.0f terms each, Zipf over %d words), dense: %d × %d clustered vectors, GOMAXPROCS %d\n",
				chunks, rep.MeanChunkTerms, vocab, denseChunks, dim, rep.GOMAXPROCS)
			fmt.Fprintf(tw, "build: BM25 %.1fs (%.0f chunks/s), HNSW %.1fs (%.0f vectors/s)\n", rep.BM25BuildSec, rep.BM25BuildPerSec, rep.HNSWBuildSec, rep.HNSWBuildPerSec)
			if h != nil {
				fmt.Fprintf(tw, "dense recall@10 vs exact: %.3f (efSearch %d)\n", rep.DenseRecall10, rep.EfSearch)
			}
			fmt.Fprintln(tw, "PATH\tCHUNKS\tCONC\tP50 ms\tP95 ms\tP99 ms\tQ/S")
			for _, r := range rep.Latency {
				fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.0f\n", r.Path, r.Chunks, r.Concurrency, r.P50ms, r.P95ms, r.P99ms, r.QPS)
			}
			if rep.RerankPairTokens > 0 {
				fmt.Fprintf(tw, "rerank: %.0f tokens per pair; within %.0f ms, %.1f of 50 passages scored on average\n", rep.RerankPairTokens, rep.RerankBudgetMS, rep.RerankBudgetScored)
			}
			fmt.Fprintf(tw, "memory: peak RSS %.0f MB, heap %.0f MB\n", rep.PeakRSSMB, rep.HeapMB)
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.IntVar(&chunks, "chunks", 1000000, "generated chunks for BM25")
	f.IntVar(&denseChunks, "dense-chunks", 100000, "of those, how many get vectors (HNSW build is the slow part)")
	f.IntVar(&dim, "dim", 384, "vector width")
	f.IntVar(&conc, "concurrency", 8, "concurrent queries in the second run")
	f.IntVar(&nq, "queries", 1000, "queries per path")
	f.IntVar(&vocab, "vocabulary", 50000, "distinct words")
	f.IntVar(&efSearch, "ef-search", 0, "HNSW efSearch (default the index default)")
	f.IntVar(&hnswM, "m", 0, "HNSW M (default the index default)")
	f.IntVar(&efConstruction, "ef-construction", 0, "HNSW efConstruction (default the index default)")
	f.BoolVar(&int8Walk, "int8", false, "HNSW searches walk int8 copies of the vectors and re-score in float32 (with --ef-sweep: sweep both)")
	f.IntVar(&efUpper, "ef-upper", 0, "HNSW layer-1 beam width at search time (0: greedy)")
	f.IntSliceVar(&efUpperSweep, "ef-upper-sweep", nil, "with --ef-sweep, repeat the sweep at each of these layer-1 beam widths")
	f.IntVar(&clusterSize, "cluster-size", 100, "mean vectors per cluster of the dense generator (N/cluster-size centres); 10 at 100k gives the 10,000 centres of 1M at the default")
	f.IntSliceVar(&efSweep, "ef-sweep", nil, "also report recall@10 and single-threaded dense latency at each of these efSearch values")
	f.IntVar(&buildWorkers, "build-workers", 0, "goroutines inserting into HNSW (0: GOMAXPROCS)")
	f.IntVar(&buildProcs, "build-procs", 0, "GOMAXPROCS during the HNSW build only (0: unchanged), to build on a big machine and query on few cores")
	f.StringVar(&reranker, "reranker", "", "cross-encoder model folder: also measure hybrid + re-rank of 50")
	f.StringVar(&rerankInit, "reranker-init", "", "instead of --reranker, write a random-weight cross-encoder of this shape (minilm-l6, tiny) to a temp folder and use it (speed only: its scores are meaningless)")
	f.IntVar(&rerankTokens, "rerank-tokens", 128, "cut passages so that each (query, passage) pair is at most this many tokens")
	f.IntVar(&rerankQueries, "rerank-queries", 50, "queries for the re-rank paths")
	f.DurationVar(&rerankBudget, "rerank-budget", 200*time.Millisecond, "time budget of the second re-rank path (rag's default)")
	f.Uint64Var(&seed, "seed", 1, "random seed")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.StringVar(&collection, "collection", "", "score BM25 on a test collection folder (e.g. examples) instead")
	f.StringVar(&export, "export", "", "with --collection: write the chunks as JSONL here")
	return cmd
}

// hybridCandidates is the re-rank path's retrieval: BM25 over the chunks
// that have vectors and HNSW, each top 50, fused by RRF and cut to 50.
func hybridCandidates(bm *rag.BM25, h *rag.HNSW, an *rag.Analyzer, q string, qvec []float32, dense int) []int {
	s := bm.Search(an.Tokens(q), 50, func(o int) bool { return o < dense })
	d := h.Search(qvec, 50, 0, nil)
	f := rag.RRF([][]rag.Scored{s, d}, 60)
	out := make([]int, 0, 50)
	for _, c := range f[:min(50, len(f))] {
		out = append(out, c.Ord)
	}
	return out
}
