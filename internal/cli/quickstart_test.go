package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestQuickstart runs every quickstart stage on the bundled corpus against
// its in-process server, with pretraining and the runs cut to a few steps:
// the data, retrieval and training stages must all complete, and the
// registered versions must be pulled as PEFT adapter folders.
func TestQuickstart(t *testing.T) {
	if testing.Short() {
		t.Skip("quickstart: -short")
	}
	var out bytes.Buffer
	data := t.TempDir()
	tr := defaultQSTraining()
	tr.SFTEpochs, tr.DPOEpochs, tr.MaxSteps, tr.Scored, tr.SFTRank = 1, 1, 4, 2, 8
	qs := &quickstart{env: &Env{Stdout: &out, Stderr: &out}, out: &out, data: data,
		corpus: filepath.Join("..", "..", "examples", "corpus"), retrieval: filepath.Join("..", "..", "examples", "retrieval"),
		pretrainSteps: 6, training: tr}
	if err := qs.run(context.Background()); err != nil {
		t.Fatalf("quickstart: %v\n%s", err, out.String())
	}
	got := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`synthesised\s+[1-9]\d* question–answer pairs`),
		regexp.MustCompile(`mined\s+[1-9]\d* preference pairs`),
		regexp.MustCompile(`hybrid\s+0\.\d+`),
		regexp.MustCompile(`base model .*: 1\.\d+M parameters, \d+ corpus tokens, 6 steps`),
		regexp.MustCompile(`mined [1-9]\d* \+ constructed [1-9]\d* preference pairs`),
		regexp.MustCompile(`run run_\w+ succeeded: 4 steps, .* model version mv_\w+`),
		regexp.MustCompile(`handbook-assistant v1 \(mv_\w+, sft\)`),
		regexp.MustCompile(`handbook-assistant v2 \(mv_\w+, dpo\): base mv_\w+`),
		regexp.MustCompile(`sft\+dpo\s+\d\.\d{3}\s+\d\.\d{3}`),
	} {
		if !want.MatchString(got) {
			t.Errorf("output lacks %s", want)
		}
	}
	for _, v := range []string{"handbook-assistant-v1", "handbook-assistant-v2"} {
		for _, f := range []string{"adapter_config.json", "adapter_model.safetensors", "tokenizer.json"} {
			if _, err := os.Stat(filepath.Join(data, "models", v, f)); err != nil {
				t.Error(err)
			}
		}
	}
	for _, f := range []string{"documents", "qa", "mined-preferences", "preferences"} {
		if b, err := os.ReadFile(filepath.Join(data, "training", f+".jsonl")); err != nil || !strings.Contains(string(b), "\n") {
			t.Errorf("training/%s.jsonl: %v", f, err)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}
