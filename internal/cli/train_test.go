package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
