package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tensor"
)

// TestTrainGenerateMerge runs `whet train` (SFT with checkpoints, then DPO
// on a QLoRA base) on a tiny model folder, serves the adapter with
// `whet generate --adapter`, and merges it with `whet model merge`.
func TestTrainGenerateMerge(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base")
	if code, _, errOut := runWhet(t, "model", "init", "--out", base, "--preset", "tiny", "--arch", "qwen2"); code != 0 {
		t.Fatalf("model init: %s", errOut)
	}
	var sft, dpo strings.Builder
	for i := 0; i < 12; i++ {
		w := fmt.Sprintf("w%dx", i)
		fmt.Fprintf(&sft, `{"instruction":"reverse %s","output":"%s"}`+"\n", w, "x"+w[1:2]+"w")
		fmt.Fprintf(&dpo, `{"prompt":"yes or no %d","chosen":"yes","rejected":"no"}`+"\n", i)
	}
	sftPath, dpoPath := filepath.Join(dir, "sft.jsonl"), filepath.Join(dir, "dpo.jsonl")
	os.WriteFile(sftPath, []byte(sft.String()), 0o644)
	os.WriteFile(dpoPath, []byte(dpo.String()), 0o644)
	ad := filepath.Join(dir, "adapter")
	code, out, errOut := runWhet(t, "train", "--model", base, "--data", sftPath, "--out", ad, "--r", "4",
		"--target-modules", "q_proj,v_proj,down_proj", "--epochs", "2", "--lr", "1e-3", "--checkpoint-every", "2", "--json")
	if code != 0 {
		t.Fatalf("train: %s", errOut)
	}
	var sum trainSummary
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.Steps != 6 || sum.FinalLoss <= 0 || sum.Adapter != ad {
		t.Fatalf("summary %q: %v", out, err)
	}
	for _, f := range []string{"adapter_config.json", "adapter_model.safetensors", "whet_manifest.json", "checkpoint/state.json"} {
		if _, err := os.Stat(filepath.Join(ad, f)); err != nil {
			t.Errorf("missing %s", f)
		}
	}
	var man map[string]any
	raw, _ := os.ReadFile(filepath.Join(ad, "whet_manifest.json"))
	if err := json.Unmarshal(raw, &man); err != nil || man["template_hash"] == "" || !strings.HasPrefix(fmt.Sprint(man["dataset_digest"]), "sha256:") {
		t.Errorf("manifest %s", raw)
	}
	if code, _, errOut := runWhet(t, "generate", "--model", base, "--adapter", ad, "--prompt", "reverse w1x", "--max-tokens", "3", "--json"); code != 0 {
		t.Fatalf("generate --adapter: %s", errOut)
	}
	if code, _, errOut := runWhet(t, "model", "merge", "--base", base, "--adapter", ad, "--out", filepath.Join(dir, "merged")); code != 0 {
		t.Fatalf("merge: %s", errOut)
	}
	if code, out, errOut := runWhet(t, "train", "--model", base, "--data", dpoPath, "--method", "dpo", "--peft", "qlora",
		"--out", filepath.Join(dir, "dpo"), "--gradient-checkpointing", "--json"); code != 0 || !strings.Contains(out, `"steps":3`) {
		t.Fatalf("dpo: %s %s", out, errOut)
	}
	if code, _, _ := runWhet(t, "train", "--model", base, "--data", sftPath, "--out", ad, "--target-modules", "bogus_proj"); code == 0 {
		t.Error("an unknown target module was accepted")
	}
}

// trainBase writes a tiny model folder and returns its path.
func trainBase(t *testing.T, dir string) string {
	t.Helper()
	base := filepath.Join(dir, "base")
	if code, _, errOut := runWhet(t, "model", "init", "--out", base, "--preset", "tiny", "--arch", "qwen2"); code != 0 {
		t.Fatalf("model init: %s", errOut)
	}
	return base
}

// writeRecords writes SFT records mapping each key to its answer.
func writeRecords(t *testing.T, path string, pairs ...string) {
	t.Helper()
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		fmt.Fprintf(&b, `{"instruction":%q,"output":%q}`+"\n", pairs[i], pairs[i+1])
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTrainEarlyStopping: a run on four records for many epochs at a high
// learning rate overfits; with --patience its held-out loss stops it early,
// without it runs every step.
func TestTrainEarlyStopping(t *testing.T) {
	dir := t.TempDir()
	base := trainBase(t, dir)
	// A fresh model's 0.02-scale tied embeddings cannot express a confident
	// prediction; a trained model's are far larger.
	m, err := llm.Load(base, llm.LoadOptions{DType: llm.DTypeF32})
	if err != nil {
		t.Fatal(err)
	}
	tensor.Scale(m.Embed.(*tensor.F32Mat).Data(), 8)
	if err := m.Save(base); err != nil {
		t.Fatal(err)
	}
	trainPath, valPath := filepath.Join(dir, "train.jsonl"), filepath.Join(dir, "val.jsonl")
	writeRecords(t, trainPath, "capital of France", "Paris", "capital of Spain", "Madrid", "capital of Italy", "Rome", "capital of Peru", "Lima")
	writeRecords(t, valPath, "capital of Chile", "Santiago", "capital of Japan", "Tokyo", "capital of Egypt", "Cairo")
	args := []string{"train", "--model", base, "--data", trainPath, "--val-data", valPath, "--r", "8",
		"--target-modules", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", "--epochs", "30", "--batch-size", "2", "--lr", "5e-2", "--alpha", "32",
		"--eval-every", "2", "--json"}
	var sums [2]trainSummary
	for i, extra := range [][]string{{"--patience", "2", "--out", filepath.Join(dir, "es")}, {"--out", filepath.Join(dir, "full")}} {
		code, out, errOut := runWhet(t, append(args, extra...)...)
		if code != 0 {
			t.Fatalf("train %v: %s", extra, errOut)
		}
		if err := json.Unmarshal([]byte(out), &sums[i]); err != nil {
			t.Fatalf("summary %q: %v", out, err)
		}
		t.Logf("%v: %s", extra[:len(extra)-2], out)
	}
	es, full := sums[0], sums[1]
	if es.Stopped != "early_stopping" || es.Steps >= full.Steps || es.BestStep == 0 || es.BestStep >= es.Steps || es.ValLoss <= es.BestValLoss {
		t.Errorf("with --patience: %+v", es)
	}
	if full.Stopped != "" || full.Steps != 60 || full.ValLoss <= full.BestValLoss || full.FinalLoss >= es.FinalLoss {
		t.Errorf("without --patience (the run should overfit): %+v", full)
	}
	code, out, _ := runWhet(t, append(args[:len(args)-1], "--patience", "2", "--out", filepath.Join(dir, "es2"))...)
	if code != 0 || !strings.Contains(out, "stopped early") || !strings.Contains(out, fmt.Sprintf("best %.4f at step %d", es.BestValLoss, es.BestStep)) {
		t.Errorf("text output %q", out)
	}
}

// TestTrainMixAndSequenceDistill: --mix trains on weighted files (with
// --data at weight 1) and records them in the manifest; --distill-mode
// sequence trains on the teacher's greedy answers.
func TestTrainMixAndSequenceDistill(t *testing.T) {
	dir := t.TempDir()
	base := trainBase(t, dir)
	a, b, val := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl"), filepath.Join(dir, "val.jsonl")
	writeRecords(t, a, "one", "1", "two", "2", "three", "3", "four", "4")
	writeRecords(t, b, "red", "R", "green", "G")
	writeRecords(t, val, "five", "5", "blue", "B")
	out := filepath.Join(dir, "mix")
	code, js, errOut := runWhet(t, "train", "--model", base, "--data", a, "--mix", b+"=3", "--val-data", val, "--out", out,
		"--epochs", "2", "--batch-size", "2", "--lr", "1e-3", "--json")
	if code != 0 {
		t.Fatalf("train --mix: %s", errOut)
	}
	var sum trainSummary
	if err := json.Unmarshal([]byte(js), &sum); err != nil || sum.Steps != 6 || sum.ValLoss <= 0 || sum.BestStep%3 != 0 || sum.BestStep == 0 {
		t.Fatalf("summary %q: %v", js, err)
	}
	var man struct {
		Mix []struct {
			File   string
			Weight float64
		}
		Config struct{ Patience int }
	}
	raw, _ := os.ReadFile(filepath.Join(out, "whet_manifest.json"))
	if err := json.Unmarshal(raw, &man); err != nil || len(man.Mix) != 2 || man.Mix[1].File != b || man.Mix[1].Weight != 3 {
		t.Errorf("manifest mix: %s", raw)
	}
	for _, bad := range [][]string{
		{"--mix", b},
		{"--mix", b + "=-1"},
		{"--mix", b + "=x"},
		{"--method", "dpo", "--mix", b + "=1"},
		{"--distill-mode", "sequence"},
		{"--method", "distill", "--teacher", base, "--distill-mode", "tokens"},
		{"--patience", "2"},
		{"--bnb-8bit"},
	} {
		args := append([]string{"train", "--model", base, "--data", a, "--out", filepath.Join(dir, "bad")}, bad...)
		if code, _, _ := runWhet(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}

	var pref strings.Builder
	for i := 0; i < 6; i++ {
		fmt.Fprintf(&pref, `{"prompt":"yes or no %d","chosen":"yes","rejected":"no"}`+"\n", i)
	}
	dpoPath := filepath.Join(dir, "dpo.jsonl")
	os.WriteFile(dpoPath, []byte(pref.String()), 0o644)
	code, js, errOut = runWhet(t, "train", "--model", base, "--data", dpoPath, "--val-data", dpoPath, "--method", "dpo",
		"--out", filepath.Join(dir, "dpo"), "--eval-every", "1", "--json")
	if code != 0 || !strings.Contains(js, `"val_loss"`) || !strings.Contains(js, `"best_step"`) {
		t.Errorf("dpo --val-data: %s %s", js, errOut)
	}

	out = filepath.Join(dir, "seq")
	code, js, errOut = runWhet(t, "train", "--model", base, "--data", a, "--val-data", val, "--method", "distill", "--teacher", base,
		"--distill-mode", "sequence", "--max-new-tokens", "3", "--out", out, "--json")
	if code != 0 {
		t.Fatalf("sequence distill: %s", errOut)
	}
	raw, _ = os.ReadFile(filepath.Join(out, "whet_manifest.json"))
	if !strings.Contains(string(raw), `"distill_mode": "sequence"`) || !strings.Contains(js, `"val_loss"`) {
		t.Errorf("sequence distill: %s\n%s", js, raw)
	}
}

// FuzzParseMixFlags: --mix values never panic the parser, and an accepted
// one names a file and a finite weight ≥ 0.
func FuzzParseMixFlags(f *testing.F) {
	for _, s := range []string{"a.jsonl=1", "x=y=2.5", "=1", "a=", "a=-1", "a=NaN", "a=Inf", "a=1e309", "a=0x1p-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		in, err := parseMixFlags(&trainFlags{mix: []string{s}})
		if err != nil {
			return
		}
		if len(in) != 1 || in[0].path == "" || !(in[0].weight >= 0) || in[0].weight > math.MaxFloat64 {
			t.Errorf("%q → %+v", s, in)
		}
	})
}
