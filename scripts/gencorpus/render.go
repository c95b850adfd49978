package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"html"
	"regexp"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"
)

// block is one unit of a document body written in a small Markdown subset:
// "#".."####" headings, paragraphs, "- " and "1. " lists, pipe tables and
// code fenced with "~~~" (the bodies live in Go raw strings).
type block struct {
	kind  string // heading, para, list, olist, table, code
	level int
	text  string
	items []string
	rows  [][]string
}

var (
	headingRe = regexp.MustCompile(`^(#{1,4}) (.+)$`)
	olistRe   = regexp.MustCompile(`^\d+\. (.+)$`)
	linkRe    = regexp.MustCompile(`\[([^\]]+)\]\(([^)]+)\)`)
	boldRe    = regexp.MustCompile(`\*\*([^*]+)\*\*`)
	codeRe    = regexp.MustCompile("`([^`]+)`")
)

// parseBody splits the Markdown subset into blocks.
func parseBody(body string) []block {
	lines := strings.Split(strings.TrimSpace(body), "\n")
	var out []block
	for i := 0; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], " ")
		switch {
		case l == "":
			continue
		case strings.HasPrefix(l, "~~~"):
			var code []string
			for i++; i < len(lines) && !strings.HasPrefix(lines[i], "~~~"); i++ {
				code = append(code, lines[i])
			}
			out = append(out, block{kind: "code", text: strings.Join(code, "\n")})
		case headingRe.MatchString(l):
			m := headingRe.FindStringSubmatch(l)
			out = append(out, block{kind: "heading", level: len(m[1]), text: m[2]})
		case strings.HasPrefix(l, "- "):
			var items []string
			for ; i < len(lines) && strings.HasPrefix(lines[i], "- "); i++ {
				items = append(items, strings.TrimPrefix(lines[i], "- "))
			}
			i--
			out = append(out, block{kind: "list", items: items})
		case olistRe.MatchString(l):
			var items []string
			for ; i < len(lines) && olistRe.MatchString(lines[i]); i++ {
				items = append(items, olistRe.FindStringSubmatch(lines[i])[1])
			}
			i--
			out = append(out, block{kind: "olist", items: items})
		case strings.HasPrefix(l, "|"):
			var rows [][]string
			for ; i < len(lines) && strings.HasPrefix(lines[i], "|"); i++ {
				row := strings.Trim(strings.TrimSpace(lines[i]), "|")
				if strings.Trim(row, "-| :") == "" {
					continue
				}
				var cells []string
				for _, c := range strings.Split(row, "|") {
					cells = append(cells, strings.TrimSpace(c))
				}
				rows = append(rows, cells)
			}
			i--
			out = append(out, block{kind: "table", rows: rows})
		default:
			var para []string
			for ; i < len(lines) && strings.TrimSpace(lines[i]) != "" && !headingRe.MatchString(lines[i]) &&
				!strings.HasPrefix(lines[i], "- ") && !strings.HasPrefix(lines[i], "|") && !strings.HasPrefix(lines[i], "~~~") && !olistRe.MatchString(lines[i]); i++ {
				para = append(para, strings.TrimSpace(lines[i]))
			}
			i--
			out = append(out, block{kind: "para", text: strings.Join(para, " ")})
		}
	}
	return out
}

// plain strips the inline Markdown the bodies use (links, bold, code).
func plain(s string) string {
	s = linkRe.ReplaceAllString(s, "$1")
	s = boldRe.ReplaceAllString(s, "$1")
	return codeRe.ReplaceAllString(s, "$1")
}

// inlineHTML renders the inline Markdown as HTML.
func inlineHTML(s string) string {
	s = html.EscapeString(s)
	s = linkRe.ReplaceAllString(s, `<a href="$2">$1</a>`)
	s = boldRe.ReplaceAllString(s, "<strong>$1</strong>")
	return codeRe.ReplaceAllString(s, "<code>$1</code>")
}

// renderMarkdown writes the document with YAML front matter.
func renderMarkdown(d *doc) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "---\ntitle: %q\nauthor: %q\ndate: %s\n", d.title, d.author, d.date)
	if d.owner != "" {
		fmt.Fprintf(&b, "owner: %q\n", d.owner)
	}
	if d.version != "" {
		fmt.Fprintf(&b, "version: %q\n", d.version)
	}
	b.WriteString("lang: en\n---\n\n")
	fmt.Fprintf(&b, "# %s\n\n", d.title)
	b.WriteString(strings.TrimSpace(d.body))
	b.WriteString("\n")
	return b.Bytes()
}

// htmlChrome is the site chrome wrapped around HTML pages: navigation,
// a cookie banner and a footer that extraction must drop.
const htmlHead = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>%s</title>
<meta name="author" content="%s">
<meta name="date" content="%s">
<link rel="stylesheet" href="/assets/site.css">
<script>window.dataLayer = window.dataLayer || []; function gtag(){dataLayer.push(arguments);}</script>
</head>
<body>
<div class="cookie-banner">We use cookies to improve the Northwind Lattice help centre. <button>Accept all</button></div>
<header class="site-header"><a href="/">Northwind Lattice Help Centre</a>
<nav><ul><li><a href="/product">Product</a></li><li><a href="/policies">Policies</a></li><li><a href="/support">Support</a></li><li><a href="/status">Status</a></li></ul></nav>
</header>
<div class="layout">
<aside class="sidebar"><h3>In this section</h3><ul><li><a href="/kb">Knowledge base</a></li><li><a href="/release-notes">Release notes</a></li><li><a href="/contact">Contact support</a></li></ul></aside>
`

const htmlFoot = `</div>
<footer class="site-footer"><p>© 2026 Northwind Lattice Ltd. All rights reserved. <a href="/privacy">Privacy</a> · <a href="/terms">Terms</a></p>
<form action="/newsletter"><input type="email" placeholder="Subscribe to product updates"><button>Subscribe</button></form></footer>
<script src="/assets/analytics.js"></script>
</body>
</html>
`

// renderHTML writes a help-centre page; the body sits in <main><article>
// (or in a plain div when bare is set, to exercise density detection).
func renderHTML(d *doc) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, htmlHead, html.EscapeString(d.title), html.EscapeString(d.author), d.date)
	if d.bare {
		b.WriteString("<div class=\"content-wrap\">\n")
	} else {
		b.WriteString("<main>\n<article>\n")
	}
	fmt.Fprintf(&b, "<h1>%s</h1>\n", html.EscapeString(d.title))
	fmt.Fprintf(&b, "<p class=\"byline\">%s · Updated %s</p>\n", html.EscapeString(d.author), d.date)
	for _, bl := range parseBody(d.body) {
		switch bl.kind {
		case "heading":
			fmt.Fprintf(&b, "<h%d>%s</h%d>\n", bl.level, inlineHTML(bl.text), bl.level)
		case "para":
			fmt.Fprintf(&b, "<p>%s</p>\n", inlineHTML(bl.text))
		case "list", "olist":
			tag := "ul"
			if bl.kind == "olist" {
				tag = "ol"
			}
			fmt.Fprintf(&b, "<%s>\n", tag)
			for _, it := range bl.items {
				fmt.Fprintf(&b, "  <li>%s</li>\n", inlineHTML(it))
			}
			fmt.Fprintf(&b, "</%s>\n", tag)
		case "table":
			b.WriteString("<table>\n")
			for i, r := range bl.rows {
				cell := "td"
				if i == 0 {
					cell = "th"
				}
				b.WriteString("  <tr>")
				for _, c := range r {
					fmt.Fprintf(&b, "<%s>%s</%s>", cell, inlineHTML(c), cell)
				}
				b.WriteString("</tr>\n")
			}
			b.WriteString("</table>\n")
		case "code":
			fmt.Fprintf(&b, "<pre><code>%s</code></pre>\n", html.EscapeString(bl.text))
		}
	}
	if d.bare {
		b.WriteString("</div>\n")
	} else {
		b.WriteString("</article>\n</main>\n")
	}
	fmt.Fprintf(&b, htmlFoot)
	return b.Bytes()
}

// renderPDF writes a multi-page PDF with core fonts: headings in larger
// bold type, a running footer with page numbers, fixed dates for
// byte-identical output.
func renderPDF(d *doc, when time.Time) ([]byte, error) {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCreationDate(when)
	p.SetModificationDate(when)
	p.SetCatalogSort(true)
	p.SetCompression(true)
	p.SetTitle(d.title, true)
	p.SetAuthor(d.author, true)
	p.SetSubject("Northwind Lattice "+d.kind, true)
	p.SetCreator("gencorpus", true)
	p.SetLang("en-GB")
	p.SetMargins(20, 20, 20)
	p.SetAutoPageBreak(true, 20)
	tr := p.UnicodeTranslatorFromDescriptor("")
	p.AliasNbPages("{nb}")
	p.SetFooterFunc(func() {
		p.SetY(-15)
		p.SetFont("Helvetica", "", 8)
		p.CellFormat(0, 10, tr(fmt.Sprintf("Northwind Lattice - %s - page %d of {nb}", d.title, p.PageNo())), "", 0, "C", false, 0, "")
	})
	p.AddPage()
	p.SetFont("Helvetica", "B", 18)
	p.MultiCell(0, 9, tr(d.title), "", "L", false)
	p.SetFont("Helvetica", "", 9)
	p.MultiCell(0, 5, tr(fmt.Sprintf("Owner: %s. Effective %s. Version %s.", d.author, d.date, d.versionOr("1.0"))), "", "L", false)
	p.Ln(4)
	sizes := map[int]float64{1: 15, 2: 13, 3: 12, 4: 11}
	chapters := 0
	for _, bl := range parseBody(d.body) {
		switch bl.kind {
		case "heading":
			// Each level-1 heading opens a new page (a chapter), except the first.
			if bl.level == 1 {
				if chapters > 0 {
					p.AddPage()
				}
				chapters++
			} else if bl.level == 2 && p.GetY() > 230 {
				p.AddPage()
			}
			p.Ln(2)
			p.SetFont("Helvetica", "B", sizes[bl.level])
			p.MultiCell(0, 7, tr(plain(bl.text)), "", "L", false)
			p.Ln(1)
		case "para":
			p.SetFont("Helvetica", "", 10)
			p.MultiCell(0, 5, tr(plain(bl.text)), "", "L", false)
			p.Ln(3)
		case "list", "olist":
			p.SetFont("Helvetica", "", 10)
			for i, it := range bl.items {
				marker := "- "
				if bl.kind == "olist" {
					marker = fmt.Sprintf("%d. ", i+1)
				}
				p.MultiCell(0, 5, tr(marker+plain(it)), "", "L", false)
			}
			p.Ln(3)
		case "table":
			pdfTable(p, tr, bl.rows)
		case "code":
			p.SetFont("Courier", "", 9)
			p.MultiCell(0, 4.5, tr(bl.text), "", "L", false)
			p.Ln(3)
		}
	}
	var out bytes.Buffer
	if err := p.Output(&out); err != nil {
		return nil, fmt.Errorf("pdf %s: %w", d.path, err)
	}
	return out.Bytes(), nil
}

// pdfTable draws a ruled table with columns sized to their widest cell.
// When the columns cannot fit the 170 mm text width even at 8 pt, rows are
// written as pipe-separated lines instead, as a plain-text export would.
func pdfTable(p *fpdf.Fpdf, tr func(string) string, rows [][]string) {
	const width = 170.0
	for _, size := range []float64{9, 8} {
		widths := make([]float64, len(rows[0]))
		for i, r := range rows {
			style := ""
			if i == 0 {
				style = "B"
			}
			p.SetFont("Helvetica", style, size)
			for j, c := range r {
				if j < len(widths) {
					widths[j] = max(widths[j], p.GetStringWidth(tr(plain(c)))+3)
				}
			}
		}
		total := 0.0
		for _, w := range widths {
			total += w
		}
		if total > width {
			continue
		}
		for j := range widths {
			widths[j] += (width - total) / float64(len(widths))
		}
		for i, r := range rows {
			if i == 0 {
				p.SetFont("Helvetica", "B", size)
			} else {
				p.SetFont("Helvetica", "", size)
			}
			for j, c := range r {
				if j < len(widths) {
					p.CellFormat(widths[j], 6, tr(plain(c)), "1", 0, "L", false, 0, "")
				}
			}
			p.Ln(-1)
		}
		p.Ln(3)
		return
	}
	p.SetFont("Helvetica", "", 9)
	for i, r := range rows {
		if i == 0 {
			p.SetFont("Helvetica", "B", 9)
		} else {
			p.SetFont("Helvetica", "", 9)
		}
		cells := make([]string, len(r))
		for j, c := range r {
			cells[j] = plain(c)
		}
		p.MultiCell(0, 5, tr(strings.Join(cells, " | ")), "", "L", false)
	}
	p.Ln(3)
}

// renderDOCX writes a minimal but valid WordprocessingML package: styles
// with Title and Heading1..4, numbered and bulleted lists, tables, and
// core properties. Entries carry a fixed timestamp so output is stable.
func renderDOCX(d *doc, when time.Time) ([]byte, error) {
	var body strings.Builder
	para := func(style, text string) {
		body.WriteString("<w:p>")
		if style != "" {
			fmt.Fprintf(&body, `<w:pPr><w:pStyle w:val="%s"/></w:pPr>`, style)
		}
		body.WriteString(runs(text))
		body.WriteString("</w:p>")
	}
	para("Title", d.title)
	para("Subtitle", fmt.Sprintf("Owner: %s · Effective %s · Version %s", d.author, d.date, d.versionOr("1.0")))
	for _, bl := range parseBody(d.body) {
		switch bl.kind {
		case "heading":
			para(fmt.Sprintf("Heading%d", bl.level), plain(bl.text))
		case "para":
			para("", plain(bl.text))
		case "code":
			for _, l := range strings.Split(bl.text, "\n") {
				para("Code", l)
			}
		case "list", "olist":
			num := 1
			if bl.kind == "olist" {
				num = 2
			}
			for _, it := range bl.items {
				fmt.Fprintf(&body, `<w:p><w:pPr><w:pStyle w:val="ListParagraph"/><w:numPr><w:ilvl w:val="0"/><w:numId w:val="%d"/></w:numPr></w:pPr>%s</w:p>`, num, runs(plain(it)))
			}
		case "table":
			body.WriteString(`<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/><w:tblW w:w="0" w:type="auto"/></w:tblPr>`)
			for _, r := range bl.rows {
				body.WriteString("<w:tr>")
				for _, c := range r {
					fmt.Fprintf(&body, `<w:tc><w:tcPr><w:tcW w:w="0" w:type="auto"/></w:tcPr><w:p>%s</w:p></w:tc>`, runs(plain(c)))
				}
				body.WriteString("</w:tr>")
			}
			body.WriteString("</w:tbl>")
		}
	}
	document := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body>` +
		body.String() + `<w:sectPr><w:pgSz w:w="11906" w:h="16838"/><w:pgMar w:top="1440" w:right="1440" w:bottom="1440" w:left="1440" w:header="708" w:footer="708" w:gutter="0"/></w:sectPr></w:body></w:document>`
	ts := when.UTC().Format("2006-01-02T15:04:05Z")
	core := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><dc:title>%s</dc:title><dc:creator>%s</dc:creator><cp:lastModifiedBy>%s</cp:lastModifiedBy><dc:language>en-GB</dc:language><dcterms:created xsi:type="dcterms:W3CDTF">%s</dcterms:created><dcterms:modified xsi:type="dcterms:W3CDTF">%s</dcterms:modified></cp:coreProperties>`,
		xmlEsc(d.title), xmlEsc(d.author), xmlEsc(d.author), d.date+"T09:00:00Z", ts)
	files := []struct{ name, body string }{
		{"[Content_Types].xml", contentTypesXML},
		{"_rels/.rels", relsXML},
		{"word/document.xml", document},
		{"word/_rels/document.xml.rels", docRelsXML},
		{"word/styles.xml", stylesXML},
		{"word/numbering.xml", numberingXML},
		{"docProps/core.xml", core},
		{"docProps/app.xml", appXML},
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range files {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: when})
		if err != nil {
			return nil, fmt.Errorf("docx %s: %w", d.path, err)
		}
		if _, err := w.Write([]byte(f.body)); err != nil {
			return nil, fmt.Errorf("docx %s: %w", d.path, err)
		}
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("docx %s: %w", d.path, err)
	}
	return out.Bytes(), nil
}

func runs(text string) string {
	var b strings.Builder
	// Bold segments become separate runs, like Word writes them.
	parts := boldRe.Split(text, -1)
	bolds := boldRe.FindAllStringSubmatch(text, -1)
	for i, p := range parts {
		if p != "" {
			fmt.Fprintf(&b, `<w:r><w:t xml:space="preserve">%s</w:t></w:r>`, xmlEsc(plain(p)))
		}
		if i < len(bolds) {
			fmt.Fprintf(&b, `<w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">%s</w:t></w:r>`, xmlEsc(bolds[i][1]))
		}
	}
	return b.String()
}

var xmlEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;")

func xmlEsc(s string) string { return xmlEscaper.Replace(s) }

const contentTypesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/><Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/><Override PartName="/word/numbering.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.numbering+xml"/><Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/><Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/></Types>`

const relsXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/></Relationships>`

const docRelsXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/numbering" Target="numbering.xml"/></Relationships>`

const appXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"><Application>gencorpus</Application></Properties>`

const stylesXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:rPr><w:rFonts w:ascii="Calibri" w:hAnsi="Calibri"/><w:sz w:val="22"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:rPr><w:sz w:val="56"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Subtitle"><w:name w:val="Subtitle"/><w:basedOn w:val="Normal"/><w:rPr><w:i/><w:color w:val="595959"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="32"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:sz w:val="28"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading3"><w:name w:val="heading 3"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:outlineLvl w:val="2"/></w:pPr><w:rPr><w:b/><w:sz w:val="24"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading4"><w:name w:val="heading 4"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:pPr><w:keepNext/><w:outlineLvl w:val="3"/></w:pPr><w:rPr><w:b/><w:i/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="ListParagraph"><w:name w:val="List Paragraph"/><w:basedOn w:val="Normal"/><w:pPr><w:ind w:left="720"/></w:pPr></w:style>
<w:style w:type="paragraph" w:styleId="Code"><w:name w:val="Code"/><w:basedOn w:val="Normal"/><w:rPr><w:rFonts w:ascii="Consolas" w:hAnsi="Consolas"/><w:sz w:val="18"/></w:rPr></w:style>
<w:style w:type="table" w:styleId="TableGrid"><w:name w:val="Table Grid"/><w:tblPr><w:tblBorders><w:top w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:left w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:bottom w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:right w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:insideH w:val="single" w:sz="4" w:space="0" w:color="auto"/><w:insideV w:val="single" w:sz="4" w:space="0" w:color="auto"/></w:tblBorders></w:tblPr></w:style>
</w:styles>`

const numberingXML = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="bullet"/><w:lvlText w:val="•"/><w:lvlJc w:val="left"/><w:pPr><w:ind w:left="720" w:hanging="360"/></w:pPr></w:lvl></w:abstractNum>
<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/><w:lvlJc w:val="left"/><w:pPr><w:ind w:left="720" w:hanging="360"/></w:pPr></w:lvl></w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
</w:numbering>`
