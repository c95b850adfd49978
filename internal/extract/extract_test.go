package extract

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	tests := []struct {
		name, file, ct, data string
		want                 Format
		err                  error
	}{
		{"pdf magic beats extension", "notes.txt", "", "%PDF-1.4\n...", FormatPDF, nil},
		{"html by content type", "page", "text/html; charset=utf-8", "<p>x</p>", FormatHTML, nil},
		{"html by doctype", "page", "", "  <!DOCTYPE html><html></html>", FormatHTML, nil},
		{"markdown by extension", "README.md", "", "# Title", FormatMarkdown, nil},
		{"csv by extension", "a.CSV", "", "a,b\n1,2\n", FormatCSV, nil},
		{"json array", "data", "", `[{"a":1}]`, FormatJSON, nil},
		{"jsonl by shape", "data", "", "{\"a\":1}\n{\"a\":2}\n", FormatJSONL, nil},
		{"multi-line json object", "data", "", "{\n \"a\": 1\n}\n", FormatJSON, nil},
		{"chat by messages", "log.jsonl", "", `{"messages":[{"role":"user","content":"hi"}]}`, FormatChat, nil},
		{"sharegpt", "log.jsonl", "", `{"conversations":[{"from":"human","value":"hi"}]}`, FormatChat, nil},
		{"ndjson content type", "x", "application/x-ndjson", `{"a":1}`, FormatJSONL, nil},
		{"docx zip", "r.docx", "", "PK\x03\x04rest", FormatDOCX, nil},
		{"zip not docx", "a.zip", "", "PK\x03\x04rest", "", ErrUnsupported},
		{"declared pdf without header", "a.pdf", "", "hello", "", ErrCorrupt},
		{"declared docx not zip", "a.docx", "", "hello", "", ErrCorrupt},
		{"encrypted office", "a.docx", "", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + string(utf16le("EncryptedPackage")), "", ErrEncrypted},
		{"legacy doc", "a.doc", "", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "", ErrUnsupported},
		{"png", "img.txt", "", "\x89PNG\r\n\x1a\nrest", "", ErrUnsupported},
		{"plain text fallback", "notes", "", "just words", FormatText, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Sniff(tt.file, tt.ct, []byte(tt.data))
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Sniff = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// hugeFile claims a size without holding the bytes; reading it fails the test.
type hugeFile struct {
	t    *testing.T
	size int64
}

func (h hugeFile) Size() int64 { return h.size }
func (h hugeFile) Read([]byte) (int, error) {
	h.t.Error("Read called on a file rejected by size")
	return 0, io.EOF
}

func TestLimitsAndBadInput(t *testing.T) {
	ctx := context.Background()
	t.Run("2 GB file rejected by size without reading", func(t *testing.T) {
		_, err := Extract(ctx, "dump.bin", "", hugeFile{t, 2 << 30}, Limits{})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
		checkErr(t, "dump.bin", err)
	})
	t.Run("stream over the limit", func(t *testing.T) {
		r := io.MultiReader(strings.NewReader(strings.Repeat("a", 100)))
		_, err := Extract(ctx, "s.txt", "", r, Limits{MaxBytes: 50})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("err = %v, want ErrTooLarge", err)
		}
	})
	t.Run("NUL bytes are binary", func(t *testing.T) {
		_, err := Extract(ctx, "a.txt", "", strings.NewReader("hello\x00world"), Limits{})
		if !errors.Is(err, ErrBinary) {
			t.Fatalf("err = %v, want ErrBinary", err)
		}
		checkErr(t, "a.txt", err)
	})
	t.Run("control characters are binary", func(t *testing.T) {
		data := bytes.Repeat([]byte("ab\x01\x02\x03\x1b"), 20)
		_, err := Extract(ctx, "a.md", "", bytes.NewReader(data), Limits{})
		if !errors.Is(err, ErrBinary) {
			t.Fatalf("err = %v, want ErrBinary", err)
		}
	})
	t.Run("random high bytes are binary", func(t *testing.T) {
		data := bytes.Repeat([]byte{0xff, 0xfe, 0x80, 'a', 0xc3, 0x28}, 30)
		data[0] = 'x' // no UTF-16 BOM
		_, err := Extract(ctx, "a.csv", "", bytes.NewReader(data), Limits{})
		if !errors.Is(err, ErrBinary) {
			t.Fatalf("err = %v, want ErrBinary", err)
		}
	})
	t.Run("invalid UTF-8 repaired and counted", func(t *testing.T) {
		doc := mustExtract(t, "a.txt", []byte("caf\xe9 au lait, na\xefve text that is mostly fine \xff\xfe"), Options{})
		if doc.InvalidUTF8 != 4 {
			t.Fatalf("InvalidUTF8 = %d, want 4", doc.InvalidUTF8)
		}
		if !strings.Contains(doc.Text, "caf\uFFFD au lait") {
			t.Fatalf("text = %q", doc.Text)
		}
		checkDoc(t, doc)
	})
	t.Run("declared legacy charsets", func(t *testing.T) {
		tests := []struct {
			name, ct string
			data     []byte
			want     string
		}{
			{"latin1.csv", "text/csv; charset=iso-8859-1", []byte("item,price\nhotel,\xa3180\n"), "price: £180"},
			{"meta.html", "", []byte("<html><head><meta charset=\"windows-1252\"></head><body><p>Caf\xe9 \x80 5</p></body></html>"), "Café € 5"},
			{"unlabelled.html", "", []byte("<html><body><p>na\xefve</p></body></html>"), "naïve"},
			{"cyrillic.txt", "text/plain; charset=windows-1251", []byte("\xcf\xf0\xe8\xe2\xe5\xf2 \xec\xe8\xf0"), "Привет мир"},
		}
		for _, tt := range tests {
			doc, err := Extract(ctx, tt.name, tt.ct, bytes.NewReader(tt.data), Limits{})
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if !strings.Contains(doc.Text, tt.want) || doc.InvalidUTF8 != 0 {
				t.Fatalf("%s: text %q (invalid %d), want %q", tt.name, doc.Text, doc.InvalidUTF8, tt.want)
			}
		}
	})
	t.Run("UTF-16 with BOM", func(t *testing.T) {
		data := append([]byte{0xff, 0xfe}, utf16le("Hello depot")...)
		doc := mustExtract(t, "a.txt", data, Options{})
		if doc.Text != "Hello depot" {
			t.Fatalf("text = %q", doc.Text)
		}
	})
	t.Run("corrupt PDF", func(t *testing.T) {
		_, err := Extract(ctx, "bad.pdf", "", strings.NewReader("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"), Limits{})
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
		checkErr(t, "bad.pdf", err)
	})
	t.Run("truncated PDF", func(t *testing.T) {
		data := pdfOf(t, "", []string{"Heading", "Body text."})
		_, err := Extract(ctx, "cut.pdf", "", bytes.NewReader(data[:len(data)/2]), Limits{})
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("encrypted PDF", func(t *testing.T) {
		data := pdfOf(t, "s3cret", []string{"Heading", "Secret body."})
		_, err := Extract(ctx, "locked.pdf", "", bytes.NewReader(data), Limits{})
		if !errors.Is(err, ErrEncrypted) {
			t.Fatalf("err = %v, want ErrEncrypted", err)
		}
		checkErr(t, "locked.pdf", err)
	})
	t.Run("corrupt DOCX", func(t *testing.T) {
		data := zipOf(t, [2]string{"word/document.xml", "<w:document><w:body><w:p>unterminated"})
		_, err := Extract(ctx, "bad.docx", "", bytes.NewReader(data), Limits{})
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("DOCX without document part", func(t *testing.T) {
		data := zipOf(t, [2]string{"word/other.xml", "<x/>"})
		_, err := Extract(ctx, "empty.docx", "", bytes.NewReader(data), Limits{})
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("err = %v, want ErrCorrupt", err)
		}
	})
	t.Run("zip bomb by ratio", func(t *testing.T) {
		bomb := "<w:document><w:body>" + strings.Repeat(" ", 8<<20) + "</w:body></w:document>"
		data := zipOf(t, [2]string{"word/document.xml", bomb})
		if len(data) > 100<<10 {
			t.Fatalf("bomb compressed to %d bytes; expected a high ratio", len(data))
		}
		_, err := Extract(ctx, "bomb.docx", "", bytes.NewReader(data), Limits{})
		if !errors.Is(err, ErrDecompression) {
			t.Fatalf("err = %v, want ErrDecompression", err)
		}
	})
	t.Run("zip bomb by total size", func(t *testing.T) {
		data := zipOf(t, [2]string{"word/document.xml", "<w:document><w:body>" + strings.Repeat("<w:p/>", 2000) + "</w:body></w:document>"})
		_, err := Extract(ctx, "big.docx", "", bytes.NewReader(data), Limits{MaxUncompressed: 1000})
		if !errors.Is(err, ErrDecompression) {
			t.Fatalf("err = %v, want ErrDecompression", err)
		}
	})
	t.Run("too many zip entries", func(t *testing.T) {
		var entries [][2]string
		for i := 0; i < 20; i++ {
			entries = append(entries, [2]string{"word/part" + string(rune('a'+i)) + ".xml", "<x/>"})
		}
		_, err := Extract(ctx, "many.docx", "", bytes.NewReader(zipOf(t, entries...)), Limits{MaxZipEntries: 10})
		if !errors.Is(err, ErrDecompression) {
			t.Fatalf("err = %v, want ErrDecompression", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		_, err := Extract(cctx, "a.txt", "", strings.NewReader("text"), Limits{})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

func TestFileErrorMessage(t *testing.T) {
	err := error(&FileError{Name: "rows.jsonl", Format: FormatJSONL, Line: 7, Err: ErrCorrupt})
	if got, want := err.Error(), "extract rows.jsonl (jsonl, line 7): extract: document is corrupt"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(err, ErrCorrupt) {
		t.Fatal("errors.Is through FileError failed")
	}
}

func TestNormalizeDate(t *testing.T) {
	tests := []struct{ in, want string }{
		{"2026-01-05", "2026-01-05T00:00:00Z"},
		{"2026-03-01T10:30:00+01:00", "2026-03-01T09:30:00Z"},
		{"2026-03-01 10:30:00", "2026-03-01T10:30:00Z"},
		{"24 March 2026", "2026-03-24T00:00:00Z"},
		{"Tue, 10 Mar 2026 08:00:00 GMT", "2026-03-10T08:00:00Z"},
		{"last spring", "last spring"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := normalizeDate(tt.in); got != tt.want {
				t.Fatalf("normalizeDate(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
