package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// gpt2Pattern is the pre-tokenizer regex of GPT-2's ByteLevel.
const gpt2Pattern = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`

// ptContext is what a pre-tokenizer may know about the text it splits.
type ptContext struct {
	track bool
	first bool // the text is the first section of the input (before any added token)
}

// preTokenizer splits normalized text into words for the model.
type preTokenizer interface {
	preTokenize(pieces []span, c ptContext) []span
}

type preTokenizerJSON struct {
	Type             string            `json:"type"`
	Pretokenizers    []json.RawMessage `json:"pretokenizers"`
	Pattern          *patternJSON      `json:"pattern"`
	Behavior         string            `json:"behavior"`
	Invert           bool              `json:"invert"`
	AddPrefixSpace   *bool             `json:"add_prefix_space"`
	TrimOffsets      *bool             `json:"trim_offsets"`
	UseRegex         *bool             `json:"use_regex"`
	Replacement      string            `json:"replacement"`
	PrependScheme    string            `json:"prepend_scheme"`
	Split            *bool             `json:"split"`
	IndividualDigits bool              `json:"individual_digits"`
}

func parsePreTokenizer(raw json.RawMessage, depth int, byteLevel *bool) (preTokenizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > 16 {
		return nil, fmt.Errorf("%w: pre-tokenizer nested too deeply", ErrFormat)
	}
	var j preTokenizerJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("%w: pre-tokenizer: %v", ErrFormat, err)
	}
	switch j.Type {
	case "Sequence":
		var seq seqPreTokenizer
		for _, r := range j.Pretokenizers {
			p, err := parsePreTokenizer(r, depth+1, byteLevel)
			if err != nil {
				return nil, err
			}
			if p != nil {
				seq = append(seq, p)
			}
		}
		return seq, nil
	case "Split":
		m, err := compilePattern(j.Pattern)
		if err != nil {
			return nil, fmt.Errorf("split pre-tokenizer: %w", err)
		}
		beh, err := parseBehavior(j.Behavior)
		if err != nil {
			return nil, err
		}
		return splitPreTokenizer{m: m, beh: beh, invert: j.Invert}, nil
	case "ByteLevel":
		*byteLevel = true
		p := byteLevelPreTokenizer{addPrefixSpace: boolOr(j.AddPrefixSpace, true)}
		if boolOr(j.UseRegex, true) {
			m, err := compileRegex(gpt2Pattern)
			if err != nil {
				return nil, err
			}
			p.re = m
		}
		return p, nil
	case "Metaspace":
		rep := j.Replacement
		if rep == "" {
			rep = "▁"
		}
		scheme := j.PrependScheme
		if scheme == "" {
			scheme = "always"
			if j.AddPrefixSpace != nil && !*j.AddPrefixSpace {
				scheme = "never"
			}
		}
		switch scheme {
		case "always", "first", "never":
		default:
			return nil, fmt.Errorf("%w: metaspace prepend_scheme %q", ErrFormat, scheme)
		}
		return metaspacePreTokenizer{rep: rep, scheme: scheme, split: boolOr(j.Split, true)}, nil
	case "Whitespace":
		m, err := compileRegex(`\w+|[^\w\s]+`)
		if err != nil {
			return nil, err
		}
		return splitPreTokenizer{m: m, beh: behRemoved, invert: true}, nil
	case "WhitespaceSplit":
		return splitPreTokenizer{m: funcMatcher(unicode.IsSpace), beh: behRemoved}, nil
	case "BertPreTokenizer":
		return seqPreTokenizer{
			splitPreTokenizer{m: funcMatcher(unicode.IsSpace), beh: behRemoved},
			splitPreTokenizer{m: funcMatcher(isBertPunct), beh: behIsolated},
		}, nil
	case "Punctuation":
		beh, err := parseBehavior(j.Behavior)
		if err != nil {
			return nil, err
		}
		return splitPreTokenizer{m: funcMatcher(isBertPunct), beh: beh}, nil
	case "Digits":
		isDigit := func(r rune) bool { return r >= '0' && r <= '9' }
		if j.IndividualDigits {
			return splitPreTokenizer{m: funcMatcher(isDigit), beh: behIsolated}, nil
		}
		return splitPreTokenizer{m: funcMatcher(isDigit), beh: behContiguous}, nil
	default:
		return nil, fmt.Errorf("%w: pre-tokenizer type %q", ErrUnsupported, j.Type)
	}
}

// isBertPunct is ASCII punctuation or any Unicode punctuation character.
func isBertPunct(r rune) bool {
	if r < 128 {
		return (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126)
	}
	return unicode.IsPunct(r)
}

type seqPreTokenizer []preTokenizer

func (s seqPreTokenizer) preTokenize(pieces []span, c ptContext) []span {
	for _, p := range s {
		pieces = p.preTokenize(pieces, c)
	}
	return pieces
}

type splitPreTokenizer struct {
	m      matcher
	beh    splitBehavior
	invert bool
}

func (p splitPreTokenizer) preTokenize(pieces []span, c ptContext) []span {
	out := make([]span, 0, len(pieces)*4)
	for _, sp := range pieces {
		out = splitSpan(sp, p.m, p.beh, p.invert, out)
	}
	return out
}

// byteLevelPreTokenizer adds the prefix space and applies the GPT-2 split.
// The byte-to-character mapping itself happens in the BPE model, which sees
// raw bytes, so offsets stay exact.
type byteLevelPreTokenizer struct {
	addPrefixSpace bool
	re             matcher
}

func (p byteLevelPreTokenizer) preTokenize(pieces []span, c ptContext) []span {
	out := make([]span, 0, len(pieces))
	for _, sp := range pieces {
		if p.addPrefixSpace && !strings.HasPrefix(sp.s, " ") && sp.s != "" {
			_, sz := utf8.DecodeRuneInString(sp.s)
			o0, o1 := sp.orig(0, sz)
			w := newSpanBuilder(c.track, sp.off, len(sp.s)+1)
			w.add(" ", o0, o1)
			w.copyFrom(sp, 0, len(sp.s))
			sp = w.span()
		}
		if p.re != nil {
			out = splitSpan(sp, p.re, behIsolated, false, out)
		} else if sp.s != "" {
			out = append(out, sp)
		}
	}
	return out
}

type metaspacePreTokenizer struct {
	rep    string
	scheme string
	split  bool
}

func (p metaspacePreTokenizer) preTokenize(pieces []span, c ptContext) []span {
	out := make([]span, 0, len(pieces)*4)
	for i, sp := range pieces {
		w := newSpanBuilder(c.track, sp.off, len(sp.s)+len(p.rep))
		prepend := p.scheme == "always" || (p.scheme == "first" && c.first && i == 0)
		// The check is on the text after spaces became the replacement.
		if prepend && sp.s != "" && !strings.HasPrefix(sp.s, p.rep) && sp.s[0] != ' ' {
			_, sz := utf8.DecodeRuneInString(sp.s)
			o0, o1 := sp.orig(0, sz)
			w.add(p.rep, o0, o1)
		}
		prev := 0
		for k := 0; k < len(sp.s); k++ {
			if sp.s[k] == ' ' {
				w.copyFrom(sp, prev, k)
				o0, o1 := sp.orig(k, k+1)
				w.add(p.rep, o0, o1)
				prev = k + 1
			}
		}
		w.copyFrom(sp, prev, len(sp.s))
		ns := w.span()
		if p.split {
			out = splitSpan(ns, literalMatcher(p.rep), behMergedWithNext, false, out)
		} else if ns.s != "" {
			out = append(out, ns)
		}
	}
	return out
}

// isNull reports an absent or JSON null component.
func isNull(raw json.RawMessage) bool {
	t := strings.TrimSpace(string(raw))
	return t == "" || t == "null"
}
