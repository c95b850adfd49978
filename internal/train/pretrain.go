package train

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tensor"
)

// PretrainConfig is one causal-LM pretraining run's settings. Zero values
// take the defaults noted; DefaultPretrainConfig fills in the rest for a
// model.
type PretrainConfig struct {
	SeqLen    int     // tokens per window; 0: min(256, the model's context)
	BatchSize int     // windows per optimizer step; 0: 8
	Micro     int     // windows per forward/backward (memory bound); 0: BatchSize
	Steps     int     // optimizer steps; 0: Epochs passes over the windows
	Epochs    float64 // used when Steps is 0; 0: 1, or no limit with MaxTime
	// MaxTime stops the run after that long (0: no limit). The cosine then
	// follows whichever of steps and time runs out first, so a time-bound
	// run still ends at MinLR. With MaxTime and neither Steps nor Epochs
	// the run lasts exactly MaxTime.
	MaxTime     time.Duration
	LR          float64 // peak learning rate; 0: 1e-3
	MinLR       float64 // where the cosine ends; 0: LR/10
	Warmup      int     // linear warm-up steps
	WeightDecay float64 // AdamW decay on matrices (never on norms or biases)
	Beta1       float64 // 0: 0.9
	Beta2       float64 // 0: 0.95
	ClipNorm    float64 // global gradient norm limit; 0: none
	Seed        uint64
	// BOS and EOS are added before and after every document (−1: none).
	// The zero value adds token 0; DefaultPretrainConfig takes the model's.
	BOS, EOS int
	// EvalFraction holds out that share of the documents (at least one
	// when > 0) for a validation loss, measured every EvalEvery steps
	// (0: at the end only).
	EvalFraction float64
	EvalEvery    int
	// CheckpointEvery saves the weights, AdamW state and position into
	// CheckpointDir every that many steps (0: never).
	CheckpointEvery       int
	CheckpointDir         string
	GradientCheckpointing bool
}

// DefaultPretrainConfig returns the settings the quickstart uses for m:
// windows of 128 tokens, 4 per step, peak LR 3e-3 with 20 warm-up steps
// and cosine decay to 3e-4, weight decay 0.1, β2 0.95, clipping at 1, and
// m's BOS and first EOS around each document. On the sample corpus with a
// minute or two of CPU, many small steps beat fewer large ones: 4×128
// reached a lower loss at every point of a 120 s run than 2×256 or 8×256
// (docs/BENCHMARKS.md).
func DefaultPretrainConfig(m *llm.Model) PretrainConfig {
	c := PretrainConfig{SeqLen: min(128, m.MaxSeq()), BatchSize: 4, LR: 3e-3, MinLR: 3e-4, Warmup: 20,
		WeightDecay: 0.1, Beta2: 0.95, ClipNorm: 1, BOS: m.Config.BOSTokenID, EOS: -1}
	if len(m.Config.EOSTokenIDs) > 0 {
		c.EOS = m.Config.EOSTokenIDs[0]
	}
	return c
}

func (c *PretrainConfig) defaults(m *llm.Model) {
	if c.SeqLen <= 0 {
		c.SeqLen = min(256, m.MaxSeq())
	}
	c.BatchSize = max(c.BatchSize, 1)
	if c.Micro <= 0 || c.Micro > c.BatchSize {
		c.Micro = c.BatchSize
	}
	if c.Epochs <= 0 && (c.Steps > 0 || c.MaxTime <= 0) {
		c.Epochs = 1
	}
	if c.LR <= 0 {
		c.LR = 1e-3
	}
	if c.MinLR <= 0 {
		c.MinLR = c.LR / 10
	}
	if c.Beta1 == 0 {
		c.Beta1 = 0.9
	}
	if c.Beta2 == 0 {
		c.Beta2 = 0.95
	}
}

// PretrainStats reports progress after an optimizer step.
type PretrainStats struct {
	Step, Total  int
	Epoch        float64 // passes over the training windows so far
	Loss         float64 // mean token loss of the step
	LR           float64
	GradNorm     float64
	Tokens       int64 // tokens trained on in this process
	TokensPerSec float64
	Elapsed      time.Duration // wall time of the run (across resumes)
	ETA          time.Duration // estimated time left
	// ValLoss is the mean held-out token loss when it was measured at this
	// step (HasVal), and ValPPL its exp.
	HasVal          bool
	ValLoss, ValPPL float64
}

// window is one training sequence: inputs, targets (−1 where the next token
// belongs to another document) and its document segments.
type window struct {
	tokens, targets, docs []int
}

// Pretrainer is one pretraining run of every parameter of a model.
type Pretrainer struct {
	cfg         PretrainConfig
	m           *llm.Model
	p           *llm.FullParams
	ft          *llm.FullTrainer
	train, eval []window
	total       int
	step        int
	elapsed     time.Duration // before this process (resume)
	perm        []int         // window order of epoch permEpoch
	permEpoch   int
	// Losses holds every step's training loss.
	Losses []float64
}

// ErrNoData reports a corpus too small to train on.
var ErrNoData = errors.New("train: no pretraining data")

// NewPretrainer prepares a run over docs (token ids without BOS/EOS) for
// m, which must hold f32 weights: m's weights move into one parameter
// buffer that the run updates in place, so m serves and saves the trained
// weights.
func NewPretrainer(m *llm.Model, docs [][]int, cfg PretrainConfig) (*Pretrainer, error) {
	cfg.defaults(m)
	if cfg.SeqLen > m.MaxSeq() {
		return nil, fmt.Errorf("train: sequence length %d exceeds the model's context %d", cfg.SeqLen, m.MaxSeq())
	}
	V := m.Config.VocabSize
	for _, id := range []int{cfg.BOS, cfg.EOS} {
		if id >= V {
			return nil, fmt.Errorf("train: BOS/EOS id %d outside the vocabulary (%d)", id, V)
		}
	}
	var kept [][]int
	for i, d := range docs {
		for _, id := range d {
			if id < 0 || id >= V {
				return nil, fmt.Errorf("train: document %d: token id %d outside the vocabulary (%d)", i, id, V)
			}
		}
		if len(d) > 0 {
			kept = append(kept, d)
		}
	}
	if len(kept) == 0 {
		return nil, ErrNoData
	}
	trainDocs, evalDocs := splitDocs(kept, cfg.EvalFraction, cfg.Seed)
	pt := &Pretrainer{cfg: cfg, m: m}
	pt.train = makeWindows(trainDocs, cfg.SeqLen, cfg.BOS, cfg.EOS)
	pt.eval = makeWindows(evalDocs, cfg.SeqLen, cfg.BOS, cfg.EOS)
	if len(pt.train) == 0 {
		return nil, ErrNoData
	}
	switch {
	case cfg.Steps > 0:
		pt.total = cfg.Steps
	case cfg.Epochs > 0:
		pt.total = max(1, int(math.Ceil(cfg.Epochs*float64(len(pt.train))/float64(cfg.BatchSize))))
	default: // time-bound
		pt.total = math.MaxInt32
	}
	p, err := llm.NewFullParams(m)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	pt.p = p
	pt.ft = llm.NewFullTrainer(m, p)
	pt.ft.Checkpoint = cfg.GradientCheckpointing
	return pt, nil
}

// Step returns the number of optimizer steps done.
func (pt *Pretrainer) Step() int { return pt.step }

// Total returns the number of optimizer steps the run is planned for.
func (pt *Pretrainer) Total() int { return pt.total }

// TrainTokens returns the number of training tokens in one pass.
func (pt *Pretrainer) TrainTokens() int {
	n := 0
	for _, w := range pt.train {
		n += len(w.tokens)
	}
	return n
}

// Params returns the parameters being trained.
func (pt *Pretrainer) Params() *llm.FullParams { return pt.p }

// splitDocs holds out a seeded random share of the documents.
func splitDocs(docs [][]int, frac float64, seed uint64) (train, eval [][]int) {
	if frac <= 0 || len(docs) < 2 {
		return docs, nil
	}
	n := min(max(1, int(math.Round(frac*float64(len(docs))))), len(docs)-1)
	rng := rand.New(rand.NewPCG(seed, 0xe7a1))
	hold := map[int]bool{}
	for _, i := range rng.Perm(len(docs))[:n] {
		hold[i] = true
	}
	for i, d := range docs {
		if hold[i] {
			eval = append(eval, d)
		} else {
			train = append(train, d)
		}
	}
	return train, eval
}

// makeWindows lays the documents, each wrapped in BOS/EOS, end to end and
// cuts the stream into windows of seqLen tokens (the last may be shorter).
// A token's target is the next token of the same document, so a window's
// last token still learns its successor in the next window; a document
// split across windows continues at position 0 of the next one.
func makeWindows(docs [][]int, seqLen, bos, eos int) []window {
	var stream, docOf []int
	for i, d := range docs {
		if bos >= 0 {
			stream, docOf = append(stream, bos), append(docOf, i)
		}
		stream = append(stream, d...)
		for range d {
			docOf = append(docOf, i)
		}
		if eos >= 0 {
			stream, docOf = append(stream, eos), append(docOf, i)
		}
	}
	var out []window
	for s := 0; s < len(stream); s += seqLen {
		e := min(s+seqLen, len(stream))
		w := window{tokens: stream[s:e:e], targets: make([]int, e-s)}
		seg := 0
		for i := s; i < e; i++ {
			w.targets[i-s] = -1
			if i+1 < len(stream) && docOf[i+1] == docOf[i] {
				w.targets[i-s] = stream[i+1]
			}
			seg++
			if i+1 == e || docOf[i+1] != docOf[i] {
				w.docs = append(w.docs, seg)
				seg = 0
			}
		}
		out = append(out, w)
	}
	return out
}

// windowAt returns the training window of global index g: epochs visit
// every window once, each epoch in its own seeded order.
func (pt *Pretrainer) windowAt(g int) *window {
	W := len(pt.train)
	epoch, i := g/W, g%W
	if pt.perm == nil || pt.permEpoch != epoch {
		rng := rand.New(rand.NewPCG(pt.cfg.Seed, uint64(epoch)+0x9e7))
		pt.perm, pt.permEpoch = rng.Perm(W), epoch
	}
	return &pt.train[pt.perm[i]]
}

// packWindows concatenates windows into one batch.
func packWindows(ws []*window) *llm.Batch {
	b := &llm.Batch{}
	for _, w := range ws {
		b.Tokens = append(b.Tokens, w.tokens...)
		b.Targets = append(b.Targets, w.targets...)
		b.Docs = append(b.Docs, w.docs...)
	}
	return b
}

// lr returns the learning rate at step (0-based) with the run frac of the
// way through its budget: linear warm-up, then cosine from LR to MinLR.
func (pt *Pretrainer) lr(step int, frac float64) float64 {
	c := pt.cfg
	if step < c.Warmup {
		return c.LR * float64(step+1) / float64(c.Warmup)
	}
	if pt.total > c.Warmup {
		frac = max(frac, float64(step-c.Warmup)/float64(pt.total-c.Warmup))
	}
	frac = min(max(frac, 0), 1)
	return c.MinLR + (c.LR-c.MinLR)*0.5*(1+math.Cos(math.Pi*frac))
}

// Run trains until the planned steps are done, MaxTime has passed or ctx
// is cancelled, and returns the last step's stats. progress (may be nil)
// is called after every step.
func (pt *Pretrainer) Run(ctx context.Context, progress func(PretrainStats)) (PretrainStats, error) {
	c := pt.cfg
	start := time.Now()
	var st PretrainStats
	var stepTokens int
	W := len(pt.train)
	first := pt.step
	for ; pt.step < pt.total; pt.step++ {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		frac := 0.0
		if c.MaxTime > 0 {
			frac = float64(pt.elapsed+time.Since(start)) / float64(c.MaxTime)
		}
		ws := make([]*window, c.BatchSize)
		targets := 0
		for i := range ws {
			ws[i] = pt.windowAt(pt.step*c.BatchSize + i)
			for _, tg := range ws[i].targets {
				if tg >= 0 {
					targets++
				}
			}
		}
		pt.p.ZeroGrad()
		var lossSum float64
		stepTokens = 0
		for m0 := 0; m0 < len(ws); m0 += c.Micro {
			b := packWindows(ws[m0:min(m0+c.Micro, len(ws))])
			// The step's loss is the mean over all its target tokens, so
			// every micro-batch scales by the step's count.
			sum, _, err := pt.ft.ForwardBackward(b, 1/float32(max(targets, 1)))
			if err != nil {
				return st, fmt.Errorf("train: step %d: %w", pt.step+1, err)
			}
			lossSum += sum
			stepTokens += len(b.Tokens)
		}
		lr := pt.lr(pt.step, frac)
		gn := ClipGradNorm(pt.p.Grads(), c.ClipNorm)
		adamWFull(pt.p, c, lr, pt.step+1)
		loss := lossSum / float64(max(targets, 1))
		pt.Losses = append(pt.Losses, loss)

		now := time.Since(start)
		st.Step, st.Total, st.LR, st.GradNorm, st.Loss = pt.step+1, pt.total, lr, gn, loss
		st.Epoch = float64((pt.step+1)*c.BatchSize) / float64(W)
		st.Tokens += int64(stepTokens)
		st.Elapsed = pt.elapsed + now
		st.TokensPerSec = float64(st.Tokens) / now.Seconds()
		perStep := now / time.Duration(pt.step+1-first)
		st.ETA = time.Duration(min(float64(perStep)*float64(pt.total-pt.step-1), math.MaxInt64/2))
		timeUp := c.MaxTime > 0 && st.Elapsed >= c.MaxTime
		last := pt.step+1 == pt.total || timeUp
		if c.MaxTime > 0 {
			// Time-bound: report the steps the clock leaves room for
			// (at least one more until the last step).
			left := max(c.MaxTime-st.Elapsed, 0)
			if left < st.ETA {
				st.ETA = left
				st.Total = min(pt.total, pt.step+1+max(1, int(left/max(perStep, 1))))
			}
			if last {
				st.Total = st.Step
			}
		}
		st.HasVal = false
		if len(pt.eval) > 0 && (last || (c.EvalEvery > 0 && (pt.step+1)%c.EvalEvery == 0)) {
			vl, err := pt.Eval()
			if err != nil {
				return st, err
			}
			st.HasVal, st.ValLoss, st.ValPPL = true, vl, math.Exp(vl)
		}
		if progress != nil {
			progress(st)
		}
		if c.CheckpointEvery > 0 && c.CheckpointDir != "" && (pt.step+1)%c.CheckpointEvery == 0 {
			pt.step++
			err := pt.saveCheckpoint(c.CheckpointDir, pt.elapsed+time.Since(start))
			pt.step--
			if err != nil {
				return st, err
			}
		}
		if timeUp {
			pt.step++
			break
		}
	}
	return st, nil
}

// Eval returns the mean token loss over the held-out windows (0 when none
// were held out).
func (pt *Pretrainer) Eval() (float64, error) {
	var sum float64
	n := 0
	for i := 0; i < len(pt.eval); i += pt.cfg.Micro {
		ws := make([]*window, 0, pt.cfg.Micro)
		for j := i; j < min(i+pt.cfg.Micro, len(pt.eval)); j++ {
			ws = append(ws, &pt.eval[j])
		}
		b := packWindows(ws)
		logp, err := pt.ft.Forward(b)
		if err != nil {
			return 0, fmt.Errorf("train: eval: %w", err)
		}
		for t, tg := range b.Targets {
			if tg >= 0 {
				sum -= float64(logp[t])
				n++
			}
		}
	}
	if n == 0 {
		return 0, nil
	}
	return sum / float64(n), nil
}

// adamWFull is AdamW over every parameter, decaying only the tensors that
// ask for it (matrices), in parallel over tensors.
func adamWFull(p *llm.FullParams, c PretrainConfig, lr float64, t int) {
	c1 := 1 - math.Pow(c.Beta1, float64(t))
	c2 := 1 - math.Pow(c.Beta2, float64(t))
	theta, g := p.Params(), p.Grads()
	m, v := p.Moments()
	fb1, fb2 := float32(c.Beta1), float32(c.Beta2)
	// Per element: θ −= lr·(m/c1)/(√(v/c2)+ε) + lr·λ·θ.
	a := float32(lr / c1)
	ic2 := float32(1 / c2)
	const eps = 1e-8
	tensor.ParallelGrain(len(p.Tensors), 1, func(lo, hi int) {
		for _, pt := range p.Tensors[lo:hi] {
			decay := float32(0)
			if pt.Decay {
				decay = float32(lr * c.WeightDecay)
			}
			th, gr := theta[pt.Offset:pt.Offset+pt.Size], g[pt.Offset:pt.Offset+pt.Size]
			mm, vv := m[pt.Offset:pt.Offset+pt.Size], v[pt.Offset:pt.Offset+pt.Size]
			for i, gi := range gr {
				mi := fb1*mm[i] + (1-fb1)*gi
				vi := fb2*vv[i] + (1-fb2)*gi*gi
				mm[i], vv[i] = mi, vi
				th[i] -= a*mi/(float32(math.Sqrt(float64(vi*ic2)))+eps) + decay*th[i]
			}
		}
	})
}

// Pretrain trains every parameter of m on docs (token ids, one slice per
// document, without BOS/EOS) as causal-LM pretraining and returns the last
// step's stats; m holds the trained weights afterwards. With a
// CheckpointDir that already holds a checkpoint of the same run, it
// resumes from it.
func Pretrain(ctx context.Context, m *llm.Model, docs [][]int, cfg PretrainConfig, progress func(PretrainStats)) (PretrainStats, error) {
	pt, err := NewPretrainer(m, docs, cfg)
	if err != nil {
		return PretrainStats{}, err
	}
	if cfg.CheckpointDir != "" {
		if _, err := os.Stat(filepath.Join(cfg.CheckpointDir, pretrainCheckpoint)); err == nil {
			if err := pt.Resume(cfg.CheckpointDir); err != nil {
				return PretrainStats{}, err
			}
		}
	}
	return pt.Run(ctx, progress)
}

// pretrainCheckpoint is the checkpoint file: a magic line, the JSON state's
// length (uint32 LE), the JSON state, then FullParams.Buf as float32 LE.
const (
	pretrainCheckpoint = "pretrain.ckpt"
	pretrainMagic      = "whet-pretrain-1\n"
)

type pretrainState struct {
	Step      int       `json:"step"`
	Total     int       `json:"total"`
	Seed      uint64    `json:"seed"`
	N         int       `json:"n_params"`
	Windows   int       `json:"windows"`
	ElapsedNS int64     `json:"elapsed_ns"`
	Losses    []float64 `json:"losses"`
}

// SaveCheckpoint writes the weights, AdamW moments and position into dir
// (one file, replaced atomically).
func (pt *Pretrainer) SaveCheckpoint(dir string) error {
	return pt.saveCheckpoint(dir, pt.elapsed)
}

func (pt *Pretrainer) saveCheckpoint(dir string, elapsed time.Duration) (err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	js, err := json.Marshal(pretrainState{Step: pt.step, Total: pt.total, Seed: pt.cfg.Seed, N: pt.p.N,
		Windows: len(pt.train), ElapsedNS: int64(elapsed), Losses: pt.Losses})
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	tmp := filepath.Join(dir, pretrainCheckpoint+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	w.WriteString(pretrainMagic)
	binary.Write(w, binary.LittleEndian, uint32(len(js)))
	w.Write(js)
	var b [4]byte
	for _, v := range pt.p.Buf {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		w.Write(b[:])
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	if err = os.Rename(tmp, filepath.Join(dir, pretrainCheckpoint)); err != nil {
		return fmt.Errorf("train: checkpoint: %w", err)
	}
	return nil
}

// Resume loads a checkpoint written by SaveCheckpoint for the same model,
// config and data; the run continues exactly where it stopped.
func (pt *Pretrainer) Resume(dir string) error {
	f, err := os.Open(filepath.Join(dir, pretrainCheckpoint))
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	magic := make([]byte, len(pretrainMagic))
	var n uint32
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != pretrainMagic {
		return fmt.Errorf("train: resume: not a pretraining checkpoint")
	}
	if err := binary.Read(r, binary.LittleEndian, &n); err != nil || n > 1<<30 {
		return fmt.Errorf("train: resume: bad checkpoint header")
	}
	js := make([]byte, n)
	if _, err := io.ReadFull(r, js); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	var st pretrainState
	if err := json.Unmarshal(js, &st); err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	if st.N != pt.p.N || st.Seed != pt.cfg.Seed || st.Windows != len(pt.train) {
		return fmt.Errorf("train: resume: checkpoint has %d parameters, seed %d and %d windows; run %d, %d and %d",
			st.N, st.Seed, st.Windows, pt.p.N, pt.cfg.Seed, len(pt.train))
	}
	if st.Step < 0 || st.Total <= 0 || st.Step > st.Total || len(st.Losses) != st.Step || st.ElapsedNS < 0 {
		return fmt.Errorf("train: resume: inconsistent checkpoint state (step %d of %d, %d losses)", st.Step, st.Total, len(st.Losses))
	}
	// Read everything before touching the run, so a bad file changes nothing.
	vals := make([]float32, len(pt.p.Buf))
	buf := make([]byte, 1<<20)
	for i := 0; i < len(vals); {
		k := min(len(buf)/4, len(vals)-i)
		if _, err := io.ReadFull(r, buf[:4*k]); err != nil {
			return fmt.Errorf("train: resume: truncated checkpoint: %w", err)
		}
		for j := 0; j < k; j++ {
			vals[i+j] = math.Float32frombits(binary.LittleEndian.Uint32(buf[4*j:]))
		}
		i += k
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return fmt.Errorf("train: resume: trailing bytes after the checkpoint")
	}
	copy(pt.p.Buf, vals)
	pt.step, pt.total, pt.Losses, pt.elapsed = st.Step, st.Total, st.Losses, time.Duration(st.ElapsedNS)
	return nil
}
