package tokenizer

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// normalizer rewrites text before pre-tokenization, keeping alignment when
// track is set.
type normalizer interface {
	normalize(sp span, track bool) span
}

type normalizerJSON struct {
	Type                string            `json:"type"`
	Normalizers         []json.RawMessage `json:"normalizers"`
	Prepend             string            `json:"prepend"`
	Pattern             *patternJSON      `json:"pattern"`
	Content             string            `json:"content"`
	Left                bool              `json:"left"`
	Right               bool              `json:"right"`
	CleanText           *bool             `json:"clean_text"`
	HandleChineseChars  *bool             `json:"handle_chinese_chars"`
	StripAccents        *bool             `json:"strip_accents"`
	Lowercase           *bool             `json:"lowercase"`
	PrecompiledCharsmap *string           `json:"precompiled_charsmap"`
}

// patternJSON is the {"String": …} or {"Regex": …} pattern of Split and Replace.
type patternJSON struct {
	String *string `json:"String"`
	Regex  *string `json:"Regex"`
}

func boolOr(p *bool, def bool) bool {
	if p == nil {
		return def
	}
	return *p
}

func parseNormalizer(raw json.RawMessage, depth int) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > 16 {
		return nil, fmt.Errorf("%w: normalizer nested too deeply", ErrFormat)
	}
	var j normalizerJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("%w: normalizer: %v", ErrFormat, err)
	}
	switch j.Type {
	case "Sequence":
		var seq seqNormalizer
		for _, r := range j.Normalizers {
			n, err := parseNormalizer(r, depth+1)
			if err != nil {
				return nil, err
			}
			if n != nil {
				seq = append(seq, n)
			}
		}
		return seq, nil
	case "NFC":
		return formNormalizer{norm.NFC}, nil
	case "NFD":
		return formNormalizer{norm.NFD}, nil
	case "NFKC":
		return formNormalizer{norm.NFKC}, nil
	case "NFKD":
		return formNormalizer{norm.NFKD}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "Strip":
		return stripNormalizer{left: j.Left, right: j.Right}, nil
	case "Prepend":
		return prependNormalizer{j.Prepend}, nil
	case "Replace":
		p, err := compilePattern(j.Pattern)
		if err != nil {
			return nil, fmt.Errorf("replace normalizer: %w", err)
		}
		return replaceNormalizer{pat: p, content: j.Content}, nil
	case "BertNormalizer":
		lower := boolOr(j.Lowercase, true)
		return bertNormalizer{
			cleanText: boolOr(j.CleanText, true),
			chinese:   boolOr(j.HandleChineseChars, true),
			strip:     boolOr(j.StripAccents, lower),
			lowercase: lower,
		}, nil
	case "Precompiled":
		if j.PrecompiledCharsmap == nil || *j.PrecompiledCharsmap == "" {
			return nil, nil
		}
		return nil, fmt.Errorf("%w: Precompiled normalizer with a SentencePiece charsmap", ErrUnsupported)
	default:
		return nil, fmt.Errorf("%w: normalizer type %q", ErrUnsupported, j.Type)
	}
}

type seqNormalizer []normalizer

func (s seqNormalizer) normalize(sp span, track bool) span {
	for _, n := range s {
		sp = n.normalize(sp, track)
	}
	return sp
}

// mapRunes rewrites sp one character at a time; f appends the replacement
// of r to dst.
func mapRunes(sp span, track bool, f func(dst []byte, r rune) []byte) span {
	// Most text comes through unchanged: find the first change before
	// building anything.
	var buf []byte
	first := len(sp.s)
	for i := 0; i < len(sp.s); {
		r, sz := utf8.DecodeRuneInString(sp.s[i:])
		buf = f(buf[:0], r)
		if len(buf) != sz || string(buf) != sp.s[i:i+sz] {
			first = i
			break
		}
		i += sz
	}
	if first == len(sp.s) {
		return sp
	}
	w := newSpanBuilder(track, sp.off, len(sp.s))
	same := 0 // start of the run of unchanged characters not yet copied
	for i := first; i < len(sp.s); {
		r, sz := utf8.DecodeRuneInString(sp.s[i:])
		buf = f(buf[:0], r)
		if len(buf) == sz && string(buf) == sp.s[i:i+sz] {
			i += sz
			continue
		}
		w.copyFrom(sp, same, i)
		o0, o1 := sp.orig(i, i+sz)
		w.addBytes(buf, o0, o1)
		i += sz
		same = i
	}
	w.copyFrom(sp, same, len(sp.s))
	return w.span()
}

type formNormalizer struct{ f norm.Form }

func (n formNormalizer) normalize(sp span, track bool) span {
	if n.f.IsNormalString(sp.s) {
		return sp
	}
	if !track {
		return span{s: n.f.String(sp.s), off: sp.off}
	}
	w := newSpanBuilder(true, sp.off, len(sp.s))
	for i := 0; i < len(sp.s); {
		k := n.f.NextBoundaryInString(sp.s[i:], true)
		if k <= 0 {
			k = len(sp.s) - i
		}
		seg := sp.s[i : i+k]
		out := n.f.String(seg)
		if out == seg {
			w.copyFrom(sp, i, i+k)
		} else {
			o0, o1 := sp.orig(i, i+k)
			w.add(out, o0, o1)
		}
		i += k
	}
	return w.span()
}

// lowerRune appends the full lowercase mapping of r, as Rust's
// char::to_lowercase does (U+0130 becomes two characters).
func lowerRune(dst []byte, r rune) []byte {
	if r == 'İ' {
		return append(dst, "i̇"...)
	}
	return utf8.AppendRune(dst, unicode.ToLower(r))
}

type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(sp span, track bool) span {
	return mapRunes(sp, track, lowerRune)
}

// stripAccentsNormalizer drops combining marks (any Mark category), as the
// StripAccents normalizer does; BertNormalizer drops only nonspacing marks.
type stripAccentsNormalizer struct{ nonspacingOnly bool }

func (n stripAccentsNormalizer) normalize(sp span, track bool) span {
	cat := unicode.M
	if n.nonspacingOnly {
		cat = unicode.Mn
	}
	return mapRunes(sp, track, func(dst []byte, r rune) []byte {
		if unicode.Is(cat, r) {
			return dst
		}
		return utf8.AppendRune(dst, r)
	})
}

type stripNormalizer struct{ left, right bool }

func (n stripNormalizer) normalize(sp span, track bool) span {
	i, j := 0, len(sp.s)
	if n.left {
		i = len(sp.s) - len(strings.TrimLeftFunc(sp.s, unicode.IsSpace))
	}
	if n.right {
		j = len(strings.TrimRightFunc(sp.s, unicode.IsSpace))
	}
	if i >= j {
		return sp.sub(0, 0)
	}
	return sp.sub(i, j)
}

type prependNormalizer struct{ prefix string }

func (n prependNormalizer) normalize(sp span, track bool) span {
	if sp.s == "" || n.prefix == "" {
		return sp
	}
	_, sz := utf8.DecodeRuneInString(sp.s)
	o0, o1 := sp.orig(0, sz)
	w := newSpanBuilder(track, sp.off, len(sp.s)+len(n.prefix))
	w.add(n.prefix, o0, o1)
	w.copyFrom(sp, 0, len(sp.s))
	return w.span()
}

type replaceNormalizer struct {
	pat     matcher
	content string
}

func (n replaceNormalizer) normalize(sp span, track bool) span {
	ms := n.pat.findAll(sp.s)
	if len(ms) == 0 {
		return sp
	}
	w := newSpanBuilder(track, sp.off, len(sp.s))
	prev := 0
	for _, m := range ms {
		w.copyFrom(sp, prev, m[0])
		o0, o1 := sp.orig(m[0], m[1])
		w.add(n.content, o0, o1)
		prev = m[1]
	}
	w.copyFrom(sp, prev, len(sp.s))
	return w.span()
}

type bertNormalizer struct {
	cleanText, chinese, strip, lowercase bool
}

// isBertControl reports the characters BERT's clean_text removes.
func isBertControl(r rune) bool {
	switch r {
	case '\t', '\n', '\r':
		return false
	}
	if r < 0x80 {
		return r < 0x20 || r == 0x7f
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs) || !isAssigned(r)
}

func isAssigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.C)
}

// isChineseChar reports the CJK ideograph blocks BERT pads with spaces.
func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) || (r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) || (r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) || (r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) || (r >= 0x2F800 && r <= 0x2FA1F)
}

// normalize runs clean_text, CJK padding, accent stripping (NFD, then drop
// nonspacing marks) and lowercasing, in that order, fusing the per-character
// steps into as few passes as the NFD step allows.
func (n bertNormalizer) normalize(sp span, track bool) span {
	lowerFirst := n.lowercase && !n.strip
	sp = mapRunes(sp, track, func(dst []byte, r rune) []byte {
		if n.cleanText {
			if r == 0 || r == utf8.RuneError || isBertControl(r) {
				return dst
			}
			if r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r) {
				return append(dst, ' ')
			}
		}
		if n.chinese && isChineseChar(r) {
			dst = append(dst, ' ')
			dst = utf8.AppendRune(dst, r)
			return append(dst, ' ')
		}
		if lowerFirst {
			return lowerRune(dst, r)
		}
		return utf8.AppendRune(dst, r)
	})
	if n.strip {
		sp = formNormalizer{norm.NFD}.normalize(sp, track)
		sp = mapRunes(sp, track, func(dst []byte, r rune) []byte {
			if unicode.Is(unicode.Mn, r) {
				return dst
			}
			if n.lowercase {
				return lowerRune(dst, r)
			}
			return utf8.AppendRune(dst, r)
		})
	}
	return sp
}
