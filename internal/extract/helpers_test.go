package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// zipOf builds a zip archive from name → content, in the given order.
func zipOf(t testing.TB, entries ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e[0], Method: zip.Deflate, Modified: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

const testStyles = `<?xml version="1.0" encoding="UTF-8"?>
<w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style>
<w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/></w:style>
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style>
<w:style w:type="paragraph" w:styleId="Quote"><w:name w:val="Quote"/></w:style>
</w:styles>`

// docxOf wraps paragraphs XML (the inside of <w:body>) into a DOCX package.
func docxOf(t testing.TB, body string) []byte {
	t.Helper()
	doc := `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + body + `</w:body></w:document>`
	core := `<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/"><dc:title>Fleet Handbook</dc:title><dc:creator>Ada Quinn</dc:creator><dcterms:created>2026-01-02T03:04:05Z</dcterms:created><dcterms:modified>2026-02-03T04:05:06Z</dcterms:modified><dc:language>en-GB</dc:language></cp:coreProperties>`
	return zipOf(t,
		[2]string{"[Content_Types].xml", `<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`},
		[2]string{"word/document.xml", doc},
		[2]string{"word/styles.xml", testStyles},
		[2]string{"docProps/core.xml", core},
		[2]string{"word/numbering.xml", testNumbering},
	)
}

const testNumbering = `<?xml version="1.0" encoding="UTF-8"?>
<w:numbering xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">
<w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:numFmt w:val="bullet"/></w:lvl></w:abstractNum>
<w:abstractNum w:abstractNumId="1"><w:lvl w:ilvl="0"><w:numFmt w:val="decimal"/></w:lvl><w:lvl w:ilvl="1"><w:numFmt w:val="lowerLetter"/></w:lvl></w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
</w:numbering>`

// numbered is a list paragraph of list numID at level ilvl.
func numbered(numID, ilvl, text string) string {
	return `<w:p><w:pPr><w:numPr><w:ilvl w:val="` + ilvl + `"/><w:numId w:val="` + numID + `"/></w:numPr></w:pPr><w:r><w:t>` + text + `</w:t></w:r></w:p>`
}

func para(style, text string) string {
	p := "<w:p>"
	if style != "" {
		p += `<w:pPr><w:pStyle w:val="` + style + `"/></w:pPr>`
	}
	return p + `<w:r><w:t xml:space="preserve">` + text + `</w:t></w:r></w:p>`
}

// pdfOf renders pages of (heading, paragraphs) with fpdf; headings are set
// in 16 pt bold, body text in 10 pt.
func pdfOf(t testing.TB, password string, pages ...[]string) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCreationDate(time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC))
	p.SetTitle("Depot Safety Manual", false)
	p.SetAuthor("Ada Quinn", false)
	if password != "" {
		p.SetProtection(fpdf.CnProtectPrint, password, "owner-"+password)
	}
	for _, pg := range pages {
		p.AddPage()
		for i, s := range pg {
			if i == 0 {
				p.SetFont("Helvetica", "B", 16)
				p.MultiCell(0, 8, s, "", "L", false)
				p.Ln(3)
				continue
			}
			p.SetFont("Helvetica", "", 10)
			p.MultiCell(0, 5, s, "", "L", false)
			p.Ln(4)
		}
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// mustExtract extracts data named name or fails the test.
func mustExtract(t testing.TB, name string, data []byte, opts Options) *Document {
	t.Helper()
	doc, err := ExtractWith(context.Background(), name, "", bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("extract %s: %v", name, err)
	}
	return doc
}

// sectionText returns the text of the section whose path ends in last.
func sectionText(doc *Document, last string) (string, []string) {
	for _, s := range doc.Sections {
		if len(s.Path) > 0 && s.Path[len(s.Path)-1] == last {
			return doc.Text[s.Start:s.End], s.Path
		}
	}
	return "", nil
}

// checkDoc verifies the invariants every successful extraction keeps: valid
// UTF-8, spans inside Text and in order, record spans holding record text.
func checkDoc(t testing.TB, doc *Document) {
	t.Helper()
	if !utf8.ValidString(doc.Text) {
		t.Fatalf("text is not valid UTF-8")
	}
	prev := 0
	for i, s := range doc.Sections {
		if s.Start < prev || s.Start > s.End || s.End > len(doc.Text) {
			t.Fatalf("section %d span [%d,%d) bad (prev end %d, text %d)", i, s.Start, s.End, prev, len(doc.Text))
		}
		prev = s.End
	}
	for i, p := range doc.Pages {
		if p.Start < 0 || p.Start > p.End || p.End > len(doc.Text) {
			t.Fatalf("page %d span [%d,%d) bad (text %d)", i, p.Start, p.End, len(doc.Text))
		}
	}
	for i, r := range doc.Records {
		if r.Start < 0 || r.Start > r.End || r.End > len(doc.Text) || doc.Text[r.Start:r.End] != r.Text {
			t.Fatalf("record %d span [%d,%d) does not hold its text", i, r.Start, r.End)
		}
	}
}

// checkErr verifies a failure is a *FileError naming the file.
func checkErr(t testing.TB, name string, err error) {
	t.Helper()
	var fe *FileError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FileError", err, err)
	}
	if fe.Name != name || !strings.Contains(err.Error(), name) {
		t.Fatalf("error %q does not name %q", err, name)
	}
}
