package rag

import (
	"strings"
	"testing"
)

func TestChunkDocument(t *testing.T) {
	var b strings.Builder
	b.WriteString("# Travel\n\n")
	for i := 0; i < 40; i++ {
		b.WriteString("Employees book rail travel for trips under five hundred kilometres. ")
	}
	b.WriteString("\n\n# Expenses\n\nReceipts are required for every expense over twenty five euros.\n")
	text := b.String()
	exp := strings.Index(text, "# Expenses")
	secs := []Section{{Path: []string{"Travel"}, Start: 0, End: exp}, {Path: []string{"Expenses"}, Start: exp, End: len(text)}}
	chunks := ChunkDocument("doc1", text, secs, ChunkConfig{ChildTokens: 40, ParentTokens: 200, Overlap: 10}, nil)
	if len(chunks) < 5 {
		t.Fatalf("only %d chunks", len(chunks))
	}
	ids := map[string]bool{}
	for _, c := range chunks {
		if ids[c.ID] {
			t.Fatalf("duplicate chunk id %s", c.ID)
		}
		ids[c.ID] = true
		if c.Start < c.ParentStart || c.End > c.ParentEnd {
			t.Fatalf("child %d-%d outside parent %d-%d", c.Start, c.End, c.ParentStart, c.ParentEnd)
		}
		if n := ApproxTokens(text[c.Start:c.End]); n > 40 {
			t.Fatalf("chunk of %d tokens exceeds the budget: %q", n, text[c.Start:c.End])
		}
		if ApproxTokens(text[c.ParentStart:c.ParentEnd]) > 200 {
			t.Fatal("parent exceeds its budget")
		}
	}
	last := chunks[len(chunks)-1]
	if last.SectionPath[0] != "Expenses" || !strings.Contains(text[last.Start:last.End], "Receipts") {
		t.Fatalf("last chunk %+v", last)
	}
	again := ChunkDocument("doc1", text, secs, ChunkConfig{ChildTokens: 40, ParentTokens: 200, Overlap: 10}, nil)
	if len(again) != len(chunks) || again[3].ID != chunks[3].ID {
		t.Fatal("chunking is not deterministic")
	}
	// Overlap: consecutive children of one parent share text.
	if chunks[1].Start >= chunks[0].End && chunks[1].ParentStart == chunks[0].ParentStart {
		t.Fatalf("no overlap between %v and %v", chunks[0], chunks[1])
	}
}
