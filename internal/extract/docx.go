package extract

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// smallEntry is the uncompressed size below which the compression ratio
// is not checked: tiny XML parts compress very well and are harmless.
const smallEntry = 1 << 20

// zipReader opens data as a zip archive within the decompression limits.
type zipReader struct {
	files map[string]*zip.File
	lim   Limits
	read  int64 // uncompressed bytes read so far
}

func openZip(data []byte, lim Limits) (*zipReader, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("%w: zip: %v", ErrCorrupt, err)
	}
	if len(zr.File) > lim.MaxZipEntries {
		return nil, fmt.Errorf("%w: %d zip entries, limit %d", ErrDecompression, len(zr.File), lim.MaxZipEntries)
	}
	z := &zipReader{files: map[string]*zip.File{}, lim: lim}
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(lim.MaxUncompressed) {
			return nil, fmt.Errorf("%w: declared uncompressed size over %d bytes", ErrDecompression, lim.MaxUncompressed)
		}
		if f.UncompressedSize64 > smallEntry {
			if f.CompressedSize64 == 0 || float64(f.UncompressedSize64)/float64(f.CompressedSize64) > lim.MaxCompressionRatio {
				return nil, fmt.Errorf("%w: entry %q compression ratio over %g", ErrDecompression, f.Name, lim.MaxCompressionRatio)
			}
		}
		z.files[strings.TrimPrefix(f.Name, "/")] = f
	}
	return z, nil
}

// readAll returns an entry's bytes, limited by the remaining budget whatever
// its header declares (headers can lie).
func (z *zipReader) readAll(name string) ([]byte, error) {
	f := z.files[name]
	if f == nil {
		return nil, nil
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
	}
	defer rc.Close()
	budget := z.lim.MaxUncompressed - z.read
	data, err := io.ReadAll(io.LimitReader(rc, budget+1))
	z.read += int64(len(data))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, name, err)
	}
	if int64(len(data)) > budget {
		return nil, fmt.Errorf("%w: more than %d uncompressed bytes", ErrDecompression, z.lim.MaxUncompressed)
	}
	if f.UncompressedSize64 > 0 && uint64(len(data)) > smallEntry && len(data) > 0 &&
		float64(len(data))/float64(max(f.CompressedSize64, 1)) > z.lim.MaxCompressionRatio {
		return nil, fmt.Errorf("%w: entry %q compression ratio over %g", ErrDecompression, name, z.lim.MaxCompressionRatio)
	}
	return data, nil
}

var headingStyleID = regexp.MustCompile(`(?i)^heading\s*([1-9])$`)

// extractDOCX reads word/document.xml: paragraphs in order, heading styles
// (Title, Heading1..9, or any style with an outline level) as sections,
// list paragraphs with a marker, tables as pipe-separated rows; and
// docProps/core.xml as metadata.
func extractDOCX(ctx context.Context, data []byte, lim Limits) (*Document, error) {
	z, err := openZip(data, lim)
	if err != nil {
		return nil, err
	}
	if z.files["EncryptionInfo"] != nil || z.files["EncryptedPackage"] != nil {
		return nil, fmt.Errorf("%w: encrypted Office package", ErrEncrypted)
	}
	rels, err := z.readAll("_rels/.rels")
	if err != nil {
		return nil, err
	}
	main := officeDocumentPart(rels)
	if z.files[main] == nil {
		return nil, fmt.Errorf("%w: no main document part %s", ErrCorrupt, main)
	}
	styles, err := z.readAll("word/styles.xml")
	if err != nil {
		return nil, err
	}
	levels := styleLevels(styles)
	numbering, err := z.readAll("word/numbering.xml")
	if err != nil {
		return nil, err
	}
	body, err := z.readAll(main)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	doc, err := parseDocumentXML(ctx, body, levels, numberFormats(numbering))
	if err != nil {
		return nil, err
	}
	core, err := z.readAll("docProps/core.xml")
	if err != nil {
		return nil, err
	}
	coreMetadata(core, doc.Metadata)
	if t := doc.Metadata["title"]; t != "" {
		doc.Title = t
	}
	return doc, nil
}

// officeDocumentPart finds the main document part from the package
// relationships; word/document.xml when they do not say.
func officeDocumentPart(rels []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(rels))
	for {
		tok, err := dec.Token()
		if err != nil {
			return "word/document.xml"
		}
		if t, ok := tok.(xml.StartElement); ok && t.Name.Local == "Relationship" &&
			strings.HasSuffix(xmlAttr(t, "Type"), "/officeDocument") && xmlAttr(t, "TargetMode") != "External" {
			if target := strings.TrimPrefix(xmlAttr(t, "Target"), "/"); target != "" {
				return target
			}
		}
	}
}

// styleLevels maps paragraph style ids to heading levels: Title is 1 and
// "heading N" is N+1, so the title stays outermost in the section path.
func styleLevels(styles []byte) map[string]int {
	levels := map[string]int{}
	if len(styles) == 0 {
		return levels
	}
	dec := xml.NewDecoder(bytes.NewReader(styles))
	var id, name string
	outline := -1
	inStyle := false
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "style":
				inStyle, id, name, outline = true, xmlAttr(t, "styleId"), "", -1
			case "name":
				if inStyle {
					name = xmlAttr(t, "val")
				}
			case "outlineLvl":
				if inStyle {
					if v, err := strconv.Atoi(xmlAttr(t, "val")); err == nil {
						outline = v
					}
				}
			}
		case xml.EndElement:
			if t.Name.Local == "style" && inStyle {
				inStyle = false
				switch {
				case strings.EqualFold(name, "title"):
					levels[id] = 1
				case headingStyleID.MatchString(name):
					n, _ := strconv.Atoi(headingStyleID.FindStringSubmatch(name)[1])
					levels[id] = n + 1
				case outline >= 0 && outline < 9:
					levels[id] = outline + 2
				}
			}
		}
	}
	return levels
}

func xmlAttr(t xml.StartElement, local string) string {
	for _, a := range t.Attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// docxLevel resolves a paragraph style to a heading level when styles.xml
// is missing or does not say.
func docxLevel(style string, levels map[string]int) int {
	if l, ok := levels[style]; ok {
		return l
	}
	if strings.EqualFold(style, "title") {
		return 1
	}
	if m := headingStyleID.FindStringSubmatch(style); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n + 1
	}
	return 0
}

type docxPara struct {
	style   string
	outline int // paragraph-level outline override, -1 when none
	list    bool
	numID   string
	ilvl    int
	text    strings.Builder
}

// numKey identifies one level of one list definition.
type numKey struct {
	numID string
	ilvl  int
}

// numberFormats reads word/numbering.xml and reports which list levels are
// numbered (decimal, letters, roman) rather than bulleted.
func numberFormats(numbering []byte) map[numKey]string {
	formats := map[numKey]string{}
	if len(numbering) == 0 {
		return formats
	}
	abstract := map[string]map[int]string{} // abstractNumId → ilvl → numFmt
	numToAbstract := map[string]string{}
	dec := xml.NewDecoder(bytes.NewReader(numbering))
	var curAbstract, curNum string
	curLvl := -1
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "abstractNum":
				curAbstract = xmlAttr(t, "abstractNumId")
				abstract[curAbstract] = map[int]string{}
			case "lvl":
				curLvl, _ = strconv.Atoi(xmlAttr(t, "ilvl"))
			case "numFmt":
				if m := abstract[curAbstract]; m != nil && curLvl >= 0 {
					m[curLvl] = xmlAttr(t, "val")
				}
			case "num":
				curNum = xmlAttr(t, "numId")
			case "abstractNumId":
				if curNum != "" {
					numToAbstract[curNum] = xmlAttr(t, "val")
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "abstractNum":
				curAbstract, curLvl = "", -1
			case "num":
				curNum = ""
			}
		}
	}
	for num, abs := range numToAbstract {
		for lvl, f := range abstract[abs] {
			formats[numKey{num, lvl}] = f
		}
	}
	return formats
}

// listMarkerFor renders the marker of the n-th (1-based) item of a list level.
func listMarkerFor(format string, n int) string {
	switch format {
	case "decimal", "decimalZero":
		return strconv.Itoa(n) + ". "
	case "lowerLetter":
		return string(rune('a'+(n-1)%26)) + ". "
	case "upperLetter":
		return string(rune('A'+(n-1)%26)) + ". "
	case "lowerRoman", "upperRoman":
		return strconv.Itoa(n) + ". "
	}
	return "- "
}

func parseDocumentXML(ctx context.Context, body []byte, levels map[string]int, formats map[numKey]string) (*Document, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var b builder
	var para *docxPara
	var tableDepth int
	var rows [][]string // rows of the outermost table
	var cell []string   // paragraphs of the current cell
	var inText, inDel bool
	count := 0
	counters := map[numKey]int{}
	finishPara := func() {
		if para == nil {
			return
		}
		text := strings.TrimSpace(para.text.String())
		p := para
		para = nil
		if tableDepth > 0 {
			if text != "" {
				cell = append(cell, collapseSpace(text))
			}
			return
		}
		lvl := docxLevel(p.style, levels)
		if p.outline >= 0 && p.outline < 9 {
			lvl = p.outline + 2
		}
		switch {
		case text == "":
		case lvl > 0:
			b.heading(lvl, text)
		case p.list:
			k := numKey{p.numID, p.ilvl}
			counters[k]++
			// A new item at a level restarts the numbering of deeper levels.
			for ck := range counters {
				if ck.numID == p.numID && ck.ilvl > p.ilvl {
					delete(counters, ck)
				}
			}
			b.block(strings.Repeat("  ", p.ilvl) + listMarkerFor(formats[k], counters[k]) + text)
		default:
			b.block(text)
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return nil, fmt.Errorf("%w: word/document.xml line %d: %v", ErrCorrupt, se.Line, se.Msg)
			}
			return nil, fmt.Errorf("%w: word/document.xml: %v", ErrCorrupt, err)
		}
		if count++; count%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "p":
				finishPara()
				para = &docxPara{outline: -1}
			case "pStyle":
				if para != nil {
					para.style = xmlAttr(t, "val")
				}
			case "outlineLvl":
				if para != nil {
					if v, err := strconv.Atoi(xmlAttr(t, "val")); err == nil {
						para.outline = v
					}
				}
			case "numPr":
				if para != nil {
					para.list = true
				}
			case "numId":
				if para != nil {
					para.numID = xmlAttr(t, "val")
				}
			case "ilvl":
				if para != nil {
					para.ilvl, _ = strconv.Atoi(xmlAttr(t, "val"))
					para.ilvl = min(max(para.ilvl, 0), 8)
				}
			case "t":
				inText = true
			case "delText":
				inDel = true
			case "tab":
				if para != nil {
					para.text.WriteByte('\t')
				}
			case "br", "cr":
				if para != nil {
					para.text.WriteByte('\n')
				}
			case "tbl":
				finishPara()
				tableDepth++
			case "tc":
				if tableDepth == 1 {
					cell = cell[:0]
				}
			case "tr":
				if tableDepth == 1 {
					rows = append(rows, nil)
				}
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "t":
				inText = false
			case "delText":
				inDel = false
			case "p":
				finishPara()
			case "tc":
				finishPara()
				if tableDepth == 1 && len(rows) > 0 {
					rows[len(rows)-1] = append(rows[len(rows)-1], strings.Join(cell, " "))
				}
			case "tbl":
				finishPara()
				tableDepth--
				if tableDepth == 0 {
					var lines []string
					for _, r := range rows {
						if len(r) > 0 {
							lines = append(lines, strings.Join(r, " | "))
						}
					}
					b.block(strings.Join(lines, "\n"))
					rows = rows[:0]
				}
			}
		case xml.CharData:
			if inText && !inDel && para != nil {
				para.text.Write(t)
			}
		}
	}
	finishPara()
	return b.document(), nil
}

// coreMetadata reads Dublin Core properties from docProps/core.xml.
func coreMetadata(core []byte, meta map[string]string) {
	if len(core) == 0 {
		return
	}
	dec := xml.NewDecoder(bytes.NewReader(core))
	field := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "creator":
				field = "author"
			case "title":
				field = "title"
			case "created":
				field = "created"
			case "modified":
				field = "modified"
			case "language":
				field = "language"
			case "lastModifiedBy":
				field = "last_modified_by"
			case "subject":
				field = "subject"
			case "keywords":
				field = "keywords"
			default:
				field = ""
			}
		case xml.CharData:
			if field != "" {
				if v := strings.TrimSpace(string(t)); v != "" {
					meta[field] = v
				}
			}
		case xml.EndElement:
			field = ""
		}
	}
}
