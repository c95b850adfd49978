package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/whet-dev/whet/internal/api"
	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/eval"
	"github.com/whet-dev/whet/internal/finetune"
	"github.com/whet-dev/whet/internal/generate"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tokenizer"
	"github.com/whet-dev/whet/internal/tokenizer/chat"
	"github.com/whet-dev/whet/internal/train"
)

// qsTraining are the quickstart's fine-tuning settings; the defaults make
// the small model learn the synthesised pairs in about two minutes on two
// cores, and tests shrink them.
type qsTraining struct {
	// SFT: rank 64 on every projection (near full rank at width 128): at
	// r=16 the adapters lack the capacity to map ~300 questions to their
	// answers (training loss stays ≈ 1.6, token F1 ≈ 0.1); lr 1e-2 at r=64
	// diverges.
	SFTRank    int
	SFTAlpha   float64
	SFTModules []string
	SFTEpochs  int
	SFTLR      float64
	// DPO from the SFT model: β 0.5 and a low rate keep the policy near
	// the SFT reference (β 0.1, lr 1e-3 for 3 epochs fitted the pairs as
	// well but lowered the answers' token F1).
	DPOEpochs int
	DPOLR     float64
	DPOBeta   float64
	// DPORPO weighs an NLL term on the chosen answers (RPO), which keeps
	// DPO from lowering their likelihood. On the quickstart's pairs DPO
	// left the training answers' token F1 at 0.93–0.95 (SFT alone 0.968)
	// with or without it, over two local and two server runs.
	DPORPO float64
	// MaxSteps caps each run (0: all epochs).
	MaxSteps int
	// Scored is how many training questions the before/after score covers.
	Scored int
}

func defaultQSTraining() qsTraining {
	return qsTraining{SFTRank: 64, SFTAlpha: 64, SFTModules: allProjections, SFTEpochs: 30, SFTLR: 5e-3, DPOEpochs: 2, DPOLR: 5e-4, DPOBeta: 0.5, DPORPO: 1, Scored: 40}
}

// givenModelQSTraining are the settings for a --base-model: a pretrained
// model of real size needs far fewer passes at PEFT's usual rates (and
// each pass costs hundreds of times more).
func givenModelQSTraining() qsTraining {
	return qsTraining{SFTRank: 16, SFTAlpha: 32, SFTModules: []string{"q_proj", "k_proj", "v_proj", "o_proj"}, SFTEpochs: 3, SFTLR: 2e-4,
		DPOEpochs: 1, DPOLR: 5e-6, DPOBeta: 0.1, DPORPO: 1, Scored: 40}
}

var allProjections = []string{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}

const (
	qsModelName = "handbook-assistant"
	qsSeqLen    = 256
)

// trainingStage fine-tunes a model on what the data stage derived: a base
// model (built here without --base-model), LoRA SFT on the synthesised
// question–answer pairs, DPO on preference pairs, the registered version
// pulled back and answers compared before and after.
func (qs *quickstart) trainingStage(ctx context.Context, projectID string, cd corpusData) error {
	tr := qs.training
	warmup := 20
	if tr.MaxSteps > 0 {
		warmup = min(warmup, max(tr.MaxSteps/5, 1))
	}
	base := qs.baseModel
	if base == "" {
		qs.step("6. Train a domain tokenizer and a small base model on the processed corpus")
		var err error
		if base, err = qs.buildBase(ctx, cd.docs); err != nil {
			return err
		}
	} else {
		qs.step("6. Base model: %s (--base-model)", base)
	}

	qs.step("7. Training data: synthesised question–answer pairs and preference pairs")
	qa, err := qs.exportRecords(ctx, cd.qa, "qa")
	if err != nil {
		return err
	}
	prefID, npairs, err := qs.preferenceData(ctx, projectID, qa, cd.mined)
	if err != nil {
		return err
	}
	fmt.Fprintf(qs.out, "instruction  %d pairs in %s\npreference   %d pairs in %s\n", len(qa), cd.qa, npairs, prefID)

	qs.step("8. LoRA SFT on the question–answer pairs (training run through the API)")
	sft, err := qs.runTraining(ctx, projectID, finetune.RunSpec{Name: "handbook-sft", BaseModel: base, Method: "sft",
		PEFT: finetune.PEFTSpec{R: tr.SFTRank, Alpha: tr.SFTAlpha, TargetModules: tr.SFTModules},
		Train: finetune.TrainSpec{DatasetID: cd.qa, Epochs: tr.SFTEpochs, LR: tr.SFTLR, BatchSize: 8, MaxSeqLen: qsSeqLen, Schedule: "cosine",
			WarmupSteps: warmup, MaxSteps: tr.MaxSteps},
		Register: &finetune.RegisterTo{ModelName: qsModelName}})
	if err != nil {
		return err
	}

	qs.step("9. DPO on the preference pairs, starting from the SFT version %s", sft.ModelVersionID)
	dpo, err := qs.runTraining(ctx, projectID, finetune.RunSpec{Name: "handbook-dpo", BaseModel: sft.ModelVersionID, Method: "dpo",
		PEFT: finetune.PEFTSpec{R: 16, Alpha: 32, TargetModules: []string{"q_proj", "k_proj", "v_proj", "o_proj"}},
		Train: finetune.TrainSpec{DatasetID: prefID, Epochs: tr.DPOEpochs, LR: tr.DPOLR, BatchSize: 8, MaxSeqLen: qsSeqLen, Beta: tr.DPOBeta, RPOAlpha: tr.DPORPO,
			MaxSteps: tr.MaxSteps},
		Register: &finetune.RegisterTo{ModelName: qsModelName}})
	if err != nil {
		return err
	}
	if h := dpo.Metrics.History; len(h) > 0 {
		first, last := h[0], h[len(h)-1]
		if first.Accuracy != nil && last.Accuracy != nil && first.Margin != nil && last.Margin != nil {
			fmt.Fprintf(qs.out, "preference accuracy %.2f → %.2f, reward margin %.3f → %.3f (first → last step)\n",
				*first.Accuracy, *last.Accuracy, *first.Margin, *last.Margin)
		}
	}

	qs.step("10. The registered model and its lineage")
	models := map[string]string{}
	for _, r := range []api.TrainingRun{sft, dpo} {
		mv, err := qs.client.GetModelVersion(ctx, r.ModelID, fmt.Sprint(r.ModelVersion))
		if err != nil {
			return err
		}
		dir := filepath.Join(qs.data, "models", fmt.Sprintf("%s-v%d", mv.ModelName, mv.Version))
		_, files, err := qs.client.PullModelVersion(ctx, mv.ModelID, fmt.Sprint(mv.Version), dir)
		if err != nil {
			return err
		}
		fmt.Fprintf(qs.out, "%s v%d (%s, %s): base %s, dataset %s@%s, template %s\n  pulled %s → %s\n", mv.ModelName, mv.Version, mv.ID,
			mv.Method, mv.BaseModel, mv.Dataset.ID, mv.Dataset.Version, short(mv.TemplateHash), strings.Join(files, " "), dir)
		models[r.Method] = dir
	}

	qs.step("11. Before and after fine-tuning (greedy decoding, questions from the training pairs)")
	return qs.beforeAfter(base, models["sft"], models["dpo"], qa)
}

// buildBase exports the processed (redacted) documents and builds the
// tokenizer and base model in DATA/base-model.
func (qs *quickstart) buildBase(ctx context.Context, docsID string) (string, error) {
	recs, err := qs.exportRecords(ctx, docsID, "documents")
	if err != nil {
		return "", err
	}
	texts := make([]string, 0, len(recs))
	for _, r := range recs {
		if strings.TrimSpace(r.Text) != "" {
			texts = append(texts, r.Text)
		}
	}
	bound := fmt.Sprintf("%d steps", qs.pretrainSteps)
	if qs.pretrainTime > 0 {
		bound += fmt.Sprintf(" or %s, whichever comes first", qs.pretrainTime)
	}
	fmt.Fprintf(qs.out, "%d processed documents; tokenizer: byte-level BPE, 4,096 tokens, ChatML template; model: preset small (Llama), pretrained for %s\n",
		len(texts), bound)
	progress, done := qs.pretrainProgress()
	dir, sum, err := buildBaseModel(ctx, texts, filepath.Join(qs.data, "base-model"), baseModelOptions{Steps: qs.pretrainSteps, MaxTime: qs.pretrainTime, Seed: 1}, progress)
	done()
	if err != nil {
		return "", err
	}
	fmt.Fprintf(qs.out, "base model %s: %.2fM parameters, %d corpus tokens, %d steps (%.1f epochs), loss %.3f, %.0f tokens/s, peak RSS %.0f MB\n",
		dir, float64(sum.Parameters)/1e6, sum.CorpusTokens, sum.Steps, sum.Epochs, sum.FinalLoss, sum.TokensPerS, sum.PeakRSSMB)
	return dir, nil
}

// pretrainProgress is a live bar on a terminal and a line every 15 s
// otherwise.
func (qs *quickstart) pretrainProgress() (func(train.PretrainStats), func()) {
	if isTerminal(qs.out) {
		return pretrainBar(qs.out)
	}
	var last time.Duration = -time.Hour
	return func(st train.PretrainStats) {
		if st.Elapsed-last < 15*time.Second {
			return
		}
		last = st.Elapsed
		fmt.Fprintf(qs.out, "  pretrain step %d · loss %.3f · %.0f tok/s · %s left\n", st.Step, st.Loss, st.TokensPerSec, st.ETA.Round(time.Second))
	}, func() {}
}

// exportRecords reads a dataset's latest version through the export API
// and keeps a copy in DATA/training/NAME.jsonl, the file `whet train
// --data` takes to repeat a stage locally.
func (qs *quickstart) exportRecords(ctx context.Context, datasetID, name string) ([]dataset.Record, error) {
	var buf bytes.Buffer
	if err := qs.client.ExportDataset(ctx, datasetID, "latest", &buf); err != nil {
		return nil, fmt.Errorf("export %s: %w", datasetID, err)
	}
	dir := filepath.Join(qs.data, "training")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".jsonl"), buf.Bytes(), 0o644); err != nil {
		return nil, err
	}
	var recs []dataset.Record
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 64<<20)
	for sc.Scan() {
		var r dataset.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("export %s: %w", datasetID, err)
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

// preferenceData makes the DPO dataset: the pairs mined from rated chats
// plus, for every extractive question, its grounded answer preferred over
// the answer to another question (a wrong-document answer, the commonest
// failure of a small model). They are uploaded as JSONL to a new preference
// dataset and processed into its first version.
func (qs *quickstart) preferenceData(ctx context.Context, projectID string, qa []dataset.Record, minedID string) (string, int, error) {
	mined, err := qs.exportRecords(ctx, minedID, "mined-preferences")
	if err != nil {
		return "", 0, err
	}
	var grounded []dataset.Record
	for _, r := range qa {
		if r.Metadata["synthesis"] != "refusal" {
			grounded = append(grounded, r)
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, r := range mined {
		r.ID = ""
		if err := enc.Encode(r); err != nil {
			return "", 0, err
		}
	}
	n := len(grounded)
	for i, r := range grounded {
		other := grounded[(i+n/2)%n]
		if n < 2 || other.Output == r.Output {
			continue
		}
		rec := dataset.Record{Prompt: r.Instruction, Chosen: r.Output, Rejected: other.Output,
			Metadata: map[string]any{"construction": "grounded answer over another question's answer", "synthesis": r.Metadata["synthesis"]}}
		if err := enc.Encode(rec); err != nil {
			return "", 0, err
		}
	}
	if err := os.WriteFile(filepath.Join(qs.data, "training", "preferences.jsonl"), buf.Bytes(), 0o644); err != nil {
		return "", 0, err
	}
	ds, err := qs.client.CreateDataset(ctx, projectID, api.DatasetCreate{Name: "handbook-preferences", Kind: "preference",
		Description: "Mined chat preferences plus grounded-over-wrong-document answer pairs"})
	if err != nil {
		return "", 0, fmt.Errorf("create dataset: %w", err)
	}
	acc, err := qs.client.Upload(ctx, ds.ID, "internal", []api.UploadFile{{Name: "preferences.jsonl", Body: bytes.NewReader(buf.Bytes())}})
	if err != nil {
		return "", 0, fmt.Errorf("upload preferences: %w", err)
	}
	if _, err := qs.wait(ctx, acc.JobID); err != nil {
		return "", 0, err
	}
	if acc, err = qs.client.ProcessDataset(ctx, ds.ID, ingest.ProcessConfig{}); err != nil {
		return "", 0, fmt.Errorf("process preferences: %w", err)
	}
	if _, err := qs.wait(ctx, acc.JobID); err != nil {
		return "", 0, err
	}
	vd, err := qs.client.DatasetVersion(ctx, ds.ID, "latest")
	if err != nil {
		return "", 0, err
	}
	fmt.Fprintf(qs.out, "mined %d + constructed %d preference pairs → %s@%s\n", len(mined), vd.Version.Items-len(mined), ds.ID, vd.Version.Version)
	return ds.ID, vd.Version.Items, nil
}

// runTraining submits a run and follows it to its end.
func (qs *quickstart) runTraining(ctx context.Context, projectID string, spec finetune.RunSpec) (api.TrainingRun, error) {
	plan, err := qs.client.PlanTrainingRun(ctx, projectID, spec)
	if err != nil {
		return api.TrainingRun{}, fmt.Errorf("plan %s: %w", spec.Name, err)
	}
	fmt.Fprintf(qs.out, "plan: %d examples, %d tokens per epoch, %d steps, estimated %s, peak memory %.0f MiB\n", plan.Examples, plan.Tokens,
		plan.Steps, time.Duration(plan.EstimatedSeconds*float64(time.Second)).Round(time.Second), planMiB(plan.PeakMemoryBytes))
	run, err := qs.client.CreateTrainingRun(ctx, projectID, spec)
	if err != nil {
		return run, fmt.Errorf("create run %s: %w", spec.Name, err)
	}
	fmt.Fprintf(qs.out, "run %s queued (job %s)\n", run.RunID, run.JobID)
	final, err := followRun(ctx, qs.client, run.RunID, qs.out, isTerminal(qs.out))
	if err != nil {
		return final, err
	}
	if final.Status != "succeeded" {
		return final, fmt.Errorf("run %s %s: %s", final.RunID, final.Status, orDash(final.Error))
	}
	h := final.Metrics.History
	if len(h) > 0 {
		fmt.Fprintf(qs.out, "run %s succeeded: %d steps, loss %.3f → %.3f, %.0f tokens/s → model version %s\n", final.RunID, final.Metrics.Step,
			h[0].Loss, final.Metrics.FinalLoss, h[len(h)-1].TokensPerS, final.ModelVersionID)
	}
	return final, nil
}

// beforeAfter answers training questions with the base model, the SFT model
// and the SFT+DPO model, prints three of them and the token F1 over up to
// Scored questions. These are questions the model was trained on: the
// figure shows that fine-tuning took, not that the model generalises.
func (qs *quickstart) beforeAfter(base, sftDir, dpoDir string, qa []dataset.Record) error {
	m, err := llm.Load(base, llm.LoadOptions{})
	if err != nil {
		return err
	}
	tk, err := tokenizer.Load(base)
	if err != nil {
		return err
	}
	tmpl, err := chat.FromTokenizerConfig(base)
	if err != nil {
		return fmt.Errorf("base model chat template: %w", err)
	}
	tuned := map[string]*llm.Model{}
	cur := m
	for _, s := range []struct{ name, dir string }{{"sft", sftDir}, {"dpo", dpoDir}} {
		a, err := llm.LoadAdapter(s.dir)
		if err != nil {
			return err
		}
		if cur, err = cur.Merge(a); err != nil {
			return fmt.Errorf("merge %s adapter: %w", s.name, err)
		}
		tuned[s.name] = cur
	}
	answer := func(mod *llm.Model, q string) (string, error) {
		text, err := tmpl.Render(chat.Input{Messages: []chat.Message{{Role: "user", Content: q}}, AddGenerationPrompt: true})
		if err != nil {
			return "", err
		}
		ids := tk.Encode(text, false)
		stops := append([]int{tk.EOS()}, mod.Config.EOSTokenIDs...)
		g := &generate.Generator{Model: mod, Tok: tk}
		res, err := g.Generate(context.Background(), generate.Request{Prompt: ids, MaxTokens: min(96, mod.MaxSeq()-len(ids)), StopTokens: stops})
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(res.Text), nil
	}
	var scored []dataset.Record
	for _, r := range qa {
		if r.Input == "" && r.Metadata["synthesis"] != "refusal" && len(scored) < qs.training.Scored {
			scored = append(scored, r)
		}
	}
	f1, em := map[string]float64{}, map[string]float64{}
	models := []struct {
		name string
		m    *llm.Model
	}{{"base", m}, {"sft", tuned["sft"]}, {"sft+dpo", tuned["dpo"]}}
	for i, r := range scored {
		var got [3]string
		for k, mm := range models {
			a, err := answer(mm.m, r.Instruction)
			if err != nil {
				return err
			}
			got[k] = a
			f1[mm.name] += eval.TokenF1(a, r.Output) / float64(len(scored))
			em[mm.name] += eval.ExactMatch(a, r.Output) / float64(len(scored))
		}
		if i < 3 {
			fmt.Fprintf(qs.out, "Q: %s\n  reference  %s\n  before     %s\n  after SFT  %s\n  after DPO  %s\n", r.Instruction, clip(r.Output, 160),
				clip(got[0], 160), clip(got[1], 160), clip(got[2], 160))
		}
	}
	fmt.Fprintf(qs.out, "over %d training questions   token F1   exact match\n", len(scored))
	for _, mm := range models {
		fmt.Fprintf(qs.out, "  %-26s %8.3f %13.3f\n", mm.name, f1[mm.name], em[mm.name])
	}
	fmt.Fprintln(qs.out, "(questions the model was trained on: this shows whether the fine-tuning took, not how well the model generalises)")
	return nil
}

// clip shortens s to n characters on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "(empty)"
	}
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// short cuts a digest ("sha256:…") to its first 12 hex digits.
func short(h string) string {
	if len(h) > 19 {
		return h[:19]
	}
	return h
}
