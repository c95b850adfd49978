package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/rag"
)

func newIndexCmd(env *Env) *cobra.Command {
	conn := &apiConn{}
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Create, fill, inspect and search retrieval indexes",
		Long: "Index commands talk to a whet server (--url or WHET_URL) with the token in WHET_TOKEN.\n" +
			"An index without an embedding model is BM25-only; with one it serves BM25, dense and hybrid search.",
	}
	conn.bind(cmd, env)
	cmd.AddCommand(newIndexCreateCmd(env, conn), newIndexUpsertCmd(env, conn), newIndexSearchCmd(env, conn),
		newIndexShowCmd(env, conn), newIndexListCmd(env, conn), newIndexPinCmd(env, conn))
	return cmd
}

// parseEmbedding reads --embedding: hash[:DIM], native:DIR or
// openai:URL#MODEL (the upstream's key comes from the server environment
// variable named by --api-key-env).
func parseEmbedding(s string) (*rag.EmbeddingSpec, error) {
	kind, arg, _ := strings.Cut(s, ":")
	switch kind {
	case "", "none":
		if arg != "" {
			return nil, fmt.Errorf("--embedding %q: none takes no argument", s)
		}
		return nil, nil
	case "hash":
		e := &rag.EmbeddingSpec{Type: "hash"}
		if arg != "" {
			n, err := strconv.Atoi(arg)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("--embedding %q: hash:DIM needs a positive width", s)
			}
			e.Dim = n
		}
		return e, nil
	case "native":
		if arg == "" {
			return nil, fmt.Errorf("--embedding %q: want native:MODEL_DIR", s)
		}
		return &rag.EmbeddingSpec{Type: "native", Model: arg}, nil
	case "openai":
		url, model, ok := strings.Cut(arg, "#")
		if !ok || url == "" || model == "" {
			return nil, fmt.Errorf("--embedding %q: want openai:URL#MODEL", s)
		}
		if !strings.Contains(url, "://") {
			return nil, fmt.Errorf("--embedding %q: the URL needs a scheme (openai:https://host/v1#MODEL)", s)
		}
		return &rag.EmbeddingSpec{Type: "openai", URL: url, Model: model}, nil
	}
	return nil, fmt.Errorf("--embedding %q: want hash, native:DIR or openai:URL#MODEL", s)
}

func newIndexCreateCmd(env *Env, conn *apiConn) *cobra.Command {
	var project, datasetID, embedding, reranker, apiKeyEnv, language string
	var k1, b float64
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create an index in a project",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if project == "" {
				return &exitError{code: 2, err: fmt.Errorf("--project is required")}
			}
			emb, err := parseEmbedding(embedding)
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			if apiKeyEnv != "" && (emb == nil || emb.Type != "openai") {
				return &exitError{code: 2, err: fmt.Errorf("--api-key-env needs an openai: --embedding")}
			}
			if reranker != "" && emb == nil {
				emb = &rag.EmbeddingSpec{} // BM25-only, re-ranked by the cross-encoder
			}
			if emb != nil {
				emb.Reranker, emb.APIKeyEnv = reranker, apiKeyEnv
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			spec := rag.IndexSpec{Name: args[0], DatasetID: datasetID, Embedding: emb, BM25: rag.BM25Config{K1: k1, B: b, Language: language}}
			info, err := c.CreateIndex(cmd.Context(), project, spec)
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, info, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "created index %s (%s, %s)\n", info.ID, info.Name, info.Mode)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&project, "project", "", "project id (required)")
	f.StringVar(&datasetID, "dataset", "", "dataset the index follows (upsert without --file takes its latest version)")
	f.StringVar(&embedding, "embedding", "", "embedding model: hash[:DIM], native:MODEL_DIR or openai:URL#MODEL (none: BM25-only)")
	f.StringVar(&reranker, "reranker", "", "cross-encoder model folder (on the server) for search --rerank; works with or without --embedding")
	f.StringVar(&apiKeyEnv, "api-key-env", "", "server environment variable holding the openai upstream's key")
	f.Float64Var(&k1, "k1", 0, "BM25 k1 (default 1.2)")
	f.Float64Var(&b, "b", 0, "BM25 b (default 0.75)")
	f.StringVar(&language, "language", "", "analyzer (Snowball stemmer and stop words): en (default), de, fr, es, it, pt, nl, sv, da, no, fi, ru, or none")
	return cmd
}

// readDocsJSONL reads {"id","text","source"?,"metadata"?} lines.
func readDocsJSONL(r io.Reader) ([]rag.UpsertDoc, error) {
	var out []rag.UpsertDoc
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		var d rag.UpsertDoc
		if err := json.Unmarshal([]byte(s), &d); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if d.ID == "" || d.Text == "" {
			return nil, fmt.Errorf("line %d: want {\"id\",\"text\",\"source\"?,\"metadata\"?}", line)
		}
		out = append(out, d)
	}
	return out, sc.Err()
}

func newIndexUpsertCmd(env *Env, conn *apiConn) *cobra.Command {
	var datasetID, version, file string
	var del []string
	var logs, noWait bool
	cmd := &cobra.Command{
		Use:   "upsert INDEX_ID",
		Short: "Index a dataset version (latest by default) or a JSONL file of documents, and follow the job",
		Long: "Without --file the index takes the latest version of --dataset (or of the dataset it follows):\n" +
			"new and changed documents are upserted, removed ones deleted. --file reads JSONL lines\n" +
			"{\"id\",\"text\",\"source\"?,\"metadata\"?}; --delete removes documents by id (alone or with --file,\n" +
			"in one index version). Exits 1 when the job failed.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := api.IndexUpsert{DatasetID: datasetID, Version: version, Delete: del}
			if (file != "" || len(del) > 0) && (datasetID != "" || version != "") {
				return &exitError{code: 2, err: fmt.Errorf("--file and --delete exclude --dataset and --version")}
			}
			if file != "" {
				f, err := os.Open(file)
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--file: %w", err)}
				}
				docs, err := readDocsJSONL(f)
				f.Close()
				if err != nil {
					return &exitError{code: 2, err: fmt.Errorf("--file %s: %w", file, err)}
				}
				if len(docs) == 0 {
					return &exitError{code: 2, err: fmt.Errorf("--file %s: no documents", file)}
				}
				in.Documents = docs
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			acc, err := c.UpsertIndex(cmd.Context(), args[0], in)
			if err != nil {
				return err
			}
			if noWait {
				return conn.emit(env.Stdout, acc, func(tw *tabwriter.Writer) {
					fmt.Fprintf(tw, "queued job %s (%s)\n", acc.JobID, acc.Kind)
				})
			}
			j, err := watchJob(cmd.Context(), c, acc.JobID, env.Stderr, logs)
			if err != nil {
				return err
			}
			if err := jobExit(j); err != nil {
				return err
			}
			var res rag.UpsertResult
			_ = json.Unmarshal(j.Result, &res)
			return conn.emit(env.Stdout, res, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "index %s version %d: %d documents upserted, %d chunks", args[0], res.Version, res.Documents, res.Chunks)
				if res.DatasetVersion == "" && res.Deleted > 0 {
					fmt.Fprintf(tw, ", %d documents deleted", res.Deleted)
				}
				if res.DatasetVersion != "" {
					fmt.Fprintf(tw, " (dataset version %s: %d unchanged, %d deleted; lag %.1fs)", res.DatasetVersion, res.Unchanged, res.Deleted, res.LagSeconds)
				}
				fmt.Fprintln(tw)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&datasetID, "dataset", "", "dataset to index (default: the one the index follows)")
	f.StringVar(&version, "version", "", "dataset version (default latest)")
	f.StringVar(&file, "file", "", "JSONL documents to index instead of a dataset")
	f.StringSliceVar(&del, "delete", nil, "document ids to remove (repeatable or comma-separated)")
	f.BoolVar(&logs, "logs", false, "print the job's log lines")
	f.BoolVar(&noWait, "no-wait", false, "print the job id and return")
	return cmd
}

// parseFilter reads one --filter: key=value (equality; comma-separated
// values match any of them), key>=v, key<=v, key>v, key<v or key!=v.
// Values that parse as numbers or booleans are sent as such.
func parseFilter(filters map[string]any, s string) error {
	for _, op := range []struct{ tok, name string }{{">=", "gte"}, {"<=", "lte"}, {"!=", "ne"}, {">", "gt"}, {"<", "lt"}, {"=", ""}} {
		key, val, ok := strings.Cut(s, op.tok)
		if !ok {
			continue
		}
		key = strings.TrimSpace(key)
		if key == "" {
			return fmt.Errorf("--filter %q: empty field name", s)
		}
		if op.name != "" {
			m, _ := filters[key].(map[string]any)
			if m == nil {
				m = map[string]any{}
				filters[key] = m
			}
			m[op.name] = filterValue(val)
			return nil
		}
		if parts := strings.Split(val, ","); len(parts) > 1 {
			list := make([]any, len(parts))
			for i, p := range parts {
				list[i] = filterValue(p)
			}
			filters[key] = list
			return nil
		}
		filters[key] = filterValue(val)
		return nil
	}
	return fmt.Errorf("--filter %q: want key=value, key>=value, key<=value, key>value, key<value or key!=value", s)
}

func filterValue(s string) any {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return f
	}
	if b, err := strconv.ParseBool(s); err == nil && (s == "true" || s == "false") {
		return b
	}
	return s
}

func newIndexSearchCmd(env *Env, conn *apiConn) *cobra.Command {
	var k, topN, version int
	var mode, fusion, weights string
	var filters, sources []string
	var rerank bool
	cmd := &cobra.Command{
		Use:   "search INDEX_ID QUERY",
		Short: "Search an index and print hits with citations",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.SearchRequest{Query: args[1], K: k, Mode: mode, Fusion: fusion, Sources: sources, Version: version}
			if len(filters) > 0 {
				req.Filters = map[string]any{}
				for _, f := range filters {
					if err := parseFilter(req.Filters, f); err != nil {
						return &exitError{code: 2, err: err}
					}
				}
			}
			if weights != "" {
				bm, dn, ok := strings.Cut(weights, ",")
				wb, err1 := strconv.ParseFloat(strings.TrimSpace(bm), 64)
				wd, err2 := strconv.ParseFloat(strings.TrimSpace(dn), 64)
				if !ok || err1 != nil || err2 != nil || wb < 0 || wd < 0 {
					return &exitError{code: 2, err: fmt.Errorf("--weights %q: want BM25,DENSE (two numbers ≥ 0, e.g. 0.7,0.3)", weights)}
				}
				req.Weights = &api.SearchWeights{BM25: wb, Dense: wd}
			}
			if rerank {
				req.Rerank = &api.RerankRequest{TopN: topN}
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			res, err := c.SearchIndex(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, res, func(tw *tabwriter.Writer) {
				fmt.Fprintf(tw, "%d hits (%s, index version %d, %.1f ms)\n", len(res.Hits), res.Mode, res.Version, res.ElapsedMS)
				for i, h := range res.Hits {
					sec := strings.Join(h.Citation.SectionPath, " › ")
					if sec != "" {
						sec = " § " + sec
					}
					text := strings.Join(strings.Fields(h.Text), " ")
					if r := []rune(text); len(r) > 160 {
						text = string(r[:160]) + "…"
					}
					fmt.Fprintf(tw, "[%d] %.4f  %s%s [%d:%d]\n     %s\n", i+1, h.Score, orDash(h.Citation.Source), sec,
						h.Citation.Span[0], h.Citation.Span[1], text)
				}
			})
		},
	}
	f := cmd.Flags()
	f.IntVar(&k, "k", 10, "number of hits (1–1000)")
	f.StringVar(&mode, "mode", "", "bm25, dense or hybrid (default hybrid when the index has vectors)")
	f.StringVar(&fusion, "fusion", "", "hybrid fusion: rrf (default) or weighted")
	f.StringVar(&weights, "weights", "", "BM25,DENSE weights for either fusion, e.g. 0.7,0.3 (default equal)")
	f.StringArrayVar(&filters, "filter", nil, "metadata filter key=value, key>=value, … (repeatable; all must hold)")
	f.StringArrayVar(&sources, "source", nil, "only hits whose source URI starts with this prefix (repeatable)")
	f.BoolVar(&rerank, "rerank", false, "re-rank the fused candidates with the index's cross-encoder")
	f.IntVar(&topN, "rerank-top", 50, "candidates to re-rank")
	f.IntVar(&version, "version", 0, "search this kept index version (default: the pinned one, else the current one)")
	return cmd
}

func newIndexPinCmd(env *Env, conn *apiConn) *cobra.Command {
	return &cobra.Command{
		Use:   "pin INDEX_ID VERSION",
		Short: "Pin searches to a kept index version (0 unpins); upserts go on building newer versions",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := strconv.Atoi(args[1])
			if err != nil || v < 0 {
				return &exitError{code: 2, err: fmt.Errorf("VERSION %q: want an index version, or 0 to unpin", args[1])}
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			var info rag.IndexInfo
			if err := c.Do(cmd.Context(), http.MethodPatch, "/v1/indexes/"+args[0], api.IndexPatch{PinnedVersion: &v}, &info); err != nil {
				return err
			}
			return conn.emit(env.Stdout, info, func(tw *tabwriter.Writer) {
				if info.PinnedVersion > 0 && info.Stats != nil {
					fmt.Fprintf(tw, "index %s: searches answer from version %d (current %d)\n", info.ID, info.PinnedVersion, info.Stats.Version)
				} else {
					fmt.Fprintf(tw, "index %s: unpinned; searches follow the current version\n", info.ID)
				}
			})
		},
	}
}

func newIndexShowCmd(env *Env, conn *apiConn) *cobra.Command {
	return &cobra.Command{
		Use:   "show INDEX_ID",
		Short: "Show an index's configuration, statistics and freshness",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := conn.client()
			if err != nil {
				return err
			}
			info, err := c.GetIndex(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, info, func(tw *tabwriter.Writer) { printIndex(tw, info) })
		},
	}
}

func printIndex(tw *tabwriter.Writer, info rag.IndexInfo) {
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, v) }
	row("ID", info.ID)
	row("Name", info.Name)
	row("Project", info.ProjectID)
	row("Mode", info.Mode)
	emb := info.Embedding.Type
	switch emb {
	case "native":
		emb += " " + info.Embedding.Model
	case "openai":
		emb += " " + info.Embedding.URL + " " + info.Embedding.Model
	}
	row("Embedding", orDash(emb))
	if info.Embedding.Reranker != "" {
		row("Reranker", info.Embedding.Reranker)
	}
	bm := info.Config.BM25
	if info.Stats != nil {
		bm = info.Stats.Config.BM25 // the index files, authoritative for the analyzer version
	}
	analyzer := fmt.Sprintf("analyzer v%d", bm.AnalyzerVersion)
	if bm.AnalyzerVersion == 0 && bm.Language != "en" && bm.Language != "none" {
		analyzer += ", unstemmed: rebuild the index for stemming"
	}
	row("BM25", fmt.Sprintf("k1 %g, b %g, language %s (%s)", bm.K1, bm.B, bm.Language, analyzer))
	row("Dataset", orDash(info.DatasetID))
	row("Dataset version", orDash(info.DatasetVersion))
	if info.PinnedVersion > 0 {
		row("Pinned version", strconv.Itoa(info.PinnedVersion)+" (searches answer from it)")
	}
	if len(info.Versions) > 0 {
		vs := make([]string, len(info.Versions))
		for i, v := range info.Versions {
			vs[i] = strconv.Itoa(v)
		}
		row("Versions kept", strings.Join(vs, ", "))
	}
	if st := info.Stats; st != nil {
		row("Version", strconv.Itoa(st.Version))
		row("Documents", strconv.Itoa(st.Documents))
		row("Chunks", strconv.Itoa(st.Chunks))
		row("Terms", strconv.Itoa(st.Terms))
		if st.Dense {
			row("Dense dim", strconv.Itoa(st.Dim))
		}
	}
	row("Last upsert", fmtTime(info.LastUpsertAt))
	if f := info.Freshness; f != nil && f.DatasetID != "" {
		row("Latest dataset version", orDash(f.LatestVersion))
		row("Upsert lag", fmt.Sprintf("%.1fs", f.UpsertLagSeconds))
		row("Staleness", fmt.Sprintf("%.1fs", f.StalenessSeconds))
	}
	row("Created", fmtTime(&info.CreatedAt))
}

func newIndexListCmd(env *Env, conn *apiConn) *cobra.Command {
	var project string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List a project's indexes",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if project == "" {
				return &exitError{code: 2, err: fmt.Errorf("--project is required")}
			}
			c, err := conn.client()
			if err != nil {
				return err
			}
			page, err := c.ListIndexes(cmd.Context(), project)
			if err != nil {
				return err
			}
			return conn.emit(env.Stdout, page, func(tw *tabwriter.Writer) {
				fmt.Fprintln(tw, "ID\tNAME\tMODE\tDOCS\tCHUNKS\tVERSION\tLAST UPSERT")
				for _, x := range page.Items {
					docs, chunks, ver := "-", "-", "-"
					if x.Stats != nil {
						docs, chunks, ver = strconv.Itoa(x.Stats.Documents), strconv.Itoa(x.Stats.Chunks), strconv.Itoa(x.Stats.Version)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", x.ID, x.Name, x.Mode, docs, chunks, ver, fmtTime(x.LastUpsertAt))
				}
			})
		},
	}
	cmd.Flags().StringVar(&project, "project", "", "project id (required)")
	return cmd
}
