package generate

import (
	"math"
	"math/rand/v2"
	"sort"
)

// Sampling chooses the next token from logits. The zero value is greedy
// decoding.
type Sampling struct {
	// Temperature divides the logits; 0 means greedy (argmax).
	Temperature float64
	// TopK keeps the K most likely tokens; 0 disables.
	TopK int
	// TopP keeps the smallest set of most likely tokens whose probability
	// reaches TopP; 0 or 1 disables.
	TopP float64
	// RepetitionPenalty (> 1 discourages repeats) divides positive and
	// multiplies negative logits of every token already in the prompt or
	// output, as Hugging Face's RepetitionPenaltyLogitsProcessor; 0 or 1
	// disables.
	RepetitionPenalty float64
	// Seed seeds the request's own random generator: the same seed, prompt
	// and model give the same tokens.
	Seed uint64
}

// applyPenalty applies the repetition penalty to logits in place.
func applyPenalty(logits []float32, seen map[int]struct{}, penalty float64) {
	if penalty <= 0 || penalty == 1 {
		return
	}
	p := float32(penalty)
	for id := range seen {
		if id < 0 || id >= len(logits) {
			continue
		}
		if logits[id] > 0 {
			logits[id] /= p
		} else {
			logits[id] *= p
		}
	}
}

// logSoftmax returns log-probabilities of logits (as float64).
func logSoftmax(dst []float64, logits []float32) []float64 {
	dst = dst[:0]
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v) - mx)
	}
	lse := mx + math.Log(sum)
	for _, v := range logits {
		dst = append(dst, float64(v)-lse)
	}
	return dst
}

// argmax returns the first index of the largest value.
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// sampler holds per-request sampling state and scratch.
type sampler struct {
	cfg   Sampling
	rng   *rand.Rand
	idx   []int
	probs []float64
}

func newSampler(cfg Sampling) *sampler {
	return &sampler{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0xda942042e4dd58b5))}
}

// pick chooses a token from processed logits (penalty and mask applied;
// masked entries are -Inf).
func (s *sampler) pick(logits []float32) int {
	c := s.cfg
	if c.Temperature <= 0 {
		return argmax(logits)
	}
	s.idx = s.idx[:0]
	for i, v := range logits {
		if !math.IsInf(float64(v), -1) {
			s.idx = append(s.idx, i)
		}
	}
	if len(s.idx) == 0 {
		return argmax(logits)
	}
	sort.Slice(s.idx, func(a, b int) bool {
		la, lb := logits[s.idx[a]], logits[s.idx[b]]
		return la > lb || (la == lb && s.idx[a] < s.idx[b])
	})
	if c.TopK > 0 && c.TopK < len(s.idx) {
		s.idx = s.idx[:c.TopK]
	}
	mx := float64(logits[s.idx[0]])
	s.probs = s.probs[:0]
	var sum float64
	for _, id := range s.idx {
		p := math.Exp((float64(logits[id]) - mx) / c.Temperature)
		s.probs = append(s.probs, p)
		sum += p
	}
	n := len(s.idx)
	if c.TopP > 0 && c.TopP < 1 {
		var cum float64
		for i, p := range s.probs {
			cum += p / sum
			if cum >= c.TopP {
				n = i + 1
				break
			}
		}
		sum = 0
		for _, p := range s.probs[:n] {
			sum += p
		}
	}
	r := s.rng.Float64() * sum
	for i := 0; i < n; i++ {
		r -= s.probs[i]
		if r < 0 {
			return s.idx[i]
		}
	}
	return s.idx[n-1]
}
