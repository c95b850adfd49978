package rag

import (
	"context"
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

// TestChunkStructure checks the structural cuts: a table is cut between
// rows, never inside one; a heading with no body of its own adds no chunk
// (its subsections carry it in their paths) unless nothing follows it.
func TestChunkStructure(t *testing.T) {
	var b strings.Builder
	b.WriteString("Expense Policy\n\nApproval limits\n\nClaim total | Approver\n")
	for i := range 30 {
		b.WriteString("Up to " + itoa(1000*(i+1)) + " pounds | Approver number " + itoa(i) + " of the finance team\n")
	}
	b.WriteString("\nTravel\n\nRail for trips under 500 km.")
	text := b.String()
	lim := strings.Index(text, "Approval limits")
	trv := strings.Index(text, "Travel")
	secs := []Section{
		{Path: []string{"Expense Policy"}, Start: 0, End: lim},
		{Path: []string{"Expense Policy", "Approval limits"}, Start: lim, End: trv},
		{Path: []string{"Expense Policy", "Travel"}, Start: trv, End: len(text)},
	}
	chunks := ChunkDocument("d", text, secs, ChunkConfig{ChildTokens: 40, ParentTokens: 120, Overlap: 8}, nil)
	rows := 0
	for _, c := range chunks {
		body := text[c.Start:c.End]
		if len(c.SectionPath) == 1 {
			t.Errorf("a chunk for the heading-only section: %q", body)
		}
		if c.SectionPath[len(c.SectionPath)-1] != "Approval limits" {
			continue
		}
		if c.Start > 0 && text[c.Start-1] != '\n' && !strings.HasPrefix(body, "Approval") {
			t.Errorf("chunk starts inside a row: %q", body)
		}
		if c.End < len(text) && text[c.End] != '\n' {
			t.Errorf("chunk ends inside a row: %q", body)
		}
		rows++
	}
	if rows < 3 {
		t.Fatalf("the table gave %d chunks; want it cut into several", rows)
	}
	// A document that is only a heading still gives its one chunk.
	if c := ChunkDocument("h", "Bicycle Policy", []Section{{Path: []string{"Bicycle Policy"}, Start: 0, End: 14}}, ChunkConfig{}, nil); len(c) != 1 {
		t.Fatalf("heading-only document: %d chunks", len(c))
	}
}

// TestCitationSpans checks that a hit's span counts characters and its
// byte_span bytes, on text where the two differ.
func TestCitationSpans(t *testing.T) {
	ctx := context.Background()
	x, err := Create(t.TempDir(), Config{Chunking: ChunkConfig{ChildTokens: 12}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := "Approval limits\n\nClaims up to £2,500 need a line manager. Über £10,000 the CFO signs — café receipts included.\n\nRéservations d'hôtel: 200 € per night."
	if _, err := x.Upsert(ctx, []Doc{{ID: "d", Source: "expense.md", Text: text}}); err != nil {
		t.Fatal(err)
	}
	runes := []rune(text)
	for _, q := range []string{"CFO café receipts", "hôtel night", "line manager"} {
		hits, err := x.Search(ctx, Query{Text: q, K: 3})
		if err != nil || len(hits) == 0 {
			t.Fatalf("%q: %v %v", q, hits, err)
		}
		for _, h := range hits {
			c, b := h.Citation.Span, h.Citation.ByteSpan
			if got := string(runes[c[0]:c[1]]); got != h.Text {
				t.Errorf("%q: span %v gives %q, want the hit's text %q", q, c, got, h.Text)
			}
			if got := text[b[0]:b[1]]; got != h.Text {
				t.Errorf("%q: byte_span %v gives %q, want %q", q, b, got, h.Text)
			}
		}
	}
}
