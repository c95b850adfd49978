package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tokenizer"
	"github.com/whet-dev/whet/internal/train"
)

// writePretrainCorpus writes a small domain corpus: Markdown and text files
// of templated sentences and a JSON-lines file whose records carry "text".
func writePretrainCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	yards := []string{"north", "south", "east", "west"}
	var md, txt, jl strings.Builder
	for i := 0; i < 40; i++ {
		y := yards[i%4]
		fmt.Fprintf(&md, "The dispatch console routes truck %d to the %s yard.\n", i, y)
		fmt.Fprintf(&txt, "Carrier sync errors on truck %d are retried from the %s yard.\n", i, y)
		b, _ := json.Marshal(map[string]string{"text": fmt.Sprintf("Invoice disputes for the %s yard go to billing.", y)})
		jl.Write(append(b, '\n'))
	}
	for name, body := range map[string]string{"console.md": "# Dispatch console\n\n" + md.String(), "sync.txt": txt.String(),
		"notes.jsonl": jl.String(), "ignored.bin": "\x00\x01"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestTokenizeTrainModelInitPretrainGenerate runs the quickstart's model
// path through the CLI: train a tokenizer on a corpus, size a new model to
// it, pretrain it, and generate from the result, which must continue a
// corpus sentence the way the corpus does.
func TestTokenizeTrainModelInitPretrainGenerate(t *testing.T) {
	corpus := writePretrainCorpus(t)
	root := t.TempDir()
	tok, initDir, out := filepath.Join(root, "tok"), filepath.Join(root, "init"), filepath.Join(root, "out")

	code, stdout, errs := runWhet(t, "tokenize", "train", "--corpus", corpus, "--vocab-size", "400", "--out", tok, "--json")
	if code != 0 {
		t.Fatalf("tokenize train: %d %s", code, errs)
	}
	var ts struct {
		Documents int `json:"documents"`
		VocabSize int `json:"vocab_size"`
		Tokens    int `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(stdout), &ts); err != nil {
		t.Fatal(err)
	}
	// 40 JSON-lines records, the Markdown and the text file; so small a
	// corpus runs out of merges before 400 tokens.
	if ts.Documents != 42 || ts.VocabSize <= 300 || ts.VocabSize > 400 || ts.Tokens == 0 {
		t.Fatalf("tokenize train summary %s", stdout)
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"} {
		if _, err := os.Stat(filepath.Join(tok, f)); err != nil {
			t.Fatal(err)
		}
	}

	// The in-process helper the quickstart calls.
	qm, err := initModelWithTokenizer("tiny", "qwen2", tok, filepath.Join(root, "qwen"), 1)
	if err != nil || qm.Config.VocabSize != ts.VocabSize || qm.Config.BOSTokenID != 0 || !slices.Equal(qm.Config.EOSTokenIDs, []int{0, 2}) {
		t.Fatalf("initModelWithTokenizer: %v %+v", err, qm)
	}
	if code, _, errs := runWhet(t, "model", "init", "--preset", "tiny", "--tokenizer", tok, "--out", initDir, "--seed", "1"); code != 0 {
		t.Fatalf("model init: %d %s", code, errs)
	}
	code, stdout, errs = runWhet(t, "model", "inspect", initDir, "--json")
	var info modelInfo
	if code != 0 || json.Unmarshal([]byte(stdout), &info) != nil {
		t.Fatalf("inspect: %d %s %s", code, stdout, errs)
	}
	if info.Vocab != ts.VocabSize || info.Tokenizer == nil || info.Tokenizer.BOS != "<|endoftext|>" || info.Tokenizer.EOS != "<|im_end|>" {
		t.Fatalf("initialised model: %+v %+v", info, info.Tokenizer)
	}

	code, stdout, errs = runWhet(t, "model", "pretrain", "--model", initDir, "--corpus", corpus, "--out", out,
		"--seq-len", "64", "--batch-size", "4", "--steps", "120", "--lr", "3e-3", "--warmup", "10", "--eval-fraction", "0", "--json")
	if code != 0 {
		t.Fatalf("model pretrain: %d %s", code, errs)
	}
	var ps pretrainSummary
	if err := json.Unmarshal([]byte(stdout), &ps); err != nil {
		t.Fatal(err)
	}
	if ps.Steps != 120 || len(ps.Losses) != 120 || !(ps.FinalLoss < ps.Losses[0]/3) || ps.TokensPerS <= 0 {
		t.Fatalf("pretrain summary: steps %d, loss %.3f → %.3f, %.0f tokens/s", ps.Steps, ps.Losses[0], ps.FinalLoss, ps.TokensPerS)
	}

	code, stdout, errs = runWhet(t, "generate", "--model", out, "--raw", "--prompt", "The dispatch console routes truck 7 to the", "--max-tokens", "4", "--json")
	if code != 0 {
		t.Fatalf("generate: %d %s", code, errs)
	}
	var g generateOutput
	if err := json.Unmarshal([]byte(stdout), &g); err != nil {
		t.Fatal(err)
	}
	t.Logf("loss %.3f → %.3f; generated %q", ps.Losses[0], ps.FinalLoss, g.Text)
	if g.PromptTokenIDs[0] != 0 {
		t.Errorf("raw prompt %v does not start with BOS <|endoftext|>", g.PromptTokenIDs)
	}
	if !strings.Contains(g.Text, "yard") {
		t.Errorf("generated %q, want the corpus's continuation (… yard)", g.Text)
	}
	// The chat template travels with the model.
	if code, _, errs := runWhet(t, "generate", "--model", out, "--prompt", "Hello", "--max-tokens", "2"); code != 0 {
		t.Errorf("chat generate: %d %s", code, errs)
	}
}

// TestBuildBaseModel runs the quickstart's one-call path on the small test
// corpus with a tiny model and a one-second budget.
func TestBuildBaseModel(t *testing.T) {
	texts, err := corpusTexts(context.Background(), []string{writePretrainCorpus(t)})
	if err != nil {
		t.Fatal(err)
	}
	var last train.PretrainStats
	base, sum, err := buildBaseModel(context.Background(), texts, t.TempDir(),
		baseModelOptions{VocabSize: 400, Preset: "tiny", MaxTime: time.Second, Seed: 2, HoldOut: 0.1}, func(s train.PretrainStats) { last = s })
	if err != nil {
		t.Fatal(err)
	}
	// Learning itself is TestTokenizeTrainModelInitPretrainGenerate's; a
	// one-second run on a loaded machine may take only a few steps.
	if sum.Steps < 1 || last.Step != sum.Steps || sum.ValLoss == nil || len(sum.Losses) != sum.Steps {
		t.Fatalf("summary %+v, last progress %+v", sum, last)
	}
	m, err := llm.Load(base, llm.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := tokenizer.Load(base)
	if err != nil || tk.VocabSize() != m.Config.VocabSize {
		t.Fatalf("base tokenizer: %v", err)
	}
}
