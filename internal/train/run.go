package train

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/whet-dev/whet/internal/llm"
)

// Config is one training run's settings. Zero values take the defaults
// noted.
type Config struct {
	Method      string // "sft" (default), "dpo" or "ipo"
	LoRA        llm.LoRAConfig
	Epochs      int     // 0: 1
	BatchSize   int     // examples (or preference pairs) per micro-batch, packed; 0: 1
	GradAccum   int     // micro-batches per optimizer step; 0: 1
	LR          float64 // peak learning rate
	Schedule    string  // "linear" (default), "cosine" or "constant"
	Warmup      int     // warm-up steps
	WeightDecay float64
	ClipNorm    float64 // global gradient norm limit; 0: none
	Seed        uint64
	// Beta is DPO's β (default 0.1) or IPO's τ (default 0.1).
	Beta float64
	// ChosenNLL adds ChosenNLL × the chosen answer's mean per-token
	// negative log-likelihood to each pair's DPO or IPO training loss (RPO,
	// TRL's rpo_alpha; 0: none). Plain DPO lowers the likelihood of the
	// chosen answers too and can degrade greedy generation; the term keeps
	// them likely. Validation passes report the preference loss alone.
	ChosenNLL             float64
	GradientCheckpointing bool
	// CheckpointEvery saves adapters, optimizer state and position into
	// CheckpointDir every that many steps (0: never).
	CheckpointEvery int
	CheckpointDir   string
	// MaxSteps stops after that many optimizer steps (0: all epochs); the
	// schedule still spans all epochs.
	MaxSteps int
	// EvalEvery runs a validation pass every that many optimizer steps
	// when a validation set is given (SetValidation, SetValidationPairs);
	// 0: once per epoch, after the step that completes it.
	EvalEvery int
	// Patience stops the run after that many consecutive validation
	// passes without a new best validation loss (0: never stop early). A
	// new best must beat the previous one by more than MinDelta. When the
	// run stops early the adapters are restored to the weights of the best
	// validation pass, so the saved adapter is the best one seen; a run
	// that completes its schedule keeps its final weights.
	Patience int
	MinDelta float64
}

func (c *Config) defaults() {
	c.Epochs, c.BatchSize, c.GradAccum = max(c.Epochs, 1), max(c.BatchSize, 1), max(c.GradAccum, 1)
	if c.Method == "" {
		c.Method = "sft"
	}
	if c.Beta == 0 {
		c.Beta = 0.1
	}
}

// Stats reports progress after an optimizer step.
type Stats struct {
	Step, Total int
	Loss        float64 // mean over the step's micro-batches
	LR          float64
	GradNorm    float64
	Tokens      int64 // tokens processed so far in this process
	Elapsed     time.Duration
	// Preference methods: mean reward margin β·(Δchosen − Δrejected) and
	// the share of pairs whose chosen answer has the higher implicit reward.
	Margin, Accuracy float64

	// Evaluated is true when this step ran a validation pass. ValLoss and
	// ValAccuracy (preference methods) are that pass's results; on steps
	// without one they repeat the latest pass's (0 before the first).
	Evaluated   bool
	ValLoss     float64
	ValAccuracy float64
	// BestStep is the step of the best validation pass so far (0: none)
	// and BestValLoss its loss.
	BestStep    int
	BestValLoss float64
	// Stopped is "early_stopping" in the last stats of a run that stopped
	// early (StopEarly); the adapters then hold BestStep's weights.
	Stopped string
}

// StopEarly is Stats.Stopped for a run ended by early stopping.
const StopEarly = "early_stopping"

// Run is one fine-tuning run of a model's LoRA adapters.
type Run struct {
	cfg    Config
	tr     *llm.Trainer
	p      *llm.LoRAParams
	step   int // optimizer steps done
	Losses []float64

	val      []Example // SFT and distillation validation set
	valPairs []Pair    // preference validation set
	es       earlyStop
}

// NewRun creates adapters for m (seeded by cfg.Seed).
func NewRun(m *llm.Model, cfg Config) (*Run, error) {
	cfg.defaults()
	switch cfg.Method {
	case "sft", "dpo", "ipo":
	default:
		return nil, fmt.Errorf("train: method %q (want sft, dpo or ipo)", cfg.Method)
	}
	if cfg.LR <= 0 {
		return nil, fmt.Errorf("train: learning rate must be > 0")
	}
	p, err := llm.NewLoRAParams(m, cfg.LoRA, cfg.Seed)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	tr := llm.NewTrainer(m, p)
	tr.Checkpoint = cfg.GradientCheckpointing
	return &Run{cfg: cfg, tr: tr, p: p, es: earlyStop{best: math.Inf(1)}}, nil
}

// Params returns the adapters being trained.
func (r *Run) Params() *llm.LoRAParams { return r.p }

// Step returns the number of optimizer steps done.
func (r *Run) Step() int { return r.step }

// order returns the example order of an epoch (seeded).
func (r *Run) order(n, epoch int) []int {
	rng := rand.New(rand.NewPCG(r.cfg.Seed, uint64(epoch)+0x5eed))
	return rng.Perm(n)
}

// microBatch returns the example indices of global micro-batch k.
func (r *Run) microBatch(n, k int) []int {
	per := (n + r.cfg.BatchSize - 1) / r.cfg.BatchSize
	epoch, i := k/per, k%per
	ord := r.order(n, epoch)
	return ord[i*r.cfg.BatchSize : min((i+1)*r.cfg.BatchSize, n)]
}

// totalSteps is the number of optimizer steps of all epochs.
func (r *Run) totalSteps(n int) int {
	per := (n + r.cfg.BatchSize - 1) / r.cfg.BatchSize
	return (per*r.cfg.Epochs + r.cfg.GradAccum - 1) / r.cfg.GradAccum
}

// pack concatenates examples into one batch of documents.
func pack(exs []Example) *llm.Batch {
	b := &llm.Batch{}
	for _, e := range exs {
		b.Tokens = append(b.Tokens, e.Tokens...)
		b.Targets = append(b.Targets, e.Targets...)
		b.Docs = append(b.Docs, len(e.Tokens))
	}
	return b
}

// SFT trains on examples (loss on their unmasked targets) and returns the
// final step's stats. progress (may be nil) is called after every step.
func (r *Run) SFT(ctx context.Context, examples []Example, progress func(Stats)) (Stats, error) {
	if len(examples) == 0 {
		return Stats{}, fmt.Errorf("%w: no examples", ErrData)
	}
	eval, err := r.exampleEval(nil, 0)
	if err != nil {
		return Stats{}, err
	}
	return r.loop(ctx, len(examples), progress, eval, func(idx []int, seed uint64) (float64, float64, float64, int, error) {
		exs := make([]Example, len(idx))
		for i, j := range idx {
			exs[i] = examples[j]
		}
		b := pack(exs)
		logp, err := r.tr.Forward(b, llm.ForwardOptions{Seed: seed, Dropout: true})
		if err != nil {
			return 0, 0, 0, 0, err
		}
		dloss := make([]float32, len(b.Tokens))
		loss := llm.MaskedMeanLoss(dloss, logp, b.Targets)
		scaleSlice(dloss, 1/float32(r.cfg.GradAccum))
		return loss, 0, 0, len(b.Tokens), r.tr.Backward(dloss)
	})
}

// Distill trains the adapters to match teacher's next-token distributions
// (logit KL at temperature tau) on the unmasked rows of examples. The
// teacher must share the student's vocabulary; its logits are computed per
// micro-batch, so only one batch of them is held at a time.
func (r *Run) Distill(ctx context.Context, examples []Example, teacher *llm.Model, tau float32, progress func(Stats)) (Stats, error) {
	if len(examples) == 0 {
		return Stats{}, fmt.Errorf("%w: no examples", ErrData)
	}
	if err := CheckTeacher(r.tr.Model(), teacher); err != nil {
		return Stats{}, err
	}
	eval, err := r.exampleEval(teacher, tau)
	if err != nil {
		return Stats{}, err
	}
	return r.loop(ctx, len(examples), progress, eval, func(idx []int, seed uint64) (float64, float64, float64, int, error) {
		exs := make([]Example, len(idx))
		for i, j := range idx {
			exs[i] = examples[j]
		}
		loss, tokens, err := r.distillMicro(exs, teacher, tau, seed)
		return loss, 0, 0, tokens, err
	})
}

// distillMicro runs one distillation micro-batch forward and backward
// (adding to the gradients) and returns its mean KL and token count.
func (r *Run) distillMicro(exs []Example, teacher *llm.Model, tau float32, seed uint64) (float64, int, error) {
	soft, err := teacherRows(teacher, exs)
	if err != nil {
		return 0, 0, err
	}
	b := pack(exs)
	b.Teacher, b.Temperature = soft, tau
	negkl, err := r.tr.Forward(b, llm.ForwardOptions{Seed: seed, Dropout: true})
	if err != nil {
		return 0, 0, err
	}
	dloss := make([]float32, len(b.Tokens))
	loss := llm.MaskedMeanLoss(dloss, negkl, b.Targets)
	scaleSlice(dloss, 1/float32(r.cfg.GradAccum))
	return loss, len(b.Tokens), r.tr.Backward(dloss)
}

// CheckTeacher reports whether teacher can distil into student: the
// teacher must share the student's tokenizer, which whet checks as an
// identical vocabulary size (token ids and logit rows must line up).
func CheckTeacher(student, teacher *llm.Model) error {
	if sv, tv := student.Config.VocabSize, teacher.Config.VocabSize; sv != tv {
		return fmt.Errorf("train: distill: teacher vocabulary %d, student %d: the teacher must share the student's tokenizer and vocabulary size", tv, sv)
	}
	return nil
}

// teacherRows returns the teacher's logits [V] for every row of exs that
// has a target, in order (Batch.Teacher for pack(exs)).
func teacherRows(teacher *llm.Model, exs []Example) ([]float32, error) {
	V := teacher.Config.VocabSize
	var soft []float32
	for _, ex := range exs {
		lg, err := teacher.Forward(ex.Tokens, 0, nil)
		if err != nil {
			return nil, fmt.Errorf("teacher: %w", err)
		}
		for t, tg := range ex.Targets {
			if tg >= 0 {
				soft = append(soft, lg[t*V:(t+1)*V]...)
			}
		}
	}
	return soft, nil
}

func scaleSlice(v []float32, s float32) {
	for i := range v {
		v[i] *= s
	}
}

// seqLogp sums logp over each document's unmasked rows.
func seqLogp(logp []float32, b *llm.Batch) []float64 {
	out := make([]float64, len(b.Docs))
	r := 0
	for d, n := range b.Docs {
		for i := 0; i < n; i++ {
			if b.Targets[r] >= 0 {
				out[d] += float64(logp[r])
			}
			r++
		}
	}
	return out
}

// Preference trains with DPO or IPO on pairs. The reference log-probs come
// from the same model with the adapters switched off.
func (r *Run) Preference(ctx context.Context, pairs []Pair, progress func(Stats)) (Stats, error) {
	if len(pairs) == 0 {
		return Stats{}, fmt.Errorf("%w: no preference pairs", ErrData)
	}
	eval, err := r.pairEval()
	if err != nil {
		return Stats{}, err
	}
	return r.loop(ctx, len(pairs), progress, eval, func(idx []int, seed uint64) (float64, float64, float64, int, error) {
		ps := make([]Pair, len(idx))
		for i, j := range idx {
			ps[i] = pairs[j]
		}
		return r.preferenceMicro(ps, seed)
	})
}

// preferenceMicro runs one DPO or IPO micro-batch of pairs forward and
// backward (adding to the gradients) and returns its mean loss, mean
// reward margin, accuracy and token count.
func (r *Run) preferenceMicro(ps []Pair, seed uint64) (loss, margin, acc float64, tokens int, err error) {
	b, h, pol, err := r.preferenceMargins(ps, llm.ForwardOptions{Seed: seed, Dropout: true})
	if err != nil {
		return 0, 0, 0, 0, err
	}
	coef := make([]float64, len(b.Docs)) // d loss / d logp(doc)
	beta, np := r.cfg.Beta, float64(len(ps))
	for i, h := range h {
		l, dh := r.prefLoss(h)
		loss += l
		coef[2*i], coef[2*i+1] = dh/np, -dh/np
		if a := r.cfg.ChosenNLL; a > 0 {
			n := 0
			for _, tg := range ps[i].Chosen.Targets {
				if tg >= 0 {
					n++
				}
			}
			loss -= a * pol[2*i] / float64(n)
			coef[2*i] -= a / float64(n) / np
		}
		margin += beta * h
		if h > 0 {
			acc++
		}
	}
	// loss_t = −logp_t, so d objective / d loss_t = −coef(doc).
	dloss := make([]float32, len(b.Tokens))
	row := 0
	for d, n := range b.Docs {
		for k := 0; k < n; k++ {
			if b.Targets[row] >= 0 {
				dloss[row] = float32(-coef[d] / float64(r.cfg.GradAccum))
			}
			row++
		}
	}
	return loss / np, margin / np, acc / np, len(b.Tokens), r.tr.Backward(dloss)
}

// preferenceMargins packs pairs (chosen, rejected, …) and returns the batch,
// each pair's h = (log π(chosen) − log π_ref(chosen)) − (log π(rejected)
// − log π_ref(rejected)) and the policy's sequence log-probs log π(doc) in
// batch order; the policy forward (opt) is the last one run, so Backward
// may follow when opt is a training forward.
func (r *Run) preferenceMargins(pairs []Pair, opt llm.ForwardOptions) (*llm.Batch, []float64, []float64, error) {
	exs := make([]Example, 0, 2*len(pairs))
	for _, p := range pairs {
		exs = append(exs, p.Chosen, p.Rejected)
	}
	b := pack(exs)
	ref, err := r.tr.Forward(b, llm.ForwardOptions{NoAdapter: true})
	if err != nil {
		return nil, nil, nil, err
	}
	refSeq := seqLogp(ref, b)
	logp, err := r.tr.Forward(b, opt)
	if err != nil {
		return nil, nil, nil, err
	}
	pol := seqLogp(logp, b)
	h := make([]float64, len(pairs))
	for i := range h {
		h[i] = (pol[2*i] - refSeq[2*i]) - (pol[2*i+1] - refSeq[2*i+1])
	}
	return b, h, pol, nil
}

// prefLoss returns one pair's DPO or IPO loss at margin h and its
// derivative with respect to h.
func (r *Run) prefLoss(h float64) (loss, dh float64) {
	beta := r.cfg.Beta
	if r.cfg.Method == "ipo" {
		// (h − 1/(2τ))², τ = Beta
		d := h - 1/(2*beta)
		return d * d, 2 * d
	}
	z := beta * h
	return softplus(-z), -beta * sigmoid(-z)
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// microFn runs one micro-batch (forward and backward) and returns its loss,
// preference margin and accuracy, and token count.
type microFn func(idx []int, seed uint64) (loss, margin, acc float64, tokens int, err error)

// loop runs optimizer steps over n examples; eval (nil: no validation set)
// runs a validation pass.
func (r *Run) loop(ctx context.Context, n int, progress func(Stats), eval evalFn, micro microFn) (Stats, error) {
	if r.cfg.Patience > 0 && eval == nil {
		return Stats{}, fmt.Errorf("train: early stopping (patience %d) needs a validation set", r.cfg.Patience)
	}
	total := r.totalSteps(n)
	per := (n + r.cfg.BatchSize - 1) / r.cfg.BatchSize
	last := total
	if r.cfg.MaxSteps > 0 {
		last = min(total, r.cfg.MaxSteps)
	}
	sched := Schedule{Kind: r.cfg.Schedule, Peak: r.cfg.LR, Warmup: r.cfg.Warmup, Total: total}
	opt := AdamW{WeightDecay: r.cfg.WeightDecay}
	start := time.Now()
	st := Stats{Step: r.step, Total: total}
	r.es.report(&st)
	if r.es.stopped != "" {
		// A checkpoint written when the run stopped early: nothing is left.
		return st, nil
	}
	for r.step < last {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		r.p.ZeroGrad()
		var loss, margin, acc float64
		k := 0
		for a := 0; a < r.cfg.GradAccum; a++ {
			mb := r.step*r.cfg.GradAccum + a
			if mb >= per*r.cfg.Epochs {
				break
			}
			l, mg, ac, tok, err := micro(r.microBatch(n, mb), r.cfg.Seed^uint64(mb+1)*0x9e3779b97f4a7c15)
			if err != nil {
				return st, fmt.Errorf("train: step %d: %w", r.step+1, err)
			}
			loss, margin, acc, k = loss+l, margin+mg, acc+ac, k+1
			st.Tokens += int64(tok)
		}
		lr := sched.LR(r.step)
		gn := ClipGradNorm(r.p.Grads(), r.cfg.ClipNorm)
		opt.Step(r.p, lr, r.step+1)
		r.step++
		st.Step, st.Total, st.LR, st.GradNorm = r.step, total, lr, gn
		st.Loss, st.Margin, st.Accuracy = loss/float64(k), margin/float64(k), acc/float64(k)
		r.Losses = append(r.Losses, st.Loss)
		st.Evaluated = false
		if eval != nil && r.evalDue(r.step, per) {
			vl, va, err := eval()
			if err != nil {
				return st, fmt.Errorf("train: step %d: validation: %w", r.step, err)
			}
			// The stop decision depends on the whole schedule, not on
			// MaxSteps, so that a run cut short and resumed matches one
			// that was not.
			r.es.observe(r.cfg, r.step, vl, va, r.p.Params(), r.step < total)
			st.Evaluated = true
		}
		r.es.report(&st)
		st.Elapsed = time.Since(start)
		if progress != nil {
			progress(st)
		}
		if r.cfg.CheckpointDir != "" && (r.es.stopped != "" || r.cfg.CheckpointEvery > 0 && r.step%r.cfg.CheckpointEvery == 0) {
			if err := r.SaveCheckpoint(r.cfg.CheckpointDir); err != nil {
				return st, err
			}
		}
		if r.es.stopped != "" {
			return st, nil
		}
	}
	return st, nil
}

// checkpointState is the JSON part of a checkpoint.
type checkpointState struct {
	Step   int       `json:"step"`
	Seed   uint64    `json:"seed"`
	N      int       `json:"n_params"`
	Losses []float64 `json:"losses"`
	// Early stopping; the best weights are in best.bin when BestStep > 0.
	BestStep  int     `json:"best_step,omitempty"`
	BestLoss  float64 `json:"best_val_loss,omitempty"`
	BadEvals  int     `json:"bad_evals,omitempty"`
	Evaluated bool    `json:"evaluated,omitempty"`
	ValLoss   float64 `json:"val_loss,omitempty"`
	ValAcc    float64 `json:"val_accuracy,omitempty"`
	Stopped   string  `json:"stopped,omitempty"`
}

// writeFloats writes v as little-endian float32s into dir/name, through a
// temporary file so a crash never leaves half a file under the name.
func writeFloats(dir, name string, v []float32) error {
	buf := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(x))
	}
	return writeAtomic(dir, name, buf)
}

func writeAtomic(dir, name string, b []byte) error {
	tmp := filepath.Join(dir, name+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, name))
}

// readFloats fills v from dir/name, which must hold exactly len(v) floats.
func readFloats(dir, name string, v []float32) error {
	buf, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return err
	}
	if len(buf) != 4*len(v) {
		return fmt.Errorf("%s holds %d bytes, want %d", name, len(buf), 4*len(v))
	}
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*i:]))
	}
	return nil
}

// SaveCheckpoint writes the adapters, AdamW moments and position (the
// step; data order and dropout masks derive from it and the seed) into
// dir, with the early-stopping state (best validation loss and weights,
// the count of passes without improvement).
func (r *Run) SaveCheckpoint(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	if err := writeFloats(dir, "state.bin", r.p.Buf); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	es := &r.es
	st := checkpointState{Step: r.step, Seed: r.cfg.Seed, N: r.p.N, Losses: r.Losses,
		BestStep: es.bestStep, BadEvals: es.bad, Evaluated: es.evaluated, ValLoss: es.valLoss, ValAcc: es.valAcc, Stopped: es.stopped}
	if es.bestStep > 0 {
		st.BestLoss = es.best
		if err := writeFloats(dir, "best.bin", es.bestParams); err != nil {
			return fmt.Errorf("train: checkpoint: %w", err)
		}
	}
	js, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	if err := writeAtomic(dir, "state.json", js); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return nil
}

// Resume loads a checkpoint written by SaveCheckpoint for the same model,
// config and data; the run continues exactly where it stopped.
func (r *Run) Resume(dir string) error {
	js, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	var st checkpointState
	if err := json.Unmarshal(js, &st); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	if st.N != r.p.N || st.Seed != r.cfg.Seed {
		return fmt.Errorf("train: resume: checkpoint has %d parameters and seed %d, run %d and %d", st.N, st.Seed, r.p.N, r.cfg.Seed)
	}
	es := earlyStop{best: math.Inf(1), bestStep: st.BestStep, bad: st.BadEvals, evaluated: st.Evaluated,
		valLoss: st.ValLoss, valAcc: st.ValAcc, stopped: st.Stopped}
	if st.BestStep > 0 {
		es.best = st.BestLoss
		es.bestParams = make([]float32, r.p.N)
		if err := readFloats(dir, "best.bin", es.bestParams); err != nil {
			return fmt.Errorf("train: resume: %w", err)
		}
	}
	if err := readFloats(dir, "state.bin", r.p.Buf); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	r.step, r.Losses, r.es = st.Step, st.Losses, es
	return nil
}
