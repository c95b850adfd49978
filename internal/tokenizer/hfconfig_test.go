package tokenizer_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/whet-dev/whet/internal/tokenizer"
	"github.com/whet-dev/whet/internal/tokenizer/chat"
)

// TestWriteHFConfig trains a small tokenizer with the default specials,
// writes its config files and checks that the loader picks up BOS, EOS and
// padding, that add_bos_token prepends BOS, and that the chat package
// renders the ChatML template from the folder.
func TestWriteHFConfig(t *testing.T) {
	texts := []string{"the dispatch console routes trucks", "route the trucks to the yard", "the yard console"}
	tk, err := tokenizer.Train(context.Background(), slices.Values(texts), tokenizer.TrainOptions{
		VocabSize: 300, SpecialTokens: tokenizer.TrainedSpecialTokens(), ByteLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tk.Save(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Fatal(err)
	}
	if err := tk.WriteHFConfig(dir, tokenizer.DefaultHFConfig(256)); err != nil {
		t.Fatal(err)
	}
	lt, err := tokenizer.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if lt.BOS() != 0 || lt.EOS() != 2 || lt.PAD() != 0 {
		t.Fatalf("bos/eos/pad = %d/%d/%d, want 0/2/0", lt.BOS(), lt.EOS(), lt.PAD())
	}
	if ids := lt.Encode("the yard", true); len(ids) < 2 || ids[0] != 0 {
		t.Fatalf("Encode with specials = %v, want BOS 0 first", ids)
	}
	if ids := lt.Encode("the yard", false); ids[0] == 0 {
		t.Fatalf("Encode without specials = %v, want no BOS", ids)
	}
	tmpl, err := chat.FromTokenizerConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tmpl.Render(chat.Input{Messages: []chat.Message{{Role: "user", Content: "Where do trucks go?"}}, AddGenerationPrompt: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := "<|im_start|>user\nWhere do trucks go?<|im_end|>\n<|im_start|>assistant\n"; got != want {
		t.Fatalf("rendered %q, want %q", got, want)
	}
	if ids := lt.Encode(got, false); ids[0] != 1 || !slices.Contains(ids, 2) {
		t.Fatalf("rendered prompt encodes to %v, want <|im_start|> (1) first and <|im_end|> (2) inside", ids)
	}
	var sm map[string]any
	b, err := os.ReadFile(filepath.Join(dir, "special_tokens_map.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sm); err != nil || sm["eos_token"] != "<|im_end|>" || sm["bos_token"] != "<|endoftext|>" {
		t.Fatalf("special_tokens_map.json = %s (%v)", b, err)
	}
	if err := tk.WriteHFConfig(dir, tokenizer.HFConfig{BOS: "<s>"}); err == nil {
		t.Fatal("a BOS outside the vocabulary was accepted")
	}
}
