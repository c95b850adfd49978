package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/extract"
	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tokenizer"
	"github.com/whet-dev/whet/internal/train"
)

// addPretrainCmds registers `whet tokenize train` and `whet model pretrain`
// under their parents.
func addPretrainCmds(root *cobra.Command, env *Env) {
	for _, c := range root.Commands() {
		switch c.Name() {
		case "tokenize":
			c.AddCommand(newTokenizeTrainCmd(env))
		case "model":
			c.AddCommand(newModelPretrainCmd(env))
		}
	}
}

// corpusExts are the file types corpusTexts reads.
var corpusExts = []string{".md", ".markdown", ".txt", ".html", ".htm", ".csv", ".jsonl", ".pdf", ".docx"}

// corpusTexts reads the documents under paths (files or folders, walked in
// lexical order): one text per file, except JSON-lines files whose records
// carry a "text" field, which give one text per record. Other files go
// through the extractors (HTML main content, PDF and DOCX text, CSV rows,
// chat logs rendered as conversations). Files of other types are skipped.
func corpusTexts(ctx context.Context, paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && slices.Contains(corpusExts, strings.ToLower(filepath.Ext(path))) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var texts []string
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if strings.EqualFold(filepath.Ext(f), ".jsonl") {
			recs, err := jsonlTexts(f)
			if err != nil {
				return nil, err
			}
			if len(recs) > 0 {
				texts = append(texts, recs...)
				continue
			}
		}
		doc, err := extract.ExtractFile(ctx, f, extract.Options{})
		if err != nil {
			return nil, err
		}
		if s := strings.TrimSpace(doc.Text); s != "" {
			texts = append(texts, s)
		}
	}
	return texts, nil
}

// jsonlTexts returns the "text" fields of a JSON-lines file (nil when no
// record has one).
func jsonlTexts(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var rec struct {
			Text string `json:"text"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.TrimSpace(rec.Text) != "" {
			out = append(out, rec.Text)
		}
	}
	return out, sc.Err()
}

// trainDomainTokenizer learns a byte-level BPE tokenizer of vocabSize
// tokens (the specials <|endoftext|>, <|im_start|>, <|im_end|> first) from
// texts and writes tokenizer.json, tokenizer_config.json (with chatTemplate
// when not empty) and special_tokens_map.json into out.
func trainDomainTokenizer(ctx context.Context, texts []string, vocabSize int, chatTemplate, out string) (*tokenizer.Tokenizer, error) {
	tk, err := tokenizer.Train(ctx, slices.Values(texts), tokenizer.TrainOptions{
		VocabSize: vocabSize, SpecialTokens: tokenizer.TrainedSpecialTokens(), ByteLevel: true})
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	if err := tk.Save(filepath.Join(out, "tokenizer.json")); err != nil {
		return nil, err
	}
	hc := tokenizer.DefaultHFConfig(0)
	hc.ChatTemplate = chatTemplate
	if err := tk.WriteHFConfig(out, hc); err != nil {
		return nil, err
	}
	return tk, nil
}

// chatTemplateFlag resolves --chat-template: "default" (ChatML), "none",
// or a file holding a Jinja template.
func chatTemplateFlag(v string) (string, error) {
	switch v {
	case "default", "chatml", "":
		return tokenizer.ChatMLTemplate, nil
	case "none":
		return "", nil
	}
	b, err := os.ReadFile(v)
	if err != nil {
		return "", fmt.Errorf("--chat-template: %w", err)
	}
	return string(b), nil
}

func newTokenizeTrainCmd(env *Env) *cobra.Command {
	var (
		corpus   []string
		vocab    int
		out      string
		template string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "train --corpus DIR|FILE… --vocab-size N --out DIR",
		Short: "Train a byte-level BPE tokenizer on a corpus",
		Long: `Learns a byte-level BPE tokenizer (GPT-2 style, Llama 3 pre-tokenizer) from the
documents under --corpus (.md, .txt, .html, .csv, .pdf, .docx, and .jsonl records'
"text" fields) and writes a Hugging Face tokenizer folder: tokenizer.json,
tokenizer_config.json and special_tokens_map.json. The special tokens are
<|endoftext|> (id 0: document separator, BOS and padding), <|im_start|> (1) and
<|im_end|> (2: EOS, the end of a chat turn); the chat template is ChatML unless
--chat-template says otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(corpus) == 0 || out == "" {
				return &exitError{code: 2, err: errors.New("tokenize train: --corpus and --out are required")}
			}
			tmpl, err := chatTemplateFlag(template)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("tokenize train: %w", err)}
			}
			start := time.Now()
			texts, err := corpusTexts(cmd.Context(), corpus)
			if err != nil {
				return fmt.Errorf("tokenize train: %w", err)
			}
			if len(texts) == 0 {
				return &exitError{code: 2, err: fmt.Errorf("tokenize train: no documents under %v", corpus)}
			}
			tk, err := trainDomainTokenizer(cmd.Context(), texts, vocab, tmpl, out)
			if err != nil {
				return fmt.Errorf("tokenize train: %w", err)
			}
			var bytesIn, tokens int
			for _, s := range texts {
				bytesIn += len(s)
				tokens += len(tk.Encode(s, false))
			}
			sum := struct {
				Dir           string  `json:"dir"`
				Documents     int     `json:"documents"`
				Bytes         int     `json:"bytes"`
				VocabSize     int     `json:"vocab_size"`
				Tokens        int     `json:"tokens"`
				BytesPerToken float64 `json:"bytes_per_token"`
				Seconds       float64 `json:"seconds"`
			}{out, len(texts), bytesIn, tk.VocabSize(), tokens, float64(bytesIn) / float64(max(tokens, 1)), time.Since(start).Seconds()}
			if asJSON {
				return json.NewEncoder(env.Stdout).Encode(sum)
			}
			fmt.Fprintf(env.Stdout, "wrote %s: %d tokens learned from %d documents (%.1f KB); the corpus is %d tokens, %.2f bytes/token\n",
				out, sum.VocabSize, sum.Documents, float64(sum.Bytes)/1e3, sum.Tokens, sum.BytesPerToken)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&corpus, "corpus", nil, "corpus folder or file (repeatable or comma separated)")
	f.IntVar(&vocab, "vocab-size", 4096, "vocabulary size, counting 256 byte tokens and 3 specials")
	f.StringVar(&out, "out", "", "output folder")
	f.StringVar(&template, "chat-template", "default", "chat template: default (ChatML), none, or a Jinja file")
	f.BoolVar(&asJSON, "json", false, "print a JSON summary")
	return cmd
}

// tokenizerFiles are copied with a tokenizer into model folders.
var tokenizerFiles = []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"}

// copyTokenizerFiles copies the tokenizer files present in src into dst.
func copyTokenizerFiles(src, dst string) error {
	for _, name := range tokenizerFiles {
		b, err := os.ReadFile(filepath.Join(src, name))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// sizeToTokenizer loads the tokenizer in dir and fits cfg to it: the
// vocabulary size, BOS, and as EOS ids the tokenizer's EOS and its
// <|endoftext|> (documents end with it in pretraining).
func sizeToTokenizer(cfg *llm.Config, dir string) error {
	tk, err := tokenizer.Load(dir)
	if err != nil {
		return err
	}
	cfg.VocabSize = tk.VocabSize()
	cfg.BOSTokenID = tk.BOS()
	cfg.EOSTokenIDs = nil
	if id, ok := tk.TokenToID(tokenizer.TokenEndOfText); ok {
		cfg.EOSTokenIDs = append(cfg.EOSTokenIDs, id)
	}
	if e := tk.EOS(); e >= 0 && !slices.Contains(cfg.EOSTokenIDs, e) {
		cfg.EOSTokenIDs = append(cfg.EOSTokenIDs, e)
	}
	return cfg.Validate()
}

// initModelWithTokenizer writes into out a randomly initialised f32 model
// of the preset ("small" for the quickstart) and architecture, sized to the
// tokenizer in tokDir, with the tokenizer's files: what `whet model init
// --preset P --arch A --tokenizer DIR` does.
func initModelWithTokenizer(preset, arch, tokDir, out string, seed uint64) (*llm.Model, error) {
	cfg, err := llm.Preset(preset, arch)
	if err != nil {
		return nil, err
	}
	if err := sizeToTokenizer(&cfg, tokDir); err != nil {
		return nil, err
	}
	m, err := llm.New(cfg, seed)
	if err != nil {
		return nil, err
	}
	if err := m.Save(out); err != nil {
		return nil, err
	}
	if err := copyTokenizerFiles(tokDir, out); err != nil {
		return nil, err
	}
	return m, nil
}

// baseModelOptions configure buildBaseModel; zero values take the defaults
// noted.
type baseModelOptions struct {
	VocabSize int           // tokenizer vocabulary; 0: 4096
	Preset    string        // model shape; "": "small"
	Arch      string        // "": llama
	Steps     int           // optimizer steps; 0: run for MaxTime
	MaxTime   time.Duration // pretraining wall-time bound; 0 without Steps: 90 s
	Seed      uint64
	// HoldOut is the share of documents kept out of training for a
	// held-out loss; 0 trains on every document, so that fine-tuning can
	// ask about any of them.
	HoldOut float64
}

// buildBaseModel is the quickstart's path to a model without a download:
// it trains a domain tokenizer on texts (ChatML template), initialises a
// model of the preset sized to it and pretrains it for MaxTime, in
// dir/tokenizer, dir/init and dir/base. It returns the base model folder
// (what whet train and whet generate take) and the pretraining summary.
func buildBaseModel(ctx context.Context, texts []string, dir string, o baseModelOptions, progress func(train.PretrainStats)) (string, *pretrainSummary, error) {
	if o.VocabSize <= 0 {
		o.VocabSize = 4096
	}
	if o.Preset == "" {
		o.Preset = "small"
	}
	if o.Arch == "" {
		o.Arch = "llama"
	}
	if o.MaxTime <= 0 && o.Steps <= 0 {
		o.MaxTime = 90 * time.Second
	}
	tokDir, initDir, base := filepath.Join(dir, "tokenizer"), filepath.Join(dir, "init"), filepath.Join(dir, "base")
	if _, err := trainDomainTokenizer(ctx, texts, o.VocabSize, tokenizer.ChatMLTemplate, tokDir); err != nil {
		return "", nil, fmt.Errorf("tokenizer: %w", err)
	}
	if _, err := initModelWithTokenizer(o.Preset, o.Arch, tokDir, initDir, o.Seed); err != nil {
		return "", nil, fmt.Errorf("model init: %w", err)
	}
	sum, err := pretrainModelDir(ctx, initDir, base, texts, func(c *train.PretrainConfig) {
		c.Steps, c.MaxTime, c.Epochs, c.Seed, c.EvalFraction = o.Steps, o.MaxTime, 0, o.Seed, o.HoldOut
	}, progress)
	if err != nil {
		return "", nil, fmt.Errorf("pretrain: %w", err)
	}
	return base, sum, nil
}

// pretrainSummary is what `whet model pretrain --json` prints.
type pretrainSummary struct {
	Out          string    `json:"out"`
	Documents    int       `json:"documents"`
	CorpusTokens int       `json:"corpus_tokens"`
	Parameters   int64     `json:"parameters"`
	Steps        int       `json:"steps"`
	Epochs       float64   `json:"epochs"`
	FinalLoss    float64   `json:"final_loss"`
	ValLoss      *float64  `json:"val_loss,omitempty"`
	ValPPL       *float64  `json:"val_perplexity,omitempty"`
	Tokens       int64     `json:"tokens"`
	TokensPerS   float64   `json:"tokens_per_s"`
	Seconds      float64   `json:"seconds"`
	PeakRSSMB    float64   `json:"peak_rss_mb"`
	Losses       []float64 `json:"losses,omitempty"`
	// Curve has a point per held-out measurement (--eval-every).
	Curve []pretrainPoint `json:"curve,omitempty"`
}

// pretrainPoint is the training and held-out loss at a step.
type pretrainPoint struct {
	Step    int     `json:"step"`
	Seconds float64 `json:"seconds"`
	Loss    float64 `json:"loss"`
	ValLoss float64 `json:"val_loss"`
}

// pretrainModelDir pretrains the f32 model in dir on texts (tokenized with
// the folder's tokenizer) and writes the trained model, with the tokenizer
// files, into out. adjust (may be nil) edits the default config for the
// model before the run. It is what `whet model pretrain` and the
// quickstart run.
func pretrainModelDir(ctx context.Context, dir, out string, texts []string, adjust func(*train.PretrainConfig), progress func(train.PretrainStats)) (*pretrainSummary, error) {
	m, err := llm.Load(dir, llm.LoadOptions{DType: llm.DTypeF32})
	if err != nil {
		return nil, err
	}
	tk, err := tokenizer.Load(dir)
	if err != nil {
		return nil, err
	}
	if tk.VocabSize() > m.Config.VocabSize {
		return nil, fmt.Errorf("tokenizer has %d tokens, model vocabulary %d", tk.VocabSize(), m.Config.VocabSize)
	}
	docs := make([][]int, 0, len(texts))
	n := 0
	for _, s := range texts {
		ids := tk.Encode(s, false)
		n += len(ids)
		docs = append(docs, ids)
	}
	cfg := train.DefaultPretrainConfig(m)
	if adjust != nil {
		adjust(&cfg)
	}
	pt, err := train.NewPretrainer(m, docs, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.CheckpointDir != "" {
		// An existing checkpoint of the same run is resumed.
		if err := pt.Resume(cfg.CheckpointDir); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	var curve []pretrainPoint
	st, err := pt.Run(ctx, func(st train.PretrainStats) {
		if st.HasVal {
			curve = append(curve, pretrainPoint{Step: st.Step, Seconds: st.Elapsed.Seconds(), Loss: st.Loss, ValLoss: st.ValLoss})
		}
		if progress != nil {
			progress(st)
		}
	})
	if err != nil {
		return nil, err
	}
	if err := m.Save(out); err != nil {
		return nil, err
	}
	if err := copyTokenizerFiles(dir, out); err != nil {
		return nil, err
	}
	sum := &pretrainSummary{Out: out, Documents: len(docs), CorpusTokens: n, Parameters: m.ParamCount(), Steps: st.Step,
		Epochs: st.Epoch, FinalLoss: st.Loss, Tokens: st.Tokens, TokensPerS: st.TokensPerSec, Seconds: st.Elapsed.Seconds(),
		PeakRSSMB: peakRSSMB(), Losses: pt.Losses, Curve: curve}
	if st.HasVal {
		sum.ValLoss, sum.ValPPL = &st.ValLoss, &st.ValPPL
	}
	return sum, nil
}

// pretrainBar draws a live progress line on w: step, loss, held-out loss,
// tokens/s and the time left.
func pretrainBar(w io.Writer) (func(train.PretrainStats), func()) {
	var bar *progressbar.ProgressBar
	var val string
	update := func(st train.PretrainStats) {
		if bar == nil {
			bar = progressbar.NewOptions(st.Total, progressbar.OptionSetWriter(w), progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(), progressbar.OptionShowDescriptionAtLineEnd(),
				progressbar.OptionThrottle(100*time.Millisecond))
		}
		if bar.GetMax() != st.Total {
			bar.ChangeMax(st.Total)
		}
		if st.HasVal {
			val = fmt.Sprintf(" · val %.3f (ppl %.1f)", st.ValLoss, st.ValPPL)
		}
		bar.Describe(fmt.Sprintf("loss %.3f%s · lr %.1e · %.0f tok/s · ETA %s", st.Loss, val, st.LR, st.TokensPerSec,
			st.ETA.Round(time.Second)))
		_ = bar.Set(st.Step)
	}
	done := func() {
		if bar != nil {
			_ = bar.Finish()
			fmt.Fprintln(w)
		}
	}
	return update, done
}

func newModelPretrainCmd(env *Env) *cobra.Command {
	var (
		model, out, ckptDir          string
		corpus                       []string
		seqLen, batch, micro, steps  int
		warmup, ckptEvery, evalEvery int
		epochs, lr, minLR, wd, clip  float64
		evalFrac                     float64
		maxTime                      time.Duration
		seed                         uint64
		asJSON, gradCkpt             bool
	)
	cmd := &cobra.Command{
		Use:   "pretrain --model DIR --corpus DIR|FILE… --out DIR",
		Short: "Pretrain every parameter of a (small) model on a corpus",
		Long: `Causal-LM pretraining of every weight of an f32 model folder (from whet model init)
on the documents under --corpus, tokenized with the folder's tokenizer. Documents are
wrapped in <|endoftext|> (the model's BOS/EOS), laid end to end and cut into windows of
--seq-len tokens; attention never crosses a document boundary. AdamW (no decay on
norms and biases), linear warm-up then cosine decay to --min-lr over --steps (or
--epochs passes), gradient clipping. --max-time bounds the run; the cosine then
follows the clock, so a time-bound run still ends at --min-lr. Writes a Hugging Face
model folder (config.json, model.safetensors, tokenizer files) that whet generate,
whet train and whet model merge load.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" || out == "" || len(corpus) == 0 {
				return &exitError{code: 2, err: errors.New("model pretrain: --model, --corpus and --out are required")}
			}
			texts, err := corpusTexts(cmd.Context(), corpus)
			if err != nil {
				return fmt.Errorf("model pretrain: %w", err)
			}
			if len(texts) == 0 {
				return &exitError{code: 2, err: fmt.Errorf("model pretrain: no documents under %v", corpus)}
			}
			fl := cmd.Flags()
			adjust := func(c *train.PretrainConfig) {
				c.SeqLen, c.BatchSize, c.Micro, c.Steps, c.Epochs = seqLen, batch, micro, steps, epochs
				c.LR, c.Warmup, c.MaxTime, c.Seed = lr, warmup, maxTime, seed
				if maxTime > 0 && !fl.Changed("epochs") {
					c.Epochs = 0 // the clock alone bounds the run
				}
				c.MinLR = lr / 10
				if fl.Changed("min-lr") {
					c.MinLR = minLR
				}
				c.WeightDecay, c.ClipNorm = wd, clip
				c.EvalFraction, c.EvalEvery = evalFrac, evalEvery
				c.CheckpointEvery, c.CheckpointDir = ckptEvery, ckptDir
				if ckptEvery > 0 && ckptDir == "" {
					c.CheckpointDir = filepath.Join(out, "checkpoint")
				}
				c.GradientCheckpointing = gradCkpt
			}
			var progress func(train.PretrainStats)
			done := func() {}
			if !asJSON {
				progress, done = pretrainBar(env.Stderr)
			}
			sum, err := pretrainModelDir(cmd.Context(), model, out, texts, adjust, progress)
			done()
			if err != nil {
				return fmt.Errorf("model pretrain: %w", err)
			}
			if asJSON {
				return json.NewEncoder(env.Stdout).Encode(sum)
			}
			val := ""
			if sum.ValLoss != nil {
				val = fmt.Sprintf(", held-out loss %.3f (perplexity %.1f)", *sum.ValLoss, *sum.ValPPL)
			}
			fmt.Fprintf(env.Stdout, "%d steps (%.1f epochs of %d tokens), final loss %.3f%s, %.0f tokens/s, peak RSS %.0f MB; model in %s\n",
				sum.Steps, sum.Epochs, sum.CorpusTokens, sum.FinalLoss, val, sum.TokensPerS, sum.PeakRSSMB, out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&model, "model", "", "f32 model folder with a tokenizer (whet model init --tokenizer)")
	f.StringSliceVar(&corpus, "corpus", nil, "corpus folder or file (repeatable or comma separated)")
	f.StringVar(&out, "out", "", "output model folder")
	f.IntVar(&seqLen, "seq-len", 128, "tokens per training window")
	f.IntVar(&batch, "batch-size", 4, "windows per optimizer step")
	f.IntVar(&micro, "micro-batch", 0, "windows per forward/backward pass (less memory); 0: the whole batch")
	f.IntVar(&steps, "steps", 0, "optimizer steps (0: --epochs passes over the corpus)")
	f.Float64Var(&epochs, "epochs", 1, "passes over the corpus when --steps is 0 (with --max-time: no limit unless given)")
	f.DurationVar(&maxTime, "max-time", 0, "stop after this long (e.g. 2m); the schedule follows the clock")
	f.Float64Var(&lr, "lr", 3e-3, "peak learning rate")
	f.Float64Var(&minLR, "min-lr", 0, "final learning rate of the cosine (default lr/10)")
	f.IntVar(&warmup, "warmup", 20, "linear warm-up steps")
	f.Float64Var(&wd, "weight-decay", 0.1, "AdamW weight decay on matrices")
	f.Float64Var(&clip, "clip", 1, "global gradient-norm clip (0: none)")
	f.Float64Var(&evalFrac, "eval-fraction", 0.05, "share of documents held out for a validation loss (0: none)")
	f.IntVar(&evalEvery, "eval-every", 0, "measure the held-out loss every N steps (0: at the end)")
	f.IntVar(&ckptEvery, "checkpoint-every", 0, "save a resumable checkpoint every N steps (0: never)")
	f.StringVar(&ckptDir, "checkpoint-dir", "", "checkpoint folder (default OUT/checkpoint); an existing checkpoint is resumed")
	f.BoolVar(&gradCkpt, "gradient-checkpointing", false, "recompute layer activations in backward (less memory)")
	f.Uint64Var(&seed, "seed", 0, "seed for the window order and held-out split")
	f.BoolVar(&asJSON, "json", false, "print one JSON summary instead of a progress bar")
	return cmd
}
