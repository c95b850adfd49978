package eval

import "strings"

// FileRanking turns ranked hit sources into a ranking of files: a row of a
// CSV or a conversation of a chat log ("path#row") counts as its file
// ("path"), and each file keeps its first (best) rank only. Collections
// judged at file level, such as examples/retrieval, are scored on it.
func FileRanking(sources []string) []string {
	out := make([]string, 0, len(sources))
	seen := make(map[string]bool, len(sources))
	for _, s := range sources {
		doc, _, _ := strings.Cut(s, "#")
		if !seen[doc] {
			seen[doc] = true
			out = append(out, doc)
		}
	}
	return out
}
