package generate

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/whet-dev/whet/internal/llm"
)

// Errors returned by generation.
var (
	// ErrContextOverflow reports a prompt plus max tokens longer than the
	// model's context.
	ErrContextOverflow = errors.New("generate: context length exceeded")
	// ErrNoAllowedToken reports a Masker that allowed no token.
	ErrNoAllowedToken = errors.New("generate: masker allows no token")
	// ErrInvalidRequest reports a malformed request.
	ErrInvalidRequest = errors.New("generate: invalid request")
)

// Detokenizer maps token ids to the bytes they add to the text;
// *tokenizer.Tokenizer implements it. If it also has IsSpecial(id int) bool,
// special tokens add no text (as decoding with skip_special_tokens).
type Detokenizer interface {
	TokenBytes(id int) []byte
}

// Masker restricts which token may come next (see the package comment).
type Masker interface {
	Allowed(mask []bool)
	Accept(id int) error
	Done() bool
}

// Finish reasons, as in the OpenAI API.
const (
	FinishStop   = "stop"
	FinishLength = "length"
)

// Request is one generation request.
type Request struct {
	Prompt []int // token ids, special tokens included
	// MaxTokens bounds the generated tokens; 0 means up to the context.
	MaxTokens int
	Sampling  Sampling
	// StopTokens end generation without adding text (usually the EOS ids).
	StopTokens []int
	// StopStrings end generation when the text contains one; the text is
	// cut before it.
	StopStrings []string
	// LogProbs records the log-probability of each chosen token and, when
	// TopLogProbs > 0, of that many most likely alternatives.
	LogProbs    bool
	TopLogProbs int
	// Masker, when set, constrains the tokens (JSON-schema decoding).
	Masker Masker
	// OnToken, when set, is called for each generated token; an error
	// from it stops generation and is returned.
	OnToken func(Token) error
}

// TokenLogProb is a token id with its log-probability.
type TokenLogProb struct {
	ID      int     `json:"id"`
	LogProb float64 `json:"logprob"`
}

// Token is one generated token as streamed. When generation ends with text
// still held back (a possible stop-string prefix, an incomplete character),
// a last Token with ID -1 carries it.
type Token struct {
	ID int
	// Text is the text this token releases; it may be empty (held back)
	// or contain text of earlier tokens.
	Text    string
	LogProb float64        // when Request.LogProbs
	Top     []TokenLogProb // when Request.TopLogProbs > 0
}

// Result is a finished generation.
type Result struct {
	PromptTokens []int
	Tokens       []int // generated ids, stop token excluded
	Text         string
	FinishReason string // FinishStop or FinishLength
	LogProbs     []TokenLogProb
	TopLogProbs  [][]TokenLogProb
}

// Generator runs requests on one model. It is safe for concurrent use.
type Generator struct {
	Model *llm.Model
	Tok   Detokenizer

	// Finished requests' KV caches, kept for reuse: a fresh cache's first
	// writes fault in new pages, which costs a short prompt's prefill more
	// than the attention itself.
	mu    sync.Mutex
	spare []*llm.KVCache
}

// Bounds on the caches a Generator keeps for reuse.
const (
	maxSpareCaches     = 8
	maxSpareCacheBytes = 64 << 20
)

func (g *Generator) getCache() *llm.KVCache {
	g.mu.Lock()
	defer g.mu.Unlock()
	if n := len(g.spare); n > 0 {
		c := g.spare[n-1]
		g.spare = g.spare[:n-1]
		return c
	}
	return g.Model.NewCache(0)
}

// release returns a finished sequence's cache for reuse.
func (g *Generator) release(s *sequence) {
	if s == nil || s.cache == nil {
		return
	}
	c := s.cache
	s.cache = nil
	if c.Bytes() > maxSpareCacheBytes {
		return
	}
	c.Truncate(0)
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.spare) < maxSpareCaches {
		g.spare = append(g.spare, c)
	}
}

// Generate runs req to completion. On cancellation it returns the partial
// result together with the context's error.
func (g *Generator) Generate(ctx context.Context, req Request) (*Result, error) {
	s, err := g.start(req)
	if err != nil {
		return nil, err
	}
	defer g.release(s)
	logits, err := g.Model.ForwardLast(req.Prompt, 0, s.cache)
	if err != nil {
		return nil, fmt.Errorf("generate: prefill: %w", err)
	}
	for {
		if err := ctx.Err(); err != nil {
			return s.res, err
		}
		done, err := s.consume(logits)
		if err != nil {
			return s.res, err
		}
		if done {
			return s.res, nil
		}
		if logits, err = g.Model.ForwardLast([]int{s.next}, s.cache.Len, s.cache); err != nil {
			return s.res, fmt.Errorf("generate: decode: %w", err)
		}
	}
}

// sequence is one request in flight.
type sequence struct {
	req     Request
	tok     Detokenizer
	special func(int) bool
	cache   *llm.KVCache
	samp    *sampler
	max     int
	seen    map[int]struct{}
	stops   map[int]bool
	mask    []bool
	work    []float32
	lp      []float64
	pending []byte // undecoded bytes (incomplete UTF-8)
	text    strings.Builder
	emitted int
	res     *Result
	next    int
}

// start validates req and builds its sequence state.
func (g *Generator) start(req Request) (*sequence, error) {
	if len(req.Prompt) == 0 {
		return nil, fmt.Errorf("%w: empty prompt", ErrInvalidRequest)
	}
	if req.MaxTokens < 0 || req.TopLogProbs < 0 || req.Sampling.Temperature < 0 || req.Sampling.TopK < 0 ||
		req.Sampling.TopP < 0 || req.Sampling.TopP > 1 || req.Sampling.RepetitionPenalty < 0 ||
		math.IsNaN(req.Sampling.Temperature) || math.IsNaN(req.Sampling.TopP) {
		return nil, fmt.Errorf("%w: negative or out-of-range sampling parameter", ErrInvalidRequest)
	}
	for _, s := range req.StopStrings {
		if s == "" {
			return nil, fmt.Errorf("%w: empty stop string", ErrInvalidRequest)
		}
	}
	V := g.Model.Config.VocabSize
	for _, id := range req.Prompt {
		if id < 0 || id >= V {
			return nil, fmt.Errorf("%w: prompt token %d outside vocabulary [0,%d)", ErrInvalidRequest, id, V)
		}
	}
	ctxLen := g.Model.MaxSeq()
	max := req.MaxTokens
	if max == 0 {
		max = ctxLen - len(req.Prompt)
	}
	if max <= 0 || len(req.Prompt)+max > ctxLen {
		return nil, fmt.Errorf("%w: %d prompt tokens + %d new tokens > %d", ErrContextOverflow, len(req.Prompt), max, ctxLen)
	}
	s := &sequence{
		req:   req,
		tok:   g.Tok,
		cache: g.getCache(),
		samp:  newSampler(req.Sampling),
		max:   max,
		stops: map[int]bool{},
		work:  make([]float32, V),
		res:   &Result{PromptTokens: append([]int(nil), req.Prompt...)},
	}
	if sp, ok := g.Tok.(interface{ IsSpecial(int) bool }); ok {
		s.special = sp.IsSpecial
	}
	for _, id := range req.StopTokens {
		s.stops[id] = true
	}
	if req.Sampling.RepetitionPenalty > 0 && req.Sampling.RepetitionPenalty != 1 {
		s.seen = map[int]struct{}{}
		for _, id := range req.Prompt {
			s.seen[id] = struct{}{}
		}
	}
	if req.Masker != nil {
		s.mask = make([]bool, V)
	}
	return s, nil
}

// consume picks the next token from logits [V] and updates the text. It
// reports done when the request has finished; s.next is the token to feed
// otherwise.
func (s *sequence) consume(logits []float32) (bool, error) {
	w := s.work
	copy(w, logits)
	applyPenalty(w, s.seen, s.req.Sampling.RepetitionPenalty)
	if m := s.req.Masker; m != nil {
		clear(s.mask)
		m.Allowed(s.mask)
		done := m.Done()
		if done {
			if len(s.stops) == 0 {
				return s.finish(FinishStop)
			}
			for id := range s.stops {
				if id >= 0 && id < len(s.mask) {
					s.mask[id] = true
				}
			}
		}
		any := false
		for i, ok := range s.mask {
			if !ok {
				w[i] = float32(math.Inf(-1))
			} else {
				any = true
			}
		}
		if !any {
			return true, ErrNoAllowedToken
		}
	}
	id := s.samp.pick(w)
	tk := Token{ID: id}
	if s.req.LogProbs || s.req.TopLogProbs > 0 {
		s.lp = logSoftmax(s.lp, w)
		tk.LogProb = s.lp[id]
		if n := s.req.TopLogProbs; n > 0 {
			tk.Top = topN(s.lp, n)
		}
	}
	if s.stops[id] {
		return s.finish(FinishStop)
	}
	if s.req.LogProbs || s.req.TopLogProbs > 0 {
		s.res.LogProbs = append(s.res.LogProbs, TokenLogProb{ID: id, LogProb: tk.LogProb})
		if tk.Top != nil {
			s.res.TopLogProbs = append(s.res.TopLogProbs, tk.Top)
		}
	}
	if m := s.req.Masker; m != nil {
		if err := m.Accept(id); err != nil {
			return true, fmt.Errorf("generate: masker rejected token %d: %w", id, err)
		}
	}
	s.res.Tokens = append(s.res.Tokens, id)
	if s.seen != nil {
		s.seen[id] = struct{}{}
	}
	if s.special == nil || !s.special(id) {
		s.pending = append(s.pending, s.tok.TokenBytes(id)...)
	}
	s.decodePending(false)
	stopped := s.checkStop()
	tk.Text = s.release(stopped)
	if s.req.OnToken != nil {
		if err := s.req.OnToken(tk); err != nil {
			return true, err
		}
	}
	if stopped {
		return s.finish(FinishStop)
	}
	if len(s.res.Tokens) >= s.max {
		return s.finish(FinishLength)
	}
	s.next = id
	return false, nil
}

// finish flushes held-back text (streamed as a last Token with ID -1) and
// records the reason.
func (s *sequence) finish(reason string) (bool, error) {
	s.decodePending(true)
	if rest := s.release(true); rest != "" && s.req.OnToken != nil {
		if err := s.req.OnToken(Token{ID: -1, Text: rest}); err != nil {
			return true, err
		}
	}
	s.res.Text = s.text.String()[:s.emitted]
	s.res.FinishReason = reason
	return true, nil
}

// decodePending moves complete UTF-8 from pending into text; invalid bytes
// become U+FFFD. With flush, an incomplete tail is replaced too.
func (s *sequence) decodePending(flush bool) {
	b := s.pending
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			if !flush && !utf8.FullRune(b) {
				break // may complete with the next token
			}
			s.text.WriteRune(utf8.RuneError)
			b = b[1:]
			continue
		}
		s.text.Write(b[:n])
		b = b[n:]
	}
	s.pending = append(s.pending[:0], b...)
}

// checkStop cuts the text at the first stop string, reporting whether one
// was found.
func (s *sequence) checkStop() bool {
	all := s.text.String()
	cut := -1
	for _, stop := range s.req.StopStrings {
		from := max(0, s.emitted-len(stop)+1)
		if i := strings.Index(all[from:], stop); i >= 0 && (cut < 0 || from+i < cut) {
			cut = from + i
		}
	}
	if cut < 0 {
		return false
	}
	s.text.Reset()
	s.text.WriteString(all[:cut])
	s.pending = s.pending[:0]
	return true
}

// release returns the text that can be emitted now: all of it when final,
// otherwise all but a tail that could begin a stop string.
func (s *sequence) release(final bool) string {
	all := s.text.String()
	end := len(all)
	if !final {
		hold := 0
		for _, stop := range s.req.StopStrings {
			for k := min(len(stop)-1, end-s.emitted); k > hold; k-- {
				if strings.HasSuffix(all, stop[:k]) {
					hold = k
					break
				}
			}
		}
		end -= hold
	}
	if end <= s.emitted {
		return ""
	}
	out := all[s.emitted:end]
	s.emitted = end
	return out
}

// topN returns the n most likely tokens, most likely first.
func topN(lp []float64, n int) []TokenLogProb {
	n = min(n, len(lp))
	out := make([]TokenLogProb, 0, n+1)
	for id, v := range lp {
		if len(out) == n && v <= out[n-1].LogProb {
			continue
		}
		out = append(out, TokenLogProb{ID: id, LogProb: v})
		sort.SliceStable(out, func(i, j int) bool { return out[i].LogProb > out[j].LogProb })
		if len(out) > n {
			out = out[:n]
		}
	}
	return out
}
