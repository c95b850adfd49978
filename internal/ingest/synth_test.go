package ingest_test

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/whet-dev/whet/internal/dataset"
	"github.com/whet-dev/whet/internal/ingest"
	"github.com/whet-dev/whet/internal/store"
	"github.com/whet-dev/whet/internal/store/storetest"
)

func TestSynthesizePairTypes(t *testing.T) {
	text := "Expense Policy\n\nPrinciples\n\nSpend company money as if it were your own.\n\n" +
		"Submitting expenses\n\n1. Photograph the receipt.\n2. Submit the claim within 30 days.\n\n" +
		"Approval limits\n\nClaim total | Approver\nUp to £2,500 | Line manager\nOver £10,000 | Chief Financial Officer\n\n" +
		"Terms\n\n- Per diem: a fixed daily allowance for meals while travelling.\n\n" +
		"Cards\n\nA corporate card means a company-paid card issued to an employee. Lost cards are reported at once."
	doc := ingest.SynthDoc{Fingerprint: "sha256:aa", TextDigest: "sha256:bb", SourceURI: "policies/expense.md", Text: text,
		Headings: []string{"Expense Policy", "Principles", "Submitting expenses", "Approval limits", "Terms", "Cards"}}
	recs := ingest.Synthesize([]ingest.SynthDoc{doc}, ingest.SynthConfig{TargetDatasetID: "ds_x"})
	want := map[string]string{
		"What does the Expense Policy say about principles?":                                                                  "Spend company money as if it were your own.",
		"What are the steps for submitting expenses?":                                                                         "1. Photograph the receipt.\n2. Submit the claim within 30 days.",
		`According to the "Approval limits" table of the Expense Policy, what is listed under "Approver" for "Up to £2,500"?`: "Up to £2,500 | Line manager",
		"What does Per diem mean?":         "Per diem: a fixed daily allowance for meals while travelling.",
		"What does A corporate card mean?": "A corporate card means a company-paid card issued to an employee.",
	}
	got := map[string]string{}
	types := map[string]int{}
	for _, r := range recs {
		got[r.Instruction] = r.Output
		typ, _ := r.Metadata["synthesis"].(string)
		types[typ]++
		if typ == ingest.SynthRefusal {
			if !strings.Contains(r.Output, "do not contain") {
				t.Errorf("refusal answer %q", r.Output)
			}
			continue
		}
		c, _ := r.Metadata["citation"].(map[string]any)
		start, _ := c["start"].(int)
		end, _ := c["end"].(int)
		if c["fingerprint"] != "sha256:aa" || text[start:end] != r.Output {
			t.Errorf("%q: citation %v does not point at the answer", r.Instruction, c)
		}
	}
	for q, a := range want {
		if got[q] != a {
			t.Errorf("question %q: got answer %q, want %q (all: %v)", q, got[q], a, keys(got))
		}
	}
	for _, typ := range []string{ingest.SynthHeading, ingest.SynthProcedure, ingest.SynthTable, ingest.SynthDefinition, ingest.SynthRefusal} {
		if types[typ] == 0 {
			t.Errorf("no %s pairs: %v", typ, types)
		}
	}
	// Deterministic: the same documents in another order give the same records.
	other := ingest.SynthDoc{Fingerprint: "sha256:00", Text: "Travel\n\nBook trains for trips under 500 km."}
	a := ingest.Synthesize([]ingest.SynthDoc{doc, other}, ingest.SynthConfig{Seed: "s1"})
	b := ingest.Synthesize([]ingest.SynthDoc{other, doc}, ingest.SynthConfig{Seed: "s1"})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("synthesis depends on document order")
	}
	// Refusal topics never appear in the corpus.
	for _, r := range recs {
		if r.Metadata["synthesis"] == ingest.SynthRefusal && strings.Contains(strings.ToLower(text), r.Metadata["topic"].(string)) {
			t.Errorf("refusal about a topic in the corpus: %v", r.Metadata["topic"])
		}
	}
	only := ingest.Synthesize([]ingest.SynthDoc{doc}, ingest.SynthConfig{Types: []string{"table"}, Refusals: -1})
	if len(only) != 2 {
		t.Fatalf("types=[table]: %d records, want the 2 table rows", len(only))
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestFeedback(t *testing.T) {
	for _, tc := range []struct {
		name string
		meta map[string]string
		want int
	}{
		{"thumbs up", map[string]string{"feedback.rating": "thumbs_up"}, 1},
		{"thumbs down", map[string]string{"feedback.rating": "thumbs_down", "feedback.comment": "wrong"}, -1},
		{"five stars", map[string]string{"rating": "5"}, 1},
		{"two stars", map[string]string{"rating": "2"}, -1},
		{"thumbs number", map[string]string{"thumbs": "1"}, 1},
		{"none", map[string]string{"channel": "web"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ingest.Feedback(tc.meta, 0); got != tc.want {
				t.Fatalf("Feedback(%v) = %d, want %d", tc.meta, got, tc.want)
			}
		})
	}
}

// TestSynthesizeAndMineSampleCorpus processes the sample corpus with
// synthesis and mining on and checks the derived versions: lineage parents,
// citations that resolve to spans of the processed text, redacted chat
// records with positive feedback only, and preference pairs.
func TestSynthesizeAndMineSampleCorpus(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, dataset.KindDocuments)
		if _, err := f.in.SyncFolder(ctx, "org_a", f.set, ingest.Source{ID: "src_corpus", Type: "folder", URI: "examples/corpus"},
			ingest.FolderConfig{Path: corpusDir(t), Exclude: []string{"MANIFEST.md"}}, nil); err != nil {
			t.Fatal(err)
		}
		mk := func(name string, kind dataset.Kind) *dataset.Dataset {
			d, err := f.ds.Create(ctx, "org_a", "usr_1", "prj_a", name, kind, "")
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		qa, chat, pref := mk("qa", dataset.KindInstruction), mk("chats", dataset.KindChat), mk("prefs", dataset.KindPreference)
		cfg := ingest.ProcessConfig{Synthesize: &ingest.SynthConfig{TargetDatasetID: qa.ID, Seed: "t"},
			Mine: &ingest.MineConfig{ChatDatasetID: chat.ID, PreferenceDatasetID: pref.ID}}
		v, rep, _, err := f.in.Process(ctx, "org_a", "usr_1", "", f.set, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Synthesis == nil || rep.Synthesis.Pairs < 50 || !rep.Synthesis.Created {
			t.Fatalf("synthesis report %+v", rep.Synthesis)
		}
		for _, typ := range []string{"heading", "definition", "procedure", "table", "refusal"} {
			if rep.Synthesis.ByType[typ] == 0 {
				t.Errorf("no %s pairs from the sample corpus: %v", typ, rep.Synthesis.ByType)
			}
		}
		qv, err := f.ds.GetVersion(ctx, "org_a", qa.ID, "latest")
		if err != nil {
			t.Fatal(err)
		}
		m, err := f.ds.Manifest(ctx, qv)
		if err != nil {
			t.Fatal(err)
		}
		if len(m.Parents) != 1 || m.Parents[0] != v.LineageHash {
			t.Fatalf("synthesized version parents %v, want [%s]", m.Parents, v.LineageHash)
		}
		// Every citation resolves to the answer in the processed text.
		checked := 0
		for _, it := range m.Items {
			b, err := f.ds.ReadBlob(ctx, it.Digest)
			if err != nil {
				t.Fatal(err)
			}
			var r struct {
				Output   string
				Metadata struct {
					Synthesis string
					Citation  struct {
						TextDigest string `json:"text_digest"`
						Start, End int
					}
				}
			}
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatal(err)
			}
			if r.Metadata.Synthesis == "refusal" {
				continue
			}
			text, err := f.ds.ReadBlob(ctx, r.Metadata.Citation.TextDigest)
			if err != nil {
				t.Fatal(err)
			}
			if string(text[r.Metadata.Citation.Start:r.Metadata.Citation.End]) != r.Output {
				t.Fatalf("citation %+v does not give the answer %q", r.Metadata.Citation, r.Output)
			}
			checked++
		}
		if checked == 0 {
			t.Fatal("no citations checked")
		}
		// Re-processing is idempotent: the same derived versions.
		_, rep2, _, err := f.in.Process(ctx, "org_a", "usr_1", "", f.set, cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep2.Synthesis.Created || rep2.Synthesis.LineageHash != rep.Synthesis.LineageHash {
			t.Fatalf("re-run made a new synthesized version: %+v vs %+v", rep2.Synthesis, rep.Synthesis)
		}

		mr := rep.Mining
		if mr == nil || mr.Chat == nil || mr.Preference == nil {
			t.Fatalf("mining report %+v", mr)
		}
		if mr.Chat.Records == 0 || mr.Chat.Records >= mr.Conversations || mr.Skipped["negative feedback"] == 0 {
			t.Fatalf("chat mining kept %d of %d conversations (skipped %v)", mr.Chat.Records, mr.Conversations, mr.Skipped)
		}
		if mr.Preference.Records == 0 {
			t.Fatal("no preference pairs mined")
		}
		var chats []dataset.Record
		if _, err := f.ds.Export(ctx, "org_a", chat.ID, "latest", recordSink(&chats)); err != nil {
			t.Fatal(err)
		}
		for _, r := range chats {
			if r.Messages[len(r.Messages)-1].Role != "assistant" {
				t.Errorf("chat record %s does not end with an answer", r.ID)
			}
			for _, msg := range r.Messages {
				if strings.Contains(msg.Content, "@") && !strings.Contains(msg.Content, "[EMAIL]") {
					t.Errorf("unredacted e-mail in %q", msg.Content)
				}
				if msg.Role == "system" {
					t.Errorf("system message kept")
				}
			}
		}
		var prefs []dataset.Record
		if _, err := f.ds.Export(ctx, "org_a", pref.ID, "latest", recordSink(&prefs)); err != nil {
			t.Fatal(err)
		}
		for _, r := range prefs {
			if r.Prompt == "" || r.Chosen == "" || r.Rejected == "" || r.Chosen == r.Rejected {
				t.Errorf("preference record %+v", r)
			}
		}
	})
}

// recordSink decodes an export's JSONL lines into records.
type recordWriter struct {
	out *[]dataset.Record
	buf []byte
}

func recordSink(out *[]dataset.Record) *recordWriter { return &recordWriter{out: out} }

func (w *recordWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		var r dataset.Record
		if err := json.Unmarshal(w.buf[:i], &r); err != nil {
			return 0, err
		}
		*w.out = append(*w.out, r)
		w.buf = w.buf[i+1:]
	}
}

// FuzzSynthesize checks on arbitrary text that synthesis never panics and
// every extractive answer is exactly the cited span of the text.
func FuzzSynthesize(f *testing.F) {
	f.Add("Expense Policy\n\nPrinciples\n\nSpend wisely, always and everywhere.\n\nSteps\n\n1. Do this.\n2. Then that.", "Principles")
	f.Add("Glossary\n\n- Dwell time: the total time a trailer spends in a yard.\n\nA | B\nx | y", "")
	f.Add("How do I reset?\n\nOpen settings and click reset; it takes a minute.", "How do I reset?")
	f.Add("\n\n\n  \n\n| |\n\n- :\n\n1) \n\nX means Y means Z.", "")
	f.Fuzz(func(t *testing.T, text, heading string) {
		doc := ingest.SynthDoc{Fingerprint: "sha256:f", Text: text}
		if heading != "" {
			doc.Headings = []string{heading}
		}
		for _, r := range ingest.Synthesize([]ingest.SynthDoc{doc}, ingest.SynthConfig{Refusals: -1}) {
			c, _ := r.Metadata["citation"].(map[string]any)
			start, _ := c["start"].(int)
			end, _ := c["end"].(int)
			if start < 0 || end > len(text) || start >= end || text[start:end] != r.Output {
				t.Fatalf("%q: citation [%d:%d] is not the answer %q", r.Instruction, start, end, r.Output)
			}
			if r.Instruction == "" {
				t.Fatal("empty question")
			}
		}
	})
}

func TestSynthesizeTargetChecked(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, storetest.SQLite(t), dataset.KindDocuments)
	if _, err := f.in.SyncFolder(ctx, "org_a", f.set, ingest.Source{ID: "s", Type: "folder"},
		ingest.FolderConfig{Path: corpusDir(t), Include: []string{"policies/*.md"}}, nil); err != nil {
		t.Fatal(err)
	}
	chat, err := f.ds.Create(ctx, "org_a", "usr_1", "prj_a", "chat", dataset.KindChat, "")
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]ingest.ProcessConfig{
		"missing target":     {Synthesize: &ingest.SynthConfig{TargetDatasetID: "ds_nope"}},
		"wrong kind":         {Synthesize: &ingest.SynthConfig{TargetDatasetID: chat.ID}},
		"preference as chat": {Mine: &ingest.MineConfig{PreferenceDatasetID: chat.ID}},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, _, err := f.in.Process(ctx, "org_a", "usr_1", "", f.set, cfg, nil)
			if !errors.Is(err, ingest.ErrConfig) {
				t.Fatalf("got %v, want ErrConfig", err)
			}
			vs, _ := f.ds.ListVersions(ctx, "org_a", f.set.ID)
			if len(vs) != 0 {
				t.Fatalf("a version was written before the target check: %d", len(vs))
			}
		})
	}
}
