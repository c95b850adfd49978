package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/eval"
)

func newEvalCmd(env *Env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate retrieval quality",
	}
	cmd.AddCommand(newEvalRetrievalCmd(env))
	return cmd
}

// retrievalReport is the output of `whet eval retrieval`.
type retrievalReport struct {
	IndexID   string             `json:"index_id"`
	Mode      string             `json:"mode"`
	Match     string             `json:"match"`
	Queries   int                `json:"queries"`
	Missing   int                `json:"queries_without_qrels"`
	MRR10     float64            `json:"mrr@10"`
	NDCG10    float64            `json:"ndcg@10"`
	K         int                `json:"k"`
	RecallK   float64            `json:"recall@k"`
	PerQuery  map[string]float64 `json:"ndcg@10_per_query,omitempty"`
	Worst     []string           `json:"worst_queries,omitempty"`
	ElapsedMS float64            `json:"mean_search_ms"`
	// ByName counts hit sources matched to a judged path by file name
	// alone (see judgedNames).
	ByName int `json:"sources_matched_by_file_name,omitempty"`
}

func newEvalRetrievalCmd(env *Env) *cobra.Command {
	conn := &apiConn{}
	var indexID, queriesFile, qrelsFile, mode, match string
	var k int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "retrieval --index ID --queries FILE --qrels FILE",
		Short: "Score an index on a test collection: MRR@10, nDCG@10 and recall@k",
		Long: "Runs every query of a BEIR queries.jsonl ({\"_id\",\"text\"} lines) against the index and scores\n" +
			"the ranking against TREC/BEIR qrels (query-id corpus-id score). Hits are judged by their\n" +
			"citation source (--match source, the default: a \"path#row\" hit counts as \"path\", each file\n" +
			"once at its best rank) or by document id (--match document).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if indexID == "" || queriesFile == "" || qrelsFile == "" {
				return &exitError{code: 2, err: fmt.Errorf("--index, --queries and --qrels are required")}
			}
			if k <= 0 || k > 1000 {
				return &exitError{code: 2, err: fmt.Errorf("--k %d: want 1–1000", k)}
			}
			if match != "source" && match != "document" {
				return &exitError{code: 2, err: fmt.Errorf("--match %q: want source or document", match)}
			}
			if asJSON {
				conn.output = "json"
			}
			qf, err := os.Open(queriesFile)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--queries: %w", err)}
			}
			queries, err := eval.ReadQueries(qf)
			qf.Close()
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--queries %s: %w", queriesFile, err)}
			}
			rf, err := os.Open(qrelsFile)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--qrels: %w", err)}
			}
			qrels, err := eval.ReadQrels(rf)
			rf.Close()
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--qrels %s: %w", qrelsFile, err)}
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			// Ask for more hits than k: several chunks of one file collapse
			// into one ranked file.
			depth := min(1000, max(50, 5*max(k, 10)))
			names := judgedNames(qrels)
			byName := map[string]bool{}
			results := map[string][]string{}
			rep := retrievalReport{IndexID: indexID, Match: match, K: k}
			var elapsed float64
			for _, q := range queries {
				if qrels[q.ID] == nil {
					rep.Missing++
					continue
				}
				res, err := c.SearchIndex(cmd.Context(), indexID, api.SearchRequest{Query: q.Text, K: depth, Mode: mode})
				if err != nil {
					return fmt.Errorf("query %s: %w", q.ID, err)
				}
				rep.Mode = res.Mode
				elapsed += res.ElapsedMS
				ids := make([]string, len(res.Hits))
				for i, h := range res.Hits {
					ids[i] = h.Citation.Source
					if match == "document" {
						ids[i] = h.Citation.DocumentID
					}
				}
				if match == "source" {
					ids = eval.FileRanking(ids)
					for i, id := range ids {
						if p, ok := names[id]; ok {
							ids[i], byName[id] = p, true
						}
					}
					ids = dedupe(ids)
				} else {
					ids = dedupe(ids)
				}
				results[q.ID] = ids
			}
			rep.ByName = len(byName)
			at10 := eval.Evaluate(results, qrels, 10)
			atK := eval.Evaluate(results, qrels, k)
			rep.Queries, rep.MRR10, rep.NDCG10, rep.RecallK, rep.PerQuery = at10.Queries, at10.MRR, at10.NDCG, atK.Recall, at10.PerQuery
			if n := len(results); n > 0 {
				rep.ElapsedMS = elapsed / float64(n)
			}
			ids := make([]string, 0, len(rep.PerQuery))
			for id := range rep.PerQuery {
				ids = append(ids, id)
			}
			sort.Slice(ids, func(i, j int) bool {
				if rep.PerQuery[ids[i]] != rep.PerQuery[ids[j]] {
					return rep.PerQuery[ids[i]] < rep.PerQuery[ids[j]]
				}
				return ids[i] < ids[j]
			})
			rep.Worst = ids[:min(5, len(ids))]
			if conn.output == "json" {
				enc := json.NewEncoder(env.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintf(tw, "index %s, mode %s, %d queries judged (%d without qrels skipped), hits matched by %s\n",
				indexID, rep.Mode, rep.Queries, rep.Missing, match)
			if rep.ByName > 0 {
				fmt.Fprintf(tw, "%d hit sources are bare file names (a folder upload), matched to the judged path with that name\n", rep.ByName)
			}
			fmt.Fprintf(tw, "MRR@10\tnDCG@10\trecall@%d\tmean search\n", k)
			fmt.Fprintf(tw, "%.4f\t%.4f\t%.4f\t%.1f ms\n", rep.MRR10, rep.NDCG10, rep.RecallK, rep.ElapsedMS)
			if len(rep.Worst) > 0 {
				fmt.Fprint(tw, "lowest nDCG@10:")
				for _, id := range rep.Worst {
					fmt.Fprintf(tw, " %s=%.2f", id, rep.PerQuery[id])
				}
				fmt.Fprintln(tw)
			}
			return tw.Flush()
		},
	}
	conn.bind(cmd, env)
	f := cmd.Flags()
	f.StringVar(&indexID, "index", "", "index id (required)")
	f.StringVar(&queriesFile, "queries", "", "BEIR queries.jsonl (required)")
	f.StringVar(&qrelsFile, "qrels", "", "TREC/BEIR qrels file (required)")
	f.IntVar(&k, "k", 10, "cut-off for recall@k")
	f.StringVar(&mode, "mode", "", "bm25, dense or hybrid (default: the index's)")
	f.StringVar(&match, "match", "source", "judge hits by citation source (path#row counts as path) or by document id")
	f.BoolVar(&asJSON, "json", false, "print JSON (same as --output json)")
	return cmd
}

// judgedNames maps a file name to the one judged corpus id ending in it
// ("expense.md" → "policies/expense.md"), for judged ids with a folder
// whose name no other judged id shares. `whet ingest folder` uploads files
// by name, so their citations say "expense.md" while BEIR-style qrels name
// paths; without this every such hit would count as irrelevant.
func judgedNames(qrels eval.Qrels) map[string]string {
	out := map[string]string{}
	clash := map[string]bool{}
	ids := map[string]bool{}
	for _, rel := range qrels {
		for id := range rel {
			ids[id] = true
		}
	}
	for id := range ids {
		name := path.Base(id)
		if name == id || clash[name] {
			continue
		}
		if prev, ok := out[name]; ok && prev != id {
			delete(out, name)
			clash[name] = true
			continue
		}
		out[name] = id
	}
	for name := range out {
		if ids[name] { // a judged id that is itself a bare name keeps it
			delete(out, name)
		}
	}
	return out
}

func dedupe(ids []string) []string {
	out := ids[:0]
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
