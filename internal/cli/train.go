package cli

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/train"
)

type trainFlags struct {
	model, data, method, peft, out, targets, schedule, dtype string
	r, epochs, batch, maxSeq, accum, warmup, ckptEvery       int
	alpha, dropout, lr, wd, clip, beta, rpoAlpha             float64
	rslora, gradCkpt, bnb8, asJSON                           bool
	seed                                                     uint64
	maxSteps                                                 int
	resume, teacher, initAdapter, replay                     string
	temperature, replayRatio                                 float64
	distillMode, valData                                     string
	maxNew, evalEvery, patience                              int
	minDelta                                                 float64
	mix                                                      []string
}

// trainSummary is what `whet train --json` prints.
type trainSummary struct {
	Steps      int     `json:"steps"`
	FinalLoss  float64 `json:"final_loss"`
	TokensPerS float64 `json:"tokens_per_s"`
	PeakRSSMB  float64 `json:"peak_rss_mb"`
	Adapter    string  `json:"adapter"`
	Margin     float64 `json:"reward_margin,omitempty"`
	Accuracy   float64 `json:"preference_accuracy,omitempty"`
	// With --val-data: the latest validation loss (and preference
	// accuracy), the best pass's step and loss, and "early_stopping" when
	// --patience ended the run (the adapter then holds the best weights).
	ValLoss     float64 `json:"val_loss,omitempty"`
	ValAccuracy float64 `json:"val_preference_accuracy,omitempty"`
	BestStep    int     `json:"best_step,omitempty"`
	BestValLoss float64 `json:"best_val_loss,omitempty"`
	Stopped     string  `json:"stopped,omitempty"`
}

func newTrainCmd(env *Env) *cobra.Command {
	var fl trainFlags
	cmd := &cobra.Command{
		Use:   "train --model DIR --data FILE.jsonl --out ADAPTER_DIR",
		Short: "Fine-tune a local model with LoRA/QLoRA (SFT, DPO or IPO) and write a PEFT adapter",
		Long: `Trains LoRA adapters in-process on a Hugging Face model folder. SFT records are
{"instruction","input","output"} or {"messages":[…]} (rendered with the model's chat
template when it has one, else a plain "### Instruction/### Response" format; loss on
the final assistant answer only). DPO/IPO records are {"prompt","chosen","rejected"}.
--peft qlora stores the frozen base in NF4 (--bnb-8bit: int8). The output folder holds
adapter_config.json and adapter_model.safetensors (PEFT layout) and whet_manifest.json
(template hash, dataset digest, config, metrics).

--mix FILE=WEIGHT (repeatable) trains on several SFT files at once, each drawn in
proportion to its weight (--data counts as weight 1). --method distill matches the
teacher's logits (--distill-mode logits) or trains on the teacher's greedy answers to
the records' prompts (--distill-mode sequence). --val-data evaluates a held-out file
every --eval-every steps (default once per epoch); --patience N stops after N passes
without a better validation loss and keeps the best weights.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runTrain(cmd, env, &fl) },
	}
	f := cmd.Flags()
	f.StringVar(&fl.model, "model", "", "model folder (required)")
	f.StringVar(&fl.data, "data", "", "training records, JSON lines (required unless --mix)")
	f.StringArrayVar(&fl.mix, "mix", nil, "sft/distill: FILE=WEIGHT, a weighted task of a multi-task mix (repeatable; --data has weight 1)")
	f.StringVar(&fl.valData, "val-data", "", "validation records, JSON lines (same kind as --data)")
	f.IntVar(&fl.evalEvery, "eval-every", 0, "optimizer steps between validation passes (0: once per epoch)")
	f.IntVar(&fl.patience, "patience", 0, "early stopping: passes without a better validation loss before stopping (0: off)")
	f.Float64Var(&fl.minDelta, "min-delta", 0, "early stopping: least validation-loss decrease that counts as better")
	f.StringVar(&fl.method, "method", "sft", "sft, dpo, ipo or distill")
	f.StringVar(&fl.teacher, "teacher", "", "distill: teacher model folder (same vocabulary)")
	f.Float64Var(&fl.temperature, "temperature", 2, "distill: softmax temperature")
	f.StringVar(&fl.distillMode, "distill-mode", "logits", "distill: logits (KL to the teacher's distributions) or sequence (SFT on the teacher's greedy answers)")
	f.IntVar(&fl.maxNew, "max-new-tokens", 256, "distill --distill-mode sequence: longest teacher answer")
	f.StringVar(&fl.peft, "peft", "lora", "lora or qlora")
	f.StringVar(&fl.out, "out", "", "adapter output folder (required)")
	f.IntVar(&fl.r, "r", 8, "LoRA rank")
	f.Float64Var(&fl.alpha, "alpha", 16, "LoRA alpha")
	f.Float64Var(&fl.dropout, "dropout", 0.05, "LoRA dropout")
	f.BoolVar(&fl.rslora, "rslora", false, "scale by alpha/sqrt(r)")
	f.StringVar(&fl.targets, "target-modules", "q_proj,v_proj", "comma-separated modules: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj")
	f.IntVar(&fl.epochs, "epochs", 1, "passes over the data")
	f.Float64Var(&fl.lr, "lr", 2e-4, "peak learning rate")
	f.StringVar(&fl.schedule, "schedule", "linear", "linear, cosine or constant")
	f.IntVar(&fl.warmup, "warmup", 0, "warm-up steps")
	f.Float64Var(&fl.wd, "weight-decay", 0, "AdamW decoupled weight decay")
	f.Float64Var(&fl.clip, "max-grad-norm", 1, "global gradient norm clip (0: none)")
	f.IntVar(&fl.batch, "batch-size", 4, "examples packed per micro-batch")
	f.IntVar(&fl.maxSeq, "max-seq-len", 512, "tokens per example")
	f.IntVar(&fl.accum, "grad-accum", 1, "micro-batches per optimizer step")
	f.BoolVar(&fl.gradCkpt, "gradient-checkpointing", false, "recompute layer activations in backward")
	f.Float64Var(&fl.beta, "beta", 0.1, "DPO beta or IPO tau")
	f.Float64Var(&fl.rpoAlpha, "rpo-alpha", 0, "dpo/ipo: weight of an NLL term on the chosen answers (RPO; keeps their likelihood from falling)")
	f.BoolVar(&fl.bnb8, "bnb-8bit", false, "qlora: int8 base instead of NF4")
	f.StringVar(&fl.dtype, "dtype", "f32", "lora: base weight format (f32 or bf16)")
	f.Uint64Var(&fl.seed, "seed", 42, "random seed (same seed, config and threads: same loss curve)")
	f.IntVar(&fl.ckptEvery, "checkpoint-every", 0, "save a resumable checkpoint into OUT/checkpoint every N steps")
	f.StringVar(&fl.resume, "resume", "", "resume from a checkpoint folder")
	f.StringVar(&fl.initAdapter, "init-adapter", "", "continual run: start from this PEFT adapter folder (same r and modules)")
	f.StringVar(&fl.replay, "replay", "", "continual run: older SFT records (JSON lines) to mix in")
	f.Float64Var(&fl.replayRatio, "replay-ratio", 0.3, "share of replay records in the mixed data")
	f.IntVar(&fl.maxSteps, "max-steps", 0, "stop after N optimizer steps (0: all epochs)")
	f.BoolVar(&fl.asJSON, "json", false, "print one JSON summary instead of a progress bar")
	return cmd
}

func runTrain(cmd *cobra.Command, env *Env, fl *trainFlags) error {
	usage := func(format string, a ...any) error { return &exitError{code: 2, err: fmt.Errorf(format, a...)} }
	if fl.model == "" || (fl.data == "" && len(fl.mix) == 0) || fl.out == "" {
		return usage("train: --model DIR, --data FILE (or --mix FILE=WEIGHT) and --out DIR are required")
	}
	preference := fl.method == "dpo" || fl.method == "ipo"
	switch {
	case preference && len(fl.mix) > 0:
		return usage("train: --mix takes SFT records; --method %s trains on one --data file of preference pairs", fl.method)
	case fl.distillMode != "logits" && fl.distillMode != "sequence":
		return usage("train: --distill-mode %q (want logits or sequence)", fl.distillMode)
	case fl.distillMode == "sequence" && fl.method != "distill":
		return usage("train: --distill-mode sequence needs --method distill")
	case fl.method == "distill" && fl.teacher == "":
		return usage("train: --method distill needs --teacher DIR")
	case fl.patience > 0 && fl.valData == "":
		return usage("train: --patience needs --val-data FILE")
	case fl.bnb8 && fl.peft != "qlora":
		return usage("train: --bnb-8bit needs --peft qlora (it picks the int8 base of QLoRA)")
	}
	inputs, err := parseMixFlags(fl)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	dtype := fl.dtype
	switch fl.peft {
	case "lora":
	case "qlora":
		dtype = llm.DTypeNF4
		if fl.bnb8 {
			dtype = llm.DTypeInt8
		}
	default:
		return usage("train: --peft %q (want lora or qlora)", fl.peft)
	}
	if err := resolveModelFlag(cmd, env, &fl.model); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	m, err := llm.Load(fl.model, llm.LoadOptions{DType: dtype})
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	_, fm, templateHash, err := finetune.NewFormatter(fl.model, fl.maxSeq)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	digest := sha256.New()
	for i := range inputs {
		if err := inputs[i].read(); err != nil {
			return err
		}
		if len(inputs) > 1 || fl.data == "" {
			fmt.Fprintf(digest, "%s %g\n", inputs[i].digest, inputs[i].weight)
		}
	}
	datasetDigest := inputs[0].digest
	if len(inputs) > 1 || fl.data == "" {
		datasetDigest = "sha256:" + hex.EncodeToString(digest.Sum(nil))
	}
	var teacher *llm.Model
	method := fl.method
	if method == "distill" {
		if teacher, err = llm.Load(fl.teacher, llm.LoadOptions{DType: llm.DTypeF32}); err != nil {
			return fmt.Errorf("train: teacher: %w", err)
		}
		if err := train.CheckTeacher(m, teacher); err != nil {
			return &exitError{code: 2, err: err}
		}
		method = "sft"
	}
	cfg := train.Config{Method: method, Epochs: fl.epochs, BatchSize: fl.batch, GradAccum: fl.accum, LR: fl.lr,
		Schedule: fl.schedule, Warmup: fl.warmup, WeightDecay: fl.wd, ClipNorm: fl.clip, Seed: fl.seed, Beta: fl.beta, ChosenNLL: fl.rpoAlpha,
		GradientCheckpointing: fl.gradCkpt, CheckpointEvery: fl.ckptEvery, MaxSteps: fl.maxSteps,
		EvalEvery: fl.evalEvery, Patience: fl.patience, MinDelta: fl.minDelta,
		LoRA: llm.LoRAConfig{R: fl.r, Alpha: fl.alpha, Dropout: fl.dropout, RSLoRA: fl.rslora, Targets: splitList(fl.targets)}}
	if fl.ckptEvery > 0 {
		cfg.CheckpointDir = filepath.Join(fl.out, "checkpoint")
	}
	run, err := train.NewRun(m, cfg)
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	if fl.initAdapter != "" {
		a, err := llm.LoadAdapter(fl.initAdapter)
		if err != nil {
			return fmt.Errorf("train: %w", err)
		}
		if err := run.InitFromAdapter(a); err != nil {
			return err
		}
	}
	if fl.resume != "" {
		if err := run.Resume(fl.resume); err != nil {
			return err
		}
	}
	var bar *progressbar.ProgressBar
	progress := func(st train.Stats) {
		if fl.asJSON {
			return
		}
		if bar == nil {
			bar = progressbar.NewOptions(st.Total, progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetWidth(30),
				progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true),
				progressbar.OptionShowDescriptionAtLineEnd(), progressbar.OptionThrottle(100*time.Millisecond))
		}
		tps := float64(st.Tokens) / max(st.Elapsed.Seconds(), 1e-9)
		desc := fmt.Sprintf("loss %.4f · %.0f tok/s", st.Loss, tps)
		if st.BestStep > 0 {
			desc = fmt.Sprintf("loss %.4f · val %.4f (best %.4f @%d) · %.0f tok/s", st.Loss, st.ValLoss, st.BestValLoss, st.BestStep, tps)
		}
		if st.Stopped != "" {
			desc += " · stopped early"
		}
		bar.Describe(desc)
		_ = bar.Set(st.Step)
	}
	var st train.Stats
	if preference {
		toPairs := func(name string, recs []train.Record) ([]train.Pair, error) {
			var pairs []train.Pair
			for i, r := range recs {
				p, err := fm.Preference(r)
				if err != nil {
					return nil, fmt.Errorf("train: %s record %d: %w", name, i+1, err)
				}
				pairs = append(pairs, p)
			}
			return pairs, nil
		}
		pairs, err := toPairs(inputs[0].path, inputs[0].recs)
		if err != nil {
			return err
		}
		if fl.valData != "" {
			recs, err := readRecords(fl.valData)
			if err != nil {
				return err
			}
			val, err := toPairs(fl.valData, recs)
			if err != nil {
				return err
			}
			run.SetValidationPairs(val)
		}
		st, err = run.Preference(cmd.Context(), pairs, progress)
	} else {
		toExamples := func(name string, recs []train.Record) ([]train.Example, error) {
			if fl.distillMode == "sequence" {
				return teacherExamples(cmd, env, fl, teacher, fm, name, recs)
			}
			var exs []train.Example
			for i, r := range recs {
				ex, err := fm.SFT(r)
				if err != nil {
					return nil, fmt.Errorf("train: %s record %d: %w", name, i+1, err)
				}
				exs = append(exs, ex)
			}
			return exs, nil
		}
		sets := make([][]train.Example, len(inputs))
		weights := make([]float64, len(inputs))
		for i, in := range inputs {
			if sets[i], err = toExamples(in.path, in.recs); err != nil {
				return err
			}
			weights[i] = in.weight
		}
		exs := sets[0]
		if len(sets) > 1 || weights[0] != 1 {
			if exs, err = train.MixWeighted(sets, weights, 0, fl.seed); err != nil {
				return &exitError{code: 2, err: err}
			}
		}
		if fl.replay != "" {
			old, err := readSFT(fl.replay, fm)
			if err != nil {
				return err
			}
			exs = train.MixReplay(exs, old, fl.replayRatio, fl.seed)
		}
		if fl.valData != "" {
			recs, err := readRecords(fl.valData)
			if err != nil {
				return err
			}
			val, err := toExamples(fl.valData, recs)
			if err != nil {
				return err
			}
			run.SetValidation(val)
		}
		if fl.method == "distill" && fl.distillMode == "logits" {
			st, err = run.Distill(cmd.Context(), exs, teacher, float32(fl.temperature), progress)
		} else {
			st, err = run.SFT(cmd.Context(), exs, progress)
		}
	}
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(env.Stderr)
	}
	if err != nil {
		return err
	}
	p := run.Params()
	if err := llm.SaveAdapter(fl.out, p.Adapter(fl.model), fl.dropout); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	sumOut := trainSummary{Steps: st.Step, FinalLoss: st.Loss, TokensPerS: float64(st.Tokens) / max(st.Elapsed.Seconds(), 1e-9),
		PeakRSSMB: peakRSSMB(), Adapter: fl.out, Margin: st.Margin, Accuracy: st.Accuracy,
		ValLoss: st.ValLoss, ValAccuracy: st.ValAccuracy, BestStep: st.BestStep, BestValLoss: st.BestValLoss, Stopped: st.Stopped}
	manifest := map[string]any{
		"template_hash": templateHash, "dataset_digest": datasetDigest,
		"config": cfg, "base_dtype": dtype, "metrics": sumOut, "losses": run.Losses,
	}
	if len(inputs) > 1 || fl.data == "" {
		manifest["mix"] = inputs
	}
	if fl.method == "distill" {
		manifest["distill_mode"] = fl.distillMode
	}
	mb, _ := json.MarshalIndent(manifest, "", "  ")
	if err := os.WriteFile(filepath.Join(fl.out, "whet_manifest.json"), append(mb, '\n'), 0o644); err != nil {
		return fmt.Errorf("train: manifest: %w", err)
	}
	if fl.asJSON {
		return json.NewEncoder(env.Stdout).Encode(sumOut)
	}
	fmt.Fprintf(env.Stdout, "%d steps, final loss %.4f, %.0f tokens/s, peak RSS %.0f MB; adapter in %s\n",
		sumOut.Steps, sumOut.FinalLoss, sumOut.TokensPerS, sumOut.PeakRSSMB, fl.out)
	if st.BestStep > 0 {
		fmt.Fprintf(env.Stdout, "validation loss %.4f, best %.4f at step %d\n", st.ValLoss, st.BestValLoss, st.BestStep)
	}
	if st.Stopped != "" {
		fmt.Fprintf(env.Stdout, "stopped early (%s); the adapter holds the weights of step %d\n", st.Stopped, st.BestStep)
	}
	return nil
}

// trainInput is one training file and its weight in the mix.
type trainInput struct {
	path   string
	weight float64
	digest string // "sha256:…" of the file
	recs   []train.Record
}

// MarshalJSON describes the input in the adapter manifest.
func (in trainInput) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]any{"file": in.path, "weight": in.weight, "digest": in.digest})
}

func (in *trainInput) read() error {
	raw, err := os.ReadFile(in.path)
	if err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if in.recs, err = train.ParseRecords(bytes.NewReader(raw)); err != nil {
		return fmt.Errorf("train: %s: %w", in.path, err)
	}
	sum := sha256.Sum256(raw)
	in.digest = "sha256:" + hex.EncodeToString(sum[:])
	return nil
}

// parseMixFlags returns --data (weight 1) and the --mix FILE=WEIGHT inputs.
func parseMixFlags(fl *trainFlags) ([]trainInput, error) {
	var out []trainInput
	if fl.data != "" {
		out = append(out, trainInput{path: fl.data, weight: 1})
	}
	for _, s := range fl.mix {
		i := strings.LastIndexByte(s, '=')
		if i <= 0 {
			return nil, fmt.Errorf("train: --mix %q: want FILE=WEIGHT", s)
		}
		w, err := strconv.ParseFloat(s[i+1:], 64)
		if err != nil || w < 0 || math.IsInf(w, 0) || math.IsNaN(w) {
			return nil, fmt.Errorf("train: --mix %q: the weight must be a number ≥ 0", s)
		}
		out = append(out, trainInput{path: s[:i], weight: w})
	}
	return out, nil
}

// readRecords reads a JSON-lines file of training records.
func readRecords(path string) ([]train.Record, error) {
	in := trainInput{path: path}
	if err := in.read(); err != nil {
		return nil, err
	}
	return in.recs, nil
}

// teacherExamples is sequence-level distillation's data: the SFT examples
// of the records' prompts with the teacher's greedy answers as targets.
func teacherExamples(cmd *cobra.Command, env *Env, fl *trainFlags, teacher *llm.Model, fm train.Formatter, name string, recs []train.Record) ([]train.Example, error) {
	prompts := make([][]int, len(recs))
	for i, r := range recs {
		p, err := fm.PromptTokens(r)
		if err != nil {
			return nil, fmt.Errorf("train: %s record %d: %w", name, i+1, err)
		}
		prompts[i] = p
	}
	var stops []int
	gc, _ := llm.LoadGenerationConfig(fl.teacher)
	for _, id := range slices.Concat(teacher.Config.EOSTokenIDs, gc.EOSTokenIDs, []int{fm.EOS}) {
		if id >= 0 && !slices.Contains(stops, id) {
			stops = append(stops, id)
		}
	}
	var bar *progressbar.ProgressBar
	if !fl.asJSON {
		bar = progressbar.NewOptions(len(prompts), progressbar.OptionSetWriter(env.Stderr), progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(), progressbar.OptionSetDescription("teacher answers "+filepath.Base(name)),
			progressbar.OptionThrottle(100*time.Millisecond))
	}
	answers, err := train.DistillSequences(cmd.Context(), teacher, prompts, fl.maxNew, stops, func(done, total int) {
		if bar != nil {
			_ = bar.Set(done)
		}
	})
	if bar != nil {
		_ = bar.Finish()
		fmt.Fprintln(env.Stderr)
	}
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", name, err)
	}
	exs := make([]train.Example, len(prompts))
	for i := range prompts {
		if exs[i], err = train.FromPromptResponse(prompts[i], answers[i], fm.MaxLen); err != nil {
			return nil, fmt.Errorf("train: %s record %d: teacher answer: %w", name, i+1, err)
		}
	}
	return exs, nil
}

// readSFT reads and formats SFT records from a JSON-lines file.
func readSFT(path string, fm train.Formatter) ([]train.Example, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	defer f.Close()
	recs, err := train.ParseRecords(f)
	if err != nil {
		return nil, fmt.Errorf("train: %s: %w", path, err)
	}
	var out []train.Example
	for i, r := range recs {
		ex, err := fm.SFT(r)
		if err != nil {
			return nil, fmt.Errorf("train: %s record %d: %w", path, i+1, err)
		}
		out = append(out, ex)
	}
	return out, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// peakRSSMB reads the process's peak resident set (VmHWM) on Linux; 0
// elsewhere.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

// newModelMergeCmd is `whet model merge`: fold an adapter into its base.
func newModelMergeCmd(env *Env) *cobra.Command {
	var base, adapter, out string
	cmd := &cobra.Command{
		Use:   "merge --base DIR --adapter DIR --out DIR",
		Short: "Fold a PEFT LoRA adapter into its base model (W + scale·B·A) and write a full model folder",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if base == "" || adapter == "" || out == "" {
				return &exitError{code: 2, err: errors.New("model merge: --base, --adapter and --out are required")}
			}
			if err := resolveModelFlag(cmd, env, &base); err != nil {
				return fmt.Errorf("model merge: %w", err)
			}
			m, err := llm.Load(base, llm.LoadOptions{DType: llm.DTypeF32})
			if err != nil {
				return fmt.Errorf("model merge: %w", err)
			}
			a, err := llm.LoadAdapter(adapter)
			if err != nil {
				return fmt.Errorf("model merge: %w", err)
			}
			merged, err := m.Merge(a)
			if err != nil {
				return fmt.Errorf("model merge: %w", err)
			}
			if err := merged.Save(out); err != nil {
				return fmt.Errorf("model merge: %w", err)
			}
			for _, name := range []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"} {
				b, err := os.ReadFile(filepath.Join(base, name))
				if err != nil {
					continue
				}
				if err := os.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
					return fmt.Errorf("model merge: %w", err)
				}
			}
			fmt.Fprintf(env.Stdout, "merged %d adapted modules into %s\n", len(a.Modules), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&base, "base", "", "base model folder")
	cmd.Flags().StringVar(&adapter, "adapter", "", "PEFT LoRA adapter folder")
	cmd.Flags().StringVar(&out, "out", "", "output model folder")
	return cmd
}

// addTrainCmds registers `whet train`, `whet bench train` and `whet model merge`.
func addTrainCmds(root *cobra.Command, env *Env) {
	root.AddCommand(newTrainCmd(env))
	benchParent(root).AddCommand(newBenchTrainCmd(env))
	for _, c := range root.Commands() {
		if c.Name() == "model" {
			c.AddCommand(newModelMergeCmd(env))
		}
	}
}
