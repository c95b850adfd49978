package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/ledongthuc/pdf"
)

// extractPDF reads the text of every page in content-stream order, rebuilds
// lines and paragraphs from glyph positions, and marks lines set in a font
// clearly larger than the body font as headings. The parser panics on some
// hostile input; every panic becomes ErrCorrupt.
func extractPDF(ctx context.Context, data []byte, lim Limits) (doc *Document, err error) {
	defer func() {
		if x := recover(); x != nil {
			doc, err = nil, fmt.Errorf("%w: pdf parser: %v", ErrCorrupt, x)
		}
	}()
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if errors.Is(err, pdf.ErrInvalidPassword) || strings.Contains(strings.ToLower(err.Error()), "encrypt") {
			return nil, fmt.Errorf("%w: %v", ErrEncrypted, err)
		}
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	n := r.NumPage()
	if n <= 0 {
		return nil, fmt.Errorf("%w: no pages", ErrCorrupt)
	}
	if n > lim.MaxPages {
		return nil, fmt.Errorf("%w: %d pages, limit %d", ErrTooLarge, n, lim.MaxPages)
	}
	pages := make([][]pdfLine, 0, n)
	sizes := map[float64]int{}
	for i := 1; i <= n; i++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := r.Page(i)
		if p.V.IsNull() {
			pages = append(pages, nil)
			continue
		}
		lines, err := pageLines(p)
		if err != nil {
			return nil, fmt.Errorf("%w: page %d: %v", ErrCorrupt, i, err)
		}
		for _, l := range lines {
			sizes[l.size] += len(l.text)
		}
		pages = append(pages, lines)
	}
	dropRunningLines(pages)
	body := 0.0
	for s, c := range sizes {
		if c > sizes[body] || c == sizes[body] && s < body {
			body = s
		}
	}
	// Heading levels: distinct sizes clearly above the body size, largest first.
	var hs []float64
	for s := range sizes {
		if body > 0 && s >= body*1.15 {
			hs = append(hs, s)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(hs)))
	if len(hs) > 6 {
		hs = hs[:6]
	}
	level := func(size float64) int {
		for i, s := range hs {
			if math.Abs(size-s) < 0.01 {
				return i + 1
			}
		}
		return 0
	}
	var b builder
	doc = &Document{Metadata: map[string]string{}}
	for i, lines := range pages {
		b.page = i + 1
		if b.cur != nil && b.cur.Page == 0 {
			b.cur.Page = b.page
		}
		b.sep()
		start := b.sb.Len()
		var para strings.Builder
		flush := func() {
			if para.Len() > 0 {
				b.block(para.String())
				para.Reset()
			}
		}
		for j, l := range lines {
			if lv := level(l.size); lv > 0 && len(l.text) <= 200 {
				flush()
				// A heading wrapped over several lines continues at the same size.
				if j > 0 && lines[j-1].size == l.size && !lines[j-1].paraStart && b.cur != nil && len(b.cur.Path) > 0 && l.paraStart == false {
					last := b.cur.Path[len(b.cur.Path)-1]
					b.trail[len(b.trail)-1] = last + " " + l.text
					b.cur.Path[len(b.cur.Path)-1] = last + " " + l.text
					b.sb.WriteString(" " + l.text)
					continue
				}
				b.heading(lv, l.text)
				continue
			}
			if l.paraStart {
				flush()
			}
			if para.Len() > 0 {
				// List items and table rows keep their own lines; wrapped prose joins.
				if listMarker.MatchString(l.text) || strings.Contains(l.text, " | ") {
					para.WriteByte('\n')
				} else {
					para.WriteByte(' ')
				}
			}
			para.WriteString(l.text)
		}
		flush()
		end := b.sb.Len()
		if end < start {
			start = end
		}
		doc.Pages = append(doc.Pages, Page{Number: i + 1, Start: start, End: end})
	}
	built := b.document()
	doc.Text, doc.Sections = built.Text, built.Sections
	doc.Title = built.Title
	for i := range doc.Sections {
		if doc.Sections[i].Page == 0 {
			doc.Sections[i].Page = pageAt(doc.Pages, doc.Sections[i].Start)
		}
	}
	info := r.Trailer().Key("Info")
	for key, field := range map[string]string{"Title": "title", "Author": "author", "Subject": "subject", "Keywords": "keywords"} {
		if v := strings.TrimSpace(info.Key(key).Text()); v != "" {
			doc.Metadata[field] = v
		}
	}
	for key, field := range map[string]string{"CreationDate": "created", "ModDate": "modified"} {
		if v := strings.TrimSpace(info.Key(key).Text()); v != "" {
			doc.Metadata[field] = pdfDate(v)
		}
	}
	if l := strings.TrimSpace(r.Trailer().Key("Root").Key("Lang").Text()); l != "" {
		doc.Metadata["language"] = l
	}
	if t := doc.Metadata["title"]; t != "" {
		doc.Title = t
	}
	return doc, nil
}

var (
	listMarker = regexp.MustCompile(`^(?:[-•*▪◦]|\d{1,3}[.)]|[a-z][.)]) `)
	digitRun   = regexp.MustCompile(`\d+`)
)

// dropRunningLines removes running headers and footers: a first or last
// line of a page whose text, with digits masked, recurs on at least half
// of the pages (and at least two).
func dropRunningLines(pages [][]pdfLine) {
	if len(pages) < 2 {
		return
	}
	key := func(l pdfLine) string { return digitRun.ReplaceAllString(l.text, "#") }
	edges := func(lines []pdfLine) []int {
		var idx []int
		for i := range lines {
			if i < 2 || i >= len(lines)-2 {
				idx = append(idx, i)
			}
		}
		return idx
	}
	count := map[string]int{}
	for _, lines := range pages {
		seen := map[string]bool{}
		for _, i := range edges(lines) {
			k := key(lines[i])
			if !seen[k] {
				seen[k] = true
				count[k]++
			}
		}
	}
	need := max(2, (len(pages)+1)/2)
	for p, lines := range pages {
		drop := map[int]bool{}
		for _, i := range edges(lines) {
			if count[key(lines[i])] >= need {
				drop[i] = true
			}
		}
		if len(drop) == 0 {
			continue
		}
		kept := lines[:0:0]
		for i, l := range lines {
			if !drop[i] {
				kept = append(kept, l)
			}
		}
		pages[p] = kept
	}
}

func pageAt(pages []Page, off int) int {
	for _, p := range pages {
		if off >= p.Start && off <= p.End {
			return p.Number
		}
	}
	return 0
}

// pdfLine is one line of glyphs at one baseline.
type pdfLine struct {
	text      string
	size      float64
	paraStart bool // a vertical gap or a jump up separates it from the line before
}

// pageLines groups the glyphs of a page into lines by baseline and marks
// paragraph starts by vertical gaps wider than 1.8 times the font size.
func pageLines(p pdf.Page) (lines []pdfLine, err error) {
	defer func() {
		if x := recover(); x != nil {
			lines, err = nil, fmt.Errorf("content stream: %v", x)
		}
	}()
	content := p.Content()
	var cur strings.Builder
	var curSize, lastX, lastW, lastY float64
	have := false
	startPara := true
	emit := func() {
		t := collapseSpace(cur.String())
		if t != "" {
			lines = append(lines, pdfLine{text: t, size: math.Round(curSize*10) / 10, paraStart: startPara})
			startPara = false
		}
		cur.Reset()
	}
	for _, g := range content.Text {
		if g.S == "\n" || g.S == "" {
			continue
		}
		size := g.FontSize
		if size <= 0 {
			size = 1
		}
		if have {
			dy := lastY - g.Y
			switch {
			case math.Abs(dy) <= size*0.5:
				// Same line: a wide jump (or a jump back over overflowing
				// text) separates table cells; a small gap is a space.
				gap := g.X - (lastX + lastW)
				switch {
				case gap > size*1.5 || gap < -size:
					t := strings.TrimRight(cur.String(), " ")
					cur.Reset()
					cur.WriteString(t)
					cur.WriteString(" | ")
				case gap > size*0.2 && !strings.HasSuffix(cur.String(), " ") && g.S != " ":
					cur.WriteByte(' ')
				}
			default:
				emit()
				if dy < 0 || dy > math.Max(size, curSize)*1.8 {
					startPara = true
				}
				if cur.Len() == 0 && math.Abs(size-curSize) > 0.5 {
					startPara = true
				}
			}
		}
		if cur.Len() == 0 {
			curSize = size
		} else if size > curSize {
			curSize = size
		}
		cur.WriteString(g.S)
		lastX, lastW, lastY, have = g.X, g.W, g.Y, true
	}
	emit()
	return lines, nil
}

// pdfDate converts "D:20260301093000+01'00'" to RFC 3339; unparseable dates
// are returned unchanged.
func pdfDate(s string) string {
	s = strings.TrimPrefix(s, "D:")
	s = strings.ReplaceAll(s, "'", "")
	for _, layout := range []string{"20060102150405Z0700", "20060102150405Z", "20060102150405-0700", "20060102150405", "200601021504", "20060102"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return s
}
