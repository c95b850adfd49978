package rag

import "testing"

// Expected stems from the Snowball English reference vocabulary.
func TestStemEnglish(t *testing.T) {
	cases := map[string]string{
		"caresses": "caress", "ponies": "poni", "ties": "tie", "cats": "cat", "feed": "feed", "agreed": "agre",
		"plastered": "plaster", "motoring": "motor", "sing": "sing", "conflated": "conflat", "troubled": "troubl",
		"sized": "size", "hopping": "hop", "tanned": "tan", "falling": "fall", "hissing": "hiss", "fizzed": "fizz",
		"failing": "fail", "filing": "file", "happy": "happi", "sky": "sky", "relational": "relat",
		"conditional": "condit", "generous": "generous", "generously": "generous", "consign": "consign",
		"consigned": "consign", "consigning": "consign", "consistency": "consist", "knightly": "knight",
		"dying": "die", "news": "news", "succeeded": "succeed", "running": "run", "policies": "polici",
		"policy": "polici", "refunds": "refund", "refunding": "refund", "deployment": "deploy", "deployed": "deploy",
		"credentials": "credenti", "rotation": "rotat", "rotating": "rotat", "travel": "travel", "travelling": "travel",
		"organization": "organ", "connection": "connect", "effective": "effect", "hopeful": "hope", "goodness": "good",
		"a": "a", "is": "is", "gas": "gas", "gaps": "gap", "kiwis": "kiwi", "cried": "cri", "cries": "cri",
		"communication": "communic", "arsenal": "arsenal", "bowed": "bow", "abbeys": "abbey", "crying": "cri",
	}
	for in, want := range cases {
		if got := StemEnglish(in); got != want {
			t.Errorf("StemEnglish(%q) = %q, want %q", in, got, want)
		}
	}
}
