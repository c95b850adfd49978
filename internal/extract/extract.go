package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"strings"
	"time"
)

// Sentinel causes. A *FileError wraps one of them; test with errors.Is.
var (
	// ErrEncrypted means the document is password protected.
	ErrEncrypted = errors.New("extract: document is encrypted")
	// ErrCorrupt means the document is malformed and cannot be parsed.
	ErrCorrupt = errors.New("extract: document is corrupt")
	// ErrBinary means the content is binary data where text was expected.
	ErrBinary = errors.New("extract: binary content")
	// ErrTooLarge means the file is larger than Limits.MaxBytes.
	ErrTooLarge = errors.New("extract: file too large")
	// ErrDecompression means an archive exceeded a decompression limit
	// (entry count, total size or compression ratio): a likely zip bomb.
	ErrDecompression = errors.New("extract: decompression limit exceeded")
	// ErrUnsupported means the format is recognised but not extractable.
	ErrUnsupported = errors.New("extract: unsupported format")
	// ErrMapping means a CSV/JSON mapping names a field the data lacks.
	ErrMapping = errors.New("extract: invalid mapping")
)

// FileError reports a failure to extract one file. Cause matches a sentinel.
type FileError struct {
	Name   string // file name as given to Extract
	Format Format // detected format, empty when detection failed
	Line   int    // 1-based line or row of the failure, 0 when not applicable
	Err    error  // cause
}

// Error returns "extract NAME (FORMAT, line N): cause".
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString("extract ")
	b.WriteString(e.Name)
	if e.Format != "" || e.Line > 0 {
		b.WriteString(" (")
		b.WriteString(string(e.Format))
		if e.Line > 0 {
			if e.Format != "" {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "line %d", e.Line)
		}
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *FileError) Unwrap() error { return e.Err }

// Format names an input format.
type Format string

// Formats Extract understands.
const (
	FormatPDF      Format = "pdf"
	FormatDOCX     Format = "docx"
	FormatHTML     Format = "html"
	FormatMarkdown Format = "markdown"
	FormatCSV      Format = "csv"
	FormatJSON     Format = "json"
	FormatJSONL    Format = "jsonl"
	FormatChat     Format = "chat" // conversation log JSONL
	FormatText     Format = "text"
)

// ContentType returns the MIME type recorded in Metadata["content_type"].
func (f Format) ContentType() string {
	switch f {
	case FormatPDF:
		return "application/pdf"
	case FormatDOCX:
		return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	case FormatHTML:
		return "text/html"
	case FormatMarkdown:
		return "text/markdown"
	case FormatCSV:
		return "text/csv"
	case FormatJSON:
		return "application/json"
	case FormatJSONL, FormatChat:
		return "application/jsonl"
	default:
		return "text/plain"
	}
}

// Document is the extracted text of one file with its structure.
type Document struct {
	// Format is the detected (or forced) input format.
	Format Format
	// Title comes from the file's metadata, <title>, front matter or the
	// first top-level heading, in that order of preference.
	Title string
	// Text is the extracted text: paragraphs separated by blank lines.
	Text string
	// Sections are heading-delimited spans of Text, in order.
	Sections []Section
	// Pages are the spans of Text per page (PDF only).
	Pages []Page
	// Metadata holds author, title, created, modified (RFC 3339 when
	// parseable), language (the hint the file declares) and content_type.
	Metadata map[string]string
	// Records are the rows of CSV/JSON/JSONL files and the conversations of
	// chat logs; each record's Start/End is its span in Text.
	Records []Record
	// InvalidUTF8 counts invalid byte sequences replaced by U+FFFD.
	InvalidUTF8 int
}

// Section is a span of Document.Text under a heading trail.
type Section struct {
	Path  []string // heading trail, outermost first; empty before the first heading
	Start int      // byte offset in Text, inclusive
	End   int      // byte offset in Text, exclusive
	Page  int      // 1-based page where the section starts; 0 when unpaged
}

// Page is the span of Document.Text that came from one page.
type Page struct {
	Number int // 1-based
	Start  int
	End    int
}

// Record is one row of tabular data or one conversation.
type Record struct {
	ID       string
	Text     string            // text of the record (mapped text fields or the rendered conversation)
	Start    int               // byte offset of Text within Document.Text
	End      int               // end of that span, exclusive
	Fields   map[string]string // every field, flattened with dotted paths
	Metadata map[string]string // mapped metadata fields; for chats, every non-message field
	// Messages is the conversation (chat logs only).
	Messages []Message
	// Candidates are alternative final assistant answers when a log holds
	// more than one; Preferred indexes the preferred one, -1 when none.
	Candidates []Message
	Preferred  int
}

// Message is one turn of a conversation in OpenAI roles (system, user,
// assistant, tool).
type Message struct {
	Role    string
	Content string
}

// Mapping says how rows of CSV, JSON and JSONL become records. Field names
// are column headers or dotted JSON paths ("customer.name").
type Mapping struct {
	TextFields     []string // joined with newlines into Record.Text; empty: every field as "name: value"
	MetadataFields []string // copied to Record.Metadata
	IDField        string   // Record.ID; empty: the "id" field when present, else the row number
	// RecordsPath is the dotted path of the array of rows inside a JSON
	// document; empty: the top-level array, or the object itself.
	RecordsPath string
}

// Limits bound the work one file may cause. Zero fields take the defaults.
type Limits struct {
	MaxBytes            int64   // file size; default 64 MiB
	MaxZipEntries       int     // entries in a DOCX archive; default 4096
	MaxUncompressed     int64   // total uncompressed bytes read from an archive; default 256 MiB
	MaxCompressionRatio float64 // per archive entry larger than 1 MiB; default 200
	MaxRecords          int     // rows or conversations; default 1,000,000
	MaxPages            int     // PDF pages; default 10,000
}

// Default limits.
const (
	DefaultMaxBytes            = 64 << 20
	DefaultMaxZipEntries       = 4096
	DefaultMaxUncompressed     = 256 << 20
	DefaultMaxCompressionRatio = 200
	DefaultMaxRecords          = 1_000_000
	DefaultMaxPages            = 10_000
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxZipEntries <= 0 {
		l.MaxZipEntries = DefaultMaxZipEntries
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = DefaultMaxUncompressed
	}
	if l.MaxCompressionRatio <= 0 {
		l.MaxCompressionRatio = DefaultMaxCompressionRatio
	}
	if l.MaxRecords <= 0 {
		l.MaxRecords = DefaultMaxRecords
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultMaxPages
	}
	return l
}

// Options configure ExtractWith.
type Options struct {
	Limits  Limits
	Mapping Mapping
	// Format forces a format instead of sniffing it.
	Format Format
}

// Extract reads one file and returns its text and structure. name is the
// file name (its extension is a hint), contentType the declared MIME type
// (may be empty). Files over limits.MaxBytes are rejected before reading
// when r reports its size (an *os.File, *bytes.Reader, *strings.Reader or
// anything with Size() int64).
func Extract(ctx context.Context, name, contentType string, r io.Reader, limits Limits) (*Document, error) {
	return ExtractWith(ctx, name, contentType, r, Options{Limits: limits})
}

// ExtractFile opens the file at p, checks its size against the limit
// without reading it, and extracts it.
func ExtractFile(ctx context.Context, p string, opts Options) (*Document, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, &FileError{Name: p, Err: err}
	}
	defer f.Close()
	return ExtractWith(ctx, p, "", f, opts)
}

// ExtractWith is Extract with a row mapping and a forced format.
func ExtractWith(ctx context.Context, name, contentType string, r io.Reader, opts Options) (*Document, error) {
	lim := opts.Limits.withDefaults()
	if err := ctx.Err(); err != nil {
		return nil, &FileError{Name: name, Err: err}
	}
	if size, ok := sizeOf(r); ok && size > lim.MaxBytes {
		return nil, &FileError{Name: name, Err: fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, size, lim.MaxBytes)}
	}
	data, err := io.ReadAll(io.LimitReader(r, lim.MaxBytes+1))
	if err != nil {
		return nil, &FileError{Name: name, Err: fmt.Errorf("read: %w", err)}
	}
	if int64(len(data)) > lim.MaxBytes {
		return nil, &FileError{Name: name, Err: fmt.Errorf("%w: more than %d bytes", ErrTooLarge, lim.MaxBytes)}
	}
	format := opts.Format
	if format == "" {
		format, err = Sniff(name, contentType, data)
		if err != nil {
			return nil, &FileError{Name: name, Err: err}
		}
	}
	doc, err := extractBytes(ctx, format, contentType, data, lim, opts.Mapping)
	if err != nil {
		var fe *FileError
		if errors.As(err, &fe) {
			fe.Name, fe.Format = name, format
			return nil, fe
		}
		return nil, &FileError{Name: name, Format: format, Err: err}
	}
	doc.Format = format
	if doc.Metadata == nil {
		doc.Metadata = map[string]string{}
	}
	doc.Metadata["content_type"] = format.ContentType()
	for _, k := range []string{"created", "modified"} {
		if v, ok := doc.Metadata[k]; ok {
			doc.Metadata[k] = normalizeDate(v)
		}
	}
	if doc.Title == "" {
		doc.Title = doc.Metadata["title"]
	}
	if doc.Title != "" && doc.Metadata["title"] == "" {
		doc.Metadata["title"] = doc.Title
	}
	return doc, nil
}

func extractBytes(ctx context.Context, format Format, contentType string, data []byte, lim Limits, m Mapping) (*Document, error) {
	switch format {
	case FormatPDF:
		return extractPDF(ctx, data, lim)
	case FormatDOCX:
		return extractDOCX(ctx, data, lim)
	}
	text, bad, err := decodeDeclared(data, format, contentType)
	if err != nil {
		return nil, err
	}
	var doc *Document
	switch format {
	case FormatHTML:
		doc, err = extractHTML(ctx, text)
	case FormatMarkdown:
		doc, err = extractMarkdown(ctx, text)
	case FormatCSV:
		doc, err = extractCSV(ctx, text, m, lim)
	case FormatJSON:
		doc, err = extractJSON(ctx, text, m, lim)
	case FormatJSONL:
		doc, err = extractJSONL(ctx, text, m, lim)
	case FormatChat:
		doc, err = extractChat(ctx, text, lim)
	case FormatText:
		doc, err = extractText(text)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupported, format)
	}
	if err != nil {
		return nil, err
	}
	doc.InvalidUTF8 += bad
	return doc, nil
}

// dateLayouts are the date forms found in front matter, HTML meta tags,
// Office core properties and PDF info dictionaries (after pdfDate).
var dateLayouts = []string{
	time.RFC3339Nano, time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04",
	"2006-01-02", time.RFC1123Z, time.RFC1123, "2 January 2006", "January 2, 2006", "02/01/2006",
}

// normalizeDate rewrites a parseable date as RFC 3339 in UTC; anything else
// is returned unchanged.
func normalizeDate(v string) string {
	v = strings.TrimSpace(v)
	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return v
}

// sizeOf reports the size of r when r can tell it without being read.
func sizeOf(r io.Reader) (int64, bool) {
	switch v := r.(type) {
	case interface{ Stat() (fs.FileInfo, error) }:
		fi, err := v.Stat()
		if err == nil && fi.Mode().IsRegular() {
			return fi.Size(), true
		}
	case interface{ Size() int64 }:
		return v.Size(), true
	}
	return 0, false
}

// Sniff picks the format of a file from its leading bytes first, then the
// declared content type, then the extension, then the shape of the text.
func Sniff(name, contentType string, data []byte) (Format, error) {
	head := data
	if len(head) > 1024 {
		head = head[:1024]
	}
	ext := strings.ToLower(path.Ext(name))
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case bytes.HasPrefix(head, []byte("%PDF-")):
		return FormatPDF, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		if ext == ".docx" || strings.Contains(mt, "wordprocessingml") || bytes.Contains(data, []byte("word/document.xml")) {
			return FormatDOCX, nil
		}
		return "", fmt.Errorf("%w: zip archive that is not a DOCX", ErrUnsupported)
	case bytes.HasPrefix(head, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")):
		// OLE compound file: legacy .doc, or an encrypted OOXML package.
		if bytes.Contains(data, utf16le("EncryptedPackage")) {
			return "", fmt.Errorf("%w: encrypted Office package", ErrEncrypted)
		}
		return "", fmt.Errorf("%w: OLE compound file (legacy Office format)", ErrUnsupported)
	}
	for _, m := range binaryMagic {
		if bytes.HasPrefix(head, []byte(m.magic)) {
			return "", fmt.Errorf("%w: %s", ErrUnsupported, m.what)
		}
	}
	// Declared formats that must match their magic bytes.
	switch {
	case ext == ".pdf" || mt == "application/pdf":
		return "", fmt.Errorf("%w: declared PDF has no %%PDF header", ErrCorrupt)
	case ext == ".docx" || strings.Contains(mt, "wordprocessingml"):
		return "", fmt.Errorf("%w: declared DOCX is not a zip archive", ErrCorrupt)
	}
	switch mt {
	case "text/html", "application/xhtml+xml":
		return FormatHTML, nil
	case "text/markdown", "text/x-markdown":
		return FormatMarkdown, nil
	case "text/csv", "text/tab-separated-values":
		return FormatCSV, nil
	case "application/json":
		return FormatJSON, nil
	case "application/jsonl", "application/x-ndjson", "application/x-jsonlines", "application/jsonlines":
		return jsonlOrChat(data), nil
	}
	switch ext {
	case ".html", ".htm", ".xhtml":
		return FormatHTML, nil
	case ".md", ".markdown", ".mdown":
		return FormatMarkdown, nil
	case ".csv", ".tsv":
		return FormatCSV, nil
	case ".json":
		return FormatJSON, nil
	case ".jsonl", ".ndjson":
		return jsonlOrChat(data), nil
	case ".txt", ".text", ".log":
		return FormatText, nil
	}
	trim := bytes.TrimLeft(head, " \t\r\n\ufeff")
	lower := bytes.ToLower(trim)
	switch {
	case bytes.HasPrefix(lower, []byte("<!doctype html")), bytes.HasPrefix(lower, []byte("<html")):
		return FormatHTML, nil
	case bytes.HasPrefix(trim, []byte("{")):
		if firstLineIsObject(data) {
			return jsonlOrChat(data), nil
		}
		return FormatJSON, nil
	case bytes.HasPrefix(trim, []byte("[")):
		return FormatJSON, nil
	}
	return FormatText, nil
}

var binaryMagic = []struct{ magic, what string }{
	{"\x89PNG\r\n\x1a\n", "PNG image"},
	{"GIF87a", "GIF image"},
	{"GIF89a", "GIF image"},
	{"\xff\xd8\xff", "JPEG image"},
	{"\x1f\x8b", "gzip stream"},
	{"\x7fELF", "ELF executable"},
	{"MZ", "Windows executable"},
	{"7z\xbc\xaf\x27\x1c", "7-zip archive"},
	{"Rar!\x1a\x07", "RAR archive"},
	{"SQLite format 3\x00", "SQLite database"},
}

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		b = append(b, s[i], 0)
	}
	return b
}

// firstLineIsObject reports whether the first non-empty line is a complete
// JSON object on its own, which marks JSON Lines.
func firstLineIsObject(data []byte) bool {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		return line[0] == '{' && line[len(line)-1] == '}' && jsonValid(line)
	}
	return false
}
