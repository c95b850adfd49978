package chat

import (
	"fmt"
	"strings"
)

// segKind is the kind of one piece of template source.
type segKind int

const (
	segText    segKind = iota // literal output
	segExpr                   // {{ ... }}
	segStmt                   // {% ... %}
	segComment                // {# ... #}
)

// segment is one piece of template source after whitespace control has been applied.
type segment struct {
	kind segKind
	body string // text, or the inside of the tag without delimiters and control marks
	line int    // 1-based line of the segment start, for error messages
}

// rawTag is a tag found by scan before whitespace control.
type rawTag struct {
	kind        segKind
	start, end  int // byte range of the whole tag in the source
	bodyStart   int
	bodyEnd     int
	leftStrip   byte // '-', '+' or 0
	rightStrip  byte
	line        int
	rawContents bool // the tag is {% raw %}...{% endraw %} folded into a text segment
}

// lex splits src into segments, applying Jinja's whitespace control as the Hugging Face
// environment configures it: trim_blocks and lstrip_blocks on, plus the explicit - and + marks.
func lex(src string) ([]segment, error) {
	tags, err := scanTags(src)
	if err != nil {
		return nil, err
	}
	var segs []segment
	prev := -1 // index into tags of the previous tag
	pos := 0
	for i := 0; i <= len(tags); i++ {
		textEnd := len(src)
		if i < len(tags) {
			textEnd = tags[i].start
		}
		text := src[pos:textEnd]
		lo, hi := 0, len(text)
		// Effects of the previous tag on the start of this text.
		if prev >= 0 {
			pt := tags[prev]
			switch {
			case pt.rightStrip == '-':
				lo = len(text) - len(strings.TrimLeft(text, " \t\r\n\f\v"))
			case pt.rightStrip != '+' && pt.kind != segExpr:
				if strings.HasPrefix(text, "\r\n") {
					lo = 2
				} else if strings.HasPrefix(text, "\n") {
					lo = 1
				}
			}
		}
		// Effects of the next tag on the end of this text.
		if i < len(tags) {
			nt := tags[i]
			switch {
			case nt.leftStrip == '-':
				hi = len(strings.TrimRight(text, " \t\r\n\f\v"))
			case nt.leftStrip != '+' && nt.kind != segExpr:
				j := len(text)
				for j > 0 && (text[j-1] == ' ' || text[j-1] == '\t') {
					j--
				}
				if (j > 0 && text[j-1] == '\n') || (j == 0 && prev < 0) {
					hi = j
				}
			}
		}
		if hi > lo {
			segs = append(segs, segment{kind: segText, body: text[lo:hi], line: lineOf(src, pos+lo)})
		}
		if i == len(tags) {
			break
		}
		t := tags[i]
		if t.rawContents {
			segs = append(segs, segment{kind: segText, body: src[t.bodyStart:t.bodyEnd], line: t.line})
		} else if t.kind != segComment {
			segs = append(segs, segment{kind: t.kind, body: src[t.bodyStart:t.bodyEnd], line: t.line})
		}
		prev = i
		pos = t.end
	}
	return segs, nil
}

func lineOf(src string, pos int) int {
	if pos > len(src) {
		pos = len(src)
	}
	return strings.Count(src[:pos], "\n") + 1
}

// scanTags finds every tag in src. Strings inside {{ }} and {% %} are skipped so that a
// closing delimiter inside a string literal does not end the tag.
func scanTags(src string) ([]rawTag, error) {
	var tags []rawTag
	i := 0
	for {
		j := strings.Index(src[i:], "{")
		if j < 0 {
			return tags, nil
		}
		j += i
		if j+1 >= len(src) {
			return tags, nil
		}
		var kind segKind
		var closer string
		switch src[j+1] {
		case '{':
			kind, closer = segExpr, "}}"
		case '%':
			kind, closer = segStmt, "%}"
		case '#':
			kind, closer = segComment, "#}"
		default:
			i = j + 1
			continue
		}
		t := rawTag{kind: kind, start: j, line: lineOf(src, j)}
		k := j + 2
		if k < len(src) && (src[k] == '-' || src[k] == '+') {
			t.leftStrip = src[k]
			k++
		}
		t.bodyStart = k
		end := -1
		if kind == segComment {
			e := strings.Index(src[k:], closer)
			if e >= 0 {
				end = k + e
			}
		} else {
			end = findCloser(src, k, closer)
		}
		if end < 0 {
			return nil, fmt.Errorf("%w: line %d: unclosed tag", ErrSyntax, t.line)
		}
		t.bodyEnd = end
		if end > t.bodyStart && (src[end-1] == '-' || src[end-1] == '+') {
			t.rightStrip = src[end-1]
			t.bodyEnd = end - 1
		}
		t.end = end + 2
		if kind == segStmt && strings.TrimSpace(src[t.bodyStart:t.bodyEnd]) == "raw" {
			// Everything up to {% endraw %} is literal text.
			rs, re, ok := findEndRaw(src, t.end)
			if !ok {
				return nil, fmt.Errorf("%w: line %d: raw block without endraw", ErrSyntax, t.line)
			}
			inner := rawTag{kind: segStmt, start: t.start, end: re, bodyStart: t.end, bodyEnd: rs, line: t.line, rawContents: true, leftStrip: t.leftStrip}
			tags = append(tags, inner)
			i = re
			continue
		}
		tags = append(tags, t)
		i = t.end
	}
}

// findEndRaw returns the start and end of the {% endraw %} tag after pos.
func findEndRaw(src string, pos int) (int, int, bool) {
	for p := pos; ; {
		j := strings.Index(src[p:], "{%")
		if j < 0 {
			return 0, 0, false
		}
		j += p
		k := j + 2
		if k < len(src) && (src[k] == '-' || src[k] == '+') {
			k++
		}
		e := strings.Index(src[k:], "%}")
		if e < 0 {
			return 0, 0, false
		}
		body := strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(src[k:k+e], "-"), "+"))
		if body == "endraw" {
			return j, k + e + 2, true
		}
		p = k
	}
}

// findCloser returns the index of closer in src at or after pos, skipping string literals.
func findCloser(src string, pos int, closer string) int {
	for i := pos; i < len(src); i++ {
		c := src[i]
		if c == '\'' || c == '"' {
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
			continue
		}
		if strings.HasPrefix(src[i:], closer) {
			return i
		}
	}
	return -1
}
