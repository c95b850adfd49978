package extract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/ledongthuc/pdf"
)

// BenchmarkExtract measures documents per second for each format on the
// sample corpus; each iteration extracts every corpus file of that format.
func BenchmarkExtract(b *testing.B) {
	type file struct {
		name string
		data []byte
	}
	byFormat := map[Format][]file{}
	for _, p := range corpusFiles(b) {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		f, err := Sniff(p, "", data)
		if err != nil {
			b.Fatal(err)
		}
		byFormat[f] = append(byFormat[f], file{filepath.Base(p), data})
	}
	formats := make([]string, 0, len(byFormat))
	for f := range byFormat {
		formats = append(formats, string(f))
	}
	sort.Strings(formats)
	ctx := context.Background()
	for _, f := range formats {
		files := byFormat[Format(f)]
		b.Run(f, func(b *testing.B) {
			total := 0
			for _, fl := range files {
				total += len(fl.data)
			}
			b.SetBytes(int64(total))
			b.ReportAllocs()
			for b.Loop() {
				for _, fl := range files {
					if _, err := Extract(ctx, fl.name, "", bytes.NewReader(fl.data), Limits{}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*len(files))/b.Elapsed().Seconds(), "docs/s")
		})
	}
}

// BenchmarkPDFPeers compares our PDF extraction with the PDF library's own
// text paths on the same files in the same run: Reader.Page(i).GetPlainText
// (text only, no positions) and Page.Content (a positioned glyph per
// character, what extractPDF used before it interpreted text operators
// itself). Compare ratios, not absolute times, on a shared machine.
func BenchmarkPDFPeers(b *testing.B) {
	var files [][]byte
	for _, p := range corpusFiles(b) {
		if filepath.Ext(p) == ".pdf" {
			data, err := os.ReadFile(p)
			if err != nil {
				b.Fatal(err)
			}
			files = append(files, data)
		}
	}
	perPage := func(b *testing.B, f func(pdf.Page)) {
		for b.Loop() {
			for _, data := range files {
				r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
				if err != nil {
					b.Fatal(err)
				}
				for i := 1; i <= r.NumPage(); i++ {
					f(r.Page(i))
				}
			}
		}
		b.ReportMetric(float64(b.N*len(files))/b.Elapsed().Seconds(), "docs/s")
	}
	b.Run("whet", func(b *testing.B) {
		for b.Loop() {
			for _, data := range files {
				if _, err := extractPDF(context.Background(), data, Limits{}.withDefaults()); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*len(files))/b.Elapsed().Seconds(), "docs/s")
	})
	b.Run("ledongthuc-GetPlainText", func(b *testing.B) {
		perPage(b, func(p pdf.Page) {
			if _, err := p.GetPlainText(nil); err != nil {
				b.Fatal(err)
			}
		})
	})
	b.Run("ledongthuc-Content", func(b *testing.B) {
		perPage(b, func(p pdf.Page) { _ = p.Content() })
	})
}
