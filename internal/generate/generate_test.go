package generate

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/whet-dev/whet/internal/llm"
)

// byteTok is a byte-level detokenizer: ids < 256 are single bytes, 256+i
// is words[i], and id 2 is a special token with no text.
type byteTok struct{ words []string }

func (b byteTok) TokenBytes(id int) []byte {
	if id < 256 {
		return []byte{byte(id)}
	}
	if i := id - 256; i < len(b.words) {
		return []byte(b.words[i])
	}
	return nil
}

func (b byteTok) IsSpecial(id int) bool { return id == 2 }

func tinyModel(t testing.TB, arch string) *llm.Model {
	t.Helper()
	cfg, err := llm.Preset("tiny", arch)
	if err != nil {
		t.Fatal(err)
	}
	m, err := llm.New(cfg, 3)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGreedyMatchesFullForward(t *testing.T) {
	m := tinyModel(t, "llama")
	g := &Generator{Model: m, Tok: byteTok{}}
	prompt := []int{1, 72, 101, 108}
	res, err := g.Generate(context.Background(), Request{Prompt: prompt, MaxTokens: 6})
	if err != nil {
		t.Fatal(err)
	}
	if res.FinishReason != FinishLength || len(res.Tokens) != 6 {
		t.Fatalf("result %+v", res)
	}
	// Recompute each step without a cache.
	seq := append([]int(nil), prompt...)
	for i := 0; i < 6; i++ {
		logits, err := m.ForwardLast(seq, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := argmax(logits)
		if res.Tokens[i] != want {
			t.Fatalf("token %d = %d, want %d", i, res.Tokens[i], want)
		}
		seq = append(seq, want)
	}
}

func TestSeedDeterminism(t *testing.T) {
	g := &Generator{Model: tinyModel(t, "qwen2"), Tok: byteTok{}}
	run := func(seed uint64) []int {
		res, err := g.Generate(context.Background(), Request{Prompt: []int{1, 5}, MaxTokens: 12,
			Sampling: Sampling{Temperature: 1.5, TopP: 0.95, TopK: 100, Seed: seed}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Tokens
	}
	a, b, c := run(42), run(42), run(43)
	if !equalInts(a, b) {
		t.Errorf("same seed differs: %v vs %v", a, b)
	}
	if equalInts(a, c) {
		t.Errorf("different seeds gave identical samples %v", a)
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestBatcherMatchesSequential(t *testing.T) {
	m := tinyModel(t, "mistral")
	g := &Generator{Model: m, Tok: byteTok{}}
	reqs := []Request{
		{Prompt: []int{1, 10, 20}, MaxTokens: 9},
		{Prompt: []int{1, 30}, MaxTokens: 3},
		{Prompt: []int{1, 40, 50, 60, 70}, MaxTokens: 14, Sampling: Sampling{Temperature: 0.8, Seed: 7}},
		{Prompt: []int{1}, MaxTokens: 5, Sampling: Sampling{Temperature: 1.2, TopK: 20, Seed: 9}},
		{Prompt: []int{1, 99, 98}, MaxTokens: 7, StopStrings: []string{"zz"}},
	}
	want := make([]*Result, len(reqs))
	for i, r := range reqs {
		res, err := g.Generate(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		want[i] = res
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := NewBatcher(g, 3)
	runDone := make(chan error, 1)
	go func() { runDone <- b.Run(ctx) }()
	var wg sync.WaitGroup
	got := make([]*Result, len(reqs))
	errs := make([]error, len(reqs))
	for i, r := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = b.Generate(context.Background(), r)
		}()
	}
	wg.Wait()
	cancel()
	if err := <-runDone; !errors.Is(err, context.Canceled) {
		t.Errorf("Run err = %v", err)
	}
	for i := range reqs {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if !equalInts(got[i].Tokens, want[i].Tokens) || got[i].Text != want[i].Text || got[i].FinishReason != want[i].FinishReason {
			t.Errorf("request %d: batched %v %q %s, sequential %v %q %s", i, got[i].Tokens, got[i].Text,
				got[i].FinishReason, want[i].Tokens, want[i].Text, want[i].FinishReason)
		}
	}
	if _, err := b.Generate(context.Background(), reqs[0]); !errors.Is(err, ErrBatcherClosed) {
		t.Errorf("after stop: %v", err)
	}
}

// script drives a sequence with logits that force the given tokens.
func script(t *testing.T, req Request, tok Detokenizer, ids []int) (*Result, []Token) {
	t.Helper()
	m := tinyModel(t, "llama")
	g := &Generator{Model: m, Tok: tok}
	var deltas []Token
	user := req.OnToken
	req.OnToken = func(tk Token) error {
		deltas = append(deltas, tk)
		if user != nil {
			return user(tk)
		}
		return nil
	}
	s, err := g.start(req)
	if err != nil {
		t.Fatal(err)
	}
	V := m.Config.VocabSize
	for _, id := range ids {
		logits := make([]float32, V)
		logits[id] = 50
		done, err := s.consume(logits)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			return s.res, deltas
		}
	}
	t.Fatalf("script %v did not finish", ids)
	return nil, nil
}

func TestStreamingUTF8AndStopStrings(t *testing.T) {
	// "é" is C3 A9 and "€" is E2 82 AC: split across tokens on purpose.
	tok := byteTok{words: []string{"hel", "lo <", "/s", "> tail", "\xe2\x82"}}
	const (
		hel = 256 + iota
		loLt
		slashS
		gtTail
		euroHead
	)
	tests := []struct {
		name   string
		req    Request
		ids    []int
		text   string
		reason string
	}{
		{"split characters", Request{Prompt: []int{1}, MaxTokens: 5}, []int{0xc3, 0xa9, euroHead, 0xac, 'x'}, "é€x", FinishLength},
		{"stop string across tokens", Request{Prompt: []int{1}, MaxTokens: 10, StopStrings: []string{"</s>"}},
			[]int{hel, loLt, slashS, gtTail}, "hello ", FinishStop},
		{"held prefix released", Request{Prompt: []int{1}, MaxTokens: 3, StopStrings: []string{"lo <x"}},
			[]int{hel, loLt, 'y'}, "hello <y", FinishLength},
		{"stop token", Request{Prompt: []int{1}, MaxTokens: 10, StopTokens: []int{7}}, []int{hel, 2, 7}, "hel", FinishStop},
		{"dangling bytes flushed", Request{Prompt: []int{1}, MaxTokens: 2}, []int{'a', 0xe2}, "a\ufffd", FinishLength},
		{"invalid byte", Request{Prompt: []int{1}, MaxTokens: 2}, []int{0xff, 'b'}, "\ufffdb", FinishLength},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, deltas := script(t, tc.req, tok, tc.ids)
			if res.Text != tc.text || res.FinishReason != tc.reason {
				t.Errorf("text %q (%s), want %q (%s)", res.Text, res.FinishReason, tc.text, tc.reason)
			}
			var joined strings.Builder
			for _, d := range deltas {
				if !utf8.ValidString(d.Text) {
					t.Errorf("delta %q is not valid UTF-8", d.Text)
				}
				for _, s := range tc.req.StopStrings {
					if strings.Contains(d.Text, s) {
						t.Errorf("delta %q contains stop %q", d.Text, s)
					}
				}
				joined.WriteString(d.Text)
			}
			if joined.String() != res.Text {
				t.Errorf("deltas join to %q, text %q", joined.String(), res.Text)
			}
		})
	}
}

// evenMasker allows even ids only and is done after n tokens.
type evenMasker struct {
	n, seen int
	bad     bool
}

func (e *evenMasker) Allowed(mask []bool) {
	if e.Done() {
		return // the value is closed: only stop tokens remain
	}
	for i := range mask {
		mask[i] = i%2 == 0 && i < 256
	}
}

func (e *evenMasker) Accept(id int) error {
	if id%2 != 0 {
		e.bad = true
		return errors.New("odd token")
	}
	e.seen++
	return nil
}

func (e *evenMasker) Done() bool { return e.seen >= e.n }

// openMasker allows tokens 10 and 11 forever and is done after one token.
type openMasker struct{ n int }

func (o *openMasker) Allowed(mask []bool) { mask[10], mask[11] = true, true }
func (o *openMasker) Accept(int) error    { o.n++; return nil }
func (o *openMasker) Done() bool          { return o.n > 0 }

type noneMasker struct{}

func (noneMasker) Allowed(mask []bool) {}
func (noneMasker) Accept(int) error    { return nil }
func (noneMasker) Done() bool          { return false }

func TestMasker(t *testing.T) {
	g := &Generator{Model: tinyModel(t, "llama"), Tok: byteTok{}}
	for _, stops := range [][]int{{3}, nil} {
		mk := &evenMasker{n: 4}
		res, err := g.Generate(context.Background(), Request{Prompt: []int{1, 2}, MaxTokens: 20, StopTokens: stops,
			Masker: mk, Sampling: Sampling{Temperature: 1, Seed: 1}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Tokens) != 4 || res.FinishReason != FinishStop || mk.bad {
			t.Errorf("stops %v: tokens %v reason %s", stops, res.Tokens, res.FinishReason)
		}
	}
	_, err := g.Generate(context.Background(), Request{Prompt: []int{1}, MaxTokens: 3, Masker: noneMasker{}})
	if !errors.Is(err, ErrNoAllowedToken) {
		t.Errorf("empty mask err = %v", err)
	}
	// A complete value that could still grow: the stop token competes with
	// the allowed tokens, and only allowed or stop tokens are produced.
	open := &openMasker{}
	res, err := g.Generate(context.Background(), Request{Prompt: []int{1}, MaxTokens: 30, StopTokens: []int{3},
		Masker: open, Sampling: Sampling{Temperature: 1, Seed: 2}})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range res.Tokens {
		if id != 10 && id != 11 {
			t.Errorf("token %d not allowed", id)
		}
	}
	if res.FinishReason == FinishStop && len(res.Tokens) == 0 {
		t.Errorf("stopped before the value was complete")
	}
}

func TestLogProbs(t *testing.T) {
	m := tinyModel(t, "qwen2")
	g := &Generator{Model: m, Tok: byteTok{}}
	res, err := g.Generate(context.Background(), Request{Prompt: []int{1, 9}, MaxTokens: 3, LogProbs: true, TopLogProbs: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.LogProbs) != 3 || len(res.TopLogProbs) != 3 {
		t.Fatalf("logprobs %v top %v", res.LogProbs, res.TopLogProbs)
	}
	for i, top := range res.TopLogProbs {
		// Greedy: the chosen token is the most likely alternative.
		if top[0].ID != res.Tokens[i] || top[0].LogProb != res.LogProbs[i].LogProb {
			t.Errorf("step %d: top %v chosen %v", i, top[0], res.LogProbs[i])
		}
		var mass float64
		for j, a := range top {
			if j > 0 && a.LogProb > top[j-1].LogProb {
				t.Errorf("step %d not sorted: %v", i, top)
			}
			mass += math.Exp(a.LogProb)
		}
		if mass > 1+1e-9 || len(top) != 5 {
			t.Errorf("step %d: mass %g of %d", i, mass, len(top))
		}
	}
	// The chosen log-prob equals log-softmax of the model's logits.
	logits, _ := m.ForwardLast([]int{1, 9}, 0, nil)
	lp := logSoftmax(nil, logits)
	if d := math.Abs(lp[res.Tokens[0]] - res.LogProbs[0].LogProb); d > 1e-6 {
		t.Errorf("logprob differs by %g", d)
	}
}

func TestLogProbsExcludeStopToken(t *testing.T) {
	res, _ := script(t, Request{Prompt: []int{1}, MaxTokens: 5, LogProbs: true, StopTokens: []int{7}}, byteTok{}, []int{'a', 'b', 7})
	if len(res.Tokens) != 2 || len(res.LogProbs) != 2 || res.LogProbs[1].ID != 'b' {
		t.Errorf("tokens %v logprobs %v", res.Tokens, res.LogProbs)
	}
}

func TestRequestErrors(t *testing.T) {
	m := tinyModel(t, "llama")
	g := &Generator{Model: m, Tok: byteTok{}}
	tests := []struct {
		name string
		req  Request
		want error
	}{
		{"empty prompt", Request{}, ErrInvalidRequest},
		{"overflow", Request{Prompt: []int{1}, MaxTokens: m.MaxSeq()}, ErrContextOverflow},
		{"prompt fills context", Request{Prompt: make([]int, m.MaxSeq())}, ErrContextOverflow},
		{"bad token", Request{Prompt: []int{-1}}, ErrInvalidRequest},
		{"bad top_p", Request{Prompt: []int{1}, Sampling: Sampling{TopP: 2}}, ErrInvalidRequest},
		{"empty stop", Request{Prompt: []int{1}, StopStrings: []string{""}}, ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := g.Generate(context.Background(), tc.req); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	g := &Generator{Model: tinyModel(t, "llama"), Tok: byteTok{}}
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res, err := g.Generate(ctx, Request{Prompt: []int{1}, MaxTokens: 50, OnToken: func(Token) error {
		n++
		if n == 2 {
			cancel()
		}
		return nil
	}})
	if !errors.Is(err, context.Canceled) || res == nil || len(res.Tokens) != 2 {
		t.Errorf("err %v res %+v", err, res)
	}
}

func TestSamplerDistribution(t *testing.T) {
	logits := []float32{0, float32(math.Log(2)), float32(math.Log(5)), float32(math.Inf(-1))}
	tests := []struct {
		name string
		s    Sampling
		want []float64
	}{
		{"temperature 1", Sampling{Temperature: 1}, []float64{1.0 / 8, 2.0 / 8, 5.0 / 8, 0}},
		{"top-k 2", Sampling{Temperature: 1, TopK: 2}, []float64{0, 2.0 / 7, 5.0 / 7, 0}},
		{"top-p 0.7", Sampling{Temperature: 1, TopP: 0.7}, []float64{0, 2.0 / 7, 5.0 / 7, 0}},
		{"top-p 0.5", Sampling{Temperature: 1, TopP: 0.5}, []float64{0, 0, 1, 0}},
		{"greedy", Sampling{}, []float64{0, 0, 1, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.s.Seed = 11
			s := newSampler(tc.s)
			const n = 20000
			counts := make([]float64, len(logits))
			for i := 0; i < n; i++ {
				counts[s.pick(logits)]++
			}
			for i := range counts {
				if got := counts[i] / n; math.Abs(got-tc.want[i]) > 0.02 {
					t.Errorf("p[%d] = %.3f, want %.3f", i, got, tc.want[i])
				}
			}
		})
	}
}

func TestRepetitionPenalty(t *testing.T) {
	l := []float32{2, -2, 2, -2}
	applyPenalty(l, map[int]struct{}{0: {}, 1: {}}, 2)
	want := []float32{1, -4, 2, -2}
	for i := range l {
		if l[i] != want[i] {
			t.Errorf("logits %v, want %v", l, want)
			break
		}
	}
}
