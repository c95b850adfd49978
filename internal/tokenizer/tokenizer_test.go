package tokenizer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

func mustParse(t testing.TB, js string) *Tokenizer {
	t.Helper()
	tk, err := Parse([]byte(js))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, js)
	}
	return tk
}

func tokens(tk *Tokenizer, ids []int) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i], _ = tk.IDToToken(id)
	}
	return out
}

const bertJSON = `{
 "added_tokens": [
  {"id":0,"content":"[UNK]","special":true},
  {"id":1,"content":"[CLS]","special":true},
  {"id":2,"content":"[SEP]","special":true},
  {"id":11,"content":"[MASK]","special":true,"lstrip":true}
 ],
 "normalizer": {"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true},
 "pre_tokenizer": {"type":"BertPreTokenizer"},
 "post_processor": {"type":"BertProcessing","sep":["[SEP]",2],"cls":["[CLS]",1]},
 "decoder": {"type":"WordPiece","prefix":"##","cleanup":true},
 "model": {"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##","max_input_chars_per_word":100,
  "vocab": {"[UNK]":0,"[CLS]":1,"[SEP]":2,"hello":3,"world":4,"##s":5,"un":6,"##aff":7,"##able":8,",":9,"!":10,"[MASK]":11,"中":12,"cafe":13}}
}`

func TestWordPiecePipeline(t *testing.T) {
	tk := mustParse(t, bertJSON)
	tests := []struct {
		text    string
		special bool
		want    []string
		offs    []Offset
	}{
		{"Hello, UNAFFABLE worlds!", true,
			[]string{"[CLS]", "hello", ",", "un", "##aff", "##able", "world", "##s", "!", "[SEP]"},
			[]Offset{{0, 0}, {0, 5}, {5, 6}, {7, 9}, {9, 12}, {12, 16}, {17, 22}, {22, 23}, {23, 24}, {0, 0}}},
		{"Café中hello", false, []string{"cafe", "中", "hello"}, []Offset{{0, 5}, {5, 8}, {8, 13}}},
		{"hello   [MASK] xyz", false, []string{"hello", "[MASK]", "[UNK]"}, []Offset{{0, 5}, {5, 14}, {15, 18}}},
		{"\x00\t\n ", false, []string{}, []Offset{}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			ids, offs := tk.EncodeWithOffsets(tc.text, tc.special)
			if got := tokens(tk, ids); !slices.Equal(got, tc.want) {
				t.Fatalf("tokens %q, want %q", got, tc.want)
			}
			if !slices.Equal(offs, tc.offs) {
				t.Fatalf("offsets %v, want %v", offs, tc.offs)
			}
			if !slices.Equal(tk.Encode(tc.text, tc.special), ids) {
				t.Fatal("Encode and EncodeWithOffsets disagree")
			}
		})
	}
	ids := tk.Encode("Hello, unaffable worlds!", true)
	if got := tk.Decode(ids, true); got != "hello, unaffable worlds!" {
		t.Errorf("decode %q", got)
	}
	if got := tk.Decode(ids, false); got != "[CLS] hello, unaffable worlds! [SEP]" {
		t.Errorf("decode with specials %q", got)
	}
	if tk.BOS() != 1 || tk.EOS() != 2 || tk.PAD() != -1 {
		t.Errorf("bos/eos/pad %d %d %d", tk.BOS(), tk.EOS(), tk.PAD())
	}
	if string(tk.TokenBytes(7)) != "aff" || !tk.IsSpecial(1) || tk.IsSpecial(3) {
		t.Error("TokenBytes/IsSpecial")
	}
}

// charBPE is a BPE over characters with the given extras spliced in.
func charBPE(vocab, merges, extra string) string {
	return `{"added_tokens":[],"normalizer":null,"pre_tokenizer":null,"post_processor":null,"decoder":null,` + extra +
		`"model":{"type":"BPE","vocab":{` + vocab + `},"merges":[` + merges + `]}}`
}

func TestMetaspaceBPE(t *testing.T) {
	js := `{"added_tokens":[{"id":7,"content":"<s>","special":true}],
 "pre_tokenizer":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true},
 "decoder":{"type":"Metaspace","replacement":"▁","prepend_scheme":"first","split":true},
 "post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}}],
   "special_tokens":{"<s>":{"id":"<s>","ids":[7],"tokens":["<s>"]}}},
 "model":{"type":"BPE","unk_token":"<unk>","vocab":{"▁":0,"a":1,"b":2,"▁a":3,"ab":4,"▁ab":5,"<unk>":6,"<s>":7},"merges":["▁ a","▁a b","a b"]}}`
	tk := mustParse(t, js)
	tests := []struct {
		text string
		want []string
	}{
		{"ab ab", []string{"<s>", "▁ab", "▁ab"}},
		{"ab<s>ab", []string{"<s>", "▁ab", "<s>", "ab"}},
		{"abc", []string{"<s>", "▁ab", "<unk>"}},
	}
	for _, tc := range tests {
		ids := tk.Encode(tc.text, true)
		if got := tokens(tk, ids); !slices.Equal(got, tc.want) {
			t.Errorf("%q: %q, want %q", tc.text, got, tc.want)
		}
	}
	if got := tk.Decode(tk.Encode("ab ab", true), true); got != "ab ab" {
		t.Errorf("decode %q", got)
	}
}

func TestBPEOptions(t *testing.T) {
	fallback := `"<unk>":0,"<0x41>":1,"<0xE2>":2,"<0x82>":3,"<0xAC>":4,"a":5,"b":6,"ab":7`
	tests := []struct {
		name  string
		js    string
		text  string
		want  []string
		round string
	}{
		{"byte fallback", strings.Replace(charBPE(fallback, `"a b"`, `"decoder":{"type":"Sequence","decoders":[{"type":"ByteFallback"},{"type":"Fuse"}]},`), `"type":"BPE"`, `"type":"BPE","byte_fallback":true,"unk_token":"<unk>"`, 1),
			"ab€a", []string{"ab", "<0xE2>", "<0x82>", "<0xAC>", "a"}, "ab€a"},
		{"fuse unk", strings.Replace(charBPE(fallback, `"a b"`, ""), `"type":"BPE"`, `"type":"BPE","fuse_unk":true,"unk_token":"<unk>"`, 1),
			"xyab", []string{"<unk>", "ab"}, ""},
		{"unk not fused", strings.Replace(charBPE(fallback, `"a b"`, ""), `"type":"BPE"`, `"type":"BPE","unk_token":"<unk>"`, 1),
			"xyab", []string{"<unk>", "<unk>", "ab"}, ""},
		{"no unk drops", charBPE(fallback, `"a b"`, ""), "xab", []string{"ab"}, ""},
		{"subword prefix and suffix", `{"model":{"type":"BPE","continuing_subword_prefix":"##","end_of_word_suffix":"</w>",
			"vocab":{"a":0,"##b":1,"##c</w>":2,"ab":3,"abc</w>":4,"c</w>":5},"merges":["a ##b","ab ##c</w>"]},
			"decoder":{"type":"BPEDecoder","suffix":"</w>"}}`, "abc", []string{"abc</w>"}, ""},
		{"ignore merges", `{"model":{"type":"BPE","ignore_merges":true,"vocab":{"a":0,"b":1,"c":2,"ab":3,"abc":4,"bc":5},"merges":["b c"]}}`,
			"abc", []string{"abc"}, ""},
		{"merge rank order", `{"model":{"type":"BPE","vocab":{"a":0,"b":1,"c":2,"ab":3,"abc":4,"bc":5},"merges":["b c","a b"]}}`,
			"abc", []string{"a", "bc"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tk := mustParse(t, tc.js)
			ids := tk.Encode(tc.text, false)
			if got := tokens(tk, ids); !slices.Equal(got, tc.want) {
				t.Fatalf("tokens %q, want %q", got, tc.want)
			}
			if tc.round != "" {
				if got := tk.Decode(ids, false); got != tc.round {
					t.Fatalf("decode %q, want %q", got, tc.round)
				}
			}
		})
	}
}

func TestSplitBehaviors(t *testing.T) {
	tests := []struct {
		beh    splitBehavior
		invert bool
		want   []string
	}{
		{behRemoved, false, []string{"the", "final", "countdown"}},
		{behIsolated, false, []string{"the", "-", "final", "-", "-", "countdown"}},
		{behMergedWithPrevious, false, []string{"the-", "final-", "-", "countdown"}},
		{behMergedWithNext, false, []string{"the", "-final", "-", "-countdown"}},
		{behContiguous, false, []string{"the", "-", "final", "--", "countdown"}},
		{behRemoved, true, []string{"-", "-", "-"}},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.beh, tc.invert), func(t *testing.T) {
			var got []string
			for _, sp := range splitSpan(span{s: "the-final--countdown"}, literalMatcher("-"), tc.beh, tc.invert, nil) {
				got = append(got, sp.s)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
}

func TestPreTokenizers(t *testing.T) {
	tests := []struct {
		js   string
		text string
		want []string
	}{
		{`{"type":"Whitespace"}`, "Hey friend!  How are you?!?", []string{"Hey", "friend", "!", "How", "are", "you", "?!?"}},
		{`{"type":"WhitespaceSplit"}`, "Hey friend!  How\tare", []string{"Hey", "friend!", "How", "are"}},
		{`{"type":"BertPreTokenizer"}`, "Hey friend!  ¿How?", []string{"Hey", "friend", "!", "¿", "How", "?"}},
		{`{"type":"Punctuation","behavior":"Contiguous"}`, "Hey friend!?", []string{"Hey friend", "!?"}},
		{`{"type":"Digits","individual_digits":true}`, "a123b", []string{"a", "1", "2", "3", "b"}},
		{`{"type":"Digits","individual_digits":false}`, "a123b4", []string{"a", "123", "b", "4"}},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true}`, "Hey  friend", []string{"▁Hey", "▁", "▁friend"}},
		{`{"type":"Metaspace","replacement":"▁","add_prefix_space":false,"split":false}`, "Hey friend", []string{"Hey▁friend"}},
		{`{"type":"ByteLevel","add_prefix_space":true,"use_regex":true}`, "Hello my friend, how's it  going?", []string{" Hello", " my", " friend", ",", " how", "'s", " it", " ", " going", "?"}},
		{`{"type":"Split","pattern":{"Regex":"\\s+"},"behavior":"Removed","invert":false}`, "a  b\tc", []string{"a", "b", "c"}},
		{`{"type":"Split","pattern":{"String":"ab"},"behavior":"MergedWithPrevious","invert":false}`, "xabyab", []string{"xab", "yab"}},
		{`{"type":"Sequence","pretokenizers":[{"type":"WhitespaceSplit"},{"type":"Digits","individual_digits":true}]}`, "a1 b22", []string{"a", "1", "b", "2", "2"}},
	}
	for _, tc := range tests {
		t.Run(tc.js, func(t *testing.T) {
			var bl bool
			p, err := parsePreTokenizer([]byte(tc.js), 0, &bl)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, sp := range p.preTokenize([]span{{s: tc.text}}, ptContext{first: true}) {
				got = append(got, sp.s)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
}

func TestNormalizers(t *testing.T) {
	tests := []struct {
		js, in, want string
	}{
		{`{"type":"NFC"}`, "e\u0301", "é"},
		{`{"type":"NFD"}`, "é", "e\u0301"},
		{`{"type":"NFKC"}`, "ﬁ①", "fi1"},
		{`{"type":"NFKD"}`, "ﬁé", "fie\u0301"},
		{`{"type":"Lowercase"}`, "HeLLo İ", "hello i̇"},
		{`{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"}]}`, "Café naïve", "Cafe naive"},
		{`{"type":"Strip","left":true,"right":true}`, "  hi \t", "hi"},
		{`{"type":"Strip","left":false,"right":true}`, "  hi \t", "  hi"},
		{`{"type":"Prepend","prepend":"▁"}`, "hi", "▁hi"},
		{`{"type":"Prepend","prepend":"▁"}`, "", ""},
		{`{"type":"Replace","pattern":{"String":" "},"content":"▁"}`, "a b  c", "a▁b▁▁c"},
		{`{"type":"Replace","pattern":{"Regex":"\\s+"},"content":" "}`, "a \t\nb", "a b"},
		{`{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}`, "Héllo\x00\t世界", "hello  世  界 "},
		{`{"type":"BertNormalizer","lowercase":false}`, "Héllo", "Héllo"},
		{`{"type":"Precompiled","precompiled_charsmap":null}`, "abc", "abc"},
	}
	for _, tc := range tests {
		t.Run(tc.js+tc.in, func(t *testing.T) {
			n, err := parseNormalizer([]byte(tc.js), 0)
			if err != nil {
				t.Fatal(err)
			}
			got := tc.in
			if n != nil {
				sp := n.normalize(span{s: tc.in}, true)
				got = sp.s
				if sp.al != nil && len(sp.al) != len(sp.s) {
					t.Fatalf("alignment has %d entries for %d bytes", len(sp.al), len(sp.s))
				}
				for _, a := range sp.al {
					if a.start < 0 || a.end > int32(len(tc.in)) || a.start > a.end {
						t.Fatalf("alignment %v out of range", a)
					}
				}
				if plain := n.normalize(span{s: tc.in}, false).s; plain != got {
					t.Fatalf("untracked %q differs from tracked %q", plain, got)
				}
			}
			if got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
}

func TestDecoders(t *testing.T) {
	tests := []struct {
		js   string
		in   []string
		want string
	}{
		{`{"type":"ByteLevel"}`, []string{"Hello", "Ġworld", "Ċ"}, "Hello world\n"},
		{`{"type":"ByteLevel"}`, []string{"âĤ"}, "\uFFFD\uFFFD"},
		{`{"type":"Sequence","decoders":[{"type":"Replace","pattern":{"String":"▁"},"content":" "},{"type":"ByteFallback"},{"type":"Fuse"},{"type":"Strip","content":" ","start":1,"stop":0}]}`,
			[]string{"▁Hi", "<0xE2>", "<0x82>", "<0xAC>", "▁there"}, "Hi€ there"},
		{`{"type":"ByteFallback"}`, []string{"a", "<0xE2>", "<0x82>", "b"}, "a\uFFFD\uFFFDb"},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"always"}`, []string{"▁Hey", "▁friend"}, "Hey friend"},
		{`{"type":"Metaspace","replacement":"▁","prepend_scheme":"never"}`, []string{"▁Hey", "▁friend"}, " Hey friend"},
		{`{"type":"WordPiece","prefix":"##","cleanup":true}`, []string{"it", "'s", "fine", "##s", "."}, "it's fines."},
		{`{"type":"WordPiece","prefix":"##","cleanup":false}`, []string{"a", "##b", "."}, "ab ."},
		{`{"type":"BPEDecoder","suffix":"</w>"}`, []string{"hel", "lo</w>", "there</w>"}, "hello there"},
		{`{"type":"Strip","content":"x","start":2,"stop":1}`, []string{"xxxax"}, "xa"},
	}
	for _, tc := range tests {
		t.Run(tc.js, func(t *testing.T) {
			d, err := parseDecoder([]byte(tc.js), 0)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(d.decodeChain(tc.in), ""); got != tc.want {
				t.Fatalf("%q, want %q", got, tc.want)
			}
		})
	}
}

func TestAddedTokens(t *testing.T) {
	vocab := `"a":0,"b":1,"c":2," ":3`
	added := `"added_tokens":[
	  {"id":10,"content":"<m>","lstrip":true,"rstrip":true,"special":true},
	  {"id":11,"content":"ab","single_word":true},
	  {"id":12,"content":"<long>","special":true},
	  {"id":13,"content":"<lo","special":false},
	  {"id":14,"content":"C","normalized":true}],
	  "normalizer":{"type":"Lowercase"},`
	tk := mustParse(t, charBPE(vocab, "", added))
	tests := []struct {
		text string
		want []int
		offs []Offset
	}{
		{"a  <m>  b", []int{0, 10, 1}, []Offset{{0, 1}, {1, 8}, {8, 9}}},
		{"cab ab", []int{14, 0, 1, 3, 11}, nil}, // "C" is normalized, so it matches "c"
		{"ab", []int{11}, nil},
		{"a<long>b<lob", []int{0, 12, 1, 13, 1}, nil},
		{"acb", []int{0, 14, 1}, nil},
		{"xab", []int{0, 1}, nil}, // x is dropped (not in the vocabulary) but still makes ab part of a word
		{"aCb", []int{0, 14, 1}, []Offset{{0, 1}, {1, 2}, {2, 3}}},
	}
	for _, tc := range tests {
		t.Run(tc.text, func(t *testing.T) {
			ids, offs := tk.EncodeWithOffsets(tc.text, false)
			if !slices.Equal(ids, tc.want) {
				t.Fatalf("ids %v, want %v", ids, tc.want)
			}
			if tc.offs != nil && !slices.Equal(offs, tc.offs) {
				t.Fatalf("offsets %v, want %v", offs, tc.offs)
			}
		})
	}
	if !tk.IsSpecial(10) || tk.IsSpecial(11) || tk.VocabSize() != 15 {
		t.Errorf("IsSpecial/VocabSize %v %v %d", tk.IsSpecial(10), tk.IsSpecial(11), tk.VocabSize())
	}
	if got := tk.Decode([]int{0, 10, 11}, true); got != "a ab" {
		t.Errorf("decode skipping specials %q", got)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		js   string
		want error
	}{
		{"not json", `{`, ErrFormat},
		{"no model", `{"added_tokens":[]}`, ErrFormat},
		{"unigram", `{"model":{"type":"Unigram","unk_id":0,"vocab":[["a",0.0]]}}`, ErrUnsupported},
		{"unigram untyped", `{"model":{"vocab":[["a",0.0]]}}`, ErrUnsupported},
		{"bad merge", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a b"]}}`, ErrFormat},
		{"merge one part", `{"model":{"type":"BPE","vocab":{"a":0},"merges":["a"]}}`, ErrFormat},
		{"negative id", `{"model":{"type":"BPE","vocab":{"a":-1},"merges":[]}}`, ErrFormat},
		{"huge id", `{"model":{"type":"BPE","vocab":{"a":99999999999},"merges":[]}}`, ErrFormat},
		{"bad normalizer", `{"normalizer":{"type":"Nope"},"model":{"type":"BPE","vocab":{},"merges":[]}}`, ErrUnsupported},
		{"bad regex", `{"pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?<"},"behavior":"Isolated"},"model":{"type":"BPE","vocab":{},"merges":[]}}`, ErrFormat},
		{"bad behavior", `{"pre_tokenizer":{"type":"Split","pattern":{"String":"a"},"behavior":"Sideways"},"model":{"type":"BPE","vocab":{},"merges":[]}}`, ErrFormat},
		{"template unknown special", `{"post_processor":{"type":"TemplateProcessing","single":[{"SpecialToken":{"id":"<x>"}}],"special_tokens":{}},"model":{"type":"BPE","vocab":{},"merges":[]}}`, ErrFormat},
		{"empty added", `{"added_tokens":[{"id":1,"content":""}],"model":{"type":"BPE","vocab":{},"merges":[]}}`, ErrFormat},
		{"precompiled charsmap", `{"normalizer":{"type":"Precompiled","precompiled_charsmap":"AAAA"},"model":{"type":"BPE","vocab":{},"merges":[]}}`, ErrUnsupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.js))
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRealTokenizers(t *testing.T) {
	lines := corpusLines(t)
	for _, tc := range []struct {
		name          string
		bos, eos, pad int
		exactBytes    bool // offsets slice the input to exactly the token's bytes
	}{
		{"llama3", 128000, 128001, -1, true},
		{"qwen3", -1, 151645, 151643, false},
		{"llama2", 1, 2, -1, false},
		{"bert", 101, 102, 0, false},
		{"trained", -1, 0, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tk := loadRef(t, tc.name)
			if tk.BOS() != tc.bos || tk.EOS() != tc.eos || tk.PAD() != tc.pad {
				t.Errorf("bos/eos/pad %d %d %d, want %d %d %d", tk.BOS(), tk.EOS(), tk.PAD(), tc.bos, tc.eos, tc.pad)
			}
			for _, line := range lines {
				ids, offs := tk.EncodeWithOffsets(line, false)
				if !slices.Equal(ids, tk.Encode(line, false)) {
					t.Fatalf("%q: EncodeWithOffsets ids differ from Encode", line)
				}
				prev := 0
				for i, o := range offs {
					if o.Start < 0 || o.End > len(line) || o.Start > o.End || o.Start < prev-4 {
						t.Fatalf("%q: token %d offset %v out of order", line, i, o)
					}
					prev = o.Start
					if tc.exactBytes && !tk.IsSpecial(ids[i]) && string(tk.TokenBytes(ids[i])) != line[o.Start:o.End] {
						t.Fatalf("%q: token %d bytes %q, input %q", line, i, tk.TokenBytes(ids[i]), line[o.Start:o.End])
					}
				}
			}
		})
	}
}

func TestConcurrentEncode(t *testing.T) {
	for _, name := range []string{"llama3", "bert-variant", "bert-whitespace", "llama2"} {
		t.Run(name, func(t *testing.T) { concurrentEncode(t, loadRef(t, name)) })
	}
}

func concurrentEncode(t *testing.T, tk *Tokenizer) {
	lines := corpusLines(t)
	want := make([][]int, len(lines))
	for i, l := range lines {
		want[i] = tk.Encode(l, true)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range lines {
				i := (k + g*7) % len(lines)
				if got := tk.Encode(lines[i], true); !slices.Equal(got, want[i]) {
					errs <- lines[i]
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for l := range errs {
		t.Errorf("concurrent encode of %q differs", l)
	}
}

func TestLoadFolderConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// No template: add_bos_token/add_eos_token from the config apply.
	write("tokenizer.json", `{"added_tokens":[{"id":3,"content":"<B>","special":true},{"id":4,"content":"<E>","special":true},{"id":5,"content":"<P>","special":true}],
	 "post_processor":{"type":"ByteLevel","trim_offsets":false},
	 "model":{"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b"]}}`)
	write("tokenizer_config.json", `{"bos_token":{"content":"<B>","special":true},"eos_token":"<E>","pad_token":"<P>","add_bos_token":true,"add_eos_token":true}`)
	tk, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tk.BOS() != 3 || tk.EOS() != 4 || tk.PAD() != 5 {
		t.Fatalf("bos/eos/pad %d %d %d", tk.BOS(), tk.EOS(), tk.PAD())
	}
	if got := tk.Encode("ab", true); !slices.Equal(got, []int{3, 2, 4}) {
		t.Fatalf("with specials %v", got)
	}
	if got := tk.Encode("ab", false); !slices.Equal(got, []int{2}) {
		t.Fatalf("without specials %v", got)
	}
	write("tokenizer_config.json", `{"bos_token":null,"eos_token":"<missing>"}`)
	if tk, err = Load(dir); err != nil {
		t.Fatal(err)
	}
	if tk.BOS() != -1 || tk.EOS() != -1 {
		t.Fatalf("null/missing names: bos %d eos %d", tk.BOS(), tk.EOS())
	}
	write("tokenizer_config.json", `{`)
	if _, err := Load(dir); !errors.Is(err, ErrFormat) {
		t.Fatalf("bad config: %v", err)
	}
}

func TestLoadFolder(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil {
		t.Fatal("loading an empty folder succeeded")
	}
	if _, err := Load("/nonexistent/tokenizer.json"); err == nil {
		t.Fatal("loading a missing file succeeded")
	}
}
