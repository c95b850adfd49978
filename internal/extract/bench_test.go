package extract

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
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
