// Command bleve scores github.com/blevesearch/bleve/v2 with BM25 scoring on
// the chunks `whet bench search --collection DIR --export FILE` writes, with
// the same queries and qrels, so the two BM25 implementations are compared
// on identical input. It is its own module so that whet does not depend on
// bleve.
//
//	go run . -chunks /tmp/chunks.jsonl -collection ../../../examples
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/token/stop"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/analysis/tokenmap"
	index "github.com/blevesearch/bleve_index_api"
)

// luceneStop is Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, as whet uses.
const luceneStop = `a an and are as at be but by for if in into is it no not of on or such that the their then there these they this to was will with`

type chunk struct {
	ID     string `json:"id"`
	Source string `json:"source"`
	Text   string `json:"text"`
}

func main() {
	chunksPath := flag.String("chunks", "", "chunks JSONL from whet bench search --export")
	dir := flag.String("collection", "examples", "collection folder with retrieval/queries.jsonl and retrieval/qrels/test.tsv")
	analyzer := flag.String("analyzer", "whet", "whet: whet's settings (Lucene's 33 English stop words, Snowball English); en: bleve's English analyzer (Porter, larger stop list)")
	flag.Parse()
	chunks := readChunks(*chunksPath)
	queries := readQueries(filepath.Join(*dir, "retrieval", "queries.jsonl"))
	qrels := readQrels(filepath.Join(*dir, "retrieval", "qrels", "test.tsv"))

	m := bleve.NewIndexMapping()
	m.ScoringModel = index.BM25Scoring
	switch *analyzer {
	case "en":
		m.DefaultAnalyzer = en.AnalyzerName // unicode tokenizer, possessive, lowercase, bleve's English stop words, Porter
	case "whet":
		// The settings of whet's English analyzer: Lucene's
		// ENGLISH_STOP_WORDS_SET and the Snowball English stemmer.
		var list []any
		for _, w := range strings.Fields(luceneStop) {
			list = append(list, w)
		}
		words := map[string]any{"type": tokenmap.Name, "tokens": list}
		if err := m.AddCustomTokenMap("lucene_stop_words", words); err != nil {
			log.Fatal(err)
		}
		if err := m.AddCustomTokenFilter("lucene_stop", map[string]any{"type": stop.Name, "stop_token_map": "lucene_stop_words"}); err != nil {
			log.Fatal(err)
		}
		if err := m.AddCustomAnalyzer("whet_en", map[string]any{"type": custom.Name, "tokenizer": unicode.Name,
			"token_filters": []any{en.PossessiveName, lowercase.Name, "lucene_stop", en.SnowballStemmerName}}); err != nil {
			log.Fatal(err)
		}
		m.DefaultAnalyzer = "whet_en"
	default:
		log.Fatalf("-analyzer %q: want whet or en", *analyzer)
	}
	idx, err := bleve.NewMemOnly(m)
	if err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	b := idx.NewBatch()
	for i, c := range chunks {
		if err := b.Index(strconv.Itoa(i), map[string]any{"text": c.Text}); err != nil {
			log.Fatal(err)
		}
	}
	if err := idx.Batch(b); err != nil {
		log.Fatal(err)
	}
	build := time.Since(start)

	var lat []time.Duration
	results := map[string][]string{}
	for range 5 {
		for _, q := range queries {
			mq := bleve.NewMatchQuery(q.text)
			mq.SetField("text")
			req := bleve.NewSearchRequestOptions(mq, 50, 0, false)
			t := time.Now()
			res, err := idx.Search(req)
			lat = append(lat, time.Since(t))
			if err != nil {
				log.Fatal(err)
			}
			var ranked []string
			seen := map[string]bool{}
			for _, h := range res.Hits {
				i, _ := strconv.Atoi(h.ID)
				doc, _, _ := strings.Cut(chunks[i].Source, "#")
				if !seen[doc] {
					seen[doc] = true
					ranked = append(ranked, doc)
				}
			}
			results[q.id] = ranked
		}
	}
	var mrr, ndcg, recall float64
	n := 0
	for qid, rel := range qrels {
		n++
		r := results[qid]
		mrr += mrrAt(r, rel, 10)
		ndcg += ndcgAt(r, rel, 10)
		recall += recallAt(r, rel, 10)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(f float64) float64 {
		return float64(lat[max(0, int(math.Ceil(f*float64(len(lat))))-1)].Microseconds()) / 1000
	}
	fmt.Printf("bleve BM25 (%s analyzer) on %s: %d chunks, %d queries: MRR@10 %.4f, nDCG@10 %.4f, recall@10 %.4f; build %.1f ms, search p50 %.3f ms, p95 %.3f ms\n",
		*analyzer, *dir, len(chunks), n, mrr/float64(n), ndcg/float64(n), recall/float64(n), float64(build.Microseconds())/1000, p(0.5), p(0.95))
}

func readChunks(p string) []chunk {
	f, err := os.Open(p)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var out []chunk
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var c chunk
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			log.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

type query struct{ id, text string }

func readQueries(p string) []query {
	f, err := os.Open(p)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var out []query
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var q struct {
			ID   string `json:"_id"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			log.Fatal(err)
		}
		out = append(out, query{q.ID, q.Text})
	}
	return out
}

func readQrels(p string) map[string]map[string]int {
	b, err := os.ReadFile(p)
	if err != nil {
		log.Fatal(err)
	}
	out := map[string]map[string]int{}
	for i, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || i == 0 && f[0] == "query-id" {
			continue
		}
		g, _ := strconv.Atoi(f[2])
		if g <= 0 {
			continue
		}
		if out[f[0]] == nil {
			out[f[0]] = map[string]int{}
		}
		out[f[0]][f[1]] = g
	}
	return out
}

// The metrics follow internal/eval (trec_eval definitions).
func mrrAt(r []string, rel map[string]int, k int) float64 {
	for i, d := range r {
		if i < k && rel[d] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

func ndcgAt(r []string, rel map[string]int, k int) float64 {
	dcg := 0.0
	for i, d := range r {
		if i < k {
			dcg += float64(rel[d]) / math.Log2(float64(i+2))
		}
	}
	var gains []int
	for _, g := range rel {
		gains = append(gains, g)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(gains)))
	idcg := 0.0
	for i, g := range gains {
		if i < k {
			idcg += float64(g) / math.Log2(float64(i+2))
		}
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

func recallAt(r []string, rel map[string]int, k int) float64 {
	n := 0
	for i, d := range r {
		if i < k && rel[d] > 0 {
			n++
		}
	}
	return float64(n) / float64(len(rel))
}
