package tokenizer

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// regexOnly compiles pat with the regex engine, bypassing the scanners.
func regexOnly(t testing.TB, pat string) matcher {
	t.Helper()
	re, err := regexp2.Compile(pat, regexp2.Unicode)
	if err != nil {
		t.Fatal(err)
	}
	return regexMatcher{re}
}

var scannerPatterns = []string{llama3Pattern, qwen2Pattern, gpt2Pattern}

// tricky are characters where the pre-tokenizer patterns' classes meet.
var tricky = []rune{' ', ' ', '\t', '\n', '\r', '\v', '\'', 's', 'S', 't', 'r', 'e', 'E', 'v', 'm', 'l', 'L', 'd', 'a', 'Z',
	'1', '7', '٣', '½', '²', '!', '.', '-', '中', 'é', '\u0301', '\u00a0', '\u3000', '\u2028', '\u0085', '\u200b', '\ufeff', '😀', '_'}

func randomText(r *rand.Rand, n int) string {
	var b strings.Builder
	for range n {
		b.WriteRune(tricky[r.IntN(len(tricky))])
	}
	return b.String()
}

func TestScannersMatchRegex(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	texts := corpusLines(t)
	for range 3000 {
		texts = append(texts, randomText(r, 1+r.IntN(12)))
	}
	texts = append(texts, "", "\xff\xfe abc", "'s's 'S'LL", "   \n\n  x", "a\r\n\r\n  ")
	for _, pat := range scannerPatterns {
		sc, re := knownScanner(pat), regexOnly(t, pat)
		if sc == nil {
			t.Fatalf("no scanner for %q", pat)
		}
		for _, s := range texts {
			if got, want := sc.findAll(s), re.findAll(s); !slices.Equal(got, want) {
				t.Fatalf("pattern %q on %q:\nscanner %v\nregex   %v", pat, s, got, want)
			}
		}
	}
}

func FuzzScanner(f *testing.F) {
	for _, s := range []string{"Hello world", "I'M  fine\n\n", "a1234 ½", "\t \r\n x", "中文 テスト"} {
		f.Add(s)
	}
	res := make([]matcher, len(scannerPatterns))
	for i, p := range scannerPatterns {
		res[i] = regexOnly(f, p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// The regex engine backtracks quadratically on long white-space runs
		// (\s*[\r\n]+); the scanners are linear, so keep inputs short.
		if !utf8.ValidString(s) || len(s) > 2048 {
			return
		}
		for i, p := range scannerPatterns {
			if got, want := knownScanner(p).findAll(s), res[i].findAll(s); !slices.Equal(got, want) {
				t.Fatalf("pattern %d on %q:\nscanner %v\nregex   %v", i, s, got, want)
			}
		}
	})
}

// FuzzEncodeDecode checks decode(encode(x)) == x for byte-level BPE and
// byte-fallback BPE on valid UTF-8.
func FuzzEncodeDecode(f *testing.F) {
	for _, s := range corpusLines(f)[:12] {
		f.Add(s)
	}
	f.Add("<|begin_of_text|> x <s></s>")
	f.Add("\x00\x01 \u200d👨‍👩‍👧")
	trained := loadRef(f, "trained")
	llama3 := loadRef(f, "llama3")
	llama2 := loadRef(f, "llama2")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		for _, tk := range []*Tokenizer{trained, llama3} {
			ids, offs := tk.EncodeWithOffsets(s, false)
			if got := tk.Decode(ids, false); got != s {
				t.Fatalf("byte-level round trip %q -> %v -> %q", s, ids, got)
			}
			for _, o := range offs {
				if o.Start < 0 || o.End > len(s) || o.Start > o.End {
					t.Fatalf("offset %v out of range for %q", o, s)
				}
			}
		}
		// Llama 2 prepends ▁ to every section between added tokens, so only
		// text without added-token spellings comes back unchanged.
		for _, a := range llama2.AddedTokens() {
			if strings.Contains(s, a.Content) {
				return
			}
		}
		if got := llama2.Decode(llama2.Encode(s, true), true); got != s {
			t.Fatalf("byte-fallback round trip %q -> %q", s, got)
		}
	})
}

// FuzzParse feeds arbitrary bytes to Parse: malformed files are errors,
// never panics, and whatever parses can encode and decode.
func FuzzParse(f *testing.F) {
	f.Add([]byte(bertJSON))
	f.Add([]byte(charBPE(`"a":0,"b":1,"ab":2`, `"a b"`, `"decoder":{"type":"ByteLevel"},"pre_tokenizer":{"type":"ByteLevel"},`)))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"<0x41>":0,"x":1},"merges":[],"byte_fallback":true,"fuse_unk":true,"unk_token":"x"},"normalizer":{"type":"Sequence","normalizers":[{"type":"Prepend","prepend":"_"},{"type":"NFKC"}]}}`))
	f.Add([]byte(`{"model":{"type":"WordPiece","vocab":{"[UNK]":0,"a":1,"##a":2}},"pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\s+(?!\\S)"},"behavior":"MergedWithNext","invert":true}}`))
	f.Add(readGzip(f, refDir+"/trained.json.gz"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tk, err := Parse(data)
		if err != nil {
			return
		}
		for _, s := range []string{"", "Hello, world!", "a  b\n\tc 123 ééé 中文 <s>", "\xff"} {
			ids, _ := tk.EncodeWithOffsets(s, true)
			tk.Decode(ids, false)
			for _, id := range ids {
				tk.TokenBytes(id)
			}
		}
	})
}
