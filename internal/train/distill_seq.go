package train

import (
	"context"
	"fmt"
	"slices"

	"github.com/whet-dev/whet/internal/llm"
)

// seqDistillBatch is how many prompts decode together: one DecodeBatch
// step streams the teacher's weights once for all of them.
const seqDistillBatch = 16

// DistillSequences returns the teacher's greedy continuation of each
// prompt, the targets of sequence-level distillation (Kim & Rush, 2016):
// train the student with SFT on FromPromptResponse(prompt, response).
// Each response ends with the stop token that ended it (so the student
// learns to stop) or after maxNew tokens (0: up to the teacher's context).
// The prompts must be token ids of the student's tokenizer, which the
// teacher must share (see CheckTeacher). progress (may be nil) is called
// as prompts finish. Decoding is deterministic: ties go to the lowest id.
func DistillSequences(ctx context.Context, teacher *llm.Model, prompts [][]int, maxNew int, stop []int, progress func(done, total int)) ([][]int, error) {
	if maxNew < 0 {
		return nil, fmt.Errorf("train: sequence distillation: max new tokens %d", maxNew)
	}
	V := teacher.Config.VocabSize
	for i, p := range prompts {
		if len(p) == 0 {
			return nil, fmt.Errorf("%w: prompt %d is empty", ErrData, i)
		}
		for _, id := range p {
			if id < 0 || id >= V {
				return nil, fmt.Errorf("%w: prompt %d has token %d outside the teacher's vocabulary of %d (the teacher must share the student's tokenizer)", ErrData, i, id, V)
			}
		}
		if len(p) >= teacher.MaxSeq() {
			return nil, fmt.Errorf("%w: prompt %d has %d tokens, the teacher's context %d", ErrData, i, len(p), teacher.MaxSeq())
		}
	}
	out := make([][]int, len(prompts))
	caches := make([]*llm.KVCache, min(seqDistillBatch, len(prompts)))
	for i := range caches {
		caches[i] = teacher.NewCache(0)
	}
	done := 0
	for lo := 0; lo < len(prompts); lo += seqDistillBatch {
		hi := min(lo+seqDistillBatch, len(prompts))
		// Prefill each prompt; then decode the unfinished ones together.
		var active []int // prompt indices still generating
		var next []int   // their next input token
		for i := lo; i < hi; i++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			c := caches[i-lo]
			lg, err := teacher.ForwardLast(prompts[i], 0, c)
			if err != nil {
				return nil, fmt.Errorf("train: sequence distillation: prompt %d: %w", i, err)
			}
			if tok, more := emit(&out[i], lg, len(prompts[i]), maxNew, teacher.MaxSeq(), stop); more {
				active, next = append(active, i), append(next, tok)
			} else if done++; progress != nil {
				progress(done, len(prompts))
			}
		}
		for len(active) > 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			cs := make([]*llm.KVCache, len(active))
			for k, i := range active {
				cs[k] = caches[i-lo]
			}
			lg, err := teacher.DecodeBatch(next, cs)
			if err != nil {
				return nil, fmt.Errorf("train: sequence distillation: %w", err)
			}
			var still, snext []int
			for k, i := range active {
				if tok, more := emit(&out[i], lg[k*V:(k+1)*V], len(prompts[i]), maxNew, teacher.MaxSeq(), stop); more {
					still, snext = append(still, i), append(snext, tok)
				} else if done++; progress != nil {
					progress(done, len(prompts))
				}
			}
			active, next = still, snext
		}
	}
	return out, nil
}

// emit appends the greedy token of logits to *resp and reports whether
// generation goes on (and with which input token): not after a stop token,
// maxNew tokens (0: no limit) or the end of the context.
func emit(resp *[]int, logits []float32, promptLen, maxNew, maxSeq int, stop []int) (int, bool) {
	best := 0
	for v, x := range logits {
		if x > logits[best] {
			best = v
		}
	}
	*resp = append(*resp, best)
	n := len(*resp)
	if slices.Contains(stop, best) || (maxNew > 0 && n >= maxNew) || promptLen+n >= maxSeq {
		return 0, false
	}
	return best, true
}
