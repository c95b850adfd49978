package eval

import (
	"slices"
	"testing"
)

func TestFileRanking(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"empty", nil, []string{}},
		{"plain", []string{"a.md", "b.md"}, []string{"a.md", "b.md"}},
		{"rows count as their file", []string{"t.csv#3", "a.md", "t.csv#1", "chat.jsonl#c2"}, []string{"t.csv", "a.md", "chat.jsonl"}},
		{"first rank wins", []string{"b.md", "a.md", "b.md#2"}, []string{"b.md", "a.md"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FileRanking(tc.in); !slices.Equal(got, tc.want) {
				t.Fatalf("FileRanking(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
