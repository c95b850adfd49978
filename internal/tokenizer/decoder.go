package tokenizer

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decoder turns tokens back into text pieces, as the reference's
// decode_chain does.
type decoder interface {
	decodeChain(tokens []string) []string
}

type decoderJSON struct {
	Type           string            `json:"type"`
	Decoders       []json.RawMessage `json:"decoders"`
	Replacement    string            `json:"replacement"`
	PrependScheme  string            `json:"prepend_scheme"`
	AddPrefixSpace *bool             `json:"add_prefix_space"`
	Pattern        *patternJSON      `json:"pattern"`
	Content        string            `json:"content"`
	Start          int               `json:"start"`
	Stop           int               `json:"stop"`
	Prefix         *string           `json:"prefix"`
	Cleanup        *bool             `json:"cleanup"`
	Suffix         *string           `json:"suffix"`
}

func parseDecoder(raw json.RawMessage, depth int) (decoder, error) {
	if isNull(raw) {
		return nil, nil
	}
	if depth > 16 {
		return nil, fmt.Errorf("%w: decoder nested too deeply", ErrFormat)
	}
	var j decoderJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("%w: decoder: %v", ErrFormat, err)
	}
	switch j.Type {
	case "Sequence":
		var seq seqDecoder
		for _, r := range j.Decoders {
			d, err := parseDecoder(r, depth+1)
			if err != nil {
				return nil, err
			}
			if d != nil {
				seq = append(seq, d)
			}
		}
		return seq, nil
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "Metaspace":
		rep := j.Replacement
		if rep == "" {
			rep = "▁"
		}
		prepend := j.PrependScheme != "never"
		if j.PrependScheme == "" && j.AddPrefixSpace != nil {
			prepend = *j.AddPrefixSpace
		}
		return metaspaceDecoder{rep: rep, prepend: prepend}, nil
	case "Replace":
		m, err := compilePattern(j.Pattern)
		if err != nil {
			return nil, fmt.Errorf("replace decoder: %w", err)
		}
		return replaceDecoder{replaceNormalizer{pat: m, content: j.Content}}, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		if j.Start < 0 || j.Stop < 0 {
			return nil, fmt.Errorf("%w: strip decoder with negative count", ErrFormat)
		}
		c, _ := utf8.DecodeRuneInString(j.Content)
		return stripDecoder{content: c, start: j.Start, stop: j.Stop}, nil
	case "WordPiece":
		prefix := "##"
		if j.Prefix != nil {
			prefix = *j.Prefix
		}
		return wordPieceDecoder{prefix: prefix, cleanup: boolOr(j.Cleanup, true)}, nil
	case "BPEDecoder":
		suffix := "</w>"
		if j.Suffix != nil {
			suffix = *j.Suffix
		}
		return bpeDecoder{suffix: suffix}, nil
	default:
		return nil, fmt.Errorf("%w: decoder type %q", ErrUnsupported, j.Type)
	}
}

type seqDecoder []decoder

func (s seqDecoder) decodeChain(tokens []string) []string {
	for _, d := range s {
		tokens = d.decodeChain(tokens)
	}
	return tokens
}

type byteLevelDecoder struct{}

func (byteLevelDecoder) decodeChain(tokens []string) []string {
	var b []byte
	for _, t := range tokens {
		b = append(b, byteLevelDecode(t)...)
	}
	return []string{lossyUTF8(b)}
}

// lossyUTF8 replaces each invalid byte with U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb strings.Builder
	for len(b) > 0 {
		r, sz := utf8.DecodeRune(b)
		if r == utf8.RuneError && sz <= 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.Write(b[:sz])
		}
		b = b[max(sz, 1):]
	}
	return sb.String()
}

type metaspaceDecoder struct {
	rep     string
	prepend bool
}

func (d metaspaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		t = strings.ReplaceAll(t, d.rep, " ")
		if i == 0 && d.prepend {
			t = strings.TrimPrefix(t, " ")
		}
		out[i] = t
	}
	return out
}

type replaceDecoder struct{ r replaceNormalizer }

func (d replaceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		out[i] = d.r.normalize(span{s: t}, false).s
	}
	return out
}

// parseByteToken reads a byte-fallback token such as <0x0A>.
func parseByteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(t[3:5], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

type byteFallbackDecoder struct{}

func (byteFallbackDecoder) decodeChain(tokens []string) []string {
	out := make([]string, 0, len(tokens))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range tokens {
		if b, ok := parseByteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

type fuseDecoder struct{}

func (fuseDecoder) decodeChain(tokens []string) []string {
	return []string{strings.Join(tokens, "")}
}

type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		for k := 0; k < d.start; k++ {
			r, sz := utf8.DecodeRuneInString(t)
			if sz == 0 || r != d.content {
				break
			}
			t = t[sz:]
		}
		for k := 0; k < d.stop; k++ {
			r, sz := utf8.DecodeLastRuneInString(t)
			if sz == 0 || r != d.content {
				break
			}
			t = t[:len(t)-sz]
		}
		out[i] = t
	}
	return out
}

type wordPieceDecoder struct {
	prefix  string
	cleanup bool
}

var cleanupReplacer = []struct{ from, to string }{
	{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
	{" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
}

func (d wordPieceDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		if i != 0 {
			if strings.HasPrefix(t, d.prefix) {
				t = strings.Replace(t, d.prefix, "", 1)
			} else {
				t = " " + t
			}
		}
		if d.cleanup {
			for _, r := range cleanupReplacer {
				t = strings.ReplaceAll(t, r.from, r.to)
			}
		}
		out[i] = t
	}
	return out
}

type bpeDecoder struct{ suffix string }

func (d bpeDecoder) decodeChain(tokens []string) []string {
	out := make([]string, len(tokens))
	for i, t := range tokens {
		rep := " "
		if i == len(tokens)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, d.suffix, rep)
	}
	return out
}
