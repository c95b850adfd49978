// Package finetunetest builds what training-run tests need: a tiny model
// folder (random weights, byte-level tokenizer, ChatML template) and
// dataset versions made from records.
package finetunetest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/llm"
	"github.com/whet-dev/whet/internal/tokenizer"
)

// chatML is the ChatML chat template (as SmolLM2-Instruct and Qwen2 use).
const chatML = `{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`

// TinyModel writes a tiny llama-shaped model folder into dir: random
// weights (seeded), a byte-level tokenizer whose specials are ids 0-2, and
// a tokenizer_config.json with a ChatML template.
func TinyModel(t testing.TB, dir string, seed uint64) {
	t.Helper()
	cfg, err := llm.Preset("tiny", "llama")
	if err != nil {
		t.Fatal(err)
	}
	m, err := llm.New(cfg, seed)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Save(dir); err != nil {
		t.Fatal(err)
	}
	specials := []string{"<|endoftext|>", "<|im_start|>", "<|im_end|>"}
	tk, err := tokenizer.Train(context.Background(), func(func(string) bool) {}, tokenizer.TrainOptions{
		VocabSize: 256 + len(specials), SpecialTokens: specials, ByteLevel: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := tk.Save(filepath.Join(dir, "tokenizer.json")); err != nil {
		t.Fatal(err)
	}
	tc := map[string]any{"bos_token": "<|im_start|>", "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>",
		"add_bos_token": false, "chat_template": chatML, "model_max_length": cfg.MaxPositionEmbeddings}
	b, _ := json.Marshal(tc)
	if err := os.WriteFile(filepath.Join(dir, "tokenizer_config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReverseRecords returns n instruction records of a small task (reverse a
// three-letter word); every fifth is in the validation split when
// withValidation.
func ReverseRecords(n int) []dataset.Record {
	var out []dataset.Record
	for i := 0; i < n; i++ {
		w := fmt.Sprintf("%c%c%c", 'a'+i%26, 'a'+(i*7)%26, 'a'+(i*3+1)%26)
		rev := string([]byte{w[2], w[1], w[0]})
		out = append(out, dataset.Record{ID: fmt.Sprintf("r%03d", i), Instruction: "reverse " + w, Output: rev})
	}
	return out
}

// PreferenceRecords returns n preference records (answer yes, not no).
func PreferenceRecords(n int) []dataset.Record {
	var out []dataset.Record
	for i := 0; i < n; i++ {
		out = append(out, dataset.Record{ID: fmt.Sprintf("p%03d", i), Prompt: fmt.Sprintf("yes or no %d", i), Chosen: "yes", Rejected: "no"})
	}
	return out
}

// AddVersion stores recs in the blob store and creates a version of ds;
// split(i) names record i's split ("" for none).
func AddVersion(t testing.TB, svc *dataset.Service, orgID string, ds *dataset.Dataset, recs []dataset.Record, split func(i int) string) *dataset.Version {
	t.Helper()
	ctx := context.Background()
	m := &dataset.Manifest{Kind: ds.Kind}
	for i := range recs {
		b, err := dataset.Canonical(&recs[i])
		if err != nil {
			t.Fatal(err)
		}
		info, err := svc.Blobs().Put(ctx, strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		it := dataset.Item{ID: recs[i].Key(), Digest: string(info.Digest)}
		if split != nil {
			it.Split = split(i)
		}
		m.Items = append(m.Items, it)
	}
	v, _, err := svc.CreateVersion(ctx, orgID, ds, dataset.NewVersion{Manifest: m, Change: dataset.ChangeMinor, ActorID: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}
