package cli

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/auth"
	"github.com/whet-dev/whet/internal/config"
	"github.com/whet-dev/whet/internal/dedup"
	"github.com/whet-dev/whet/internal/eval"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/rag"
)

// quickstart runs the whole loop on the bundled sample corpus against a real
// whet server started in-process on a loopback port, driving it through the
// same typed API client the CLI and the end-to-end tests use.
type quickstart struct {
	env        *Env
	data       string
	corpus     string
	retrieval  string
	embedModel string
	// training stage
	baseModel     string
	pretrainSteps int
	pretrainTime  time.Duration
	skipTrain     bool
	training      qsTraining
	client        *api.Client
	out           io.Writer
}

func newQuickstartCmd(env *Env) *cobra.Command {
	qs := &quickstart{env: env, out: env.Stdout, training: defaultQSTraining()}
	cmd := &cobra.Command{
		Use:   "quickstart",
		Short: "Run the whole loop on the bundled sample corpus",
		Long: `quickstart starts a whet server in-process on a fresh data directory and drives it
through its API, as a user would: it creates a project, uploads the sample corpus
(Markdown, HTML, PDF, DOCX, CSV and chat logs), processes it into a versioned dataset
(PII redaction, exact and near-duplicate removal), builds a hybrid retrieval index,
scores it on the retrieval test collection and answers sample searches with citations,
then fine-tunes a model: without --base-model it trains a domain tokenizer and a small
base model on the processed corpus (about two minutes), runs LoRA SFT on the question–answer
pairs synthesised from the corpus and DPO on preference pairs, registers the model version
and shows answers before and after. Run it from the repository root (or pass --corpus and --retrieval).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) (err error) {
			if qs.baseModel != "" {
				if err := resolveModelFlag(cmd, env, &qs.baseModel); err != nil {
					return fmt.Errorf("quickstart: --base-model: %w", err)
				}
				if qs.baseModel, err = filepath.Abs(qs.baseModel); err != nil {
					return err
				}
				qs.training = givenModelQSTraining()
			}
			return qs.run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&qs.data, "data", "", "data directory (default: a new temporary directory, kept and printed)")
	cmd.Flags().StringVar(&qs.corpus, "corpus", filepath.Join("examples", "corpus"), "sample corpus folder")
	cmd.Flags().StringVar(&qs.retrieval, "retrieval", filepath.Join("examples", "retrieval"), "retrieval test collection (BEIR queries.jsonl + qrels/test.tsv)")
	cmd.Flags().StringVar(&qs.embedModel, "embed-model", "", "BERT-family model folder for dense embeddings (default: model-free feature hashing)")
	cmd.Flags().StringVar(&qs.baseModel, "base-model", "", "Llama-family model folder to fine-tune (default: train a domain tokenizer and a small base model on the corpus)")
	cmd.Flags().IntVar(&qs.pretrainSteps, "pretrain-steps", 1200, "optimizer steps of pretraining the small base model (about 90 s on 2 cores)")
	cmd.Flags().DurationVar(&qs.pretrainTime, "pretrain-time", 0, "also stop pretraining after this long (0: no time bound; the result then depends on the machine's speed)")
	cmd.Flags().BoolVar(&qs.skipTrain, "skip-train", false, "stop after retrieval (no base model, fine-tuning or before/after answer)")
	return cmd
}

func (qs *quickstart) step(format string, args ...any) {
	fmt.Fprintf(qs.out, "\n==> "+format+"\n", args...)
}

func (qs *quickstart) run(ctx context.Context) error {
	if _, err := os.Stat(qs.corpus); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("quickstart: sample corpus not found at %s: run from the repository root or pass --corpus", qs.corpus)}
	}
	if qs.data == "" {
		d, err := os.MkdirTemp("", "whet-quickstart-")
		if err != nil {
			return err
		}
		qs.data = d
	} else if _, err := os.Stat(filepath.Join(qs.data, "whet.db")); err == nil {
		return &exitError{code: 2, err: fmt.Errorf("quickstart: %s already holds a whet database; pass a new --data directory (or none for a temporary one)", qs.data)}
	}
	start := time.Now()
	stop, err := qs.startServer(ctx)
	if err != nil {
		return err
	}
	defer stop()

	proj, err := qs.client.CreateProject(ctx, api.ProjectCreate{Name: "northwind", Description: "Northwind Lattice sample corpus"})
	if err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	cd, err := qs.dataStage(ctx, proj.ID)
	if err != nil {
		return err
	}
	if err := qs.retrievalStage(ctx, proj.ID, cd.docs); err != nil {
		return err
	}
	if !qs.skipTrain {
		if err := qs.trainingStage(ctx, proj.ID, cd); err != nil {
			return err
		}
	}
	fmt.Fprintf(qs.out, "\nquickstart finished in %s; data kept in %s\n", time.Since(start).Round(time.Second), qs.data)
	fmt.Fprintf(qs.out, "explore it through the API:\n  whet serve --data %s\n  export WHET_URL=http://127.0.0.1:8080 WHET_TOKEN=$(cat %s)\n  whet datasets list --project %s; whet models list --project %s\n",
		qs.data, filepath.Join(qs.data, "admin.token"), proj.ID, proj.ID)
	return nil
}

// startServer opens the platform on the data directory, bootstraps the
// owner key, and serves the API with two in-process workers on 127.0.0.1.
func (qs *quickstart) startServer(ctx context.Context) (func(), error) {
	cfg := config.Default()
	cfg.Data = qs.data
	cfg.Addr = "127.0.0.1:0"
	cfg.Workers = 2
	cfg.RateLimit = 0
	cfg.MaxBodyBytes = 64 << 20
	log := slog.New(slog.DiscardHandler)
	p, err := openPlatform(ctx, qs.env, cfg, log)
	if err != nil {
		return nil, err
	}
	as, err := auth.NewService(ctx, p.db, p.audit, authOptions(cfg, log))
	if err != nil {
		p.close()
		return nil, err
	}
	res, err := as.Bootstrap(ctx, "")
	if err != nil {
		p.close()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(qs.data, "admin.token"), []byte(res.Token+"\n"), 0o600); err != nil {
		p.close()
		return nil, fmt.Errorf("write admin token: %w", err)
	}
	srv := p.apiServer(as, log)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		p.close()
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		p.jobs.Work(workCtx, cfg.Workers)
		close(done)
	}()
	url := "http://" + ln.Addr().String()
	qs.client = api.NewClient(url, res.Token)
	qs.client.HTTP.Timeout = 10 * time.Minute
	fmt.Fprintf(qs.out, "whet quickstart: server on %s, data in %s (SQLite + local blobs), owner key bootstrapped\n", url, qs.data)
	return func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
		stopWork()
		<-done
		as.Close()
		p.close()
	}, nil
}

// zipCorpus packs the corpus folder (without MANIFEST.md, which lists the
// planted PII in clear) into one upload.
func (qs *quickstart) zipCorpus() ([]byte, int, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	n := 0
	err := filepath.WalkDir(qs.corpus, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "MANIFEST.md" || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		rel, _ := filepath.Rel(qs.corpus, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: filepath.ToSlash(rel), Method: zip.Deflate, Modified: info.ModTime()})
		if err != nil {
			return err
		}
		n++
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	if err := zw.Close(); err != nil {
		return nil, 0, err
	}
	return buf.Bytes(), n, nil
}

// wait follows a job to its end: a live progress bar on a terminal, one
// line per stage otherwise (logs, CI).
func (qs *quickstart) wait(ctx context.Context, id string) (api.Job, error) {
	var j api.Job
	var err error
	if isTerminal(qs.out) {
		j, err = watchJob(ctx, qs.client, id, qs.out, false)
	} else {
		j, err = qs.poll(ctx, id)
	}
	if err != nil {
		return j, err
	}
	if j.Status != "succeeded" {
		return j, fmt.Errorf("job %s %s: %s", j.ID, j.Status, j.Error)
	}
	return j, nil
}

func (qs *quickstart) poll(ctx context.Context, id string) (api.Job, error) {
	last := ""
	for {
		j, err := qs.client.GetJob(ctx, id)
		if err != nil {
			return j, err
		}
		if line := fmt.Sprintf("%s %s", j.Status, j.Stage); line != last {
			fmt.Fprintf(qs.out, "  job %s: %-9s %3.0f%%  %s\n", j.ID, j.Status, 100*j.Progress, j.Stage)
			last = line
		}
		switch j.Status {
		case "succeeded", "failed", "cancelled":
			return j, nil
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// isTerminal says whether w is a character device (an interactive terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// corpusData names the datasets the data stage fills: the processed
// documents, the instruction pairs synthesised from them and the preference
// pairs mined from the chat logs (empty when training is skipped).
type corpusData struct {
	docs, qa, mined string
}

func (qs *quickstart) dataStage(ctx context.Context, projectID string) (corpusData, error) {
	var cd corpusData
	qs.step("1. Ingest the sample corpus")
	ds, err := qs.client.CreateDataset(ctx, projectID, api.DatasetCreate{Name: "handbook", Kind: "documents",
		Description: "Northwind Lattice policies, procedures, product docs, tickets and chat logs"})
	if err != nil {
		return cd, fmt.Errorf("create dataset: %w", err)
	}
	cd.docs = ds.ID
	zipped, files, err := qs.zipCorpus()
	if err != nil {
		return cd, err
	}
	fmt.Fprintf(qs.out, "uploading %d files (%d KB zipped) to dataset %s\n", files, len(zipped)/1024, ds.ID)
	acc, err := qs.client.Upload(ctx, ds.ID, "internal", []api.UploadFile{{Name: "corpus.zip", Body: bytes.NewReader(zipped)}})
	if err != nil {
		return cd, fmt.Errorf("upload: %w", err)
	}
	j, err := qs.wait(ctx, acc.JobID)
	if err != nil {
		return cd, err
	}
	var sum ingest.Summary
	json.Unmarshal(j.Result, &sum)
	fmt.Fprintf(qs.out, "ingested: %d documents added, %d exact duplicates skipped, %d errors\n", sum.Added, sum.Duplicate, sum.Errors)

	qs.step("2. Process: normalise, filter, redact PII, remove duplicates → an immutable version")
	dd := dedup.DefaultConfig()
	// Character shingles catch lightly revised copies that word shingles
	// rate just under the threshold (the retention policy and its 2024 copy).
	dd.ShingleUnit = dedup.UnitChar
	// Of a policy and its archived earlier revision, keep the current one
	// (by its front-matter date): retrieval should cite what applies now.
	dd.Keep = dedup.KeepNewest
	cfg := ingest.ProcessConfig{Dedup: &dd}
	if !qs.skipTrain {
		// The same processing run derives the training data: extractive
		// question–answer pairs from the redacted documents and preference
		// pairs from the rated chat logs.
		qa, err := qs.client.CreateDataset(ctx, projectID, api.DatasetCreate{Name: "handbook-qa", Kind: "instruction",
			Description: "Question–answer pairs synthesised from the processed handbook"})
		if err != nil {
			return cd, fmt.Errorf("create dataset: %w", err)
		}
		mined, err := qs.client.CreateDataset(ctx, projectID, api.DatasetCreate{Name: "handbook-feedback", Kind: "preference",
			Description: "Preference pairs mined from rated support chats"})
		if err != nil {
			return cd, fmt.Errorf("create dataset: %w", err)
		}
		cd.qa, cd.mined = qa.ID, mined.ID
		cfg.Synthesize = &ingest.SynthConfig{TargetDatasetID: qa.ID}
		cfg.Mine = &ingest.MineConfig{PreferenceDatasetID: mined.ID}
	}
	acc, err = qs.client.ProcessDataset(ctx, ds.ID, cfg)
	if err != nil {
		return cd, fmt.Errorf("process: %w", err)
	}
	if j, err = qs.wait(ctx, acc.JobID); err != nil {
		return cd, err
	}
	vd, err := qs.client.DatasetVersion(ctx, ds.ID, "latest")
	if err != nil {
		return cd, err
	}
	qs.printVersion(vd)
	var rep ingest.ProcessReport
	json.Unmarshal(j.Result, &rep)
	if s := rep.Synthesis; s != nil {
		fmt.Fprintf(qs.out, "synthesised  %d question–answer pairs %v → %s@%s\n", s.Pairs, s.ByType, s.TargetDatasetID, s.Version)
	}
	if m := rep.Mining; m != nil && m.Preference != nil {
		fmt.Fprintf(qs.out, "mined        %d preference pairs from %d conversations → %s@%s\n", m.Preference.Records, m.Conversations,
			m.Preference.DatasetID, m.Preference.Version)
	}
	return cd, nil
}

func (qs *quickstart) printVersion(vd api.VersionDetail) {
	v := vd.Version
	fmt.Fprintf(qs.out, "version      %s (%s)\n", v.Version, v.URI)
	fmt.Fprintf(qs.out, "lineage hash %s\n", v.LineageHash)
	fmt.Fprintf(qs.out, "items        %d documents from %d sources\n", v.Items, v.Stats.Sources)
	var rep ingest.ProcessReport
	json.Unmarshal(v.Report, &rep)
	fmt.Fprintf(qs.out, "redaction    %d spans in %d documents: %s\n", rep.Redaction.Spans, len(rep.Redaction.Documents), rep.Redaction.TypeCounts())
	fmt.Fprintf(qs.out, "dedup        %d clusters, %d documents dropped\n", len(rep.Dedup.Clusters), rep.Dedup.Dropped)
	for _, c := range rep.Dedup.Clusters {
		kind := "near"
		if c.Exact {
			kind = "exact"
		}
		fmt.Fprintf(qs.out, "  %-5s similarity %.2f: kept %s, dropped %s\n", kind, c.Similarity, name(rep.Names, c.Keep), strings.Join(names(rep.Names, c.Drop), ", "))
	}
	if len(rep.Filtered) > 0 {
		fmt.Fprintf(qs.out, "filtered     %d documents by quality rules\n", len(rep.Filtered))
		for _, f := range rep.Filtered {
			fmt.Fprintf(qs.out, "  %s: %s (%s)\n", f.Source, f.Reason, f.Detail)
		}
	}
}

// name shows a document by its source path, or a short fingerprint.
func name(names map[string]string, fp string) string {
	if n, ok := names[fp]; ok {
		return n
	}
	return short(fp)
}

func names(all map[string]string, fps []string) []string {
	out := make([]string, len(fps))
	for i, x := range fps {
		out[i] = name(all, x)
	}
	return out
}

func (qs *quickstart) retrievalStage(ctx context.Context, projectID, datasetID string) error {
	qs.step("3. Build a hybrid retrieval index (BM25 + dense, parent-child chunks)")
	emb := &rag.EmbeddingSpec{Type: "hash", Dim: 384}
	if qs.embedModel != "" {
		emb = &rag.EmbeddingSpec{Type: "native", Model: qs.embedModel}
	} else {
		fmt.Fprintln(qs.out, "dense side: model-free feature hashing (pass --embed-model DIR for a BERT-family encoder)")
	}
	var info rag.IndexInfo
	if err := qs.client.Do(ctx, http.MethodPost, "/v1/projects/"+projectID+"/indexes",
		rag.IndexSpec{Name: "handbook", DatasetID: datasetID, Embedding: emb}, &info); err != nil {
		return fmt.Errorf("create index: %w", err)
	}
	var acc api.JobAccepted
	if err := qs.client.Do(ctx, http.MethodPost, "/v1/indexes/"+info.ID+"/upsert", api.IndexUpsert{}, &acc); err != nil {
		return fmt.Errorf("upsert: %w", err)
	}
	if _, err := qs.wait(ctx, acc.JobID); err != nil {
		return err
	}
	if err := qs.client.Do(ctx, http.MethodGet, "/v1/indexes/"+info.ID, nil, &info); err != nil {
		return err
	}
	if info.Stats != nil {
		fmt.Fprintf(qs.out, "index %s: %d documents, %d chunks, %d terms, version %d\n", info.ID, info.Stats.Documents, info.Stats.Chunks,
			info.Stats.Terms, info.Stats.Version)
	}

	qs.step("4. Score retrieval on the test collection (%s)", qs.retrieval)
	if err := qs.scoreRetrieval(ctx, info.ID); err != nil {
		return err
	}

	qs.step("5. Sample searches with citations")
	for _, q := range []string{
		"How many days do we have to approve a refund?",
		"policy update for vendor risk",
		"What should I do if my laptop with customer data is stolen?",
	} {
		var res api.SearchResponse
		if err := qs.client.Do(ctx, http.MethodPost, "/v1/indexes/"+info.ID+"/search", api.SearchRequest{Query: q, K: 3}, &res); err != nil {
			return err
		}
		fmt.Fprintf(qs.out, "Q: %s   (%s, %.1f ms)\n", q, res.Mode, res.ElapsedMS)
		for i, h := range res.Hits {
			text := strings.Join(strings.Fields(h.Text), " ")
			if len(text) > 150 {
				text = text[:150] + "…"
			}
			sec := strings.Join(h.Citation.SectionPath, " › ")
			if sec != "" {
				sec = " § " + sec
			}
			fmt.Fprintf(qs.out, "  [%d] %s%s [%d:%d]\n      %s\n", i+1, h.Citation.Source, sec, h.Citation.Span[0], h.Citation.Span[1], text)
		}
	}
	return nil
}

// scoreRetrieval runs every test query in BM25, dense and hybrid mode and
// prints MRR@10, nDCG@10 and recall@10. Hits are judged at file level: a
// row of a CSV or a conversation of a chat log ("path#row") counts as its
// file, as the collection's README says.
func (qs *quickstart) scoreRetrieval(ctx context.Context, indexID string) error {
	qf, err := os.Open(filepath.Join(qs.retrieval, "queries.jsonl"))
	if err != nil {
		return err
	}
	defer qf.Close()
	queries, err := eval.ReadQueries(qf)
	if err != nil {
		return err
	}
	rf, err := os.Open(filepath.Join(qs.retrieval, "qrels", "test.tsv"))
	if err != nil {
		return err
	}
	defer rf.Close()
	qrels, err := eval.ReadQrels(rf)
	if err != nil {
		return err
	}
	fmt.Fprintf(qs.out, "%-8s %8s %8s %10s\n", "mode", "MRR@10", "nDCG@10", "recall@10")
	for _, mode := range []string{"bm25", "dense", "hybrid"} {
		results := map[string][]string{}
		for _, q := range queries {
			var res api.SearchResponse
			if err := qs.client.Do(ctx, http.MethodPost, "/v1/indexes/"+indexID+"/search", api.SearchRequest{Query: q.Text, K: 50, Mode: mode}, &res); err != nil {
				return fmt.Errorf("query %s: %w", q.ID, err)
			}
			srcs := make([]string, len(res.Hits))
			for i, h := range res.Hits {
				srcs[i] = h.Citation.Source
			}
			results[q.ID] = eval.FileRanking(srcs)
		}
		m := eval.Evaluate(results, qrels, 10)
		fmt.Fprintf(qs.out, "%-8s %8.3f %8.3f %10.3f   (%d queries)\n", mode, m.MRR, m.NDCG, m.Recall, m.Queries)
	}
	return nil
}
