package extract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
)

// Thresholds for telling binary data from text, over the first sniffLen bytes.
const (
	sniffLen          = 8192
	maxControlRatio   = 0.10 // control characters other than whitespace
	maxInvalidRatio   = 0.30 // invalid UTF-8 sequences
	minBinarySniffLen = 16   // shorter inputs are judged on NUL bytes only
)

// decodeDeclared decodes text that is not valid UTF-8 with the charset the
// file declares: a charset parameter of the content type for any text
// format, and for HTML also a <meta charset> or, failing that, the
// windows-1252 default browsers apply (WHATWG encoding sniffing). Without a
// declaration invalid bytes are repaired and counted by decodeText.
func decodeDeclared(data []byte, format Format, contentType string) (string, int, error) {
	if utf8.Valid(data) || hasBOM(data) {
		return decodeText(data)
	}
	var enc encoding.Encoding
	if _, params, err := mime.ParseMediaType(contentType); err == nil && params["charset"] != "" {
		enc, _ = charset.Lookup(params["charset"])
	}
	if enc == nil && format == FormatHTML {
		enc, _, _ = charset.DetermineEncoding(data, contentType)
	}
	if enc == nil || enc == encoding.Nop {
		return decodeText(data)
	}
	// Legacy encodings put most bytes above 0x7f, so only NUL and control
	// characters mark binary data here.
	if err := checkControl(data); err != nil {
		return "", 0, err
	}
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return decodeText(data)
	}
	return decodeText(out)
}

func hasBOM(data []byte) bool {
	return bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) || bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff"))
}

// checkControl is checkBinary without the invalid UTF-8 test.
func checkControl(data []byte) error {
	head := data
	if len(head) > sniffLen {
		head = head[:sniffLen]
	}
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return fmt.Errorf("%w: NUL byte at offset %d", ErrBinary, i)
	}
	ctrl := 0
	for _, c := range head {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v' || c == 0x7f {
			ctrl++
		}
	}
	if len(head) >= minBinarySniffLen && float64(ctrl)/float64(len(head)) > maxControlRatio {
		return fmt.Errorf("%w: %d control characters in the first %d bytes", ErrBinary, ctrl, len(head))
	}
	return nil
}

// decodeText turns raw bytes into valid UTF-8: it honours UTF-8 and UTF-16
// byte-order marks, rejects binary data with ErrBinary, and replaces each
// invalid UTF-8 sequence with U+FFFD, returning how many it replaced.
func decodeText(data []byte) (string, int, error) {
	switch {
	case bytes.HasPrefix(data, []byte("\xef\xbb\xbf")):
		data = data[3:]
	case bytes.HasPrefix(data, []byte("\xff\xfe")):
		return decodeUTF16(data[2:], false), 0, nil
	case bytes.HasPrefix(data, []byte("\xfe\xff")):
		return decodeUTF16(data[2:], true), 0, nil
	}
	if err := checkBinary(data); err != nil {
		return "", 0, err
	}
	if utf8.Valid(data) {
		return string(data), 0, nil
	}
	return repairUTF8(data)
}

func repairUTF8(data []byte) (string, int, error) {
	var b strings.Builder
	b.Grow(len(data) + 16)
	bad := 0
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			bad++
			b.WriteRune(utf8.RuneError)
			data = data[1:]
			// One replacement per maximal invalid run of continuation bytes.
			for len(data) > 0 && data[0]&0xC0 == 0x80 {
				data = data[1:]
			}
			continue
		}
		b.Write(data[:size])
		data = data[size:]
	}
	return b.String(), bad, nil
}

func decodeUTF16(data []byte, bigEndian bool) string {
	u := make([]uint16, 0, len(data)/2)
	for i := 0; i+1 < len(data); i += 2 {
		if bigEndian {
			u = append(u, uint16(data[i])<<8|uint16(data[i+1]))
		} else {
			u = append(u, uint16(data[i+1])<<8|uint16(data[i]))
		}
	}
	return string(utf16.Decode(u))
}

// checkBinary returns ErrBinary when the leading bytes hold NUL bytes, many
// control characters or mostly invalid UTF-8.
func checkBinary(data []byte) error {
	head := data
	if len(head) > sniffLen {
		head = head[:sniffLen]
		// Do not judge a multi-byte character cut at the boundary.
		for i := 0; i < utf8.UTFMax && len(head) > 0 && !utf8.RuneStart(head[len(head)-1]); i++ {
			head = head[:len(head)-1]
		}
	}
	if i := bytes.IndexByte(head, 0); i >= 0 {
		return fmt.Errorf("%w: NUL byte at offset %d", ErrBinary, i)
	}
	if len(head) < minBinarySniffLen {
		return nil
	}
	ctrl, invalid := 0, 0
	for i := 0; i < len(head); {
		c := head[i]
		if c < 0x80 {
			if c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\v' || c == 0x7f {
				ctrl++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(head[i:])
		if r == utf8.RuneError && size <= 1 {
			invalid++
		}
		i += size
	}
	n := float64(len(head))
	if float64(ctrl)/n > maxControlRatio {
		return fmt.Errorf("%w: %d control characters in the first %d bytes", ErrBinary, ctrl, len(head))
	}
	if float64(invalid)/n > maxInvalidRatio {
		return fmt.Errorf("%w: %d invalid UTF-8 sequences in the first %d bytes", ErrBinary, invalid, len(head))
	}
	return nil
}

func jsonValid(b []byte) bool { return json.Valid(b) }

// extractText keeps plain text as it is, with line endings normalised.
func extractText(text string) (*Document, error) {
	text = normalizeNewlines(text)
	doc := &Document{Text: text, Metadata: map[string]string{}}
	if trimmed := strings.TrimSpace(text); trimmed != "" {
		start := strings.Index(text, trimmed)
		doc.Sections = []Section{{Path: []string{}, Start: start, End: start + len(trimmed)}}
	}
	return doc, nil
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// builder assembles Document.Text block by block and tracks sections.
type builder struct {
	sb      strings.Builder
	trail   []string  // current heading trail
	levels  []int     // heading level of each trail entry
	cur     *Section  // open section
	done    []Section // closed sections
	page    int
	title   string
	pending bool // a block was written and needs a separating blank line
}

// heading closes the open section and starts one under text at level
// (1 = outermost).
func (b *builder) heading(level int, text string) {
	text = collapseSpace(text)
	if text == "" {
		return
	}
	for len(b.levels) > 0 && b.levels[len(b.levels)-1] >= level {
		b.levels = b.levels[:len(b.levels)-1]
		b.trail = b.trail[:len(b.trail)-1]
	}
	b.trail = append(b.trail, text)
	b.levels = append(b.levels, level)
	b.closeSection()
	b.sep()
	b.cur = &Section{Path: append([]string(nil), b.trail...), Start: b.sb.Len(), Page: b.page}
	b.sb.WriteString(text)
	b.pending = true
	if b.title == "" && level <= 1 {
		b.title = text
	}
}

// block writes a paragraph-like block of text.
func (b *builder) block(text string) {
	text = strings.TrimRight(text, " \t\n")
	text = strings.TrimLeft(text, "\n")
	if strings.TrimSpace(text) == "" {
		return
	}
	if b.cur == nil {
		b.cur = &Section{Path: []string{}, Start: b.sb.Len(), Page: b.page}
		if b.pending {
			b.cur.Start += 2
		}
	}
	b.sep()
	b.sb.WriteString(text)
	b.pending = true
}

func (b *builder) sep() {
	if b.pending {
		b.sb.WriteString("\n\n")
		b.pending = false
	}
}

func (b *builder) closeSection() {
	if b.cur == nil {
		return
	}
	b.cur.End = b.sb.Len()
	if b.cur.End > b.cur.Start {
		b.done = append(b.done, *b.cur)
	}
	b.cur = nil
}

// document finishes the text.
func (b *builder) document() *Document {
	b.closeSection()
	return &Document{Text: b.sb.String(), Sections: b.done, Title: b.title, Metadata: map[string]string{}}
}

// collapseSpace trims s and folds runs of whitespace into single spaces.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
