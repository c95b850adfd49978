package rag

import (
	"context"
	"maps"
	"strings"
	"testing"
)

// TestChangedDelta checks what a dataset upsert re-indexes: nothing for
// documents held as they are, and any document whose text, source or
// metadata moved; the digests survive reopening the snapshot and go with a
// deleted document.
func TestChangedDelta(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	x, err := Create(dir, Config{}, hashEmbedder{32}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Upsert(ctx, docs); err != nil {
		t.Fatal(err)
	}
	ids := func(ds []Doc) []string {
		var out []string
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	if ch, un := x.Changed(docs); len(ch) != 0 || un != len(docs) {
		t.Fatalf("same docs: changed %v, unchanged %d", ids(ch), un)
	}
	edited := append([]Doc(nil), docs...)
	edited[0].Text += " Night trains count as rail."
	edited[1].Metadata = maps.Clone(edited[1].Metadata)
	edited[1].Metadata["access_tag"] = "restricted"
	edited[2].Source = "security/keys-v2.md"
	edited = append(edited, Doc{ID: "new", Source: "n.md", Text: "A new document."})
	ch, un := x.Changed(edited)
	if got := ids(ch); un != 0 || len(got) != 4 {
		t.Fatalf("edited docs: changed %v, unchanged %d; want all four", got, un)
	}
	if _, err := x.Upsert(ctx, ch[:2]); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Delete(ctx, []string{"secret"}); err != nil {
		t.Fatal(err)
	}
	re, err := Open(dir, 0, hashEmbedder{32}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ch, un = re.Changed(edited)
	if got := ids(ch); un != 2 || len(got) != 2 || got[0] != "secret" || got[1] != "new" {
		t.Fatalf("after upserting two and deleting one: changed %v, unchanged %d", got, un)
	}
	// The deleted document comes back unchanged: it must be indexed again.
	if ch, un = re.Changed(docs[2:3]); len(ch) != 1 || un != 0 {
		t.Fatalf("a deleted document given again: changed %v, unchanged %d", ids(ch), un)
	}
}

// TestReplaceOneVersion checks that a dataset upsert's removals and changes
// commit together: no version lacks a changed document or keeps a removed one.
func TestReplaceOneVersion(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	x, err := Create(dir, Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := x.Upsert(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	changed := docs[0]
	changed.Text = "# Travel\n\nAll travel is by bicycle now."
	v2, err := x.Replace(ctx, []Doc{changed}, []string{"secret"})
	if err != nil || v2 != v1+1 {
		t.Fatalf("replace: version %d after %d, err %v; want one new version", v2, v1, err)
	}
	for _, v := range []int{v1, v2} {
		y, err := Open(dir, v, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		hits, _ := y.Search(ctx, Query{Text: "travel bicycle rail credentials", K: 10})
		var got []string
		for _, h := range hits {
			got = append(got, h.Citation.DocumentID+":"+h.Text)
		}
		s := strings.Join(got, " | ")
		switch {
		case v == v1 && (!strings.Contains(s, "secret:") || !strings.Contains(s, "rail")):
			t.Fatalf("version %d: %s", v, s)
		case v == v2 && (strings.Contains(s, "secret:") || strings.Contains(s, "rail") || !strings.Contains(s, "bicycle")):
			t.Fatalf("version %d: %s", v, s)
		}
	}
}
