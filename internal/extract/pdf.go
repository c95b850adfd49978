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
		// The page starts after the separator the next block will write.
		start := b.sb.Len()
		if b.pending {
			start += 2
		}
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
				if j > 0 && lines[j-1].size == l.size && !l.paraStart && b.cur != nil && len(b.cur.Path) > 0 && b.sb.Len() == b.cur.Start+len(b.cur.Path[len(b.cur.Path)-1]) {
					last := b.cur.Path[len(b.cur.Path)-1]
					joined := last + " " + l.text
					b.trail[len(b.trail)-1] = joined
					b.cur.Path[len(b.cur.Path)-1] = joined
					if b.title == last {
						b.title = joined
					}
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

// textRun is one shown string with its start position, advance width and
// effective font size in page space.
type textRun struct {
	x, y, w, size float64
	s             string
}

// pdfFont caches what the interpreter needs of a font: the object is
// resolved once per page instead of on every glyph.
type pdfFont struct {
	enc     pdf.TextEncoding
	first   int
	widths  []float64
	twoByte bool // Type0 (CID) fonts use two-byte codes
}

// affine is a PDF matrix [a b c d e f].
type affine [6]float64

var identity = affine{1, 0, 0, 1, 0, 0}

// mul returns m × n (apply m, then n).
func (m affine) mul(n affine) affine {
	return affine{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// pageRuns interprets the text operators of a page's content stream and
// returns the shown strings in stream order. Fonts are resolved once per
// name; glyph advances come from the font's Widths (500/1000 em when absent).
func pageRuns(p pdf.Page) []textRun {
	fonts := map[string]*pdfFont{}
	fontRes := p.V.Key("Resources").Key("Font")
	if fontRes.IsNull() {
		fontRes = p.Resources().Key("Font")
	}
	var (
		runs          []textRun
		font          *pdfFont
		tm, tlm       = identity, identity
		ctm           = identity
		stack         []affine
		tfs, tc, tw   float64
		th            = 1.0
		tl, rise      float64
		nopFont       = &pdfFont{}
		defaultWidths = 500.0
	)
	show := func(raw string) {
		if font == nil {
			font = nopFont
		}
		text := raw
		if font.enc != nil {
			text = font.enc.Decode(raw)
		}
		trm := affine{tfs * th, 0, 0, tfs, 0, rise}.mul(tm).mul(ctm)
		size := math.Hypot(trm[2], trm[3])
		adv := 0.0
		step := 1
		if font.twoByte {
			step = 2
		}
		for i := 0; i+step <= len(raw); i += step {
			code := int(raw[i])
			if step == 2 {
				code = code<<8 | int(raw[i+1])
			}
			w := defaultWidths
			if j := code - font.first; j >= 0 && j < len(font.widths) {
				w = font.widths[j]
			}
			a := w/1000*tfs + tc
			if step == 1 && code == ' ' {
				a += tw
			}
			adv += a * th
		}
		// Advance in page space: scale by the horizontal part of Tm × CTM.
		m := tm.mul(ctm)
		runs = append(runs, textRun{x: trm[4], y: trm[5], w: adv * math.Hypot(m[0], m[1]), size: size, s: text})
		tm = affine{1, 0, 0, 1, adv, 0}.mul(tm)
	}
	nextLine := func() {
		tlm = affine{1, 0, 0, 1, 0, -tl}.mul(tlm)
		tm = tlm
	}
	num := func(v pdf.Value) float64 { return v.Float64() }
	pdf.Interpret(p.V.Key("Contents"), func(stk *pdf.Stack, op string) {
		n := stk.Len()
		args := make([]pdf.Value, n)
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		switch op {
		case "q":
			stack = append(stack, ctm)
		case "Q":
			if k := len(stack); k > 0 {
				ctm, stack = stack[k-1], stack[:k-1]
			}
		case "cm":
			if n == 6 {
				ctm = affine{num(args[0]), num(args[1]), num(args[2]), num(args[3]), num(args[4]), num(args[5])}.mul(ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tf":
			if n == 2 {
				name := args[0].Name()
				f, ok := fonts[name]
				if !ok {
					fv := fontRes.Key(name)
					pf := pdf.Font{V: fv}
					f = &pdfFont{enc: pf.Encoder(), first: int(fv.Key("FirstChar").Int64()), twoByte: fv.Key("Subtype").Name() == "Type0"}
					ws := fv.Key("Widths")
					for i := 0; i < ws.Len() && i < 65536; i++ {
						f.widths = append(f.widths, ws.Index(i).Float64())
					}
					fonts[name] = f
				}
				font, tfs = f, num(args[1])
			}
		case "Tc":
			if n == 1 {
				tc = num(args[0])
			}
		case "Tw":
			if n == 1 {
				tw = num(args[0])
			}
		case "Tz":
			if n == 1 {
				th = num(args[0]) / 100
			}
		case "TL":
			if n == 1 {
				tl = num(args[0])
			}
		case "Ts":
			if n == 1 {
				rise = num(args[0])
			}
		case "Td", "TD":
			if n == 2 {
				if op == "TD" {
					tl = -num(args[1])
				}
				tlm = affine{1, 0, 0, 1, num(args[0]), num(args[1])}.mul(tlm)
				tm = tlm
			}
		case "Tm":
			if n == 6 {
				tlm = affine{num(args[0]), num(args[1]), num(args[2]), num(args[3]), num(args[4]), num(args[5])}
				tm = tlm
			}
		case "T*":
			nextLine()
		case "Tj":
			if n == 1 {
				show(args[0].RawString())
			}
		case "'":
			if n == 1 {
				nextLine()
				show(args[0].RawString())
			}
		case "\"":
			if n == 3 {
				tw, tc = num(args[0]), num(args[1])
				nextLine()
				show(args[2].RawString())
			}
		case "TJ":
			if n == 1 {
				v := args[0]
				for i := 0; i < v.Len(); i++ {
					x := v.Index(i)
					if x.Kind() == pdf.String {
						show(x.RawString())
					} else {
						tx := -x.Float64() / 1000 * tfs * th
						tm = affine{1, 0, 0, 1, tx, 0}.mul(tm)
					}
				}
			}
		}
	})
	return runs
}

// pageLines groups the text runs of a page into lines by baseline and marks
// paragraph starts by vertical gaps wider than 1.8 times the font size.
func pageLines(p pdf.Page) (lines []pdfLine, err error) {
	defer func() {
		if x := recover(); x != nil {
			lines, err = nil, fmt.Errorf("content stream: %v", x)
		}
	}()
	if p.V.Key("Contents").Kind() == pdf.Null {
		return nil, nil
	}
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
	for _, g := range pageRuns(p) {
		if strings.TrimSpace(g.s) == "" && g.s != " " {
			continue
		}
		size := g.size
		if size <= 0 {
			size = 1
		}
		if have {
			dy := lastY - g.y
			switch {
			case math.Abs(dy) <= size*0.5:
				// Same line: a wide jump (or a jump back over overflowing
				// text) separates table cells; a small gap is a space.
				gap := g.x - (lastX + lastW)
				switch {
				case gap > size*1.5 || gap < -size:
					t := strings.TrimRight(cur.String(), " ")
					cur.Reset()
					cur.WriteString(t)
					cur.WriteString(" | ")
				case gap > size*0.2 && !strings.HasSuffix(cur.String(), " ") && !strings.HasPrefix(g.s, " "):
					cur.WriteByte(' ')
				}
			default:
				emit()
				if dy < 0 || dy > math.Max(size, curSize)*1.8 {
					startPara = true
				}
				if math.Abs(size-curSize) > 0.5 {
					startPara = true
				}
			}
		}
		if cur.Len() == 0 || size > curSize {
			curSize = size
		}
		cur.WriteString(g.s)
		lastX, lastW, lastY, have = g.x, g.w, g.y, true
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
