package eval

import (
	"strings"
	"unicode"
)

// NormalizeAnswer is SQuAD's answer normalisation: lower case, punctuation
// removed, the articles a/an/the dropped and white space collapsed.
func NormalizeAnswer(s string) string {
	return strings.Join(answerTokens(s), " ")
}

func answerTokens(s string) []string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPunct(r) || unicode.IsSymbol(r) {
			return -1
		}
		return unicode.ToLower(r)
	}, s)
	f := strings.Fields(s)
	out := f[:0]
	for _, w := range f {
		if w != "a" && w != "an" && w != "the" {
			out = append(out, w)
		}
	}
	return out
}

// ExactMatch is 1 when the normalised prediction equals the normalised
// reference, else 0.
func ExactMatch(pred, ref string) float64 {
	if NormalizeAnswer(pred) == NormalizeAnswer(ref) {
		return 1
	}
	return 0
}

// TokenF1 is SQuAD's token-overlap F1 between the normalised prediction and
// reference: the harmonic mean of precision and recall over the multiset of
// shared tokens. Two empty answers score 1; one empty answer scores 0.
func TokenF1(pred, ref string) float64 {
	p, r := answerTokens(pred), answerTokens(ref)
	if len(p) == 0 || len(r) == 0 {
		if len(p) == len(r) {
			return 1
		}
		return 0
	}
	count := make(map[string]int, len(r))
	for _, w := range r {
		count[w]++
	}
	common := 0
	for _, w := range p {
		if count[w] > 0 {
			count[w]--
			common++
		}
	}
	if common == 0 {
		return 0
	}
	prec := float64(common) / float64(len(p))
	rec := float64(common) / float64(len(r))
	return 2 * prec * rec / (prec + rec)
}
