package extract

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestHTML(t *testing.T) {
	page := `<!DOCTYPE html><html lang="en-GB"><head><title>Returns | Help</title>
<meta name="author" content="Ada Quinn"><style>p{color:red}</style><script>var tracking = "secret";</script></head>
<body><header><nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav></header>
<div class="cookie-banner">We use cookies</div>
<main><h1>Returns policy</h1><p>Parcels can be returned within <a href="https://example.test/rules">30 days</a> of delivery.</p>
<h2>Fees</h2><table><tr><th>Service</th><th>Fee</th></tr><tr><td>Standard</td><td>£4.50</td></tr></table>
<h3>Exceptions</h3><ul><li>Perishables</li><li>Custom   items</li></ul><pre>code   block
  indented</pre>
<form><input value="search"></form></main>
<aside>Related: shipping</aside><footer>© 2026 Example</footer></body></html>`
	doc := mustExtract(t, "returns.html", []byte(page), Options{})
	checkDoc(t, doc)
	for _, gone := range []string{"Home", "Pricing", "cookies", "tracking", "color:red", "Related", "©", "https://", "search"} {
		if strings.Contains(doc.Text, gone) {
			t.Errorf("text keeps boilerplate %q:\n%s", gone, doc.Text)
		}
	}
	for _, kept := range []string{"returned within 30 days of delivery", "Service | Fee\nStandard | £4.50", "- Perishables\n\n- Custom items", "code   block\n  indented"} {
		if !strings.Contains(doc.Text, kept) {
			t.Errorf("text lacks %q:\n%s", kept, doc.Text)
		}
	}
	if doc.Title != "Returns | Help" || doc.Metadata["author"] != "Ada Quinn" || doc.Metadata["language"] != "en-GB" {
		t.Errorf("title %q metadata %v", doc.Title, doc.Metadata)
	}
	body, path := sectionText(doc, "Exceptions")
	if want := []string{"Returns policy", "Fees", "Exceptions"}; !reflect.DeepEqual(path, want) {
		t.Errorf("path = %q, want %q", path, want)
	}
	if !strings.HasPrefix(body, "Exceptions\n\n- Perishables") {
		t.Errorf("section text = %q", body)
	}
}

func TestHTMLDensestBlock(t *testing.T) {
	// No <main> or <article>: the div holding the paragraphs wins over the
	// link-heavy menu div.
	page := `<html><body><div class="menu"><p><a href="/a">Alpha</a></p><p><a href="/b">Beta</a></p><p><a href="/c">Gamma</a></p></div>
<div id="content"><h1>Depot opening hours</h1><p>The Leith depot opens at 05:30 on weekdays and closes at 21:00.</p>
<p>On Saturdays it opens at 07:00. It is closed on Sundays and public holidays.</p><p>Drivers collect keys at the gatehouse.</p></div></body></html>`
	doc := mustExtract(t, "hours.html", []byte(page), Options{})
	if strings.Contains(doc.Text, "Alpha") || !strings.Contains(doc.Text, "opens at 05:30") {
		t.Fatalf("text = %q", doc.Text)
	}
	if doc.Sections[0].Path[0] != "Depot opening hours" {
		t.Fatalf("sections = %+v", doc.Sections)
	}
}

func TestMarkdown(t *testing.T) {
	src := "---\ntitle: \"Driver Guide\"\nauthor: Ada Quinn\ndate: 2026-01-05\nlang: en\n---\n\n" +
		"# Driver Guide\n\nIntro with a [link](https://example.test/x \"t\") and **bold** and *em* and `code_span`.\n\n" +
		"## Before you start\n\nCheck tyres; see snake_case_name and nwl_live_ prefix, 5 * 3 = 15.\n\n" +
		"- first item\n- second [ref][r1]\n  continued\n\n1. one\n2. two\n\n" +
		"```go\nfunc main() { _ = x * y }\n```\n\n" +
		"Setext heading\n--------------\n\n| Zone | Limit |\n|---|---:|\n| Leith | 20 mph |\n\n" +
		"> quoted **text**\n\n[r1]: https://example.test/ref\n\n![diagram](d.png)\n<!-- hidden\nnote -->\n"
	doc := mustExtract(t, "guide.md", []byte(src), Options{})
	checkDoc(t, doc)
	for _, want := range []string{
		"Intro with a link and bold and em and code_span.",
		"snake_case_name and nwl_live_ prefix, 5 * 3 = 15.",
		"- first item\n- second ref continued",
		"1. one\n2. two",
		"func main() { _ = x * y }",
		"Zone | Limit\nLeith | 20 mph",
		"quoted text",
		"diagram",
	} {
		if !strings.Contains(doc.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, doc.Text)
		}
	}
	for _, gone := range []string{"https://", "**", "---", "[r1]", "hidden"} {
		if strings.Contains(doc.Text, gone) {
			t.Errorf("text keeps %q:\n%s", gone, doc.Text)
		}
	}
	if doc.Title != "Driver Guide" || doc.Metadata["author"] != "Ada Quinn" || doc.Metadata["created"] != "2026-01-05T00:00:00Z" || doc.Metadata["language"] != "en" {
		t.Errorf("title %q metadata %v", doc.Title, doc.Metadata)
	}
	if _, path := sectionText(doc, "Setext heading"); !reflect.DeepEqual(path, []string{"Driver Guide", "Setext heading"}) {
		t.Errorf("setext path = %q", path)
	}
}

func TestCSV(t *testing.T) {
	src := "\ufeffticket_id,customer,subject,body,priority\n" +
		"T-1,Acme,Login loop,\"Users see a loop\nafter SSO\",P2\n" +
		"T-2,Birch,Invoice,Wrong VAT,P3\n\n"
	t.Run("mapping", func(t *testing.T) {
		doc := mustExtract(t, "t.csv", []byte(src), Options{Mapping: Mapping{
			TextFields: []string{"subject", "body"}, MetadataFields: []string{"customer", "priority"}, IDField: "ticket_id",
		}})
		checkDoc(t, doc)
		if len(doc.Records) != 2 {
			t.Fatalf("records = %d", len(doc.Records))
		}
		r := doc.Records[0]
		if r.ID != "T-1" || r.Text != "Login loop\nUsers see a loop\nafter SSO" || r.Metadata["customer"] != "Acme" || r.Metadata["priority"] != "P2" {
			t.Fatalf("record = %+v", r)
		}
		if doc.Sections[1].Path[0] != "T-2" {
			t.Fatalf("sections = %+v", doc.Sections)
		}
	})
	t.Run("default mapping", func(t *testing.T) {
		doc := mustExtract(t, "t.csv", []byte(src), Options{})
		r := doc.Records[1]
		if r.ID != "T-2" || !strings.Contains(r.Text, "customer: Birch\nsubject: Invoice") || r.Fields["priority"] != "P3" {
			t.Fatalf("record = %+v", r)
		}
	})
	t.Run("semicolon and tab delimiters", func(t *testing.T) {
		for name, src := range map[string]string{"eu.csv": "id;city;note\n1;Leith;\"a, b\"\n", "t.tsv": "id\tcity\tnote\n1\tLeith\ta, b\n"} {
			doc := mustExtract(t, name, []byte(src), Options{})
			if r := doc.Records[0]; r.Fields["city"] != "Leith" || r.Fields["note"] != "a, b" {
				t.Fatalf("%s: record = %+v", name, r)
			}
		}
	})
	t.Run("unknown column", func(t *testing.T) {
		_, err := ExtractWith(t.Context(), "t.csv", "", strings.NewReader(src), Options{Mapping: Mapping{TextFields: []string{"nope"}}})
		if !errors.Is(err, ErrMapping) {
			t.Fatalf("err = %v, want ErrMapping", err)
		}
	})
	t.Run("bad quoting names the line", func(t *testing.T) {
		_, err := ExtractWith(t.Context(), "q.csv", "", strings.NewReader("a,b\n1,\"x\"y\"\n"), Options{})
		var fe *FileError
		if err != nil && (!errors.As(err, &fe) || fe.Name != "q.csv") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("record limit", func(t *testing.T) {
		_, err := ExtractWith(t.Context(), "t.csv", "", strings.NewReader(src), Options{Limits: Limits{MaxRecords: 1}})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
}

func TestJSON(t *testing.T) {
	src := `{"data":{"items":[{"id":7,"customer":{"name":"Acme","tier":"gold"},"notes":"Call before 9","tags":["a","b"]},{"id":8,"customer":{"name":"Birch"},"notes":"Gate code needed"}]}}`
	doc := mustExtract(t, "export.json", []byte(src), Options{Mapping: Mapping{
		RecordsPath: "data.items", TextFields: []string{"notes"}, MetadataFields: []string{"customer.name", "tags"},
	}})
	checkDoc(t, doc)
	if len(doc.Records) != 2 || doc.Records[0].ID != "7" || doc.Records[0].Text != "Call before 9" ||
		doc.Records[0].Metadata["customer.name"] != "Acme" || doc.Records[0].Metadata["tags"] != "a, b" {
		t.Fatalf("records = %+v", doc.Records)
	}
	_, err := ExtractWith(t.Context(), "export.json", "", strings.NewReader(src), Options{Mapping: Mapping{RecordsPath: "data.missing"}})
	if !errors.Is(err, ErrMapping) {
		t.Fatalf("err = %v, want ErrMapping", err)
	}
	_, err = ExtractWith(t.Context(), "broken.json", "", strings.NewReader("{\n\"a\": [1,\n}"), Options{})
	var fe *FileError
	if !errors.Is(err, ErrCorrupt) || !errors.As(err, &fe) || fe.Line != 3 {
		t.Fatalf("err = %v, want ErrCorrupt at line 3", err)
	}
}

func TestJSONL(t *testing.T) {
	src := "{\"id\":\"a\",\"text\":\"first\",\"meta\":{\"lang\":\"en\"}}\n\n{\"id\":\"b\",\"text\":\"second\"}\n"
	doc := mustExtract(t, "rows.jsonl", []byte(src), Options{Mapping: Mapping{TextFields: []string{"text"}, MetadataFields: []string{"meta.lang"}}})
	checkDoc(t, doc)
	if len(doc.Records) != 2 || doc.Records[1].ID != "b" || doc.Records[0].Metadata["meta.lang"] != "en" || doc.Text != "first\n\nsecond" {
		t.Fatalf("doc = %+v", doc)
	}
	_, err := ExtractWith(t.Context(), "rows.jsonl", "", strings.NewReader(src+"{oops\n"), Options{})
	var fe *FileError
	if !errors.As(err, &fe) || fe.Line != 4 || !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt at line 4", err)
	}
}

func TestChat(t *testing.T) {
	src := `{"id":"c1","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":[{"type":"text","text":"Hello!"}]}],"feedback":{"rating":"thumbs_up"}}
{"conversations":[{"from":"human","value":"Q?"},{"from":"gpt","value":"A."}],"source":"sharegpt"}
{"id":"p1","input":{"messages":[{"role":"user","content":"Cap?"}]},"preferred_output":[{"role":"assistant","content":"£180"}],"non_preferred_output":[{"role":"assistant","content":"£250"}]}
{"id":"c2","messages":[{"role":"user","content":"Stops?"}],"candidates":[{"role":"assistant","content":"none"},{"role":"assistant","content":"2,000"}],"preferred":1}
`
	doc := mustExtract(t, "chats.jsonl", []byte(src), Options{})
	checkDoc(t, doc)
	if doc.Format != FormatChat || len(doc.Records) != 4 {
		t.Fatalf("format %q, %d records", doc.Format, len(doc.Records))
	}
	tests := []struct {
		name      string
		rec       Record
		id        string
		messages  []Message
		preferred int
		meta      map[string]string
	}{
		{"openai", doc.Records[0], "c1", []Message{{"system", "Be brief."}, {"user", "Hi"}, {"assistant", "Hello!"}}, -1, map[string]string{"feedback.rating": "thumbs_up"}},
		{"sharegpt", doc.Records[1], "line-2", []Message{{"user", "Q?"}, {"assistant", "A."}}, -1, map[string]string{"source": "sharegpt"}},
		{"preference", doc.Records[2], "p1", []Message{{"user", "Cap?"}}, 0, map[string]string{}},
		{"candidates", doc.Records[3], "c2", []Message{{"user", "Stops?"}}, 1, map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.rec.ID != tt.id || !reflect.DeepEqual(tt.rec.Messages, tt.messages) || tt.rec.Preferred != tt.preferred {
				t.Fatalf("record = %+v", tt.rec)
			}
			for k, v := range tt.meta {
				if tt.rec.Metadata[k] != v {
					t.Fatalf("metadata[%q] = %q, want %q", k, tt.rec.Metadata[k], v)
				}
			}
		})
	}
	if c := doc.Records[2].Candidates; len(c) != 2 || c[0].Content != "£180" || c[1].Content != "£250" {
		t.Fatalf("preference candidates = %+v", c)
	}
	if !strings.Contains(doc.Records[3].Text, "candidate 2 (preferred): 2,000") {
		t.Fatalf("text = %q", doc.Records[3].Text)
	}
	_, err := ExtractWith(t.Context(), "c.jsonl", "", strings.NewReader(`{"messages":[{"role":"user","content":"x"}],"candidates":[],"preferred":3}`), Options{})
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("err = %v, want ErrCorrupt", err)
	}
}

func TestPDF(t *testing.T) {
	data := pdfOf(t, "",
		[]string{"Loading bays", "Bays 1 to 4 take articulated trailers. Reverse in slowly and set the parking brake before the dock leveller is lowered.", "Bay 5 is for vans only."},
		[]string{"Fire safety", "Assembly point B is beside the north gate.", "Fire wardens wear orange vests."},
		[]string{"Loading refrigerated trailers at night while the yard lighting is switched off for maintenance", "Use hand lamps."},
	)
	doc := mustExtract(t, "manual.pdf", data, Options{})
	checkDoc(t, doc)
	if _, path := sectionText(doc, "Loading refrigerated trailers at night while the yard lighting is switched off for maintenance"); path == nil {
		t.Errorf("wrapped heading not rejoined: %+v", doc.Sections)
	}
	if len(doc.Pages) != 3 {
		t.Fatalf("pages = %+v", doc.Pages)
	}
	p2 := doc.Text[doc.Pages[1].Start:doc.Pages[1].End]
	if !strings.Contains(p2, "Assembly point B is beside the north gate.") || strings.Contains(p2, "Bay 5") {
		t.Fatalf("page 2 text = %q", p2)
	}
	body, path := sectionText(doc, "Fire safety")
	if !reflect.DeepEqual(path, []string{"Fire safety"}) || !strings.Contains(body, "Fire wardens wear orange vests.") {
		t.Fatalf("section %q: %q", path, body)
	}
	for _, s := range doc.Sections {
		if s.Path[len(s.Path)-1] == "Fire safety" && s.Page != 2 {
			t.Fatalf("Fire safety section on page %d, want 2", s.Page)
		}
	}
	if !strings.Contains(doc.Text, "Reverse in slowly and set the parking brake") {
		t.Fatalf("wrapped paragraph not rejoined: %q", doc.Text)
	}
	if doc.Metadata["author"] != "Ada Quinn" || doc.Title != "Depot Safety Manual" || doc.Metadata["created"] != "2026-03-01T09:30:00Z" {
		t.Fatalf("title %q metadata %v", doc.Title, doc.Metadata)
	}
}

func TestDOCX(t *testing.T) {
	body := para("Title", "Fleet Handbook") +
		para("berschrift1", "Vehicles") + para("", "Every van is inspected weekly.") +
		para("Heading2", "Tyres") + para("", "Minimum tread depth is 3 mm.") +
		`<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>Check pressure</w:t></w:r></w:p>` +
		`<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Axle</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>Pressure</w:t></w:r></w:p></w:tc></w:tr>` +
		`<w:tr><w:tc><w:p><w:r><w:t>Front</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>3.5</w:t></w:r><w:r><w:t xml:space="preserve"> bar</w:t></w:r></w:p></w:tc></w:tr></w:tbl>` +
		para("Heading2", "Steps") + numbered("2", "0", "Park") + numbered("2", "1", "Brake") + numbered("2", "1", "Chock") + numbered("2", "0", "Leave") +
		para("berschrift1", "Drivers") + `<w:p><w:r><w:t>Old</w:t></w:r><w:del><w:r><w:delText>deleted</w:delText></w:r></w:del><w:r><w:tab/><w:t>rule</w:t></w:r></w:p>`
	doc := mustExtract(t, "handbook.docx", docxOf(t, body), Options{})
	checkDoc(t, doc)
	text, path := sectionText(doc, "Tyres")
	if !reflect.DeepEqual(path, []string{"Fleet Handbook", "Vehicles", "Tyres"}) {
		t.Fatalf("path = %q", path)
	}
	for _, want := range []string{"Minimum tread depth is 3 mm.", "- Check pressure", "Axle | Pressure\nFront | 3.5 bar"} {
		if !strings.Contains(text, want) {
			t.Errorf("section lacks %q: %q", want, text)
		}
	}
	if steps, _ := sectionText(doc, "Steps"); !strings.Contains(steps, "1. Park\n\n  a. Brake\n\n  b. Chock\n\n2. Leave") {
		t.Fatalf("numbered list = %q", steps)
	}
	if _, path := sectionText(doc, "Drivers"); !reflect.DeepEqual(path, []string{"Fleet Handbook", "Drivers"}) {
		t.Fatalf("Drivers path = %q", path)
	}
	if strings.Contains(doc.Text, "deleted") || !strings.Contains(doc.Text, "Old\trule") {
		t.Fatalf("text = %q", doc.Text)
	}
	want := map[string]string{"author": "Ada Quinn", "title": "Fleet Handbook", "created": "2026-01-02T03:04:05Z", "modified": "2026-02-03T04:05:06Z", "language": "en-GB"}
	for k, v := range want {
		if doc.Metadata[k] != v {
			t.Errorf("metadata[%q] = %q, want %q", k, doc.Metadata[k], v)
		}
	}
}

// TestMarkdownHostileInline feeds long lines of unmatched delimiters and
// deeply nested link brackets; they must come back intact (the extractor
// keeps inline parsing linear and bounded, so this also finishes quickly).
func TestMarkdownHostileInline(t *testing.T) {
	tests := []struct {
		name, line string
	}{
		{"unmatched stars", strings.Repeat("*a ", 50_000)},
		{"unmatched backticks", strings.Repeat("`` ` x ", 20_000)},
		{"open brackets", strings.Repeat("[", 100_000)},
		{"nested links", strings.Repeat("[", 10_000) + "x" + strings.Repeat("](u)", 10_000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustExtract(t, "h.md", []byte(tt.line+"\n"), Options{})
			checkDoc(t, doc)
			if len(doc.Text) == 0 {
				t.Fatal("no text")
			}
		})
	}
}

func TestDOCXMainPartFromRelationships(t *testing.T) {
	doc := `<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>` + para("", "Body in document2.xml") + `</w:body></w:document>`
	rels := `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/word/document2.xml"/></Relationships>`
	data := zipOf(t, [2]string{"_rels/.rels", rels}, [2]string{"word/document2.xml", doc})
	got := mustExtract(t, "strict.docx", data, Options{})
	if got.Text != "Body in document2.xml" {
		t.Fatalf("text = %q", got.Text)
	}
}
