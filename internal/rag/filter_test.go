package rag

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestDateFilters checks <field>_after / <field>_before on the time line:
// dates and RFC 3339 times mix, and a bound that is not a date is an error
// naming the filter rather than a silent empty answer.
func TestDateFilters(t *testing.T) {
	ctx := context.Background()
	x, err := Create(t.TempDir(), Config{}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	dated := []Doc{
		{ID: "old", Source: "a.md", Text: "vendor review", Metadata: map[string]any{"updated_at": "2024-12-31"}},
		{ID: "newyear", Source: "b.md", Text: "vendor review", Metadata: map[string]any{"updated_at": "2025-01-01"}},
		{ID: "morning", Source: "c.md", Text: "vendor review", Metadata: map[string]any{"updated_at": "2025-01-01T09:30:00+02:00"}},
		{ID: "later", Source: "d.md", Text: "vendor review", Metadata: map[string]any{"updated_at": "2025-06-01T00:00:00Z"}},
		{ID: "undated", Source: "e.md", Text: "vendor review", Metadata: map[string]any{"updated_at": "last spring"}},
	}
	if _, err := x.Upsert(ctx, dated); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filters map[string]any
		want    []string
	}{
		{map[string]any{"updated_after": "2025-01-01"}, []string{"later", "morning"}},
		{map[string]any{"updated_after": "2025-01-01T09:00:00+01:00"}, []string{"later"}},
		{map[string]any{"updated_before": "2025-01-01"}, []string{"old"}},
		{map[string]any{"updated_at_after": "2024-12-31", "updated_before": "2025-02-01"}, []string{"morning", "newyear"}},
	} {
		hits, err := x.Search(ctx, Query{Text: "vendor review", K: 10, Filters: tc.filters})
		if err != nil {
			t.Fatalf("%v: %v", tc.filters, err)
		}
		var got []string
		for _, h := range hits {
			got = append(got, h.Citation.DocumentID)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v: got %v, want %v", tc.filters, got, tc.want)
		}
	}
	for _, bad := range []any{12, "2025-13-01", "yesterday", true} {
		var qe *QueryError
		_, err := x.Search(ctx, Query{Text: "vendor", K: 3, Filters: map[string]any{"updated_after": bad}})
		if !errors.As(err, &qe) || qe.Field != "filters.updated_after" {
			t.Errorf("updated_after=%v: err = %v, want a QueryError naming filters.updated_after", bad, err)
		}
	}
}
