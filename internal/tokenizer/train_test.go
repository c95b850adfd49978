package tokenizer

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/tokref/trained.json.gz from the trainer")

func corpusLines(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(refDir, "corpus.txt"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}

func trainOnCorpus(t testing.TB) *Tokenizer {
	t.Helper()
	tk, err := Train(context.Background(), slices.Values(corpusLines(t)), TrainOptions{
		VocabSize:     600,
		MinFrequency:  2,
		SpecialTokens: []string{"<|endoftext|>", "<|pad|>"},
		ByteLevel:     true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// TestTrainedGolden checks that the trainer still writes, byte for byte, the
// tokenizer.json whose reference encodings are in trained.golden.json.
func TestTrainedGolden(t *testing.T) {
	tk := trainOnCorpus(t)
	path := filepath.Join(refDir, "trained.json.gz")
	if *update {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(tk.source)
		zw.Close()
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := readGzip(t, path); !bytes.Equal(tk.source, want) {
		t.Fatalf("trained tokenizer.json differs from %s (run with -update and regenerate goldens with scripts/tokref)", path)
	}
}

func TestTrain(t *testing.T) {
	tk := trainOnCorpus(t)
	if got := tk.VocabSize(); got != 600 {
		t.Errorf("vocab size %d, want 600", got)
	}
	if id, ok := tk.TokenToID("<|endoftext|>"); !ok || id != 0 || !tk.IsSpecial(id) {
		t.Errorf("special token id %d %v", id, ok)
	}
	// Frequent words of the corpus become single tokens.
	for _, w := range []string{" the", "Hello"} {
		if ids := tk.Encode(w, false); len(ids) != 1 {
			t.Errorf("%q encodes to %d tokens, want 1", w, len(ids))
		}
	}
	for _, line := range corpusLines(t) {
		ids := tk.Encode(line, false)
		if got := tk.Decode(ids, false); got != line {
			t.Fatalf("round trip %q -> %q", line, got)
		}
		if len(ids) > len(line) {
			t.Fatalf("%q: %d tokens for %d bytes", line, len(ids), len(line))
		}
	}
	// Save and Load give the same tokenizer.
	dir := t.TempDir()
	p := filepath.Join(dir, "tokenizer.json")
	if err := tk.Save(p); err != nil {
		t.Fatal(err)
	}
	back, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(corpusLines(t), "\n")
	if !slices.Equal(back.Encode(text, false), tk.Encode(text, false)) {
		t.Error("saved tokenizer encodes differently")
	}
}

func TestTrainErrors(t *testing.T) {
	tests := []struct {
		name string
		o    TrainOptions
	}{
		{"not byte level", TrainOptions{VocabSize: 300}},
		{"vocab too small", TrainOptions{VocabSize: 100, ByteLevel: true}},
		{"duplicate special", TrainOptions{VocabSize: 300, ByteLevel: true, SpecialTokens: []string{"<a>", "<a>"}}},
		{"special is a byte", TrainOptions{VocabSize: 300, ByteLevel: true, SpecialTokens: []string{"!"}}},
		{"bad pattern", TrainOptions{VocabSize: 300, ByteLevel: true, Pattern: "(?<"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Train(context.Background(), slices.Values([]string{"hello world"}), tc.o); err == nil {
				t.Fatal("no error")
			}
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	many := make([]string, 5000)
	for i := range many {
		many[i] = "some text to count"
	}
	if _, err := Train(ctx, slices.Values(many), TrainOptions{VocabSize: 300, ByteLevel: true}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled training: %v", err)
	}
}
