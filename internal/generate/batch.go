package generate

import (
	"context"
	"errors"
	"fmt"

	"github.com/whet-dev/whet/internal/llm"
)

// ErrBatcherClosed is returned for requests submitted after Run returned.
var ErrBatcherClosed = errors.New("generate: batcher stopped")

// Batcher runs many requests over one model with continuous batching. Call
// Run in one goroutine; Generate may be called from any number of others.
// Each decode step advances every active request by one token in a single
// llm.Model.DecodeBatch call; a new request is prefilled between steps and
// joins the batch, a finished or cancelled one leaves it at once. OnToken
// callbacks run on Run's goroutine and should return quickly.
type Batcher struct {
	gen      *Generator
	maxBatch int
	submit   chan *job
	stopped  chan struct{}
}

type job struct {
	ctx  context.Context
	req  Request
	seq  *sequence
	done chan outcome
}

type outcome struct {
	res *Result
	err error
}

// NewBatcher returns a batcher that decodes at most maxBatch requests at a
// time (at least 1).
func NewBatcher(g *Generator, maxBatch int) *Batcher {
	return &Batcher{gen: g, maxBatch: max(maxBatch, 1), submit: make(chan *job), stopped: make(chan struct{})}
}

// Generate submits req and waits for its result. Cancelling ctx removes the
// request from the batch and returns the partial result with ctx's error.
func (b *Batcher) Generate(ctx context.Context, req Request) (*Result, error) {
	j := &job{ctx: ctx, req: req, done: make(chan outcome, 1)}
	select {
	case b.submit <- j:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-b.stopped:
		return nil, ErrBatcherClosed
	}
	o := <-j.done
	return o.res, o.err
}

// Run serves requests until ctx is cancelled; requests still in flight then
// end with ctx's error.
func (b *Batcher) Run(ctx context.Context) error {
	defer close(b.stopped)
	var active []*job
	defer func() {
		for _, j := range active {
			b.finish(j, ctx.Err())
		}
	}()
	for {
		if len(active) == 0 {
			select {
			case j := <-b.submit:
				active = b.admit(active, j)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	admit:
		for len(active) < b.maxBatch {
			select {
			case j := <-b.submit:
				active = b.admit(active, j)
			default:
				break admit
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// Drop cancelled requests before spending a step on them.
		kept := active[:0]
		for _, j := range active {
			if err := j.ctx.Err(); err != nil {
				b.finish(j, err)
				continue
			}
			kept = append(kept, j)
		}
		active = kept
		if len(active) == 0 {
			continue
		}
		tokens := make([]int, len(active))
		caches := make([]*llm.KVCache, len(active))
		for i, j := range active {
			tokens[i], caches[i] = j.seq.next, j.seq.cache
		}
		logits, err := b.gen.Model.DecodeBatch(tokens, caches)
		if err != nil {
			for _, j := range active {
				b.finish(j, fmt.Errorf("generate: decode: %w", err))
			}
			active = active[:0]
			continue
		}
		V := b.gen.Model.Config.VocabSize
		kept = active[:0]
		for i, j := range active {
			done, err := j.seq.consume(logits[i*V : (i+1)*V])
			if done || err != nil {
				b.finish(j, err)
				continue
			}
			kept = append(kept, j)
		}
		active = kept
	}
}

// admit prefills j's prompt and samples its first token; it joins active
// unless it finished (or failed) already.
func (b *Batcher) admit(active []*job, j *job) []*job {
	s, err := b.gen.start(j.req)
	if err != nil {
		j.done <- outcome{nil, err}
		return active
	}
	j.seq = s
	if err := j.ctx.Err(); err != nil {
		b.finish(j, err)
		return active
	}
	logits, err := b.gen.Model.ForwardLast(j.req.Prompt, 0, s.cache)
	if err != nil {
		b.finish(j, fmt.Errorf("generate: prefill: %w", err))
		return active
	}
	done, err := s.consume(logits)
	if done || err != nil {
		b.finish(j, err)
		return active
	}
	return append(active, j)
}

// finish hands j its result and recycles its cache.
func (b *Batcher) finish(j *job, err error) {
	res := j.seq.res
	b.gen.release(j.seq)
	j.done <- outcome{res, err}
}
