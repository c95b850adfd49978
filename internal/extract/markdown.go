package extract

import (
	"context"
	"regexp"
	"strings"
)

var (
	atxHeading   = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$`)
	setextH1     = regexp.MustCompile(`^ {0,3}=+[ \t]*$`)
	setextH2     = regexp.MustCompile(`^ {0,3}-+[ \t]*$`)
	fenceOpen    = regexp.MustCompile("^ {0,3}(`{3,}|~{3,})")
	listItem     = regexp.MustCompile(`^(\s*)([-*+]|\d{1,9}[.)])[ \t]+(.*)$`)
	tableDelim   = regexp.MustCompile(`^\s*\|?\s*:?-{1,}:?\s*(\|\s*:?-{1,}:?\s*)*\|?\s*$`)
	linkRefDef   = regexp.MustCompile(`^ {0,3}\[[^\]]+\]:\s+\S+`)
	htmlTag      = regexp.MustCompile(`</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>`)
	htmlComment  = regexp.MustCompile(`(?s)<!--.*?-->`)
	thematicRule = regexp.MustCompile(`^ {0,3}((\*\s*){3,}|(-\s*){3,}|(_\s*){3,})$`)
)

// extractMarkdown reads front matter into metadata, headings into sections,
// keeps code blocks verbatim, and reduces links and emphasis to their text.
func extractMarkdown(ctx context.Context, text string) (*Document, error) {
	text = htmlComment.ReplaceAllString(normalizeNewlines(text), "")
	lines := strings.Split(text, "\n")
	meta := map[string]string{}
	if len(lines) > 0 && strings.TrimSpace(lines[0]) == "---" {
		for i := 1; i < len(lines); i++ {
			if t := strings.TrimSpace(lines[i]); t == "---" || t == "..." {
				parseFrontMatter(lines[1:i], meta)
				lines = lines[i+1:]
				break
			}
		}
	}
	var b builder
	var para, list []string
	flushPara := func() {
		if len(para) > 0 {
			b.block(strings.Join(para, "\n"))
			para = para[:0]
		}
		if len(list) > 0 {
			b.block(strings.Join(list, "\n"))
			list = list[:0]
		}
	}
	for i := 0; i < len(lines); i++ {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		line := lines[i]
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			if len(list) == 0 {
				flushPara()
			}
			continue
		case fenceOpen.MatchString(line):
			flushPara()
			fence := fenceOpen.FindStringSubmatch(line)[1]
			var code []string
			for i++; i < len(lines); i++ {
				if t := strings.TrimSpace(lines[i]); strings.HasPrefix(t, fence[:3]) && strings.Trim(t, fence[:1]) == "" {
					break
				}
				code = append(code, lines[i])
			}
			b.block(strings.Join(code, "\n"))
			continue
		case len(para) == 0 && len(list) == 0 && (strings.HasPrefix(line, "    ") || strings.HasPrefix(line, "\t")) && listItem.FindString(line) == "":
			var code []string
			for ; i < len(lines) && (strings.HasPrefix(lines[i], "    ") || strings.HasPrefix(lines[i], "\t") || strings.TrimSpace(lines[i]) == ""); i++ {
				code = append(code, strings.TrimPrefix(strings.TrimPrefix(lines[i], "\t"), "    "))
			}
			i--
			b.block(strings.Trim(strings.Join(code, "\n"), "\n"))
			continue
		}
		if m := atxHeading.FindStringSubmatch(line); m != nil {
			flushPara()
			b.heading(len(m[1]), inlineText(m[2]))
			continue
		}
		if len(para) == 1 && !strings.HasPrefix(strings.TrimSpace(para[0]), "- ") && (setextH1.MatchString(line) || setextH2.MatchString(line)) {
			lvl := 1
			if setextH2.MatchString(line) {
				lvl = 2
			}
			h := para[0]
			para = para[:0]
			b.heading(lvl, h)
			continue
		}
		if thematicRule.MatchString(line) {
			flushPara()
			continue
		}
		if linkRefDef.MatchString(line) {
			continue
		}
		if strings.Contains(line, "|") && i+1 < len(lines) && tableDelim.MatchString(lines[i+1]) && strings.Contains(lines[i+1], "-") {
			flushPara()
			var rows []string
			rows = append(rows, tableRow(line))
			for i += 2; i < len(lines) && strings.Contains(lines[i], "|") && strings.TrimSpace(lines[i]) != ""; i++ {
				rows = append(rows, tableRow(lines[i]))
			}
			i--
			b.block(strings.Join(rows, "\n"))
			continue
		}
		for strings.HasPrefix(trimmed, ">") {
			trimmed = strings.TrimSpace(strings.TrimPrefix(trimmed, ">"))
		}
		if m := listItem.FindStringSubmatch(line); m != nil {
			if len(para) > 0 {
				b.block(strings.Join(para, "\n"))
				para = para[:0]
			}
			marker := "- "
			if c := m[2][len(m[2])-1]; c == '.' || c == ')' {
				marker = m[2][:len(m[2])-1] + ". "
			}
			list = append(list, m[1]+marker+inlineText(m[3]))
			continue
		}
		if len(list) > 0 {
			if strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t") {
				list[len(list)-1] += " " + inlineText(trimmed)
				continue
			}
			flushPara()
		}
		para = append(para, inlineText(trimmed))
	}
	flushPara()
	doc := b.document()
	for k, v := range meta {
		doc.Metadata[k] = v
	}
	if t := meta["title"]; t != "" {
		doc.Title = t
	}
	return doc, nil
}

// tableRow renders a pipe-table row as cells joined by " | ".
func tableRow(line string) string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	line = strings.TrimSuffix(line, "|")
	cells := strings.Split(line, "|")
	for i, c := range cells {
		cells[i] = inlineText(strings.TrimSpace(c))
	}
	return strings.Join(cells, " | ")
}

// parseFrontMatter reads "key: value" lines of YAML front matter. Nested
// structures are kept as their raw text.
func parseFrontMatter(lines []string, meta map[string]string) {
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if !ok || strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t") || strings.HasPrefix(l, "#") {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
			v = v[1 : len(v)-1]
		}
		switch k {
		case "lang":
			k = "language"
		case "date":
			k = "created"
		case "updated", "last_modified", "lastmod":
			k = "modified"
		}
		if k != "" && v != "" {
			meta[k] = v
		}
	}
}

// inlineText strips Markdown inline syntax: links and images become their
// text, emphasis markers and code backticks are dropped, inline HTML tags
// removed. Code span contents are kept verbatim.
func inlineText(s string) string { return inline(s, 0) }

// Bounds that keep inline parsing linear on hostile input: how far ahead a
// closing delimiter is searched for, and how deeply link texts nest.
const (
	maxInlineScan  = 4096
	maxInlineDepth = 8
)

func inline(s string, depth int) string {
	if !strings.ContainsAny(s, "[]*_`<!\\") {
		return s
	}
	var out strings.Builder
	drop := map[int]bool{} // closing emphasis runs already matched
	// noCloser remembers where a search for a delimiter run's closer last
	// failed; openers shortly after that reuse the answer instead of
	// rescanning, which keeps a line of unmatched "*" or "`" linear.
	noCloser := map[string]int{}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\\`*_{}[]()#+-.!|<>", s[i+1]) >= 0:
			out.WriteByte(s[i+1])
			i += 2
		case c == '`':
			n := 0
			for i+n < len(s) && s[i+n] == '`' {
				n++
			}
			end := -1
			if from, seen := noCloser[s[i:i+n]]; !seen || i >= from+maxInlineScan/2 {
				end = strings.Index(window(s, i+n), s[i:i+n])
			}
			if end < 0 {
				noCloser[s[i:i+n]] = i
				out.WriteString(s[i : i+n])
				i += n
				continue
			}
			out.WriteString(strings.TrimSpace(s[i+n : i+n+end]))
			i += n + end + n
		case c == '!' && i+1 < len(s) && s[i+1] == '[' && depth < maxInlineDepth:
			if txt, n, ok := linkAt(window(s, i+1)); ok {
				out.WriteString(inline(txt, depth+1))
				i += 1 + n
				continue
			}
			out.WriteByte(c)
			i++
		case c == '[' && depth < maxInlineDepth:
			if txt, n, ok := linkAt(window(s, i)); ok {
				out.WriteString(inline(txt, depth+1))
				i += n
				continue
			}
			out.WriteByte(c)
			i++
		case c == '<':
			if loc := htmlTag.FindStringIndex(s[i:]); loc != nil && loc[0] == 0 {
				i += loc[1]
				continue
			}
			if end := strings.IndexByte(s[i:], '>'); end > 1 && !strings.ContainsAny(s[i+1:i+end], " <") {
				// Autolink <https://…> or <a@b.example>: keep the address.
				out.WriteString(s[i+1 : i+end])
				i += end + 1
				continue
			}
			out.WriteByte(c)
			i++
		case c == '*' || c == '_':
			n := runLen(s, i)
			if drop[i] {
				i += n
				continue
			}
			if canOpen(s, i, n) {
				key := s[i : i+n]
				if from, seen := noCloser[key]; !seen || i >= from+maxInlineScan/2 {
					if j := findCloser(s, i+n, c, n, drop); j >= 0 {
						drop[j] = true
						i += n
						continue
					}
					noCloser[key] = i
				}
			}
			out.WriteString(s[i : i+n])
			i += n
		default:
			out.WriteByte(c)
			i++
		}
	}
	return out.String()
}

func runLen(s string, i int) int {
	n := 0
	for i+n < len(s) && s[i+n] == s[i] {
		n++
	}
	return n
}

// canOpen reports whether the delimiter run s[i:i+n] is left-flanking: it is
// followed by a non-space, and for "_" not preceded by a word character
// (so snake_case and trailing underscores stay literal).
func canOpen(s string, i, n int) bool {
	if i+n >= len(s) || s[i+n] == ' ' || s[i+n] == '\t' {
		return false
	}
	return s[i] != '_' || i == 0 || !isWordByte(s[i-1])
}

// canClose reports whether the run at j is right-flanking.
func canClose(s string, j, n int) bool {
	if j == 0 || s[j-1] == ' ' || s[j-1] == '\t' {
		return false
	}
	return s[j] != '_' || j+n >= len(s) || !isWordByte(s[j+n])
}

// window returns s[i:] cut to maxInlineScan bytes.
func window(s string, i int) string {
	if len(s)-i > maxInlineScan {
		return s[i : i+maxInlineScan]
	}
	return s[i:]
}

// findCloser finds the next run of n delimiters c that can close, outside
// code spans and not already matched, within maxInlineScan bytes; -1 when
// none.
func findCloser(s string, from int, c byte, n int, drop map[int]bool) int {
	limit := min(len(s), from+maxInlineScan)
	for j := from; j < limit; {
		switch {
		case s[j] == '`':
			m := runLen(s, j)
			end := strings.Index(window(s, j+m), s[j:j+m])
			if end < 0 {
				j += m
				continue
			}
			j += m + end + m
		case s[j] == c:
			m := runLen(s, j)
			if m == n && canClose(s, j, m) && !drop[j] {
				return j
			}
			j += m
		default:
			j++
		}
	}
	return -1
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// linkAt parses "[text](url)", "[text][ref]" or "[text][]" at the start of
// s and returns the text and the length consumed.
func linkAt(s string) (string, int, bool) {
	depth := 0
	closeIdx := -1
	for j := 0; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 {
				closeIdx = j
			}
		}
		if closeIdx >= 0 {
			break
		}
	}
	if closeIdx < 0 || closeIdx+1 >= len(s) {
		return "", 0, false
	}
	txt := s[1:closeIdx]
	rest := s[closeIdx+1:]
	switch rest[0] {
	case '(':
		depth := 0
		for j := 0; j < len(rest); j++ {
			switch rest[j] {
			case '(':
				depth++
			case ')':
				depth--
				if depth == 0 {
					return txt, closeIdx + 1 + j + 1, true
				}
			}
		}
	case '[':
		if end := strings.IndexByte(rest, ']'); end >= 0 {
			return txt, closeIdx + 1 + end + 1, true
		}
	}
	return "", 0, false
}
