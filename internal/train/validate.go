package train

import (
	"fmt"

	"github.com/whet-dev/whet/internal/llm"
)

// SetValidation sets the held-out examples of an SFT or distillation run.
// Their validation loss is the training objective without dropout: the
// mean negative log-likelihood over all their target tokens (SFT), or the
// mean τ²·KL to the teacher over those rows (Distill). Passes run every
// Config.EvalEvery steps (or once per epoch) and drive early stopping.
func (r *Run) SetValidation(exs []Example) { r.val = exs }

// SetValidationPairs sets the held-out preference pairs of a DPO or IPO
// run. Their validation loss is the mean preference loss, and
// Stats.ValAccuracy the share of pairs whose chosen answer has the higher
// implicit reward.
func (r *Run) SetValidationPairs(pairs []Pair) { r.valPairs = pairs }

// evalFn runs one validation pass: it never changes parameters, runs
// without dropout and depends only on the parameters and the data.
type evalFn func() (loss, acc float64, err error)

// earlyStop is the validation state of a run; a checkpoint saves all of it.
type earlyStop struct {
	best       float64 // best validation loss (+Inf: no pass yet)
	bestStep   int
	bestParams []float32 // the adapters after bestStep
	bad        int       // consecutive passes without a new best
	evaluated  bool      // a pass has run (valLoss is meaningful)
	valLoss    float64   // the latest pass
	valAcc     float64
	stopped    string
}

// observe records a validation pass after step; it stops the run (and
// restores the best weights into params) when patience runs out and more
// steps remain in the schedule.
func (es *earlyStop) observe(cfg Config, step int, loss, acc float64, params []float32, more bool) {
	es.evaluated, es.valLoss, es.valAcc = true, loss, acc
	if loss < es.best-cfg.MinDelta {
		es.best, es.bestStep, es.bad = loss, step, 0
		if es.bestParams == nil {
			es.bestParams = make([]float32, len(params))
		}
		copy(es.bestParams, params)
		return
	}
	es.bad++
	if cfg.Patience > 0 && es.bad >= cfg.Patience && more {
		copy(params, es.bestParams)
		es.stopped = StopEarly
	}
}

// report copies the validation state into st.
func (es *earlyStop) report(st *Stats) {
	if es.evaluated {
		st.ValLoss, st.ValAccuracy = es.valLoss, es.valAcc
	}
	if es.bestStep > 0 {
		st.BestStep, st.BestValLoss = es.bestStep, es.best
	}
	st.Stopped = es.stopped
}

// evalDue reports whether a validation pass follows step (1-based): every
// EvalEvery steps, or (EvalEvery 0) after the step that completes an
// epoch of per micro-batches.
func (r *Run) evalDue(step, per int) bool {
	if r.cfg.EvalEvery > 0 {
		return step%r.cfg.EvalEvery == 0
	}
	ga, end := r.cfg.GradAccum, per*r.cfg.Epochs
	return min(step*ga, end)/per > min((step-1)*ga, end)/per
}

// exampleEval returns the validation pass over r.val (nil when there is
// none): NLL per target token, or with a teacher the distillation KL.
func (r *Run) exampleEval(teacher *llm.Model, tau float32) (evalFn, error) {
	if r.valPairs != nil {
		return nil, fmt.Errorf("train: %s validation takes examples (SetValidation), not preference pairs", r.cfg.Method)
	}
	if r.val == nil {
		return nil, nil
	}
	if len(r.val) == 0 {
		return nil, fmt.Errorf("%w: empty validation set", ErrData)
	}
	return func() (float64, float64, error) {
		var sum float64
		rows := 0
		for i := 0; i < len(r.val); i += r.cfg.BatchSize {
			exs := r.val[i:min(i+r.cfg.BatchSize, len(r.val))]
			b := pack(exs)
			if teacher != nil {
				soft, err := teacherRows(teacher, exs)
				if err != nil {
					return 0, 0, err
				}
				b.Teacher, b.Temperature = soft, tau
			}
			logp, err := r.tr.Forward(b, llm.ForwardOptions{})
			if err != nil {
				return 0, 0, err
			}
			for t, tg := range b.Targets {
				if tg >= 0 {
					sum -= float64(logp[t])
					rows++
				}
			}
		}
		if rows == 0 {
			return 0, 0, fmt.Errorf("%w: validation examples have no target tokens", ErrData)
		}
		return sum / float64(rows), 0, nil
	}, nil
}

// pairEval returns the validation pass over r.valPairs (nil when there is
// none): mean preference loss and preference accuracy.
func (r *Run) pairEval() (evalFn, error) {
	if r.val != nil {
		return nil, fmt.Errorf("train: %s validation takes preference pairs (SetValidationPairs), not examples", r.cfg.Method)
	}
	if r.valPairs == nil {
		return nil, nil
	}
	if len(r.valPairs) == 0 {
		return nil, fmt.Errorf("%w: empty validation set", ErrData)
	}
	return func() (float64, float64, error) {
		var loss, acc float64
		for i := 0; i < len(r.valPairs); i += r.cfg.BatchSize {
			_, hs, _, err := r.preferenceMargins(r.valPairs[i:min(i+r.cfg.BatchSize, len(r.valPairs))], llm.ForwardOptions{})
			if err != nil {
				return 0, 0, err
			}
			for _, h := range hs {
				l, _ := r.prefLoss(h)
				loss += l
				if h > 0 {
					acc++
				}
			}
		}
		n := float64(len(r.valPairs))
		return loss / n, acc / n, nil
	}, nil
}
